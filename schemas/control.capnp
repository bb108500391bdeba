# Herz coprocessor control path: the attach frame on the coprocessor's unix socket and every
# message on its ZeroMQ control socket (kernel DEALER → coprocessor ROUTER at ipc://PATH.ctl).
#
# Versioning as in ring.capnp: `controlProtocolVersion` changes on incompatible edits only.
@0xce38ad2f62199ec8;

const controlProtocolVersion :UInt32 = 1;

struct RingLayout {
  # Where the rings of one session live inside the shared memory region (a memfd sent with Attach).
  workers @0 :UInt32;         # ring pairs, one per kernel worker
  ringBytes @1 :UInt32;       # data capacity of each ring (a power of two)
  regionBytes @2 :UInt64;     # size of the whole region
  layoutVersion @3 :UInt32;   # docs/coprocessor-protocol.md "Region layout"
}

struct Attach {
  # Kernel → coprocessor on the unix socket, with SCM_RIGHTS carrying the region memfd followed by
  # one doorbell per worker: fds[1 + i] is the coprocessor's end of worker i's unix socketpair
  # (a byte written on either end wakes the other side; EOF on it means the other side is gone).
  sessionId @0 :UInt64;
  layout @1 :RingLayout;
}

struct AttachAck {
  # Coprocessor → kernel on the unix socket once it mapped the region (or why it could not).
  sessionId @0 :UInt64;
  ok @1 :Bool;
  error @2 :Text;
  controlEndpoint @3 :Text;     # this process's ZeroMQ ROUTER, e.g. "ipc:///run/herz/jwt.sock.4711.ctl"
  pid @4 :UInt32;
}

struct Hello {
  # Both directions, first message on the control socket. The kernel sends its Hello; the
  # coprocessor answers with its own (accepted) or with Refuse.
  protocolVersion @0 :UInt32;   # controlProtocolVersion
  ringVersion @1 :UInt32;       # ringProtocolVersion
  name @2 :Text;                # coprocessor name (the kernel sends the name it expects)
  buildVersion @3 :Text;
  capabilities @4 :List(Text);  # e.g. "phase:request_headers", "phase:request_body", "reload"
  pid @5 :UInt32;
  sessionId @6 :UInt64;         # ties the control session to the Attach on the unix socket
  generation @7 :UInt64;        # coprocessor: its start time in ns (new builds have a larger one)
}

struct Refuse {
  reason @0 :Text;
}

struct Heartbeat {
  sequence @0 :UInt64;
  sentNanos @1 :UInt64;
}

struct Drain {
  # Kernel → coprocessor: no new calls will come on this session; answer what is in flight, then
  # send Drained. A coprocessor with no attached session left after Drained exits.
  deadlineMillis @0 :UInt32;
}

struct Drained {
  inFlight @0 :UInt32;          # calls still unanswered when it gave up (0 when clean)
}

struct StatsRequest {}

struct Stats {
  callsServed @0 :UInt64;
  callsFailed @1 :UInt64;
  inFlight @2 :UInt32;
  rssBytes @3 :UInt64;
  uptimeMillis @4 :UInt64;
}

struct Reload {
  # Reload coprocessor-side configuration or keys (from its own files, or from `payload`).
  payload @0 :Text;
}

struct ReloadResult {
  ok @0 :Bool;
  message @1 :Text;
}

struct ControlMessage {
  union {
    hello @0 :Hello;
    refuse @1 :Refuse;
    heartbeat @2 :Heartbeat;       # kernel → coprocessor
    heartbeatAck @3 :Heartbeat;    # coprocessor → kernel, echoing the sequence
    drain @4 :Drain;
    drained @5 :Drained;
    statsRequest @6 :StatsRequest;
    stats @7 :Stats;
    reload @8 :Reload;
    reloadResult @9 :ReloadResult;
  }
}

struct AttachFrame {
  union {
    attach @0 :Attach;
    attachAck @1 :AttachAck;
  }
}
