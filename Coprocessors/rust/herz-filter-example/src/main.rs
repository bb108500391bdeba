//! `herz-filter-example --listen unix:PATH [--pattern BYTES] [--spin-us N] [--name NAME]`

use clap::Parser;
use herz_coproc::{serve, Options};
use herz_filter_example::ExampleFilter;

/// Example Herz coprocessor: adds `x-herz-example: 1` to responses and masks a pattern in
/// request bodies.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Attach socket, as unix:PATH.
    #[arg(long, value_parser = Options::parse_listen)]
    listen: std::path::PathBuf,
    /// Bytes replaced by *** in request bodies.
    #[arg(long, default_value = "secret")]
    pattern: String,
    /// Microseconds a worker spins before sleeping.
    #[arg(long, default_value_t = 20)]
    spin_us: u64,
    /// Coprocessor name the kernel must expect (--coproc NAME=unix:PATH).
    #[arg(long, default_value = "example")]
    name: String,
}

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let args = Args::parse();
    let mut options = Options::new(args.name, args.listen);
    options.spin = std::time::Duration::from_micros(args.spin_us);
    options.build_version = env!("CARGO_PKG_VERSION").to_owned();
    if let Err(e) = serve(ExampleFilter { pattern: args.pattern.into_bytes() }, options) {
        log::error!("{e}");
        std::process::exit(1);
    }
}
