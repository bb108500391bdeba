//! The [`Filter`] trait and the values it sees and returns.

use std::collections::HashMap;

use crate::error::Result;
use crate::frames::ring::{self, DataStatus, FailureKind, HeadersStatus, Phase, TrailersStatus};
use crate::frames::{encode, Frame};
use crate::serve::{Outbox, RingService};

/// One header field of a call, borrowed from the ring frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderRef<'a> {
    /// Field name as sent (pseudo-headers start with `:`).
    pub name: &'a [u8],
    /// Field value (bytes: HTTP allows obs-text).
    pub value: &'a [u8],
}

/// One filter callback of one stream, as the kernel sent it. Borrowed: copy what must outlive
/// the callback into the stream state.
#[derive(Clone, Debug)]
pub struct Call<'a> {
    /// Echoed in the answer; unique per ring and session.
    pub call_id: u64,
    /// The kernel stream; per-stream state is kept under it.
    pub stream_id: u64,
    /// CLOCK_MONOTONIC nanoseconds after which the kernel has given up on this call.
    pub deadline_nanos: u64,
    /// Which callback this is.
    pub phase: Phase,
    /// No more body or trailers follow in this direction.
    pub end_stream: bool,
    /// Headers (`*Headers`) or trailers (`*Trailers`); empty for body phases.
    pub headers: Vec<HeaderRef<'a>>,
    /// The body chunk (`*Body` phases; may be empty with `end_stream`).
    pub body: &'a [u8],
    /// The matched route's name ("" when unnamed).
    pub route: &'a str,
    /// The route's `coproc` filter settings as JSON ("" when none).
    pub filter_config: &'a str,
}

impl<'a> Call<'a> {
    /// Decodes a call frame; an error means the kernel sent a malformed call.
    pub fn read(call: ring::call::Reader<'a>) -> Result<Call<'a>> {
        let headers = call
            .headers()?
            .iter()
            .map(|h| Ok(HeaderRef { name: h.name()?, value: h.value()? }))
            .collect::<Result<Vec<_>>>()?;
        Ok(Call {
            call_id: call.call_id(),
            stream_id: call.stream_id(),
            deadline_nanos: call.deadline_nanos(),
            phase: call.phase().map_err(capnp::Error::from)?,
            end_stream: call.end_stream(),
            headers,
            body: call.body()?,
            route: call.route()?,
            filter_config: call.filter_config()?,
        })
    }

    /// The first header named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name.as_bytes())).map(|h| h.value)
    }
}

/// Changes to a header (or trailer) block: applied by the kernel in the order set, append, remove.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderMutation {
    /// Replace every field of that name (or add it).
    pub set: Vec<(Vec<u8>, Vec<u8>)>,
    /// Add another field, keeping existing ones.
    pub append: Vec<(Vec<u8>, Vec<u8>)>,
    /// Remove every field of that name (case-insensitive).
    pub remove: Vec<Vec<u8>>,
}

impl HeaderMutation {
    /// No changes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a `set` entry.
    pub fn set(mut self, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Self {
        self.set.push((name.as_ref().to_vec(), value.as_ref().to_vec()));
        self
    }

    /// Adds an `append` entry.
    pub fn append(mut self, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Self {
        self.append.push((name.as_ref().to_vec(), value.as_ref().to_vec()));
        self
    }

    /// Adds a `remove` entry.
    pub fn remove(mut self, name: impl AsRef<[u8]>) -> Self {
        self.remove.push(name.as_ref().to_vec());
        self
    }

    fn write(&self, mut builder: ring::header_mutation::Builder<'_>) {
        write_headers(builder.init_set(self.set.len() as u32), &self.set);
        write_headers(builder.init_append(self.append.len() as u32), &self.append);
        let mut remove = builder.init_remove(self.remove.len() as u32);
        for (i, name) in self.remove.iter().enumerate() {
            remove.set(i as u32, name);
        }
    }
}

fn write_headers<'a>(
    mut list: crate::frames::StructListBuilder<'a, ring::header::Builder<'a>>,
    headers: &[(Vec<u8>, Vec<u8>)],
) {
    for (i, (name, value)) in headers.iter().enumerate() {
        let mut header = list.get(i as u32);
        header.set_name(name);
        header.set_value(value);
    }
}

/// What a filter callback answers. [`Reply::Continue`] fits every phase; the other variants
/// must fit the call's phase (headers for `*Headers`, data for `*Body`, trailers for
/// `*Trailers`; local reply and failure fit any): a mismatch is sent as an `internal` failure,
/// never as a protocol violation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Continue without changes (the phase's `continue` status).
    Continue,
    /// Answer to a `*Headers` call.
    Headers {
        /// How the kernel proceeds.
        status: HeadersStatus,
        /// Changes to the headers.
        mutation: HeaderMutation,
    },
    /// Answer to a `*Body` call.
    Data {
        /// How the kernel proceeds.
        status: DataStatus,
        /// `Some(bytes)` replaces the chunk (shorter, longer or empty); `None` keeps it.
        body: Option<Vec<u8>>,
    },
    /// Answer to a `*Trailers` call.
    Trailers {
        /// How the kernel proceeds.
        status: TrailersStatus,
        /// Changes to the trailers.
        mutation: HeaderMutation,
    },
    /// End the stream with a generated response.
    LocalReply {
        /// HTTP status.
        status: u16,
        /// Response headers.
        headers: Vec<(Vec<u8>, Vec<u8>)>,
        /// Response body.
        body: Vec<u8>,
        /// Short reason for logs and metrics; never secret.
        reason: String,
    },
    /// The filter could not answer: the kernel applies the route's `on_failure` policy.
    Failure {
        /// What went wrong.
        kind: FailureKind,
        /// For logs.
        message: String,
    },
}

impl Reply {
    /// Headers `continue` with `mutation`.
    pub fn headers(mutation: HeaderMutation) -> Reply {
        Reply::Headers { status: HeadersStatus::Continue, mutation }
    }

    /// Data `continue` with the chunk replaced by `body`.
    pub fn replace_body(body: impl Into<Vec<u8>>) -> Reply {
        Reply::Data { status: DataStatus::Continue, body: Some(body.into()) }
    }

    /// A local reply without headers.
    pub fn local(status: u16, body: impl Into<Vec<u8>>, reason: impl Into<String>) -> Reply {
        Reply::LocalReply { status, headers: Vec::new(), body: body.into(), reason: reason.into() }
    }

    /// A failure of `kind`.
    pub fn failure(kind: FailureKind, message: impl Into<String>) -> Reply {
        Reply::Failure { kind, message: message.into() }
    }

    fn fits(&self, phase: Phase) -> bool {
        use Phase::*;
        match self {
            Reply::Continue | Reply::LocalReply { .. } | Reply::Failure { .. } => true,
            Reply::Headers { .. } => matches!(phase, RequestHeaders | ResponseHeaders),
            Reply::Data { .. } => matches!(phase, RequestBody | ResponseBody),
            Reply::Trailers { .. } => matches!(phase, RequestTrailers | ResponseTrailers),
        }
    }

    /// True for [`Reply::Failure`].
    pub fn is_failure(&self) -> bool {
        matches!(self, Reply::Failure { .. })
    }

    /// The answer frame (`CoprocessorToKernel`) for call `call_id` of `phase`, in stream framing.
    pub fn encode(&self, call_id: u64, phase: Phase) -> Vec<u8> {
        let mismatch;
        let reply = if self.fits(phase) {
            self
        } else {
            mismatch = Reply::failure(FailureKind::Internal, format!("filter answered a {phase:?} call with {self:?}"));
            &mismatch
        };
        encode(|m| {
            let mut answer = m.init_root::<ring::coprocessor_to_kernel::Builder>().init_answer();
            answer.set_call_id(call_id);
            match reply {
                Reply::Continue => match phase {
                    Phase::RequestHeaders | Phase::ResponseHeaders => {
                        answer.init_headers().set_status(HeadersStatus::Continue)
                    }
                    Phase::RequestBody | Phase::ResponseBody => answer.init_data().set_status(DataStatus::Continue),
                    Phase::RequestTrailers | Phase::ResponseTrailers => {
                        answer.init_trailers().set_status(TrailersStatus::Continue)
                    }
                },
                Reply::Headers { status, mutation } => {
                    let mut headers = answer.init_headers();
                    headers.set_status(*status);
                    mutation.write(headers.init_mutation());
                }
                Reply::Data { status, body } => {
                    let mut data = answer.init_data();
                    data.set_status(*status);
                    if let Some(body) = body {
                        data.set_replace_body(true);
                        data.set_body(body);
                    }
                }
                Reply::Trailers { status, mutation } => {
                    let mut trailers = answer.init_trailers();
                    trailers.set_status(*status);
                    mutation.write(trailers.init_mutation());
                }
                Reply::LocalReply { status, headers, body, reason } => {
                    let mut local = answer.init_local_reply();
                    local.set_status(*status);
                    write_headers(local.init_headers(headers.len() as u32), headers);
                    local.set_body(body);
                    local.set_reason(reason);
                }
                Reply::Failure { kind, message } => {
                    let mut failure = answer.init_failure();
                    failure.set_kind(*kind);
                    failure.set_message(message);
                }
            }
        })
    }
}

/// An HTTP filter run by a coprocessor. One value serves every session and worker thread
/// (hence `Sync`); per-stream data lives in [`Filter::StreamState`], created on a stream's first
/// call and dropped when the kernel sends `StreamEnd`. Every callback defaults to
/// [`Reply::Continue`].
///
/// ```
/// use herz_coproc::{Call, Filter, HeaderMutation, Reply};
///
/// /// Counts request body bytes and reports them in a response header.
/// struct BodySize;
///
/// impl Filter for BodySize {
///     type StreamState = usize;
///
///     fn on_request_body(&self, call: &Call<'_>, seen: &mut usize) -> Reply {
///         *seen += call.body.len();
///         Reply::Continue
///     }
///
///     fn on_response_headers(&self, _call: &Call<'_>, seen: &mut usize) -> Reply {
///         Reply::headers(HeaderMutation::new().set("x-request-bytes", seen.to_string()))
///     }
/// }
/// # let _ = herz_coproc::Options::new("body-size", "/tmp/body-size.sock");
/// // herz_coproc::serve(BodySize, herz_coproc::Options::new("body-size", "/run/herz/body-size.sock"))
/// ```
pub trait Filter: Send + Sync + 'static {
    /// State kept per stream (keyed by the kernel's stream id).
    type StreamState: Default + Send + 'static;

    /// Request headers (pseudo-headers included).
    fn on_request_headers(&self, _call: &Call<'_>, _state: &mut Self::StreamState) -> Reply {
        Reply::Continue
    }

    /// One request body chunk (`call.end_stream` marks the last).
    fn on_request_body(&self, _call: &Call<'_>, _state: &mut Self::StreamState) -> Reply {
        Reply::Continue
    }

    /// Request trailers.
    fn on_request_trailers(&self, _call: &Call<'_>, _state: &mut Self::StreamState) -> Reply {
        Reply::Continue
    }

    /// Response headers (`:status` included).
    fn on_response_headers(&self, _call: &Call<'_>, _state: &mut Self::StreamState) -> Reply {
        Reply::Continue
    }

    /// One response body chunk.
    fn on_response_body(&self, _call: &Call<'_>, _state: &mut Self::StreamState) -> Reply {
        Reply::Continue
    }

    /// Response trailers.
    fn on_response_trailers(&self, _call: &Call<'_>, _state: &mut Self::StreamState) -> Reply {
        Reply::Continue
    }

    /// `herzctl coproc reload NAME`: reload configuration or keys (from files or `payload`).
    /// `Err(message)` is reported to the operator; the default accepts and does nothing.
    fn reload(&self, _payload: &str) -> std::result::Result<(), String> {
        Ok(())
    }

    /// Phases this filter handles, announced as `phase:NAME` capabilities (default: all six).
    fn phases(&self) -> Vec<Phase> {
        Phase::ALL.to_vec()
    }
}

/// The configuration name of a phase (`request_headers`, …), as used in capabilities.
pub fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::RequestHeaders => "request_headers",
        Phase::RequestBody => "request_body",
        Phase::RequestTrailers => "request_trailers",
        Phase::ResponseHeaders => "response_headers",
        Phase::ResponseBody => "response_body",
        Phase::ResponseTrailers => "response_trailers",
    }
}

/// Runs a [`Filter`] on rings: decodes calls, keeps per-stream state per worker, encodes replies.
pub struct FilterService<F: Filter>(pub F);

impl<F: Filter> FilterService<F> {
    fn dispatch(&self, call: &Call<'_>, state: &mut F::StreamState) -> Reply {
        let filter = &self.0;
        match call.phase {
            Phase::RequestHeaders => filter.on_request_headers(call, state),
            Phase::RequestBody => filter.on_request_body(call, state),
            Phase::RequestTrailers => filter.on_request_trailers(call, state),
            Phase::ResponseHeaders => filter.on_response_headers(call, state),
            Phase::ResponseBody => filter.on_response_body(call, state),
            Phase::ResponseTrailers => filter.on_response_trailers(call, state),
        }
    }
}

impl<F: Filter> RingService for FilterService<F> {
    type Worker = HashMap<u64, F::StreamState>;

    fn new_worker(&self, _worker: u32) -> Self::Worker {
        HashMap::new()
    }

    fn idle(&self, streams: &Self::Worker) -> bool {
        streams.is_empty()
    }

    fn on_frame(&self, streams: &mut Self::Worker, frame: &Frame<'_>, out: &mut Outbox<'_>) -> Result<()> {
        let root = frame.root::<ring::kernel_to_coprocessor::Reader<'_>>()?;
        match root.which()? {
            ring::kernel_to_coprocessor::Which::StreamEnd(end) => {
                streams.remove(&end.stream_id());
                Ok(())
            }
            ring::kernel_to_coprocessor::Which::Call(reader) => {
                let call_id = reader.call_id();
                let (reply, phase) = match Call::read(reader) {
                    Ok(call) => {
                        let state = streams.entry(call.stream_id).or_default();
                        (self.dispatch(&call, state), call.phase)
                    }
                    Err(e) => (Reply::failure(FailureKind::BadInput, e.to_string()), Phase::RequestHeaders),
                };
                let mut bytes = reply.encode(call_id, phase);
                let mut failed = reply.is_failure();
                if bytes.len() > out.max_frame() {
                    bytes = Reply::failure(FailureKind::Internal, "frame-too-large").encode(call_id, phase);
                    failed = true;
                }
                out.answer(&bytes, failed)
            }
        }
    }

    fn capabilities(&self) -> Vec<String> {
        let mut caps: Vec<String> = self.0.phases().into_iter().map(|p| format!("phase:{}", phase_name(p))).collect();
        caps.push("reload".into());
        caps
    }

    fn reload(&self, payload: &str) -> std::result::Result<(), String> {
        self.0.reload(payload)
    }
}
