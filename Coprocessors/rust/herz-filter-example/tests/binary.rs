//! The built `herz-filter-example` binary against the fake kernel of herz-coproc's tests.

#[path = "../../herz-coproc/tests/fake_kernel/mod.rs"]
mod fake_kernel;

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use fake_kernel::{Answer, FakeKernel};
use herz_coproc::control::ControlMsg;
use herz_coproc::ring::Layout;
use herz_coproc::{DataStatus, HeadersStatus, Phase};

fn spawn(tag: &str) -> (Child, std::path::PathBuf) {
    let path = fake_kernel::temp_dir(tag).join("example.sock");
    let child = Command::new(env!("CARGO_BIN_EXE_herz-filter-example"))
        .arg("--listen")
        .arg(format!("unix:{}", path.display()))
        .args(["--pattern", "secret", "--spin-us", "5"])
        .spawn()
        .unwrap();
    (child, path)
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the coprocessor did not exit");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn masks_bodies_across_chunks_tags_responses_and_exits_on_sigterm() {
    let (mut child, path) = spawn("sigterm");
    let mut kernel = FakeKernel::attach(&path, 1, Layout { workers: 1, ring_bytes: 4096 });
    assert!(matches!(kernel.hello("example", 1), ControlMsg::Hello(h) if h.name == "example"));

    let mut body = Vec::new();
    for (chunk, end) in [(&b"my sec"[..], false), (b"ret is secr", false), (b"et; se", false), (b"", true)] {
        match kernel.call(0, 1, Phase::RequestBody, &[], chunk, end) {
            Answer::Data { status: DataStatus::Continue, body: Some(b) } => body.extend(b),
            Answer::Data { status: DataStatus::Continue, body: None } => body.extend(chunk),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(body, b"my *** is ***; se");
    assert_eq!(
        kernel.call(0, 1, Phase::ResponseHeaders, &[(":status", "200")], b"", false),
        Answer::Headers { status: HeadersStatus::Continue, set: vec![("x-herz-example".into(), "1".into())] }
    );

    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    assert!(wait_exit(&mut child).success());
    assert!(kernel.attach_closed());
}

#[test]
fn exits_zero_once_drained_with_no_session_left() {
    let (mut child, path) = spawn("drain");
    let kernel = FakeKernel::attach(&path, 1, Layout { workers: 2, ring_bytes: 8192 });
    assert!(matches!(kernel.hello("example", 1), ControlMsg::Hello(_)));
    assert_eq!(kernel.control(&ControlMsg::Drain { deadline_millis: 500 }), ControlMsg::Drained { in_flight: 0 });
    drop(kernel);
    assert!(wait_exit(&mut child).success());
    assert!(!path.exists());
}

#[test]
fn wrong_ring_version_is_refused() {
    let (mut child, path) = spawn("refuse");
    let kernel = FakeKernel::attach(&path, 1, Layout { workers: 1, ring_bytes: 4096 });
    assert!(matches!(kernel.hello("example", 3), ControlMsg::Refuse(r) if r.contains("ring protocol 3")));
    child.kill().unwrap();
    let _ = child.wait();
}
