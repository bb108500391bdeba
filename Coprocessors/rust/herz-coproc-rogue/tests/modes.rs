//! Each rogue mode misbehaves as documented (seen from the fake kernel).

#[path = "../../herz-coproc/tests/fake_kernel/mod.rs"]
mod fake_kernel;

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use fake_kernel::FakeKernel;
use herz_coproc::control::ControlMsg;
use herz_coproc::ring::Layout;
use herz_coproc::Phase;

struct Rogue {
    child: Child,
    kernel: FakeKernel,
}

impl Drop for Rogue {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rogue(mode: &str) -> (Rogue, ControlMsg) {
    let path = fake_kernel::temp_dir(&format!("rogue-{}", mode.replace(':', "-"))).join("rogue.sock");
    let child = Command::new(env!("CARGO_BIN_EXE_herz-coproc-rogue"))
        .arg("--listen")
        .arg(format!("unix:{}", path.display()))
        .args(["--mode", mode])
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    let kernel = FakeKernel::attach(&path, 1, Layout { workers: 1, ring_bytes: 4096 });
    let hello = kernel.hello("rogue", 1);
    (Rogue { child, kernel }, hello)
}

fn call(r: &mut Rogue) -> u64 {
    r.kernel.send_call(0, 1, Phase::RequestHeaders, &[], b"", false)
}

const WAIT: Duration = Duration::from_secs(2);

#[test]
fn double_answers_twice() {
    let (mut r, _) = rogue("double");
    let id = call(&mut r);
    assert_eq!(r.kernel.next_answer(0, WAIT).unwrap().0, id);
    assert_eq!(r.kernel.next_answer(0, WAIT).unwrap().0, id);
}

#[test]
fn unknown_call_answers_another_id() {
    let (mut r, _) = rogue("unknown-call");
    let id = call(&mut r);
    assert_ne!(r.kernel.next_answer(0, WAIT).unwrap().0, id);
}

#[test]
fn silent_never_answers() {
    let (mut r, _) = rogue("silent");
    call(&mut r);
    assert!(r.kernel.next_record(0, Duration::from_millis(200)).unwrap().is_none());
}

#[test]
fn oversized_breaks_the_record_rules() {
    let (mut r, _) = rogue("oversized");
    call(&mut r);
    assert!(r.kernel.next_record(0, WAIT).is_err());
}

#[test]
fn garbage_does_not_decode() {
    let (mut r, _) = rogue("garbage");
    call(&mut r);
    let bytes = r.kernel.next_record(0, WAIT).unwrap().unwrap();
    let decoded = herz_coproc::frames::Frame::parse(&bytes).and_then(|f| {
        let root = f.root::<herz_coproc::frames::ring::coprocessor_to_kernel::Reader<'_>>()?;
        root.answer()?.which()?;
        Ok(())
    });
    assert!(decoded.is_err(), "64 random bytes are not an answer");
}

#[test]
fn wrong_version_says_ring_99() {
    let (_r, hello) = rogue("wrong-version");
    assert!(matches!(hello, ControlMsg::Hello(h) if h.ring_version == 99));
}

#[test]
fn slow_answers_after_the_delay() {
    let (mut r, _) = rogue("slow:150");
    let start = Instant::now();
    let id = call(&mut r);
    assert_eq!(r.kernel.next_answer(0, WAIT).unwrap().0, id);
    assert!(start.elapsed() >= Duration::from_millis(150));
}

#[test]
fn crash_after_aborts_on_the_next_call() {
    let (mut r, _) = rogue("crash-after:2");
    for _ in 0..2 {
        let id = call(&mut r);
        assert_eq!(r.kernel.next_answer(0, WAIT).unwrap().0, id);
    }
    call(&mut r);
    let status = r.child.wait().unwrap();
    assert!(!status.success());
    assert!(r.kernel.attach_closed());
}
