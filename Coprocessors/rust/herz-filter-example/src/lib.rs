//! The example Herz coprocessor: tags every response with `x-herz-example: 1` and replaces a
//! pattern (default `secret`) with `***` in request bodies, across chunk boundaries.

pub mod replacer;

use herz_coproc::{Call, Filter, HeaderMutation, Reply};
pub use replacer::StreamingReplacer;

/// What replaces each occurrence of the pattern.
pub const REPLACEMENT: &[u8] = b"***";

/// The example filter.
pub struct ExampleFilter {
    /// The bytes to mask in request bodies.
    pub pattern: Vec<u8>,
}

impl Filter for ExampleFilter {
    type StreamState = StreamingReplacer;

    fn on_request_body(&self, call: &Call<'_>, replacer: &mut StreamingReplacer) -> Reply {
        let out = replacer.push(&self.pattern, REPLACEMENT, call.body, call.end_stream);
        if out == call.body {
            Reply::Continue
        } else {
            Reply::replace_body(out)
        }
    }

    fn on_response_headers(&self, _call: &Call<'_>, _state: &mut StreamingReplacer) -> Reply {
        Reply::headers(HeaderMutation::new().set("x-herz-example", "1"))
    }
}
