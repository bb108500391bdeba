//! End to end: the fake kernel against `Server` running a test filter in this process.

mod fake_kernel;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fake_kernel::{Answer, FakeKernel};
use herz_coproc::control::ControlMsg;
use herz_coproc::ring::Layout;
use herz_coproc::{Call, DataStatus, Filter, FilterService, HeaderMutation, HeadersStatus, Options, Phase, Reply, Server};

/// Echoes the path, denies `x-deny`, upper-cases request bodies and reports the bytes it saw.
struct TestFilter;

impl Filter for TestFilter {
    type StreamState = usize;

    fn on_request_headers(&self, call: &Call<'_>, _seen: &mut usize) -> Reply {
        if call.header("x-deny").is_some() {
            return Reply::local(403, "denied", "x-deny");
        }
        Reply::headers(HeaderMutation::new().set("x-seen-path", call.header(":path").unwrap_or_default()))
    }

    fn on_request_body(&self, call: &Call<'_>, seen: &mut usize) -> Reply {
        *seen += call.body.len();
        Reply::replace_body(call.body.to_ascii_uppercase())
    }

    fn on_response_headers(&self, _call: &Call<'_>, seen: &mut usize) -> Reply {
        Reply::headers(HeaderMutation::new().set("x-body-bytes", seen.to_string()))
    }

    fn reload(&self, payload: &str) -> Result<(), String> {
        if payload == "bad" {
            Err("bad payload".into())
        } else {
            Ok(())
        }
    }
}

struct Running {
    path: std::path::PathBuf,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<herz_coproc::Result<()>>,
}

fn start(tag: &str) -> Running {
    let path = fake_kernel::temp_dir(tag).join("test.sock");
    let server = Server::bind(FilterService(TestFilter), Options::new("test", &path)).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::spawn(move || server.run(move || flag.load(Ordering::SeqCst)));
    Running { path, stop, thread }
}

const LAYOUT: Layout = Layout { workers: 2, ring_bytes: 4096 };

fn headers(set: &[(&str, &str)]) -> Answer {
    Answer::Headers { status: HeadersStatus::Continue, set: set.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect() }
}

#[test]
fn handshake_calls_control_and_drain() {
    let running = start("main");
    let mut kernel = FakeKernel::attach(&running.path, 7, LAYOUT);
    assert_eq!(kernel.ack.result, Ok(()));
    assert_eq!(kernel.ack.pid, std::process::id());
    assert!(kernel.ack.control_endpoint.ends_with(&format!("test.sock.{}.ctl", std::process::id())));

    let ControlMsg::Hello(hello) = kernel.hello("test", 1) else { panic!("hello expected") };
    assert_eq!((hello.protocol_version, hello.ring_version, hello.session_id), (1, 1, 7));
    assert_eq!(hello.name, "test");
    assert_eq!(hello.build_version, env!("CARGO_PKG_VERSION"));
    assert!(hello.capabilities.contains(&"phase:request_headers".to_string()));
    assert!(hello.generation > 0);

    // Calls on both workers, per-stream state, local reply.
    assert_eq!(kernel.call(0, 1, Phase::RequestHeaders, &[(":path", "/a")], b"", false), headers(&[("x-seen-path", "/a")]));
    assert_eq!(
        kernel.call(1, 2, Phase::RequestHeaders, &[("x-deny", "1")], b"", false),
        Answer::LocalReply { status: 403, body: b"denied".to_vec() }
    );
    assert_eq!(
        kernel.call(0, 1, Phase::RequestBody, &[], b"abc", false),
        Answer::Data { status: DataStatus::Continue, body: Some(b"ABC".to_vec()) }
    );
    kernel.call(0, 1, Phase::RequestBody, &[], b"de", true);
    assert_eq!(kernel.call(0, 1, Phase::ResponseHeaders, &[], b"", false), headers(&[("x-body-bytes", "5")]));
    kernel.stream_end(0, 1);
    assert_eq!(kernel.call(0, 1, Phase::ResponseHeaders, &[], b"", false), headers(&[("x-body-bytes", "0")]), "state dropped");

    // Enough traffic to wrap the 4 KiB rings many times.
    for i in 0..3000u64 {
        let body = vec![b'x'; (i % 900) as usize];
        let answer = kernel.call((i % 2) as usize, 100 + i, Phase::RequestBody, &[], &body, true);
        assert_eq!(answer, Answer::Data { status: DataStatus::Continue, body: Some(vec![b'X'; body.len()]) });
    }

    // Control.
    assert_eq!(
        kernel.control(&ControlMsg::Heartbeat { sequence: 9, sent_nanos: 123 }),
        ControlMsg::HeartbeatAck { sequence: 9, sent_nanos: 123 }
    );
    let ControlMsg::Stats(stats) = kernel.control(&ControlMsg::StatsRequest) else { panic!("stats expected") };
    assert!(stats.calls_served >= 3006, "{stats:?}");
    assert!(stats.rss_bytes > 0);
    assert_eq!(kernel.control(&ControlMsg::Reload("{}".into())), ControlMsg::ReloadResult { ok: true, message: "reloaded".into() });
    assert_eq!(kernel.control(&ControlMsg::Reload("bad".into())), ControlMsg::ReloadResult { ok: false, message: "bad payload".into() });

    // A second session (an upgraded kernel, or another kernel) beside the first.
    let mut second = FakeKernel::attach(&running.path, 8, Layout { workers: 1, ring_bytes: 8192 });
    assert!(matches!(second.hello("test", 1), ControlMsg::Hello(_)));
    assert_eq!(second.call(0, 1, Phase::RequestHeaders, &[(":path", "/b")], b"", false), headers(&[("x-seen-path", "/b")]));

    // Drain the first: in-flight answered, drained, and the process keeps serving the second.
    let id = kernel.send_call(1, 50, Phase::RequestBody, &[], b"late", true);
    assert_eq!(kernel.control(&ControlMsg::Drain { deadline_millis: 1000 }), ControlMsg::Drained { in_flight: 0 });
    assert_eq!(kernel.next_answer(1, Duration::from_secs(1)).unwrap().0, id);
    drop(kernel);
    assert_eq!(second.call(0, 2, Phase::RequestHeaders, &[(":path", "/c")], b"", false), headers(&[("x-seen-path", "/c")]));

    // Drain the second too: with no session left, `run` returns by itself.
    assert_eq!(second.control(&ControlMsg::Drain { deadline_millis: 1000 }), ControlMsg::Drained { in_flight: 0 });
    drop(second);
    running.thread.join().unwrap().unwrap();
    assert!(!running.path.exists(), "the attach socket is removed on exit");
}

#[test]
fn refuses_version_and_name_mismatches() {
    let running = start("refuse");
    let kernel = FakeKernel::attach(&running.path, 1, LAYOUT);
    match kernel.hello("test", 2) {
        ControlMsg::Refuse(reason) => assert!(reason.contains("ring protocol 2") && reason.contains("/ 1"), "{reason}"),
        other => panic!("refuse expected, got {other:?}"),
    }
    assert!(kernel.attach_closed(), "a refused session is closed");

    let kernel = FakeKernel::attach(&running.path, 2, LAYOUT);
    assert!(matches!(kernel.hello("jwt", 1), ControlMsg::Refuse(r) if r.contains("jwt")));

    let kernel = FakeKernel::attach(&running.path, 3, LAYOUT);
    assert!(matches!(kernel.hello("test", 1), ControlMsg::Hello(_)));
    running.stop.store(true, Ordering::SeqCst);
    running.thread.join().unwrap().unwrap();
    assert!(kernel.attach_closed(), "shutdown closes sessions");
}

#[test]
fn bad_records_end_the_session() {
    let running = start("violation");
    let mut kernel = FakeKernel::attach(&running.path, 1, Layout { workers: 1, ring_bytes: 4096 });
    assert!(matches!(kernel.hello("test", 1), ControlMsg::Hello(_)));
    kernel.write_raw_record(0, 9, 8);
    assert!(kernel.attach_closed(), "an unknown record kind breaks the session");
    running.stop.store(true, Ordering::SeqCst);
    running.thread.join().unwrap().unwrap();
}
