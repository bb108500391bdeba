//! The generated accessors against the schemas and the reference `capnp` tool, both ways.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use herz_coproc::frames::{ring, AlignedBuf, Frame};
use herz_coproc::{Call, FailureKind, HeaderMutation, Phase, Reply};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..").canonicalize().unwrap()
}

/// Runs `capnp ARGS` in the repository root with `input` on stdin.
fn capnp(args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new("capnp")
        .args(args)
        .current_dir(repo())
        .env("PWD", repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the capnp tool (apt-get install capnproto)");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "capnp {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[test]
fn generated_file_is_fresh() {
    let status = Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/gen/gen_frames.py"))
        .arg("--check")
        .status()
        .expect("python3");
    assert!(status.success(), "src/frames_gen.rs differs from a fresh generation: run gen/gen_frames.py");
}

fn decode_short(bytes: &[u8], ty: &str) -> String {
    String::from_utf8(capnp(&["decode", "--short", "schemas/ring.capnp", ty], bytes)).unwrap().trim().to_owned()
}

#[test]
fn rust_answers_decode_with_the_reference_tool() {
    let cases = [
        (Reply::Continue.encode(1, Phase::RequestHeaders), "(answer = (callId = 1, headers = (status = continue)))"),
        (
            Reply::headers(HeaderMutation::new().set("x-a", "1").append("x-b", "2").remove("x-c")).encode(2, Phase::ResponseHeaders),
            r#"(answer = (callId = 2, headers = (status = continue, mutation = (set = [(name = "x-a", value = "1")], append = [(name = "x-b", value = "2")], remove = ["x-c"]))))"#,
        ),
        (
            Reply::replace_body("***").encode(3, Phase::RequestBody),
            r#"(answer = (callId = 3, data = (status = continue, replaceBody = true, body = "***")))"#,
        ),
        (
            Reply::local(403, "no", "denied").encode(4, Phase::RequestHeaders),
            r#"(answer = (callId = 4, localReply = (status = 403, headers = [], body = "no", reason = "denied")))"#,
        ),
        (
            Reply::failure(FailureKind::Overloaded, "busy").encode(5, Phase::RequestTrailers),
            r#"(answer = (callId = 5, failure = (kind = overloaded, message = "busy")))"#,
        ),
        (
            Reply::Continue.encode(6, Phase::ResponseTrailers),
            "(answer = (callId = 6, trailers = (status = continue)))",
        ),
        (
            Reply::replace_body("x").encode(7, Phase::RequestHeaders),
            r#"(answer = (callId = 7, failure = (kind = internal, message = "filter answered a RequestHeaders call with Data { status: Continue, body: Some([120]) }")))"#,
        ),
    ];
    for (bytes, expected) in cases {
        assert_eq!(decode_short(&bytes, "CoprocessorToKernel"), expected);
    }
}

#[test]
fn reference_tool_calls_read_in_rust() {
    let text = r#"(call = (callId = 42, streamId = 9, deadlineNanos = 123456789, phase = responseBody, endStream = true,
        headers = [(name = ":status", value = "200"), (name = "Content-Type", value = "text/plain")],
        body = "hello", route = "api", filterConfig = "{\"k\":1}"))"#;
    let bytes = capnp(&["encode", "schemas/ring.capnp", "KernelToCoprocessor"], text.as_bytes());
    let mut buf = AlignedBuf::new();
    let frame = Frame::parse(buf.fill(&bytes)).unwrap();
    let root = frame.root::<ring::kernel_to_coprocessor::Reader<'_>>().unwrap();
    let ring::kernel_to_coprocessor::Which::Call(reader) = root.which().unwrap() else { panic!("a call") };
    let call = Call::read(reader).unwrap();
    assert_eq!((call.call_id, call.stream_id, call.deadline_nanos), (42, 9, 123456789));
    assert_eq!(call.phase, Phase::ResponseBody);
    assert!(call.end_stream);
    assert_eq!(call.header("content-type"), Some(&b"text/plain"[..]));
    assert_eq!(call.headers.len(), 2);
    assert_eq!(call.body, b"hello");
    assert_eq!((call.route, call.filter_config), ("api", "{\"k\":1}"));

    let bytes = capnp(&["encode", "schemas/ring.capnp", "KernelToCoprocessor"], b"(streamEnd = (streamId = 5, reset = true))");
    let frame = Frame::parse(buf.fill(&bytes)).unwrap();
    let root = frame.root::<ring::kernel_to_coprocessor::Reader<'_>>().unwrap();
    let ring::kernel_to_coprocessor::Which::StreamEnd(end) = root.which().unwrap() else { panic!("a stream end") };
    assert_eq!((end.stream_id(), end.reset()), (5, true));
}

#[test]
fn control_messages_match_the_reference_tool() {
    use herz_coproc::control::ControlMsg;
    let text = r#"(hello = (protocolVersion = 1, ringVersion = 1, name = "jwt", buildVersion = "1.2", capabilities = ["reload"], pid = 10, sessionId = 11, generation = 12))"#;
    let bytes = capnp(&["encode", "schemas/control.capnp", "ControlMessage"], text.as_bytes());
    let ControlMsg::Hello(hello) = ControlMsg::decode(&bytes).unwrap() else { panic!("hello") };
    assert_eq!((hello.name.as_str(), hello.capabilities.as_slice(), hello.generation), ("jwt", &["reload".to_string()][..], 12));
    let ack = ControlMsg::HeartbeatAck { sequence: 3, sent_nanos: 4 }.encode();
    let decoded = capnp(&["decode", "--short", "schemas/control.capnp", "ControlMessage"], &ack);
    assert_eq!(String::from_utf8(decoded).unwrap().trim(), "(heartbeatAck = (sequence = 3, sentNanos = 4))");
}

/// Every single-byte corruption and truncation of valid frames decodes to a value or an error.
#[test]
fn corrupted_frames_never_panic() {
    let call = capnp(
        &["encode", "schemas/ring.capnp", "KernelToCoprocessor"],
        br#"(call = (callId = 1, phase = requestHeaders, headers = [(name = "a", value = "b")], body = "xy", route = "r"))"#,
    );
    let mut buf = AlignedBuf::new();
    for i in 0..call.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut bytes = call.clone();
            bytes[i] ^= flip;
            for len in [bytes.len(), i] {
                let Ok(frame) = Frame::parse(buf.fill(&bytes[..len])) else { continue };
                let Ok(root) = frame.root::<ring::kernel_to_coprocessor::Reader<'_>>() else { continue };
                if let Ok(ring::kernel_to_coprocessor::Which::Call(c)) = root.which() {
                    let _ = Call::read(c);
                }
            }
        }
    }
}
