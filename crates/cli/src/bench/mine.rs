//! `tally bench mine`: this machine's mining speed per core, the miner's
//! nonce search against a plain SHA-256d loop over the same input
//! (`tally_consensus::pow::hashrate::measure`). Their ratio is the miner's
//! overhead; the goal is at least 70% of the plain rate.

use std::time::Duration;

use crate::mine::format_rate;

/// The ratio the miner should reach against the plain loop.
const TARGET_RATIO: f64 = 0.7;

#[derive(clap::Args, Debug)]
pub struct MineBenchArgs {
    /// Seconds each of the two loops runs (in alternating slices).
    #[arg(long, default_value_t = 4.0, value_name = "S")]
    seconds: f64,
}

pub fn run(args: MineBenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.seconds.is_finite() && (0.1..=600.0).contains(&args.seconds),
        "--seconds must be between 0.1 and 600, got {}",
        args.seconds
    );
    if cfg!(debug_assertions) {
        eprintln!(
            "note: this is a debug build; hash rates are far below a release build's \
             (cargo run --release -- bench mine)"
        );
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    eprintln!(
        "measuring for about {:.0} s on one core...",
        2.0 * args.seconds
    );
    let rates = tally_consensus::pow::measure(Duration::from_secs_f64(args.seconds));
    let ratio = rates.miner_ratio();
    let verdict = if ratio >= TARGET_RATIO {
        "meets"
    } else {
        "BELOW"
    };
    println!(
        "miner (nonce search), one core:   {:>12}",
        format_rate(rates.miner_per_core)
    );
    println!(
        "plain SHA-256d, one core:         {:>12}",
        format_rate(rates.sha256d_per_core)
    );
    println!(
        "miner / plain:                    {:>11.1}%  ({verdict} the {:.0}% target)",
        100.0 * ratio,
        100.0 * TARGET_RATIO
    );
    println!(
        "miner, all {cores} cores (estimate):  {:>12}",
        format_rate(rates.miner_per_core * cores as f64)
    );
    Ok(())
}
