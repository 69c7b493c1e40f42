//! `tally bench`: end-to-end load against any Ethereum JSON-RPC node (Tally,
//! Hardhat, Anvil, ...).
//!
//! 1. Setup, untimed ([`setup`]): fresh sender keys are funded by account 0
//!    of the test mnemonic; token workloads deploy TestToken and share it out.
//! 2. Pre-signing, untimed ([`plan`]): every transaction is built with fixed
//!    gas and signed in parallel, so the timed phase measures the node only.
//! 3. Timed phase ([`load`]): JSON-RPC batches of eth_sendRawTransaction,
//!    several in flight, while a tracker follows new blocks for inclusion.
//! 4. Receipts of all included transactions are checked for status 1, and
//!    [`report`] reduces the outcomes to rates and latency percentiles.
//!
//! `--versus` ([`compare`]) runs two kinds on one node in alternating
//! rounds and compares their medians.
//!
//! `tally bench sync` ([`sync`]) measures catch-up instead: a fresh node
//! syncing a long chain from a peer, all in-process; `tally bench mine`
//! ([`mine`]) the proof-of-work miner's hash rate per core.

mod compare;
mod load;
mod mine;
mod plan;
mod propagation;
mod report;
mod rpc;
mod setup;
mod sync;

use std::time::Duration;

use alloy_primitives::{Address, U256};
use alloy_sol_types::SolCall;
use anyhow::{bail, Context as _};
use indicatif::{MultiProgress, ProgressBar, ProgressState, ProgressStyle};
use tally_crypto::{address_of, SecretKey};

use self::plan::{Kind, Plan};
use self::report::{Report, RunInfo};
use self::rpc::Rpc;

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// JSON-RPC endpoint of the node under test.
    #[arg(long, default_value = "http://127.0.0.1:8545", env = "TALLY_RPC")]
    pub rpc: String,
    /// Number of transactions in the timed phase.
    #[arg(long, default_value_t = 10_000)]
    pub txs: usize,
    /// Number of fresh sender accounts the transactions are spread over.
    #[arg(long, default_value_t = 200)]
    pub senders: usize,
    /// What the transactions do.
    #[arg(long, value_enum, default_value_t = Kind::Transfer)]
    pub kind: Kind,
    /// Also run this kind on the same node, in alternating rounds (--kind
    /// first, then this; the next round the other way round), and compare
    /// the two kinds' median throughput. Each run funds its own senders.
    #[arg(long, value_enum, value_name = "KIND")]
    pub versus: Option<Kind>,
    /// With --versus: runs of each kind. An even number runs each kind
    /// first equally often (A B B A): a chain's first runs are its fastest.
    #[arg(long, default_value_t = 2, requires = "versus")]
    pub rounds: usize,
    /// Transactions per JSON-RPC batch request (at most --senders: a batch
    /// holds one transaction per sender).
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Batch requests in flight at once. A sender's next nonce is sent only
    /// after the batch with its previous one was answered, so fewer than
    /// batch x concurrency senders also limit how many are in flight.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Print the result as JSON on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Seconds to wait for setup, and for inclusion in the timed phase.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// Also watch this node's new blocks (repeatable) and report how long
    /// blocks take to reach it from the node under load (WebSocket).
    #[arg(long = "watch", value_name = "URL")]
    pub watch: Vec<String>,
    /// Also submit to this node (repeatable): batches go round-robin over
    /// `--rpc` and these, as a consortium's clients each use their own
    /// member's node. Setup, inclusion tracking and the node-time figures
    /// stay on `--rpc`.
    #[arg(long = "submit-to", value_name = "URL")]
    pub submit_to: Vec<String>,
    /// Offer a fixed load of this many transactions per second instead of
    /// as many as the node accepts (batches leave on a schedule, as
    /// Caliper's fixed-rate controller sends). Latency then counts from
    /// each batch's scheduled time, so a node that answers late cannot
    /// hide its queue.
    #[arg(long, value_name = "TX_PER_SEC", value_parser = parse_rate)]
    pub rate: Option<f64>,
    #[command(subcommand)]
    pub mode: Option<BenchMode>,
}

/// Benchmarks other than the RPC load test.
#[derive(clap::Subcommand, Debug)]
pub enum BenchMode {
    /// Time a fresh node catching up a long chain from a peer (in-process,
    /// over libp2p on loopback).
    Sync(sync::SyncArgs),
    /// Measure the proof-of-work miner's hash rate per core against a
    /// plain double SHA-256 loop.
    Mine(mine::MineBenchArgs),
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.mode {
        Some(BenchMode::Sync(sync_args)) => return sync::run(sync_args),
        Some(BenchMode::Mine(mine_args)) => return mine::run(mine_args),
        None => {}
    }
    for (name, value) in [
        ("--txs", args.txs),
        ("--senders", args.senders),
        ("--batch", args.batch),
        ("--concurrency", args.concurrency),
    ] {
        if value == 0 {
            bail!("{name} must be at least 1");
        }
    }
    if args.timeout == 0 {
        bail!("--timeout must be at least 1 second");
    }
    let runtime = crate::async_runtime()?;
    if let Some(versus) = args.versus {
        return runtime.block_on(compare(&args, versus));
    }
    let report = runtime.block_on(bench(&args, args.kind))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_table());
    }
    if report.included == 0 {
        bail!("no transaction was included; see the rejections above");
    }
    Ok(())
}

/// A `--rate`: a positive, finite number of transactions per second.
fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!(
            "'{s}' is not a rate: give a positive number of transactions per second"
        )),
    }
}

/// `--versus`: `args.rounds` runs of each kind, alternating, then the
/// comparison.
async fn compare(args: &BenchArgs, versus: Kind) -> anyhow::Result<()> {
    if versus == args.kind {
        bail!(
            "--versus {} names the same kind as --kind: give another kind to compare with",
            versus.name()
        );
    }
    if args.rounds == 0 {
        bail!("--rounds must be at least 1");
    }
    let total = args.rounds * 2;
    let mut runs = Vec::with_capacity(total);
    for round in 0..args.rounds {
        for kind in compare::order(args.kind, versus, round) {
            eprintln!(
                "run {} of {total}: {} txs of kind {}",
                runs.len() + 1,
                args.txs,
                kind.name()
            );
            let report = bench(args, kind).await?;
            if report.included == 0 {
                bail!(
                    "no {} transaction was included; see the rejections: {:?}",
                    kind.name(),
                    report.rejections
                );
            }
            eprintln!(
                "  {}: {:.0} tx/s, p99 {:.0} ms",
                kind.name(),
                report.throughput_tps,
                report.latency.p99_ms
            );
            runs.push(report);
        }
    }
    let comparison = compare::Comparison::new(args.kind, versus, runs);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&comparison)?);
    } else {
        print!("{}", comparison.to_table());
    }
    Ok(())
}

async fn bench(args: &BenchArgs, kind: Kind) -> anyhow::Result<Report> {
    let timeout = Duration::from_secs(args.timeout);
    let rpc = Rpc::new(&args.rpc, timeout)?;
    // More senders than transactions would only cost setup time.
    let senders = args.senders.min(args.txs);
    // A batch holds at most one transaction per sender: nodes may process a
    // batch's entries in any order, so a sender's nonces n and n+1 in one
    // batch could arrive swapped.
    let batch = args.batch.min(senders);
    if args.senders < args.batch {
        eprintln!(
            "note: batches capped at {batch} transactions (one per sender); use more --senders \
             for bigger batches"
        );
    }

    let progress = MultiProgress::new();
    let spinner = progress.add(ProgressBar::new_spinner());
    spinner.enable_steady_tick(Duration::from_millis(120));
    spinner.set_message(format!("setup: funding {senders} senders"));
    let prepared = setup::prepare(&rpc, kind, args.txs, senders, timeout).await?;

    let token_gas = match prepared.token {
        Some(token) if kind.needs_token() => token_gas(&rpc, kind, token, &prepared.keys).await,
        _ => kind.default_token_gas(),
    };
    spinner.set_message(format!("signing {} transactions", args.txs));
    let plan = Plan {
        chain_id: prepared.chain_id,
        fees: prepared.fees,
        kind,
        token: prepared.token,
        token_gas,
        txs: args.txs,
    };
    let keys = prepared.keys;
    let txs = tokio::task::spawn_blocking(move || plan::presign(&plan, &keys))
        .await
        .context("signing thread crashed")??;
    spinner.finish_and_clear();

    let submit_bar = progress.add(bar(txs.len(), "submitted"));
    let include_bar = progress.add(bar(txs.len(), "included "));
    let config = load::LoadConfig {
        batch,
        concurrency: args.concurrency,
        senders,
        timeout,
        rate: args.rate,
    };
    let watch = if args.watch.is_empty() {
        None
    } else {
        Some(propagation::Watch::start(&args.rpc, &args.watch).await?)
    };
    let mut submit = vec![rpc.clone()];
    for url in &args.submit_to {
        submit.push(Rpc::new(url, timeout)?);
    }
    let metrics_before = rpc.tally_metrics().await;
    let mut result = load::run(&rpc, &submit, &txs, config, &submit_bar, &include_bar).await?;
    let metrics_after = rpc.tally_metrics().await;
    load::check_receipts(&rpc, &txs, &mut result.outcomes, batch, args.concurrency)
        .await
        .context("checking receipts")?;

    let run = RunInfo {
        rpc: args.rpc.clone(),
        chain_id: prepared.chain_id,
        kind: kind.name().to_string(),
        txs: args.txs,
        senders,
        batch,
        concurrency: args.concurrency,
        endpoints: 1 + args.submit_to.len(),
        rate: args.rate,
        token_gas: if kind.needs_token() { token_gas } else { 0 },
    };
    let mut report = Report::new(run, &result.outcomes, result.submit_window);
    if let (Some(b), Some(a)) = (&metrics_before, &metrics_after) {
        report.node_time_ms = report::metrics_delta(b, a);
    }
    if let Some(watch) = watch {
        // Room for the last blocks to reach the watched nodes.
        report.propagation = watch.finish(Duration::from_secs(2)).await;
    }
    Ok(report)
}

/// The gas limit of the run's token transfers, as a wallet sets it:
/// `eth_estimateGas` of one (sender 0 paying sender 1, as the run does)
/// plus a quarter, never above the kind's default. Without an estimate
/// (an old node, an error) the default.
async fn token_gas(rpc: &Rpc, kind: Kind, token: Address, keys: &[SecretKey]) -> u64 {
    let default = kind.default_token_gas();
    let (Some(from), Some(to)) = (keys.first(), keys.get(1).or(keys.first())) else {
        return default;
    };
    let call = plan::transferCall {
        to: address_of(to),
        value: U256::from(plan::TOKEN_AMOUNT),
    };
    match rpc
        .estimate_gas(address_of(from), token, call.abi_encode().into())
        .await
    {
        Ok(gas) => gas.saturating_add(gas / 4).min(default),
        Err(e) => {
            eprintln!("note: eth_estimateGas failed ({e}); token transfers get {default} gas");
            default
        }
    }
}

fn bar(len: usize, label: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    let template = format!("{label} [{{bar:40}}] {{pos}}/{{len}} {{tps}} {{elapsed}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        let style = style.progress_chars("=> ").with_key(
            "tps",
            |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0} tx/s", state.per_sec());
            },
        );
        bar.set_style(style);
    }
    bar
}
