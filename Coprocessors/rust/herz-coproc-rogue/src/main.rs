//! `herz-coproc-rogue --listen unix:PATH --mode MODE [--name NAME] [--spin-us N]`
//!
//! A coprocessor that breaks the protocol on purpose, for the kernel's fault tests. Each mode
//! misbehaves in one way on every call (after a correct attach and handshake, except
//! `wrong-version`); everything else is a correct coprocessor answering `continue`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::Parser;
use herz_coproc::frames::ring::kernel_to_coprocessor::{self, Which};
use herz_coproc::frames::Frame;
use herz_coproc::ring::KIND_MESSAGE;
use herz_coproc::{serve_service, Filter, FilterService, Options, Outbox, Phase, Reply, RingService};

/// How the rogue misbehaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Answers each call with a record of random bytes.
    Garbage,
    /// Never answers.
    Silent,
    /// Answers each call twice.
    Double,
    /// Answers with a call id that is not in flight.
    UnknownCall,
    /// Writes a record whose length exceeds maxFrame.
    Oversized,
    /// Says hello with ring protocol 99.
    WrongVersion,
    /// Answers correctly after this many milliseconds.
    Slow(u64),
    /// Answers this many calls, then aborts on the next.
    CrashAfter(u64),
}

fn parse_mode(value: &str) -> Result<Mode, String> {
    let number = |s: &str| s.parse::<u64>().map_err(|e| format!("{value}: {e}"));
    Ok(match value {
        "garbage" => Mode::Garbage,
        "silent" => Mode::Silent,
        "double" => Mode::Double,
        "unknown-call" => Mode::UnknownCall,
        "oversized" => Mode::Oversized,
        "wrong-version" => Mode::WrongVersion,
        _ => match value.split_once(':') {
            Some(("slow", ms)) => Mode::Slow(number(ms)?),
            Some(("crash-after", n)) => Mode::CrashAfter(number(n)?),
            _ => return Err(format!(
                "unknown mode {value:?} (garbage, silent, double, unknown-call, oversized, wrong-version, slow:MS, crash-after:N)"
            )),
        },
    })
}

/// A deliberately misbehaving Herz coprocessor for fault tests.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Attach socket, as unix:PATH.
    #[arg(long, value_parser = Options::parse_listen)]
    listen: std::path::PathBuf,
    /// garbage | silent | double | unknown-call | oversized | wrong-version | slow:MS | crash-after:N
    #[arg(long, value_parser = parse_mode)]
    mode: Mode,
    /// Coprocessor name the kernel must expect.
    #[arg(long, default_value = "rogue")]
    name: String,
    /// Microseconds a worker spins before sleeping.
    #[arg(long, default_value_t = 20)]
    spin_us: u64,
}

/// The correct behaviour the rogue falls back to.
struct Continue;

impl Filter for Continue {
    type StreamState = ();
}

struct Rogue {
    mode: Mode,
    calls: AtomicU64,
    correct: FilterService<Continue>,
}

/// xorshift64: random enough for garbage, no dependency.
fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

impl RingService for Rogue {
    type Worker = <FilterService<Continue> as RingService>::Worker;

    fn new_worker(&self, worker: u32) -> Self::Worker {
        self.correct.new_worker(worker)
    }

    fn on_frame(&self, worker: &mut Self::Worker, frame: &Frame<'_>, out: &mut Outbox<'_>) -> herz_coproc::Result<()> {
        let root = frame.root::<kernel_to_coprocessor::Reader<'_>>()?;
        let Which::Call(call) = root.which()? else { return self.correct.on_frame(worker, frame, out) };
        let (id, phase) = (call.call_id(), call.phase().unwrap_or(Phase::RequestHeaders));
        let count = self.calls.fetch_add(1, Ordering::SeqCst);
        match self.mode {
            Mode::Garbage => {
                let seed = id ^ std::process::id() as u64 ^ 0x9e37_79b9_7f4a_7c15;
                out.send_raw(KIND_MESSAGE, 64, &random_bytes(seed, 64))
            }
            Mode::Silent => Ok(()),
            Mode::Double => {
                let answer = Reply::Continue.encode(id, phase);
                out.send(&answer)?;
                out.send(&answer)
            }
            Mode::UnknownCall => out.send(&Reply::Continue.encode(id ^ 0x5a5a_0000_0000_0000, phase)),
            Mode::Oversized => out.send_raw(KIND_MESSAGE, (out.max_frame() + 8) as u32, &[0; 8]),
            Mode::Slow(ms) => {
                std::thread::sleep(Duration::from_millis(ms));
                self.correct.on_frame(worker, frame, out)
            }
            Mode::CrashAfter(n) if count >= n => {
                log::warn!("crash-after:{n}: aborting on call {}", count + 1);
                std::process::abort()
            }
            Mode::CrashAfter(_) | Mode::WrongVersion => self.correct.on_frame(worker, frame, out),
        }
    }

    fn capabilities(&self) -> Vec<String> {
        self.correct.capabilities()
    }

    fn reload(&self, payload: &str) -> Result<(), String> {
        self.correct.reload(payload)
    }
}

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let args = Args::parse();
    let mut options = Options::new(args.name, args.listen);
    options.spin = Duration::from_micros(args.spin_us);
    options.build_version = format!("{}-rogue-{:?}", env!("CARGO_PKG_VERSION"), args.mode);
    if args.mode == Mode::WrongVersion {
        options.advertised_ring_version = 99;
    }
    log::info!("rogue coprocessor in mode {:?}", args.mode);
    let rogue = Rogue { mode: args.mode, calls: AtomicU64::new(0), correct: FilterService(Continue) };
    if let Err(e) = serve_service(rogue, options) {
        log::error!("{e}");
        std::process::exit(1);
    }
}
