# Herz coprocessor data path: every frame that travels on a shared-memory ring.
#
# One ring pair per kernel worker: the kernel writes `KernelToCoprocessor` frames to the "calls"
# ring, the coprocessor writes `CoprocessorToKernel` frames to the "answers" ring. Each ring record
# holds exactly one message in Cap'n Proto's standard stream framing (segment table + segments);
# the record layout around it is in docs/coprocessor-protocol.md.
#
# Versioning: `ringProtocolVersion` changes on any incompatible edit; fields are only ever added
# (with new ordinals), never renumbered or retyped. The handshake (control.capnp) carries the
# version and a mismatch is refused on both sides.
@0xdeb78869a567824e;

const ringProtocolVersion :UInt32 = 1;

struct Header {
  # One HTTP header field. Bytes, not Text: HTTP allows obs-text in values. Request pseudo-headers
  # travel as fields named ":method", ":path", ":authority", ":scheme"; the response status as ":status".
  name @0 :Data;
  value @1 :Data;
}

enum Phase {
  requestHeaders @0;
  requestBody @1;
  requestTrailers @2;
  responseHeaders @3;
  responseBody @4;
  responseTrailers @5;
}

struct Call {
  # Kernel → coprocessor: one filter callback of one stream.
  callId @0 :UInt64;          # unique per ring (per kernel worker) and session; echoed in the answer
  streamId @1 :UInt64;        # the kernel stream; a coprocessor may keep per-stream state under it
  deadlineNanos @2 :UInt64;   # CLOCK_MONOTONIC nanoseconds after which the kernel has given up
  phase @3 :Phase;
  endStream @4 :Bool;         # *Headers: no body or trailers follow; *Body: the body is complete (trailers may follow)
  headers @5 :List(Header);   # *Headers and *Trailers phases
  body @6 :Data;              # *Body phases (may be empty with endStream = true)
  route @7 :Text;             # the matched route's name ("" when unnamed)
  filterConfig @8 :Text;      # the `coproc` filter's `settings` for this route, as JSON ("" when none)
}

struct StreamEnd {
  # Kernel → coprocessor: the stream is finished or reset; drop any state kept for it. No answer.
  streamId @0 :UInt64;
  reset @1 :Bool;             # true when the stream ended abnormally
}

struct KernelToCoprocessor {
  union {
    call @0 :Call;
    streamEnd @1 :StreamEnd;
  }
}

# The statuses of ARCHITECTURE.md section 3, as a remote filter returns them.
enum HeadersStatus {
  continue @0;
  stopIteration @1;
  continueAndDontEndStream @2;
  stopAllIterationAndBuffer @3;
  stopAllIterationAndWatermark @4;
}

enum DataStatus {
  continue @0;
  stopIterationAndBuffer @1;
  stopIterationAndWatermark @2;
  stopIterationNoBuffer @3;
}

enum TrailersStatus {
  continue @0;
  stopIteration @1;
}

struct HeaderMutation {
  set @0 :List(Header);       # replace every field of that name (or add it)
  append @1 :List(Header);    # add another field, keeping existing ones
  remove @2 :List(Data);      # remove every field of that name (case-insensitive)
}

struct HeadersAnswer {
  status @0 :HeadersStatus;
  mutation @1 :HeaderMutation;
}

struct DataAnswer {
  status @0 :DataStatus;
  replaceBody @1 :Bool;       # true: `body` replaces the chunk (may be shorter, longer or empty)
  body @2 :Data;
}

struct TrailersAnswer {
  status @0 :TrailersStatus;
  mutation @1 :HeaderMutation;
}

struct LocalReply {
  # End the stream with a generated response; the filter chain stops here.
  status @0 :UInt16;
  headers @1 :List(Header);
  body @2 :Data;
  reason @3 :Text;            # short, for logs and metrics; never secret
}

enum FailureKind {
  internal @0;                # the coprocessor failed while handling the call
  unsupported @1;             # phase or settings it does not handle
  overloaded @2;              # it refuses work right now
  deadlineExceeded @3;        # it noticed the deadline passed before it answered
  badInput @4;                # the call itself was malformed
}

struct Failure {
  # The coprocessor could not answer: the kernel applies the route's `on_failure` policy.
  kind @0 :FailureKind;
  message @1 :Text;
}

struct Answer {
  callId @0 :UInt64;
  union {
    headers @1 :HeadersAnswer;
    data @2 :DataAnswer;
    trailers @3 :TrailersAnswer;
    localReply @4 :LocalReply;
    failure @5 :Failure;
  }
}

struct CoprocessorToKernel {
  # One answer per frame. (A struct, not a one-member union: Cap'n Proto requires two members;
  # later frame kinds become new fields with a union around them.)
  answer @0 :Answer;
}
