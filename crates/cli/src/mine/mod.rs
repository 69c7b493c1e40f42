//! `tally mine --rpc URL`: an external miner for a proof-of-work node
//! started with `--mine` (typically `--miner-threads 0`).
//!
//! The loop: `eth_getWork` every [`POLL`] (at once after a find, and every
//! [`IDLE_POLL`] while the node has no work, as just after a block),
//! hashing threads ([`workers`]) search the current work's nonces with the
//! consensus crate's PoW hash and switch as soon as the work changes; a
//! nonce that meets the target goes back with `eth_submitWork`. Every
//! [`REPORT`] the rate is printed and sent with `eth_submitHashrate`.
//! Ctrl-C (or SIGTERM) stops the threads and prints a summary.

#[cfg(test)]
mod tests;
mod work;
mod workers;

use std::time::{Duration, Instant};

use anyhow::Context;
use jsonrpsee::{
    core::client::{ClientT, Error as ClientError},
    http_client::{HttpClient, HttpClientBuilder},
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tally_primitives::B256;
use tokio::sync::mpsc;

use crate::shutdown::Shutdown;
pub use work::format_rate;
use work::Work;
use workers::{Found, Workers};

/// How often the work is polled: a new head (ours or a peer's) is picked
/// up within this, and mining on a stale head wastes at most this long.
const POLL: Duration = Duration::from_millis(500);
/// How often the work is polled while there is none: a node rebuilds its
/// template right after each block, and every moment idle is lost.
const IDLE_POLL: Duration = Duration::from_millis(100);
/// A wait for work shorter than this (a template being rebuilt) is not
/// worth a line of output.
const IDLE_NOTICE: Duration = Duration::from_secs(2);
/// How often the rate is printed and reported to the node.
const REPORT: Duration = Duration::from_secs(5);
const MAX_THREADS: usize = 1024;

#[derive(clap::Args)]
pub struct MineArgs {
    /// JSON-RPC endpoint of a proof-of-work node started with --mine.
    #[arg(
        long,
        env = "TALLY_RPC",
        default_value = "http://127.0.0.1:8545",
        value_name = "URL"
    )]
    rpc: String,
    /// Hashing threads [default: one per core].
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
}

pub fn run(args: MineArgs) -> anyhow::Result<()> {
    crate::logging::init();
    let threads = match args.threads {
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    anyhow::ensure!(
        (1..=MAX_THREADS).contains(&threads),
        "--threads must be between 1 and {MAX_THREADS}, got {threads}"
    );
    let url = args.rpc.trim().to_string();
    anyhow::ensure!(
        url.starts_with("http://") || url.starts_with("https://"),
        "invalid --rpc URL {url:?}: expected http://host:port"
    );
    // The hashing runs on its own threads; the runtime only waits on RPC,
    // timers and signals.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let shutdown = Shutdown::install()?;
        let summary = mine(&url, threads, shutdown.wait()).await?;
        println!(
            "Stopped: {} found ({} rejected), {} hashes in {:.0} s ({})",
            plural(summary.accepted as usize, "block"),
            summary.rejected,
            summary.hashes,
            summary.elapsed.as_secs_f64(),
            format_rate(summary.rate())
        );
        Ok(())
    })
}

/// What a mining run did.
#[derive(Debug)]
struct Summary {
    accepted: u64,
    rejected: u64,
    hashes: u64,
    elapsed: Duration,
}

impl Summary {
    fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.hashes as f64 / secs
        } else {
            0.0
        }
    }
}

/// Why an RPC call failed, as far as the miner cares.
#[derive(Debug)]
enum CallError {
    /// The node has no such method.
    Missing,
    /// The node answered with an error (e.g. no work yet).
    Node(String),
    /// No answer.
    Unreachable(String),
    /// An answer of the wrong shape.
    Bad(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Missing => f.write_str("method not supported"),
            CallError::Node(m) | CallError::Unreachable(m) | CallError::Bad(m) => f.write_str(m),
        }
    }
}

struct Node {
    client: HttpClient,
    url: String,
}

impl Node {
    async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Vec<Value>,
    ) -> Result<T, CallError> {
        let raw: Value = self
            .client
            .request(method, params)
            .await
            .map_err(|e| match e {
                ClientError::Call(obj) if obj.code() == -32601 => CallError::Missing,
                ClientError::Call(obj) => CallError::Node(obj.message().to_string()),
                ClientError::Transport(e) => CallError::Unreachable(e.to_string()),
                ClientError::RequestTimeout => CallError::Unreachable("timed out".into()),
                other => CallError::Bad(other.to_string()),
            })?;
        serde_json::from_value(raw.clone())
            .map_err(|e| CallError::Bad(format!("unexpected answer {raw}: {e}")))
    }

    async fn get_work(&self) -> Result<Work, CallError> {
        let answer: Vec<String> = self.call("eth_getWork", Vec::new()).await?;
        Work::parse(&answer).map_err(|e| CallError::Bad(format!("eth_getWork: {e}")))
    }
}

/// Why and since when the miner has had no work.
struct Idle {
    since: Instant,
    reason: String,
    /// Whether `reason` was printed.
    announced: bool,
}

/// The miner's loop state.
struct Miner {
    node: Node,
    workers: Workers,
    threads: usize,
    work: Option<Work>,
    idle: Option<Idle>,
    /// Seal hash of the last submission: a second thread may find a nonce
    /// for the same work before it sees the first one's stop.
    last_submitted: Option<B256>,
    accepted: u64,
    rejected: u64,
    hashrate_supported: bool,
    id: B256,
    started: Instant,
    last_report: (Instant, u64),
}

/// Mines for the node at `url` until `stop` resolves.
async fn mine(
    url: &str,
    threads: usize,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<Summary> {
    let client = HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(10))
        .build(url)
        .map_err(|e| anyhow::anyhow!("invalid --rpc URL {url:?}: {e}"))?;
    let node = Node {
        client,
        url: url.to_string(),
    };
    // Fail at once when nothing useful can follow; a node that has no work
    // yet (still starting, catching up) is waited for.
    let first = match node.get_work().await {
        Ok(work) => Ok(work),
        Err(CallError::Missing) => anyhow::bail!(
            "node at {} does not offer eth_getWork: start a node of a proof-of-work chain with \
             --mine (add --miner-threads 0 to leave all the mining to external miners)",
            node.url
        ),
        Err(CallError::Unreachable(reason)) => anyhow::bail!(
            "cannot reach node at {} ({reason}); is a node running there? (set --rpc or \
             TALLY_RPC)",
            node.url
        ),
        Err(e @ CallError::Bad(_)) => anyhow::bail!("node at {}: {e}", node.url),
        Err(CallError::Node(message)) => Err(format!("the node says {message:?}")),
    };
    let (found_tx, mut found_rx) = mpsc::channel::<Found>(64);
    let workers = Workers::start(threads, found_tx).context("starting the hashing threads")?;
    println!(
        "Mining for {} on {}; Ctrl-C stops",
        node.url,
        plural(threads, "thread")
    );
    let now = Instant::now();
    let mut miner = Miner {
        node,
        workers,
        threads,
        work: None,
        idle: None,
        last_submitted: None,
        accepted: 0,
        rejected: 0,
        hashrate_supported: true,
        id: workers::miner_id(),
        started: now,
        last_report: (now, 0),
    };
    match first {
        Ok(work) => miner.switch(Some(work)),
        Err(reason) => {
            miner.idle(reason);
            miner.announce_idle();
        }
    }

    let mut report = tokio::time::interval_at(tokio::time::Instant::now() + REPORT, REPORT);
    report.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        let poll = if miner.work.is_some() {
            POLL
        } else {
            IDLE_POLL
        };
        tokio::select! {
            _ = &mut stop => break,
            Some(found) = found_rx.recv() => {
                miner.submit(found).await;
                miner.refresh().await;
            }
            _ = tokio::time::sleep(poll) => miner.refresh().await,
            _ = report.tick() => miner.report().await,
        }
    }
    let Miner {
        workers,
        accepted,
        rejected,
        started,
        ..
    } = miner;
    let hashes = workers.hashes();
    workers.stop();
    Ok(Summary {
        accepted,
        rejected,
        hashes,
        elapsed: started.elapsed(),
    })
}

/// `mining block #12`.
fn describe(work: &Work) -> String {
    match work.number {
        Some(n) => format!("mining block #{n}"),
        None => "mining the current block".to_string(),
    }
}

/// `1 thread`, `2 threads`.
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

impl Miner {
    fn switch(&mut self, work: Option<Work>) {
        if self.work == work {
            return;
        }
        if let Some(w) = &work {
            if self.idle.take().is_some_and(|idle| idle.announced) {
                println!("work again: {}", describe(w));
            }
            tracing::debug!(seal_hash = %w.seal_hash, number = ?w.number, "new work");
        }
        self.workers.set_work(work.clone());
        self.work = work;
    }

    /// Polls `eth_getWork` and moves the threads to it if it changed.
    async fn refresh(&mut self) {
        match self.node.get_work().await {
            Ok(work) => self.switch(Some(work)),
            Err(e) => {
                let reason = match &e {
                    CallError::Missing => "the node no longer offers eth_getWork".to_string(),
                    CallError::Node(m) => format!("the node says {m:?}"),
                    CallError::Unreachable(r) => format!("node unreachable ({r})"),
                    CallError::Bad(m) => m.clone(),
                };
                self.idle(reason);
            }
        }
    }

    /// Stops hashing: stale work only wastes power. A wait that goes on
    /// is announced once per reason.
    fn idle(&mut self, reason: String) {
        self.switch(None);
        match &mut self.idle {
            Some(idle) if idle.reason == reason => {}
            Some(idle) => {
                idle.reason = reason;
                idle.announced = false;
            }
            None => {
                self.idle = Some(Idle {
                    since: Instant::now(),
                    reason,
                    announced: false,
                })
            }
        }
        if self
            .idle
            .as_ref()
            .is_some_and(|idle| idle.since.elapsed() >= IDLE_NOTICE)
        {
            self.announce_idle();
        }
    }

    fn announce_idle(&mut self) {
        if let Some(idle) = self.idle.as_mut().filter(|idle| !idle.announced) {
            println!("waiting for work: {}", idle.reason);
            idle.announced = true;
        }
    }

    async fn submit(&mut self, found: Found) {
        let seal_hash = found.work.seal_hash;
        if self.last_submitted == Some(seal_hash) {
            return;
        }
        self.last_submitted = Some(seal_hash);
        let block = found
            .work
            .number
            .map_or("a block".to_string(), |n| format!("block #{n}"));
        let params = work::submit_params(found.nonce, seal_hash);
        match self.node.call::<bool>("eth_submitWork", params).await {
            Ok(true) => {
                self.accepted += 1;
                println!(
                    "found {block} (nonce 0x{:016x}): accepted, {} found so far",
                    found.nonce, self.accepted
                );
            }
            Ok(false) => {
                self.rejected += 1;
                println!(
                    "found {block} (nonce 0x{:016x}): rejected (the node moved on: stale work)",
                    found.nonce
                );
            }
            Err(e) => {
                self.rejected += 1;
                println!("found {block}, but eth_submitWork failed: {e}");
            }
        }
    }

    async fn report(&mut self) {
        let now = Instant::now();
        let hashes = self.workers.hashes();
        let (then, before) = self.last_report;
        let secs = now.duration_since(then).as_secs_f64();
        let rate = if secs > 0.0 {
            hashes.saturating_sub(before) as f64 / secs
        } else {
            0.0
        };
        self.last_report = (now, hashes);
        let doing = match &self.work {
            Some(w) if rate > 0.0 => format!(
                "{}, about {:.1} s per block",
                describe(w),
                w.expected_hashes() / rate
            ),
            Some(w) => describe(w),
            None => "idle (no work)".to_string(),
        };
        println!(
            "{doing}, {} on {}; {} found, {} rejected",
            format_rate(rate),
            plural(self.threads, "thread"),
            self.accepted,
            self.rejected
        );
        if self.hashrate_supported {
            let params = work::hashrate_params(rate, self.id);
            if let Err(CallError::Missing) =
                self.node.call::<bool>("eth_submitHashrate", params).await
            {
                self.hashrate_supported = false;
            }
        }
    }
}
