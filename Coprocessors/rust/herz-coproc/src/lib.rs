//! # herz-coproc
//!
//! Write [Herz](../../../README.md) coprocessors in Rust: HTTP filters that run in their own
//! process and talk to `herz-kernel` over shared-memory rings (Cap'n Proto frames) with a ZeroMQ
//! control socket, as specified in `docs/coprocessor-protocol.md`.
//!
//! Implement [`Filter`] and hand it to [`serve`]:
//!
//! ```no_run
//! use herz_coproc::{serve, Call, Filter, HeaderMutation, Options, Reply};
//!
//! struct Tag;
//!
//! impl Filter for Tag {
//!     type StreamState = ();
//!
//!     fn on_response_headers(&self, _call: &Call<'_>, _state: &mut ()) -> Reply {
//!         Reply::headers(HeaderMutation::new().set("x-tagged", "1"))
//!     }
//! }
//!
//! fn main() -> Result<(), herz_coproc::Error> {
//!     serve(Tag, Options::new("tag", "/run/herz/tag.sock"))
//! }
//! ```
//!
//! Then start the kernel with `herz-kernel --coproc tag=unix:/run/herz/tag.sock`.
//!
//! Modules, from the top down: [`serve`](mod@serve) (process, sessions, worker threads),
//! [`attach`] (unix socket, fd passing), [`control`] (ZeroMQ messages), [`ring`] (shared memory),
//! [`frames`] (Cap'n Proto readers and builders generated from the schemas).

#![warn(missing_docs)]

pub mod attach;
pub mod control;
mod error;
mod filter;
pub mod frames;
#[allow(missing_docs)]
mod frames_gen;
pub mod ring;
pub mod serve;

pub use error::{Error, Result};
pub use filter::{phase_name, Call, Filter, FilterService, HeaderMutation, HeaderRef, Reply};
pub use frames::ring::{DataStatus, FailureKind, HeadersStatus, Phase, TrailersStatus};
pub use serve::{serve, serve_service, Options, Outbox, RingService, Server};
