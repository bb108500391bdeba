//! A minimal kernel side of docs/coprocessor-protocol.md, for end-to-end tests. It is also the
//! shortest executable description of what `herz-kernel` does per session:
//!
//! 1. connect to the coprocessor's `PATH`;
//! 2. create the memfd region (`Region::create`: header, sealed) and one socketpair per worker;
//! 3. send `AttachFrame.attach` with SCM_RIGHTS `[memfd, coprocessor end of each socketpair]`;
//! 4. read `AttachFrame.attachAck`, DEALER-connect to its `controlEndpoint`, send `hello`;
//! 5. per worker: produce calls on ring 0, consume answers from ring 1, ringing the doorbell only
//!    when `publish`/`release` say the peer sleeps or waits (the kernel itself never spins; this
//!    test kernel waits in poll).
#![allow(dead_code)]

use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use herz_coproc::attach::{self, Ack};
use herz_coproc::control::{ControlMsg, Hello};
use herz_coproc::frames::ring::{self, coprocessor_to_kernel, answer};
use herz_coproc::frames::{encode, AlignedBuf, Frame};
use herz_coproc::ring::{Consumer, Direction, Doorbell, Layout, Producer, Region};
use herz_coproc::{DataStatus, HeadersStatus, Phase};

/// A fresh directory for one test's sockets.
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("herz-coproc-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Connects to `path`, retrying while the coprocessor starts.
pub fn connect(path: &Path) -> UnixStream {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match UnixStream::connect(path) {
            Ok(s) => return s,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("connect {}: {e}", path.display()),
        }
    }
}

/// An answer, copied out of its frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    Headers { status: HeadersStatus, set: Vec<(String, String)> },
    Data { status: DataStatus, body: Option<Vec<u8>> },
    Trailers,
    LocalReply { status: u16, body: Vec<u8> },
    Failure { message: String },
}

/// Decodes a `CoprocessorToKernel` frame into (call id, answer).
pub fn decode_answer(bytes: &[u8]) -> (u64, Answer) {
    let frame = Frame::parse(bytes).unwrap();
    let a = frame.root::<coprocessor_to_kernel::Reader<'_>>().unwrap().answer().unwrap();
    let headers = |list: herz_coproc::frames::StructList<'_, ring::header::Reader<'_>>| {
        list.iter()
            .map(|h| {
                (String::from_utf8_lossy(h.name().unwrap()).into_owned(), String::from_utf8_lossy(h.value().unwrap()).into_owned())
            })
            .collect()
    };
    let answer = match a.which().unwrap() {
        answer::Which::Headers(h) => {
            Answer::Headers { status: h.status().unwrap(), set: headers(h.mutation().unwrap().set().unwrap()) }
        }
        answer::Which::Data(d) => {
            Answer::Data { status: d.status().unwrap(), body: d.replace_body().then(|| d.body().unwrap().to_vec()) }
        }
        answer::Which::Trailers(_) => Answer::Trailers,
        answer::Which::LocalReply(l) => Answer::LocalReply { status: l.status(), body: l.body().unwrap().to_vec() },
        answer::Which::Failure(f) => Answer::Failure { message: f.message().unwrap().to_owned() },
    };
    (a.call_id(), answer)
}

/// The calls ring, answers ring and doorbell of one kernel worker.
pub struct Worker {
    calls: Producer,
    answers: Consumer,
    doorbell: Doorbell,
}

/// One kernel session attached to a coprocessor.
pub struct FakeKernel {
    pub ack: Ack,
    pub session_id: u64,
    attach: UnixStream,
    _region: Arc<Region>,
    workers: Vec<Worker>,
    _context: zmq::Context,
    dealer: zmq::Socket,
    next_call: u64,
    buf: AlignedBuf,
}

impl FakeKernel {
    /// Steps 1–4 up to (not including) hello.
    pub fn attach(path: &Path, session_id: u64, layout: Layout) -> FakeKernel {
        let stream = connect(path);
        let (region, memfd) = Region::create(layout).unwrap();
        let mut theirs: Vec<OwnedFd> = Vec::new();
        let mut workers = Vec::new();
        for w in 0..layout.workers {
            let (ours, coproc_end) = UnixStream::pair().unwrap();
            theirs.push(OwnedFd::from(coproc_end));
            workers.push(Worker {
                calls: region.producer(w, Direction::Calls),
                answers: region.consumer(w, Direction::Answers),
                doorbell: Doorbell::new(OwnedFd::from(ours)).unwrap(),
            });
        }
        attach::send_attach(&stream, session_id, layout, &memfd, &theirs).unwrap();
        drop(theirs); // the coprocessor holds its ends now
        let ack = attach::read_ack(&stream).unwrap();
        let context = zmq::Context::new();
        let dealer = context.socket(zmq::DEALER).unwrap();
        dealer.set_linger(0).unwrap();
        dealer.set_rcvtimeo(5000).unwrap();
        dealer.connect(&ack.control_endpoint).unwrap();
        FakeKernel {
            ack,
            session_id,
            attach: stream,
            _region: region,
            workers,
            _context: context,
            dealer,
            next_call: 1,
            buf: AlignedBuf::new(),
        }
    }

    /// One control round trip: one ZeroMQ frame out, one in.
    pub fn control(&self, message: &ControlMsg) -> ControlMsg {
        self.dealer.send(message.encode(), 0).unwrap();
        ControlMsg::decode(&self.dealer.recv_bytes(0).expect("control answer")).unwrap()
    }

    /// The kernel's hello expecting `name`, speaking `ring_version`.
    pub fn hello(&self, name: &str, ring_version: u32) -> ControlMsg {
        self.control(&ControlMsg::Hello(Hello {
            protocol_version: 1,
            ring_version,
            name: name.into(),
            build_version: "fake-kernel".into(),
            capabilities: vec![],
            pid: std::process::id(),
            session_id: self.session_id,
            generation: 0,
        }))
    }

    fn publish(&mut self, worker: usize, frame: &[u8]) {
        let w = &mut self.workers[worker];
        w.calls.try_write(frame).expect("calls ring has room");
        if w.calls.publish() {
            w.doorbell.ring().unwrap();
        }
    }

    /// Sends a call and returns its id.
    pub fn send_call(&mut self, worker: usize, stream_id: u64, phase: Phase, headers: &[(&str, &str)], body: &[u8], end_stream: bool) -> u64 {
        let call_id = self.next_call;
        self.next_call += 1;
        let frame = encode(|m| {
            let mut call = m.init_root::<ring::kernel_to_coprocessor::Builder<'_>>().init_call();
            call.set_call_id(call_id);
            call.set_stream_id(stream_id);
            call.set_deadline_nanos(u64::MAX);
            call.set_phase(phase);
            call.set_end_stream(end_stream);
            let mut list = call.init_headers(headers.len() as u32);
            for (i, (name, value)) in headers.iter().enumerate() {
                let mut h = list.get(i as u32);
                h.set_name(name.as_bytes());
                h.set_value(value.as_bytes());
            }
            call.set_body(body);
            call.set_route("test-route");
        });
        self.publish(worker, &frame);
        call_id
    }

    /// Sends `StreamEnd`.
    pub fn stream_end(&mut self, worker: usize, stream_id: u64) {
        let frame = encode(|m| {
            m.init_root::<ring::kernel_to_coprocessor::Builder<'_>>().init_stream_end().set_stream_id(stream_id);
        });
        self.publish(worker, &frame);
    }

    /// Waits (in poll) for the next record on `worker`'s answers ring: `Err` when it breaks the
    /// record rules (the kernel would close the session), `Ok(None)` on timeout.
    pub fn next_record(&mut self, worker: usize, timeout: Duration) -> herz_coproc::Result<Option<Vec<u8>>> {
        let deadline = Instant::now() + timeout;
        let w = &mut self.workers[worker];
        loop {
            if let Some(bytes) = w.answers.try_read(&mut self.buf)? {
                let bytes = bytes.to_vec();
                if w.answers.release() {
                    w.doorbell.ring()?;
                }
                return Ok(Some(bytes));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            if w.answers.prepare_sleep() {
                let woken = w.doorbell.wait(Duration::from_millis(5));
                w.answers.woke();
                woken?;
            }
        }
    }

    /// Waits for the next answer on `worker`'s answers ring (panics on a bad record).
    pub fn next_answer(&mut self, worker: usize, timeout: Duration) -> Option<(u64, Answer)> {
        self.next_record(worker, timeout).expect("valid answer record").map(|bytes| decode_answer(&bytes))
    }

    /// Sends a call and waits for its answer, checking the echoed id.
    pub fn call(&mut self, worker: usize, stream_id: u64, phase: Phase, headers: &[(&str, &str)], body: &[u8], end_stream: bool) -> Answer {
        let id = self.send_call(worker, stream_id, phase, headers, body, end_stream);
        let (got, answer) = self.next_answer(worker, Duration::from_secs(5)).expect("an answer within 5 s");
        assert_eq!(got, id, "answer echoes the call id");
        answer
    }

    /// Writes a record with an arbitrary header on `worker`'s calls ring (fault injection).
    pub fn write_raw_record(&mut self, worker: usize, kind: u32, length: u32) {
        let w = &mut self.workers[worker];
        w.calls.write_raw(kind, length, &vec![0; length as usize]).unwrap();
        if w.calls.publish() {
            w.doorbell.ring().unwrap();
        }
    }

    /// True when the coprocessor closed the attach socket.
    pub fn attach_closed(&self) -> bool {
        self.attach.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
        matches!(std::io::Read::read(&mut &self.attach, &mut [0u8; 1]), Ok(0))
    }
}
