//! `tally bench sync`: how fast a fresh node catches up a long chain from a
//! peer (issue 3: 100,000 blocks of 1,000,000 transfers at >= 10,000 tx/s).
//!
//! 1. Untimed ([`source`]): an authority dev chain of `--blocks` blocks of
//!    `--txs-per-block` pre-signed transfers is produced in-process into
//!    `--dir`, or reused (and extended if short) from an earlier run.
//! 2. Timed: the source node serves it on loopback over libp2p, and a fresh
//!    follower node with the source as bootnode starts; the clock runs from
//!    the follower's start until its head equals the source's.
//! 3. [`report`]: blocks/s, tx/s and the follower's time by stage.

mod report;
mod source;

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::{bail, Context as _};
use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use tally_crypto::node_key::NodeKey;
use tally_network::{multiaddr::Protocol, Multiaddr};
use tally_node::{NetworkOptions, Node, NodeConfig};
use tally_primitives::Address;

use self::report::{Measured, SyncReport};
use self::source::{Params, SourceChain};

#[derive(clap::Args, Debug)]
pub struct SyncArgs {
    /// Blocks in the source chain.
    #[arg(long, default_value_t = 100_000)]
    pub blocks: u64,
    /// Transfers in each block.
    #[arg(long, default_value_t = 10)]
    pub txs_per_block: usize,
    /// Sender accounts (funded in genesis); a block's transfers come from
    /// distinct senders when this is at least --txs-per-block.
    #[arg(long, default_value_t = 2_000)]
    pub senders: usize,
    /// Distinct recipient addresses, created by their first transfer: the
    /// state grows to senders + recipients accounts.
    #[arg(long, default_value_t = 100_000)]
    pub recipients: usize,
    /// Where the source chain is kept between runs (and the follower's
    /// temporary datadir, so both are on the same disk).
    #[arg(long, default_value = "./tally-bench-sync")]
    pub dir: PathBuf,
    /// Print the result as JSON on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Seconds the follower may take to catch up.
    #[arg(long, default_value_t = 3_600)]
    pub timeout: u64,
}

pub fn run(args: SyncArgs) -> anyhow::Result<()> {
    if args.blocks == 0 {
        bail!("--blocks must be at least 1");
    }
    if args.txs_per_block == 0 || args.recipients == 0 || args.timeout == 0 {
        bail!("--txs-per-block, --recipients and --timeout must be at least 1");
    }
    if args.senders < args.txs_per_block {
        bail!(
            "--senders ({}) must be at least --txs-per-block ({}): a block holds one \
             transfer per sender",
            args.senders,
            args.txs_per_block
        );
    }
    let runtime = crate::async_runtime()?;
    // The nodes' own logs, only when asked for: they would bury the table.
    if std::env::var_os("RUST_LOG").is_some() {
        crate::logging::init();
    }
    let report = runtime.block_on(bench(&args))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_table());
    }
    if !report.heads_match {
        bail!("the follower's head differs from the source's");
    }
    Ok(())
}

async fn bench(args: &SyncArgs) -> anyhow::Result<SyncReport> {
    let params = Params {
        senders: args.senders,
        recipients: args.recipients,
        txs_per_block: args.txs_per_block,
    };
    let bar = bar("generating", "blocks");
    let source = source::prepare(&args.dir, &params, args.blocks, &bar).await?;
    bar.finish_and_clear();
    let measured = catch_up(args, &source).await?;
    Ok(SyncReport::new(
        &params,
        &measured,
        source.generated,
        source.generation_secs,
    ))
}

fn loopback() -> anyhow::Result<Multiaddr> {
    Ok("/ip4/127.0.0.1/tcp/0".parse()?)
}

/// The timed phase: a fresh follower syncs the whole source chain.
async fn catch_up(args: &SyncArgs, source: &SourceChain) -> anyhow::Result<Measured> {
    let serving = Node::start(NodeConfig {
        datadir: source.datadir.clone(),
        spec: source.spec.clone(),
        rpc_addr: "127.0.0.1:0".parse()?,
        rpc_limits: Default::default(),
        beneficiary: Address::repeat_byte(0xbe),
        dev_block_time_ms: None,
        node_key: Some(source::producer_key()),
        network: Some(NetworkOptions::new(loopback()?)),
        mining: None,
        index: false,
    })
    .await
    .context("cannot start the source node")?;
    let result = follow(args, source, &serving).await;
    serving.stop().await;
    result
}

async fn follow(args: &SyncArgs, source: &SourceChain, serving: &Node) -> anyhow::Result<Measured> {
    let target = serving.head();
    let net = serving
        .network()
        .context("the source node has no network")?;
    let addr = net
        .listen_addrs()
        .await
        .context("asking the source node's listen address")?
        .into_iter()
        .next()
        .context("the source node listens nowhere")?;
    let bootnode = addr.with(Protocol::P2p(net.local_peer_id()));
    let datadir = tempfile::Builder::new()
        .prefix("follower-")
        .tempdir_in(&args.dir)
        .with_context(|| format!("cannot create a follower datadir in {}", args.dir.display()))?;
    let mut network = NetworkOptions::new(loopback()?);
    network.bootnodes = vec![bootnode];
    let config = NodeConfig {
        datadir: datadir.path().to_path_buf(),
        spec: source.spec.clone(),
        rpc_addr: "127.0.0.1:0".parse()?,
        rpc_limits: Default::default(),
        beneficiary: Address::repeat_byte(0xbf),
        dev_block_time_ms: None,
        node_key: Some(NodeKey::generate()),
        network: Some(network),
        mining: None,
        index: false,
    };

    let bar = bar("syncing   ", "blocks");
    bar.set_length(target.number);
    let timeout = Duration::from_secs(args.timeout);
    let started = Instant::now();
    let follower = Node::start(config)
        .await
        .context("cannot start the follower node")?;
    let mut first_block = None;
    let outcome = loop {
        let head = follower.head();
        if first_block.is_none() && head.number > 0 {
            first_block = Some(started.elapsed());
        }
        bar.set_position(head.number);
        if head.number >= target.number {
            break Ok(head);
        }
        if started.elapsed() > timeout {
            break Err(anyhow::anyhow!(
                "the follower reached block {} of {} in {}s (--timeout)",
                head.number,
                target.number,
                args.timeout
            ));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    let metrics = follower.metrics();
    // The head moves when a run commits; the sync task adds the run's
    // import time a moment later, once the chain thread has answered.
    let accounted = Instant::now();
    while metrics
        .blocks_imported
        .load(std::sync::atomic::Ordering::Relaxed)
        < target.number
        && accounted.elapsed() < Duration::from_secs(5)
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let import = Duration::from_nanos(metrics.import_ns.load(std::sync::atomic::Ordering::Relaxed));
    let snapshot = metrics.snapshot();
    follower.stop().await;
    let head = outcome?;
    Ok(Measured {
        source_blocks: target.number,
        heads_match: head.hash == target.hash && head.state_root == target.state_root,
        elapsed,
        first_block,
        metrics: snapshot,
        import,
    })
}

fn bar(label: &str, unit: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(0);
    let template =
        format!("{label} [{{bar:40}}] {{pos}}/{{len}} {{rate}} {{elapsed}} (eta {{eta}})");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        let style = style.progress_chars("=> ").with_key(
            "rate",
            move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0} {unit}/s", state.per_sec());
            },
        );
        bar.set_style(style);
    }
    bar
}
