//! Control messages (docs/coprocessor-protocol.md, section 5) as owned Rust values.
//!
//! The control path is slow (tens of messages per second), so [`ControlMsg`] copies everything
//! out of the frame; the ZeroMQ socket handling lives in [`crate::serve`]. Each ZeroMQ message is
//! one frame holding one `ControlMessage` in stream framing, with no empty delimiter frame.

use crate::error::{Error, Result};
use crate::frames::control::{self as wire, control_message::Which};
use crate::frames::{encode, AlignedBuf, Frame};

/// Largest control frame accepted.
pub const MAX_CONTROL_FRAME: usize = 1 << 20;

/// `Hello`: the first message in both directions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hello {
    /// `controlProtocolVersion` of the sender.
    pub protocol_version: u32,
    /// `ringProtocolVersion` of the sender.
    pub ring_version: u32,
    /// Kernel: the name it expects; coprocessor: its own name.
    pub name: String,
    /// The sender's build.
    pub build_version: String,
    /// For example `phase:request_headers`, `reload`.
    pub capabilities: Vec<String>,
    /// The sender's pid.
    pub pid: u32,
    /// Ties the control session to the attach.
    pub session_id: u64,
    /// Coprocessor: its start time in ns (newer builds have larger ones); kernel: 0.
    pub generation: u64,
}

/// `Stats`: answer to `statsRequest`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Calls answered.
    pub calls_served: u64,
    /// Calls answered with a failure.
    pub calls_failed: u64,
    /// Calls being handled right now.
    pub in_flight: u32,
    /// Resident set size.
    pub rss_bytes: u64,
    /// Time since start.
    pub uptime_millis: u64,
}

/// One `ControlMessage`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ControlMsg {
    /// Handshake (both directions).
    Hello(Hello),
    /// Handshake refused, with a reason naming both versions or names.
    Refuse(String),
    /// Kernel liveness probe.
    Heartbeat {
        /// Echoed in the ack.
        sequence: u64,
        /// Kernel's send time; echoed.
        sent_nanos: u64,
    },
    /// Coprocessor's echo of a heartbeat.
    HeartbeatAck {
        /// The heartbeat's sequence.
        sequence: u64,
        /// The heartbeat's send time.
        sent_nanos: u64,
    },
    /// No new calls will come on this session.
    Drain {
        /// How long the kernel waits for `drained`.
        deadline_millis: u32,
    },
    /// Everything in flight was answered (or `in_flight` calls were given up).
    Drained {
        /// Calls still unanswered (0 when clean).
        in_flight: u32,
    },
    /// Kernel asks for [`Stats`].
    StatsRequest,
    /// Counters of the coprocessor.
    Stats(Stats),
    /// Reload configuration or keys.
    Reload(String),
    /// Outcome of a reload.
    ReloadResult {
        /// True when the reload succeeded.
        ok: bool,
        /// Detail for the operator.
        message: String,
    },
}

impl ControlMsg {
    /// The message in stream framing.
    pub fn encode(&self) -> Vec<u8> {
        encode(|m| {
            let mut root = m.init_root::<wire::control_message::Builder<'_>>();
            match self {
                ControlMsg::Hello(h) => {
                    let mut b = root.init_hello();
                    b.set_protocol_version(h.protocol_version);
                    b.set_ring_version(h.ring_version);
                    b.set_name(&h.name);
                    b.set_build_version(&h.build_version);
                    let mut caps = b.init_capabilities(h.capabilities.len() as u32);
                    for (i, c) in h.capabilities.iter().enumerate() {
                        caps.set(i as u32, c);
                    }
                    b.set_pid(h.pid);
                    b.set_session_id(h.session_id);
                    b.set_generation(h.generation);
                }
                ControlMsg::Refuse(reason) => root.init_refuse().set_reason(reason),
                ControlMsg::Heartbeat { sequence, sent_nanos } => {
                    let mut b = root.init_heartbeat();
                    b.set_sequence(*sequence);
                    b.set_sent_nanos(*sent_nanos);
                }
                ControlMsg::HeartbeatAck { sequence, sent_nanos } => {
                    let mut b = root.init_heartbeat_ack();
                    b.set_sequence(*sequence);
                    b.set_sent_nanos(*sent_nanos);
                }
                ControlMsg::Drain { deadline_millis } => root.init_drain().set_deadline_millis(*deadline_millis),
                ControlMsg::Drained { in_flight } => root.init_drained().set_in_flight(*in_flight),
                ControlMsg::StatsRequest => {
                    root.init_stats_request();
                }
                ControlMsg::Stats(s) => {
                    let mut b = root.init_stats();
                    b.set_calls_served(s.calls_served);
                    b.set_calls_failed(s.calls_failed);
                    b.set_in_flight(s.in_flight);
                    b.set_rss_bytes(s.rss_bytes);
                    b.set_uptime_millis(s.uptime_millis);
                }
                ControlMsg::Reload(payload) => root.init_reload().set_payload(payload),
                ControlMsg::ReloadResult { ok, message } => {
                    let mut b = root.init_reload_result();
                    b.set_ok(*ok);
                    b.set_message(message);
                }
            }
        })
    }

    /// Decodes one frame (any alignment). Malformed input is an error, never a panic.
    pub fn decode(bytes: &[u8]) -> Result<ControlMsg> {
        if bytes.len() > MAX_CONTROL_FRAME {
            return Err(Error::Protocol(format!("control frame of {} bytes", bytes.len())));
        }
        let mut aligned = AlignedBuf::new();
        let frame = Frame::parse(aligned.fill(bytes))?;
        let root = frame.root::<wire::control_message::Reader<'_>>()?;
        Ok(match root.which()? {
            Which::Hello(h) => ControlMsg::Hello(Hello {
                protocol_version: h.protocol_version(),
                ring_version: h.ring_version(),
                name: h.name()?.to_owned(),
                build_version: h.build_version()?.to_owned(),
                capabilities: h.capabilities()?.iter().map(|c| c.map(str::to_owned)).collect::<capnp::Result<_>>()?,
                pid: h.pid(),
                session_id: h.session_id(),
                generation: h.generation(),
            }),
            Which::Refuse(r) => ControlMsg::Refuse(r.reason()?.to_owned()),
            Which::Heartbeat(h) => ControlMsg::Heartbeat { sequence: h.sequence(), sent_nanos: h.sent_nanos() },
            Which::HeartbeatAck(h) => ControlMsg::HeartbeatAck { sequence: h.sequence(), sent_nanos: h.sent_nanos() },
            Which::Drain(d) => ControlMsg::Drain { deadline_millis: d.deadline_millis() },
            Which::Drained(d) => ControlMsg::Drained { in_flight: d.in_flight() },
            Which::StatsRequest(_) => ControlMsg::StatsRequest,
            Which::Stats(s) => ControlMsg::Stats(Stats {
                calls_served: s.calls_served(),
                calls_failed: s.calls_failed(),
                in_flight: s.in_flight(),
                rss_bytes: s.rss_bytes(),
                uptime_millis: s.uptime_millis(),
            }),
            Which::Reload(r) => ControlMsg::Reload(r.payload()?.to_owned()),
            Which::ReloadResult(r) => ControlMsg::ReloadResult { ok: r.ok(), message: r.message()?.to_owned() },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_round_trips() {
        let messages = vec![
            ControlMsg::Hello(Hello {
                protocol_version: 1,
                ring_version: 1,
                name: "jwt".into(),
                build_version: "0.1.0".into(),
                capabilities: vec!["phase:request_headers".into(), "reload".into()],
                pid: 4711,
                session_id: 9,
                generation: 123,
            }),
            ControlMsg::Refuse("nope".into()),
            ControlMsg::Heartbeat { sequence: 3, sent_nanos: 44 },
            ControlMsg::HeartbeatAck { sequence: 3, sent_nanos: 44 },
            ControlMsg::Drain { deadline_millis: 500 },
            ControlMsg::Drained { in_flight: 2 },
            ControlMsg::StatsRequest,
            ControlMsg::Stats(Stats { calls_served: 1, calls_failed: 2, in_flight: 3, rss_bytes: 4, uptime_millis: 5 }),
            ControlMsg::Reload("{}".into()),
            ControlMsg::ReloadResult { ok: false, message: "bad key".into() },
        ];
        for m in messages {
            assert_eq!(ControlMsg::decode(&m.encode()).unwrap(), m);
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut seed = 0x9e3779b97f4a7c15u64;
        for len in 0..600 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect();
            let _ = ControlMsg::decode(&bytes);
        }
    }
}
