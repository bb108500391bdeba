//! The coprocessor process: attach endpoint, ZeroMQ control loop, one thread per ring pair.
//!
//! [`serve`] runs a [`Filter`](crate::Filter) until SIGTERM/SIGINT (after draining) or until the
//! kernel drained it and no session is left; either way it returns `Ok(())` so the process exits 0.
//! [`Server`] is the same machinery for any [`RingService`] and without signal handling (tests,
//! fault-injecting coprocessors).

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::attach::{self, Ack, Listener};
use crate::control::{ControlMsg, Hello, Stats};
use crate::error::{Error, Result};
use crate::frames::{AlignedBuf, Frame};
use crate::ring::{Consumer, Direction, Doorbell, Producer, Region, WriteError};

/// `controlProtocolVersion` spoken by this crate.
pub const CONTROL_PROTOCOL_VERSION: u32 = crate::frames::control::CONTROL_PROTOCOL_VERSION;
/// `ringProtocolVersion` spoken by this crate.
pub const RING_PROTOCOL_VERSION: u32 = crate::frames::ring::RING_PROTOCOL_VERSION;

/// How long a worker sleeps in poll(2) before re-checking its session's flags.
const SLEEP_SLICE: Duration = Duration::from_millis(50);
/// How long a SIGTERM/SIGINT waits for in-flight calls before exiting.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// How a coprocessor process runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// The name the kernel must expect (`--coproc NAME=unix:PATH`); a hello with another name is refused.
    pub name: String,
    /// The attach socket path (`--listen unix:PATH`).
    pub listen: PathBuf,
    /// How long a worker spins re-reading `tail` before it sleeps (`--spin-us`, default 20 µs).
    pub spin: Duration,
    /// The build version announced in hello (default: this crate's version; binaries pass theirs).
    pub build_version: String,
    /// The ring protocol version announced in hello. Only fault injection changes it.
    pub advertised_ring_version: u32,
}

impl Options {
    /// Options with the defaults of the doc: spin 20 µs, this crate's versions.
    pub fn new(name: impl Into<String>, listen: impl Into<PathBuf>) -> Options {
        Options {
            name: name.into(),
            listen: listen.into(),
            spin: Duration::from_micros(20),
            build_version: env!("CARGO_PKG_VERSION").to_owned(),
            advertised_ring_version: RING_PROTOCOL_VERSION,
        }
    }

    /// Parses `--listen`'s `unix:PATH` form.
    pub fn parse_listen(value: &str) -> std::result::Result<PathBuf, String> {
        match value.strip_prefix("unix:") {
            Some(path) if !path.is_empty() => Ok(PathBuf::from(path)),
            _ => Err(format!("--listen takes unix:PATH, got {value:?}")),
        }
    }
}

/// What runs on the rings: the layer below [`Filter`](crate::Filter). Implement it directly to
/// see raw frames (the rogue coprocessor does, to misbehave on purpose).
pub trait RingService: Send + Sync + 'static {
    /// State of one worker thread (one ring pair).
    type Worker: Send + 'static;

    /// Creates the state of worker `worker` when its session becomes ready.
    fn new_worker(&self, worker: u32) -> Self::Worker;

    /// Handles one `KernelToCoprocessor` frame, writing any answers through `out`. An `Err` ends
    /// the session (the kernel sees EOF and applies its failure policy).
    fn on_frame(&self, worker: &mut Self::Worker, frame: &Frame<'_>, out: &mut Outbox<'_>) -> Result<()>;

    /// Capabilities announced in hello.
    fn capabilities(&self) -> Vec<String>;

    /// Handles `reload`.
    fn reload(&self, payload: &str) -> std::result::Result<(), String>;

    /// True when the worker holds no stream still in progress. The kernel keeps sending a
    /// stream's calls to the session that served its first, so a draining session's worker is
    /// quiet only once its streams ended too.
    fn idle(&self, _worker: &Self::Worker) -> bool {
        true
    }
}

/// Counters reported in `stats`.
#[derive(Default)]
struct Counters {
    served: AtomicU64,
    failed: AtomicU64,
}

/// Where a worker writes answers: its answers ring, waking the kernel when needed.
pub struct Outbox<'w> {
    producer: &'w mut Producer,
    doorbell: &'w Doorbell,
    session: &'w Session,
    counters: &'w Counters,
}

impl Outbox<'_> {
    /// The largest answer frame the ring takes.
    pub fn max_frame(&self) -> usize {
        self.producer.max_frame()
    }

    /// Sends one answer frame and counts it as served (and failed when `failed`).
    pub fn answer(&mut self, frame: &[u8], failed: bool) -> Result<()> {
        self.send(frame)?;
        self.counters.served.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.counters.failed.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Sends one message record, waiting (in poll, never spinning) while the ring is full.
    /// `Error::Disconnected` when the session ends meanwhile; `Error::Protocol` above `maxFrame`.
    pub fn send(&mut self, frame: &[u8]) -> Result<()> {
        let len = frame.len();
        self.write_with(len, |p| p.try_write(frame))
    }

    /// Writes a record with an arbitrary header (fault injection only; see [`Producer::write_raw`]).
    pub fn send_raw(&mut self, kind: u32, length: u32, payload: &[u8]) -> Result<()> {
        self.write_with(payload.len().max(length as usize), |p| p.write_raw(kind, length, payload))
    }

    fn write_with(&mut self, len: usize, mut write: impl FnMut(&mut Producer) -> std::result::Result<(), WriteError>) -> Result<()> {
        loop {
            match write(self.producer) {
                Ok(()) => break,
                Err(WriteError::TooLarge(n)) => {
                    return Err(Error::Protocol(format!("answer of {n} bytes exceeds maxFrame {}", self.max_frame())))
                }
                Err(WriteError::Full) => {
                    if self.producer.publish() {
                        self.doorbell.ring()?;
                    }
                    if self.producer.prepare_wait(len) {
                        self.doorbell.wait(SLEEP_SLICE)?;
                    }
                    if self.session.closed.load(Ordering::Acquire) {
                        return Err(Error::Disconnected);
                    }
                }
            }
        }
        if self.producer.publish() {
            self.doorbell.ring()?;
        }
        Ok(())
    }
}

/// One attached kernel session.
pub struct Session {
    id: u64,
    region: Arc<Region>,
    attach: UnixStream,
    doorbells: Mutex<Option<Vec<OwnedFd>>>,
    draining: AtomicBool,
    closed: AtomicBool,
    in_flight: AtomicU32,
    workers_running: AtomicU32,
    workers_quiet: AtomicU32,
}

impl Session {
    fn close(&self) {
        if !self.closed.swap(true, Ordering::AcqRel) {
            let _ = self.attach.shutdown(std::net::Shutdown::Both);
        }
    }

    /// True when every worker emptied its calls ring after `draining` was set (or none runs).
    fn quiet(&self) -> bool {
        self.workers_quiet.load(Ordering::Acquire) >= self.workers_running.load(Ordering::Acquire)
    }
}

struct Shared<S> {
    service: S,
    options: Options,
    sessions: Mutex<HashMap<u64, Arc<Session>>>,
    counters: Counters,
    started: Instant,
    generation: u64,
    control_endpoint: String,
}

/// A bound coprocessor: attach socket listening, control socket bound. [`Server::run`] serves.
pub struct Server<S: RingService> {
    shared: Arc<Shared<S>>,
    listener: Arc<Listener>,
    control_path: PathBuf,
    _context: zmq::Context,
    router: zmq::Socket,
}

impl<S: RingService> Server<S> {
    /// Binds the attach socket and `ipc://PATH.<pid>.ctl`, and starts accepting kernels.
    pub fn bind(service: S, options: Options) -> Result<Server<S>> {
        let pid = std::process::id();
        let control_path = attach::control_path(&options.listen, pid);
        let listener = Arc::new(Listener::bind(&options.listen)?);
        let context = zmq::Context::new();
        let router = context.socket(zmq::ROUTER)?;
        router.set_linger(0)?;
        let _ = std::fs::remove_file(&control_path);
        let control_endpoint = format!("ipc://{}", control_path.display());
        router.bind(&control_endpoint)?;
        let generation = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
        let shared = Arc::new(Shared {
            service,
            options,
            sessions: Mutex::new(HashMap::new()),
            counters: Counters::default(),
            started: Instant::now(),
            generation,
            control_endpoint,
        });
        let (accept_shared, accept_listener) = (shared.clone(), listener.clone());
        std::thread::Builder::new()
            .name("herz-attach".into())
            .spawn(move || accept_loop(accept_shared, accept_listener))?;
        log::info!("coprocessor {} listening on unix:{}", shared.options.name, shared.options.listen.display());
        Ok(Server { shared, listener, control_path, _context: context, router })
    }

    /// The control endpoint (`ipc://PATH.<pid>.ctl`).
    pub fn control_endpoint(&self) -> &str {
        &self.shared.control_endpoint
    }

    /// Serves control messages until `stop()` returns true (then drains every session for at
    /// most a second) or until the kernel drained this process and no session is left. Removes
    /// the control file and, if still ours, the attach socket before returning.
    pub fn run(self, stop: impl Fn() -> bool) -> Result<()> {
        let mut peers: HashMap<Vec<u8>, Arc<Session>> = HashMap::new();
        let mut drains: Vec<(Vec<u8>, Arc<Session>, Instant)> = Vec::new();
        let mut drain_requested = false;
        let mut shutdown_deadline: Option<Instant> = None;
        loop {
            let readable = match self.router.poll(zmq::POLLIN, 5) {
                Ok(n) => n > 0,
                Err(zmq::Error::EINTR) => false, // a signal: checked below
                Err(e) => return Err(e.into()),
            };
            if readable {
                while let Ok(parts) = self.router.recv_multipart(zmq::DONTWAIT) {
                    self.on_message(parts, &mut peers, &mut drains, &mut drain_requested)?;
                }
            }
            drains.retain(|(peer, session, deadline)| {
                let done = session.quiet() || session.closed.load(Ordering::Acquire) || Instant::now() >= *deadline;
                if done {
                    let in_flight = session.in_flight.load(Ordering::Acquire);
                    log::info!("session {} drained ({in_flight} in flight)", session.id);
                    let _ = self.send(peer, &ControlMsg::Drained { in_flight });
                }
                !done
            });
            let sessions: Vec<Arc<Session>> = self.shared.sessions.lock().expect("sessions").values().cloned().collect();
            peers.retain(|_, s| !s.closed.load(Ordering::Acquire));
            if shutdown_deadline.is_none() && stop() {
                log::info!("signalled: draining {} session(s)", sessions.len());
                sessions.iter().for_each(|s| s.draining.store(true, Ordering::Release));
                shutdown_deadline = Some(Instant::now() + SHUTDOWN_GRACE);
            }
            if let Some(deadline) = shutdown_deadline {
                if sessions.iter().all(|s| s.quiet()) || Instant::now() >= deadline {
                    sessions.iter().for_each(|s| s.close());
                    break;
                }
            }
            if drain_requested && sessions.is_empty() {
                log::info!("drained and no session left: exiting");
                break;
            }
        }
        Ok(())
    }

    fn send(&self, peer: &[u8], message: &ControlMsg) -> Result<()> {
        self.router.send_multipart([peer.to_vec(), message.encode()], zmq::DONTWAIT)?;
        Ok(())
    }

    fn on_message(
        &self,
        parts: Vec<Vec<u8>>,
        peers: &mut HashMap<Vec<u8>, Arc<Session>>,
        drains: &mut Vec<(Vec<u8>, Arc<Session>, Instant)>,
        drain_requested: &mut bool,
    ) -> Result<()> {
        let [peer, frame]: [Vec<u8>; 2] = match parts.try_into() {
            Ok(parts) => parts,
            Err(parts) => {
                log::warn!("control message with {} frames ignored (expected identity + 1)", parts.len());
                return Ok(());
            }
        };
        let message = match ControlMsg::decode(&frame) {
            Ok(m) => m,
            Err(e) => {
                log::warn!("undecodable control message ignored: {e}");
                return Ok(());
            }
        };
        let session = peers.get(&peer).cloned();
        match message {
            ControlMsg::Hello(hello) => {
                let reply = self.on_hello(&hello);
                if let Ok(ref session) = reply {
                    peers.insert(peer.clone(), session.clone());
                    start_workers(&self.shared, session)?;
                }
                let answer = match reply {
                    Ok(_) => ControlMsg::Hello(self.hello(hello.session_id)),
                    Err(reason) => {
                        log::error!("{reason}");
                        if let Some(s) = self.shared.sessions.lock().expect("sessions").get(&hello.session_id) {
                            s.close();
                        }
                        ControlMsg::Refuse(reason)
                    }
                };
                self.send(&peer, &answer)
            }
            ControlMsg::Heartbeat { sequence, sent_nanos } => {
                self.send(&peer, &ControlMsg::HeartbeatAck { sequence, sent_nanos })
            }
            ControlMsg::Drain { deadline_millis } => {
                let Some(session) = session else { return Ok(()) };
                log::info!("session {} draining", session.id);
                *drain_requested = true;
                session.draining.store(true, Ordering::Release);
                drains.push((peer, session, Instant::now() + Duration::from_millis(deadline_millis.max(1) as u64)));
                Ok(())
            }
            ControlMsg::StatsRequest => self.send(&peer, &ControlMsg::Stats(self.stats())),
            ControlMsg::Reload(payload) => {
                let result = self.shared.service.reload(&payload);
                log::info!("reload: {result:?}");
                let (ok, message) = match result {
                    Ok(()) => (true, "reloaded".to_owned()),
                    Err(message) => (false, message),
                };
                self.send(&peer, &ControlMsg::ReloadResult { ok, message })
            }
            ControlMsg::Refuse(reason) => {
                log::error!("kernel refused coprocessor {}: {reason}", self.shared.options.name);
                if let Some(session) = session {
                    session.close();
                }
                Ok(())
            }
            other => {
                log::warn!("unexpected control message from the kernel ignored: {other:?}");
                Ok(())
            }
        }
    }

    /// Checks a kernel's hello; `Err` is the refusal reason (one line naming both sides).
    fn on_hello(&self, hello: &Hello) -> std::result::Result<Arc<Session>, String> {
        let name = &self.shared.options.name;
        if hello.protocol_version != CONTROL_PROTOCOL_VERSION || hello.ring_version != RING_PROTOCOL_VERSION {
            return Err(format!(
                "coprocessor {name} refused: kernel speaks control protocol {} / ring protocol {}, coprocessor speaks {} / {}",
                hello.protocol_version, hello.ring_version, CONTROL_PROTOCOL_VERSION, RING_PROTOCOL_VERSION
            ));
        }
        if &hello.name != name {
            return Err(format!("coprocessor {name} refused: kernel expects a coprocessor named {:?}", hello.name));
        }
        let session = self.shared.sessions.lock().expect("sessions").get(&hello.session_id).cloned();
        match session {
            Some(s) if s.doorbells.lock().expect("doorbells").is_some() => Ok(s),
            Some(_) => Err(format!("coprocessor {name} refused: session {} already said hello", hello.session_id)),
            None => Err(format!("coprocessor {name} refused: no attached session {}", hello.session_id)),
        }
    }

    fn hello(&self, session_id: u64) -> Hello {
        let options = &self.shared.options;
        Hello {
            protocol_version: CONTROL_PROTOCOL_VERSION,
            ring_version: options.advertised_ring_version,
            name: options.name.clone(),
            build_version: options.build_version.clone(),
            capabilities: self.shared.service.capabilities(),
            pid: std::process::id(),
            session_id,
            generation: self.shared.generation,
        }
    }

    fn stats(&self) -> Stats {
        let sessions = self.shared.sessions.lock().expect("sessions");
        Stats {
            calls_served: self.shared.counters.served.load(Ordering::Relaxed),
            calls_failed: self.shared.counters.failed.load(Ordering::Relaxed),
            in_flight: sessions.values().map(|s| s.in_flight.load(Ordering::Relaxed)).sum(),
            rss_bytes: rss_bytes(),
            uptime_millis: self.shared.started.elapsed().as_millis() as u64,
        }
    }
}

impl<S: RingService> Drop for Server<S> {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.control_path);
        self.listener.unlink_if_ours();
    }
}

fn rss_bytes() -> u64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()))
        .unwrap_or(0);
    pages * nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE).ok().flatten().unwrap_or(4096) as u64
}

fn accept_loop<S: RingService>(shared: Arc<Shared<S>>, listener: Arc<Listener>) {
    loop {
        match listener.accept() {
            Ok(stream) => {
                let shared = shared.clone();
                let _ = std::thread::Builder::new().name("herz-session".into()).spawn(move || run_session(shared, stream));
            }
            Err(e) => {
                log::error!("accept on {} failed: {e}", listener.path().display());
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// Attaches one kernel connection, registers the session, and watches the socket for EOF.
fn run_session<S: RingService>(shared: Arc<Shared<S>>, stream: UnixStream) {
    let pid = std::process::id();
    let ack = |session_id, result| Ack { session_id, result, control_endpoint: shared.control_endpoint.clone(), pid };
    let request = match attach::read_attach(&stream) {
        Ok(r) => r,
        Err(Error::Disconnected) => return,
        Err(e) => {
            log::error!("attach refused: {e}");
            let _ = attach::write_ack(&stream, &ack(0, Err(e.to_string())));
            return;
        }
    };
    let id = request.session_id;
    let region = match Region::attach(request.memfd, request.layout, request.region_bytes) {
        Ok(region) => region,
        Err(e) => {
            log::error!("attach of session {id} refused: {e}");
            let _ = attach::write_ack(&stream, &ack(id, Err(e.to_string())));
            return;
        }
    };
    let watcher = match stream.try_clone() {
        Ok(s) => s,
        Err(e) => {
            log::error!("session {id}: {e}");
            return;
        }
    };
    let session = Arc::new(Session {
        id,
        region,
        attach: stream,
        doorbells: Mutex::new(Some(request.doorbells)),
        draining: AtomicBool::new(false),
        closed: AtomicBool::new(false),
        in_flight: AtomicU32::new(0),
        workers_running: AtomicU32::new(0),
        workers_quiet: AtomicU32::new(0),
    });
    {
        let mut sessions = shared.sessions.lock().expect("sessions");
        if sessions.contains_key(&id) {
            drop(sessions);
            log::error!("attach refused: session {id} is already attached");
            let _ = attach::write_ack(&session.attach, &ack(id, Err(format!("session {id} is already attached"))));
            return;
        }
        sessions.insert(id, session.clone());
    }
    if let Err(e) = attach::write_ack(&session.attach, &ack(id, Ok(()))) {
        log::error!("session {id}: writing attachAck failed: {e}");
        session.close();
    } else {
        log::info!("session {id} attached: {:?}", session.region.layout());
        // Blocks until the kernel closes the socket (or we shut it down): the session's liveness.
        let _ = std::io::Read::read(&mut &watcher, &mut [0u8; 1]);
        log::info!("session {id} ended");
    }
    session.close();
    shared.sessions.lock().expect("sessions").remove(&id);
}

/// Starts one thread per worker of a session that completed its hello.
fn start_workers<S: RingService>(shared: &Arc<Shared<S>>, session: &Arc<Session>) -> Result<()> {
    let doorbells = session.doorbells.lock().expect("doorbells").take().unwrap_or_default();
    session.workers_running.store(doorbells.len() as u32, Ordering::Release);
    for (worker, fd) in doorbells.into_iter().enumerate() {
        let worker = worker as u32;
        let doorbell = Doorbell::new(fd)?;
        let (shared, session) = (shared.clone(), session.clone());
        std::thread::Builder::new()
            .name(format!("herz-ring-{}-{worker}", session.id))
            .spawn(move || {
                let consumer = session.region.consumer(worker, Direction::Calls);
                let producer = session.region.producer(worker, Direction::Answers);
                if let Err(e) = serve_ring(&shared, &session, worker, consumer, producer, &doorbell) {
                    match e {
                        Error::Disconnected => log::info!("session {} worker {worker}: kernel gone", session.id),
                        e => log::error!("session {} worker {worker}: {e}; closing the session", session.id),
                    }
                }
                session.close();
            })?;
    }
    Ok(())
}

/// Consume → call the service → produce, until the session closes.
fn serve_ring<S: RingService>(
    shared: &Shared<S>,
    session: &Session,
    worker: u32,
    mut consumer: Consumer,
    mut producer: Producer,
    doorbell: &Doorbell,
) -> Result<()> {
    let mut state = shared.service.new_worker(worker);
    let mut buf = AlignedBuf::new();
    let mut quiet = false;
    let spin = shared.options.spin;
    while !session.closed.load(Ordering::Acquire) {
        if let Some(bytes) = consumer.try_read(&mut buf)? {
            if consumer.release() {
                doorbell.ring()?;
            }
            session.in_flight.fetch_add(1, Ordering::AcqRel);
            let mut out = Outbox { producer: &mut producer, doorbell, session, counters: &shared.counters };
            let result = Frame::parse(bytes).and_then(|frame| shared.service.on_frame(&mut state, &frame, &mut out));
            session.in_flight.fetch_sub(1, Ordering::AcqRel);
            result?;
            continue;
        }
        if !quiet && session.draining.load(Ordering::Acquire) && shared.service.idle(&state) {
            quiet = true;
            session.workers_quiet.fetch_add(1, Ordering::AcqRel);
        }
        let spin_until = Instant::now() + spin;
        while !consumer.has_data() && Instant::now() < spin_until {
            std::hint::spin_loop();
        }
        if consumer.has_data() {
            continue;
        }
        if consumer.prepare_sleep() {
            let woken = doorbell.wait(SLEEP_SLICE);
            consumer.woke();
            woken?;
        }
    }
    Ok(())
}

/// Set by the SIGTERM/SIGINT handler that [`serve`] installs.
static SIGNALLED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    SIGNALLED.store(true, Ordering::SeqCst);
}

/// Installs SIGTERM/SIGINT handlers that ask [`serve`] to drain and return.
fn install_signal_handlers() -> Result<()> {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let action = SigAction::new(SigHandler::Handler(on_signal), SaFlags::SA_RESTART, SigSet::empty());
    for signal in [Signal::SIGTERM, Signal::SIGINT] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe { sigaction(signal, &action)? };
    }
    Ok(())
}

/// Runs `filter` as a coprocessor until SIGTERM/SIGINT (after draining) or until the kernel
/// drained it and no session is left. Returns `Ok(())` in both cases: exit 0.
pub fn serve<F: crate::Filter>(filter: F, options: Options) -> Result<()> {
    serve_service(crate::FilterService(filter), options)
}

/// [`serve`] for any [`RingService`].
pub fn serve_service<S: RingService>(service: S, options: Options) -> Result<()> {
    install_signal_handlers()?;
    Server::bind(service, options)?.run(|| SIGNALLED.load(Ordering::SeqCst))
}

