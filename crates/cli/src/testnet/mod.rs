//! `tally testnet`: N local nodes as separate processes on loopback.
//!
//! The first start generates a directory (see [`layout`]): a node key and
//! `node.toml` per node and a chain spec funding the 10 test-mnemonic
//! accounts like `tally dev`, whose authority is node 1 (`--consensus dev`,
//! the default), where every node mines (`--consensus pow`), or where each
//! node is a consortium member's and the first `--validators` of them
//! commit blocks by Tendermint BFT (`--consensus bft`). `tally init`
//! writes the same directory without starting it. Each node then runs as
//! `tally node --config D/node-i/node.toml --chain D/chain.toml` (the same
//! command a user would type), its output in `D/node-i/node.log`. The parent
//! waits until every RPC answers and the nodes have peers, prints the RPC
//! URLs, and stops the nodes on Ctrl-C; with `--detach` it leaves them
//! running for `tally testnet stop`. Starting an existing directory reuses
//! it, starting only the nodes that are not already running.

pub mod layout;
mod procs;
pub mod spec;

use std::{
    path::{Path, PathBuf},
    process::Child,
    time::{Duration, Instant},
};

use anyhow::Context;
use tally_primitives::{BftSpec, ChainSpec, EngineSpec};

use crate::shutdown::Shutdown;
use layout::{BftOptions, Consensus, CreateOptions, Layout, NodeEntry, MAX_NODES};
use procs::Proc;

const DEFAULT_DIR: &str = "tally-testnet";
/// How long a node may take to answer RPC after it is started.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the nodes may take to find a peer.
const PEER_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TestnetArgs {
    #[command(subcommand)]
    action: Option<Action>,
    #[command(flatten)]
    start: StartArgs,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Stop the nodes of a testnet started with --detach (or elsewhere).
    Stop(StopArgs),
}

#[derive(clap::Args)]
struct StopArgs {
    /// The testnet directory.
    #[arg(long, default_value = DEFAULT_DIR)]
    dir: PathBuf,
}

/// What a new network is: shared by `tally testnet` and `tally init`.
#[derive(clap::Args)]
pub struct NewNetworkArgs {
    /// How many nodes (1 to 16) [default: 4; bft with --members: one per
    /// member].
    #[arg(long, short)]
    pub nodes: Option<usize>,
    /// The consensus engine of the chain.
    #[arg(long, value_enum, default_value_t = Consensus::Dev)]
    pub consensus: Consensus,
    /// dev: node 1 seals a block every SECONDS (may be fractional), 0 as
    /// soon as transactions are pending, like `tally dev` [default: 1].
    /// pow: the block time the difficulty steers toward, at least 1
    /// [default: 2]. bft: the time between blocks, at least 0.1
    /// [default: 1].
    #[arg(long, value_name = "SECONDS")]
    pub block_time: Option<f64>,
    /// A consortium chain: only the network's own node keys may connect
    /// (a bft chain always is one).
    #[arg(long)]
    pub consortium: bool,
    /// RPC on ports P..P+N-1 and p2p on P+16..P+16+N-1 instead of free ports.
    #[arg(long, value_name = "P")]
    pub base_port: Option<u16>,
    /// bft: how many of the nodes are validators, the first N of them
    /// [default: all nodes].
    #[arg(long, value_name = "N")]
    pub validators: Option<usize>,
    /// bft: the member institutions' names, one node each (node i is the
    /// i-th name's); --nodes, if given, must match [default: org1..orgN].
    #[arg(long, value_name = "NAME,...", value_delimiter = ',')]
    pub members: Option<Vec<String>>,
    /// bft: wait for transactions instead of committing empty blocks.
    #[arg(long)]
    pub no_empty_blocks: bool,
}

impl NewNetworkArgs {
    /// Whether any option of a new network was given (they do not apply to
    /// an existing one).
    fn any(&self) -> bool {
        self.block_time.is_some()
            || self.consortium
            || self.base_port.is_some()
            || self.consensus != Consensus::Dev
            || self.validators.is_some()
            || self.members.is_some()
            || self.no_empty_blocks
    }

    /// The checked options.
    pub fn create_options(&self) -> anyhow::Result<CreateOptions> {
        let default_block_time = match self.consensus {
            Consensus::Dev | Consensus::Bft => 1.0,
            Consensus::Pow => 2.0,
        };
        let block_time = self.block_time.unwrap_or(default_block_time);
        anyhow::ensure!(
            block_time.is_finite() && (0.0..=3600.0).contains(&block_time),
            "--block-time must be between 0 and 3600 seconds, got {block_time}"
        );
        anyhow::ensure!(
            self.consensus != Consensus::Pow || block_time >= 1.0,
            "--block-time of a proof-of-work chain must be at least 1 second (block timestamps \
             are whole seconds), got {block_time}"
        );
        let bft = self.bft_options()?;
        let nodes = match &bft {
            Some(bft) => bft.member_names.len(),
            None => self.nodes.unwrap_or(4),
        };
        let opts = CreateOptions {
            consensus: self.consensus,
            nodes,
            block_time_ms: (block_time * 1000.0).round() as u64,
            consortium: self.consortium,
            base_port: self.base_port,
            bft,
        };
        anyhow::ensure!(
            (1..=MAX_NODES).contains(&opts.nodes),
            "--nodes must be between 1 and {MAX_NODES}, got {}",
            opts.nodes
        );
        if opts.consensus == Consensus::Bft {
            // Below this, rounds could not finish within a block time.
            anyhow::ensure!(
                block_time >= 0.1,
                "--block-time of a BFT chain must be at least 0.1 seconds, got {block_time}"
            );
        }
        Ok(opts)
    }

    /// The validators and members of a BFT network (`None` for other
    /// engines, which take none of these flags).
    fn bft_options(&self) -> anyhow::Result<Option<BftOptions>> {
        if self.consensus != Consensus::Bft {
            let given: Vec<&str> = [
                ("--validators", self.validators.is_some()),
                ("--members", self.members.is_some()),
                ("--no-empty-blocks", self.no_empty_blocks),
            ]
            .into_iter()
            .filter_map(|(flag, set)| set.then_some(flag))
            .collect();
            anyhow::ensure!(
                given.is_empty(),
                "{} only apply to a BFT chain; add --consensus bft or leave them out",
                given.join(", ")
            );
            return Ok(None);
        }
        let member_names = match &self.members {
            Some(names) => {
                if let Some(n) = self.nodes.filter(|n| *n != names.len()) {
                    anyhow::bail!(
                        "--nodes {n} does not match the {} names of --members (one node per \
                         member); leave --nodes out",
                        names.len()
                    );
                }
                anyhow::ensure!(
                    (1..=MAX_NODES).contains(&names.len()),
                    "--members must name between 1 and {MAX_NODES} members, got {}",
                    names.len()
                );
                names.iter().map(|n| n.trim().to_string()).collect()
            }
            None => BftOptions::all(self.nodes.unwrap_or(4)).member_names,
        };
        let nodes = member_names.len();
        let bft = BftOptions {
            validators: self.validators.unwrap_or(nodes),
            member_names,
            create_empty_blocks: !self.no_empty_blocks,
        };
        bft.check(nodes)?;
        Ok(Some(bft))
    }
}

#[derive(clap::Args)]
struct StartArgs {
    #[command(flatten)]
    new: NewNetworkArgs,
    /// The testnet directory: created if missing, restarted if it holds one.
    #[arg(long, default_value = DEFAULT_DIR)]
    dir: PathBuf,
    /// Return once the nodes are up, leaving them running.
    #[arg(long)]
    detach: bool,
    /// Which nodes keep the SQL index: `first` (node 1 only: on one
    /// machine one index answers every query, and four would each index
    /// the same chain), `all`, or `none` (validators that leave queries to
    /// other nodes).
    #[arg(long, value_enum, default_value_t = IndexNodes::First)]
    index: IndexNodes,
    /// The same as `--index none`.
    #[arg(long, conflicts_with = "index")]
    no_index: bool,
}

/// The nodes of a testnet that keep the SQL index.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum IndexNodes {
    First,
    All,
    None,
}

impl StartArgs {
    /// Whether node `index` (from 1) keeps the SQL index.
    fn indexes(&self, index: usize) -> bool {
        match (self.no_index, self.index) {
            (true, _) | (false, IndexNodes::None) => false,
            (false, IndexNodes::All) => true,
            (false, IndexNodes::First) => index == 1,
        }
    }
}

pub fn run(args: TestnetArgs) -> anyhow::Result<()> {
    match args.action {
        Some(Action::Stop(stop_args)) => stop(&stop_args.dir),
        None => start(args.start),
    }
}

fn open_or_create(args: &StartArgs) -> anyhow::Result<Layout> {
    if layout::is_testnet(&args.dir) {
        let layout = layout::open(&args.dir)?;
        if let Some(n) = args.new.nodes.filter(|n| *n != layout.nodes.len()) {
            anyhow::bail!(
                "{} holds a {}-node testnet, not {n}; use another --dir for a new one",
                layout.dir.display(),
                layout.nodes.len()
            );
        }
        if args.new.any() {
            eprintln!(
                "note: --consensus, --block-time, --consortium, --base-port, --validators, \
                 --members and --no-empty-blocks only apply to a new testnet; {} keeps its chain \
                 spec and ports",
                layout.dir.display()
            );
        }
        return Ok(layout);
    }
    let opts = args.new.create_options()?;
    let layout = layout::create(&args.dir, &opts)?;
    println!(
        "Created a {}-node {} testnet in {}",
        layout.nodes.len(),
        opts.consensus.name(),
        layout.dir.display()
    );
    Ok(layout)
}

fn start(args: StartArgs) -> anyhow::Result<()> {
    let layout = open_or_create(&args)?;
    let recorded = procs::read_pids(&layout.dir)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let mut shutdown = runtime.block_on(async { Shutdown::install() })?;

    // Nodes still running from an earlier start are kept, not doubled.
    let mut already: Vec<(usize, i32)> = Vec::new();
    let mut children: Vec<(usize, Child)> = Vec::new();
    for node in &layout.nodes {
        let alive = recorded
            .iter()
            .find(|(i, pid)| *i == node.index && procs::is_running(*pid, node));
        match alive {
            Some(&(i, pid)) => already.push((i, pid)),
            None => match procs::spawn_node(&layout, node, args.indexes(node.index)) {
                Ok(child) => children.push((node.index, child)),
                Err(e) => {
                    stop_children(&mut children);
                    return Err(e);
                }
            },
        }
    }
    let mut pids = already.clone();
    pids.extend(children.iter().map(|(i, c)| (*i, c.id() as i32)));
    pids.sort_unstable();
    procs::write_pids(&layout.dir, &pids)?;

    let ready = runtime.block_on(async {
        tokio::select! {
            r = wait_ready(&layout, &mut children) => r,
            _ = shutdown.recv() => Err(anyhow::anyhow!("interrupted")),
        }
    });
    if let Err(e) = ready {
        stop_children(&mut children);
        procs::write_pids(&layout.dir, &already)?;
        return Err(e);
    }
    print_table(&layout, &pids, args.detach);
    if args.detach {
        return Ok(());
    }

    runtime.block_on(async {
        loop {
            tokio::select! {
                _ = shutdown.recv() => break,
                _ = tokio::time::sleep(Duration::from_millis(500)) => {
                    if !watch_children(&layout, &mut children) {
                        break;
                    }
                }
            }
        }
    });
    eprintln!("stopping {} nodes...", layout.nodes.len());
    let mut procs: Vec<Proc<'_>> = children.iter_mut().map(|(_, c)| Proc::Child(c)).collect();
    for (i, pid) in &already {
        if let Some(node) = layout.nodes.iter().find(|n| n.index == *i) {
            procs.push(Proc::Pid(*pid, node));
        }
    }
    let killed = procs::terminate(&mut procs);
    procs::remove_pids(&layout.dir);
    if killed > 0 {
        eprintln!("{killed} nodes did not stop in time and were killed");
    } else {
        eprintln!("stopped cleanly");
    }
    Ok(())
}

/// Reports nodes that exited on their own; false once none is left.
fn watch_children(layout: &Layout, children: &mut Vec<(usize, Child)>) -> bool {
    children.retain_mut(|(i, child)| match child.try_wait() {
        Ok(Some(status)) => {
            eprintln!(
                "node {i} exited ({status}); its log: {}",
                layout.dir.join(format!("node-{i}/node.log")).display()
            );
            false
        }
        _ => true,
    });
    !children.is_empty()
}

fn stop_children(children: &mut [(usize, Child)]) {
    let mut procs: Vec<Proc<'_>> = children.iter_mut().map(|(_, c)| Proc::Child(c)).collect();
    procs::terminate(&mut procs);
}

/// The result of `method` at `url`, or `None` if the node does not answer.
async fn call(url: &str, method: &str) -> Option<serde_json::Value> {
    use jsonrpsee::core::client::ClientT;
    let client = jsonrpsee::http_client::HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(2))
        .build(url)
        .ok()?;
    client.request(method, jsonrpsee::rpc_params![]).await.ok()
}

async fn peer_count(node: &NodeEntry) -> u64 {
    call(&node.rpc_url(), "net_peerCount")
        .await
        .and_then(|v| v.as_str().map(str::to_owned))
        .and_then(|c| u64::from_str_radix(c.trim_start_matches("0x"), 16).ok())
        .unwrap_or(0)
}

/// Waits until every node answers RPC and, with more than one node, has a
/// peer. Fails if a node exits during start.
async fn wait_ready(layout: &Layout, children: &mut [(usize, Child)]) -> anyhow::Result<()> {
    let deadline = Instant::now() + START_TIMEOUT;
    for node in &layout.nodes {
        let log = node.dir.join("node.log");
        loop {
            if let Some((_, child)) = children.iter_mut().find(|(i, _)| *i == node.index) {
                if let Ok(Some(status)) = child.try_wait() {
                    anyhow::bail!(
                        "node {} exited during start ({status}); end of {}:\n{}",
                        node.index,
                        log.display(),
                        log_tail(&log, 20)
                    );
                }
            }
            if call(&node.rpc_url(), "eth_blockNumber").await.is_some() {
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "node {} did not answer at {} within {START_TIMEOUT:?}; see {}",
                node.index,
                node.rpc_url(),
                log.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    if layout.nodes.len() < 2 {
        return Ok(());
    }
    let deadline = Instant::now() + PEER_TIMEOUT;
    loop {
        let mut lonely = Vec::new();
        for node in &layout.nodes {
            if peer_count(node).await == 0 {
                lonely.push(node.index);
            }
        }
        if lonely.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            eprintln!(
                "warning: nodes {lonely:?} have no peers after {PEER_TIMEOUT:?}; see their node.log"
            );
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// How the chain makes blocks.
fn sealing(spec: &ChainSpec) -> String {
    match &spec.engine {
        EngineSpec::Dev {
            block_time_ms: 0, ..
        } => "blocks sealed as soon as transactions are pending".to_string(),
        EngineSpec::Dev { block_time_ms, .. } => {
            format!("a block every {} s", *block_time_ms as f64 / 1000.0)
        }
        EngineSpec::Pow(pow) => format!(
            "proof of work, a block every {} s on average",
            pow.target_block_time_ms as f64 / 1000.0
        ),
        EngineSpec::Bft(bft) => format!(
            "BFT among {} validators, a block every {} s{}, final at once",
            bft.validators.len(),
            bft.block_time_ms as f64 / 1000.0,
            if bft.create_empty_blocks {
                ""
            } else {
                " when transactions are pending"
            }
        ),
    }
}

/// "4 validators: tolerates f = 1 faulty validator (f = (V-1)/3)".
pub fn fault_tolerance_line(bft: &BftSpec) -> String {
    let v = bft.validators.len();
    let f = spec::fault_tolerance(v);
    format!(
        "{v} validator{}: tolerates f = {f} faulty validator{} (f = (V-1)/3)",
        if v == 1 { "" } else { "s" },
        if f == 1 { "" } else { "s" }
    )
}

/// The node's part in making blocks.
fn role(spec: &ChainSpec, node: &NodeEntry) -> &'static str {
    match &spec.engine {
        EngineSpec::Dev { authority, .. } if *authority == Some(node.public) => "producer",
        EngineSpec::Dev { .. } => "follower",
        EngineSpec::Pow(_) if node.settings.mine => "miner",
        EngineSpec::Pow(_) => "verifier",
        EngineSpec::Bft(bft) if bft.validators.iter().any(|v| v.key == node.public) => "validator",
        EngineSpec::Bft(_) => "member",
    }
}

fn print_table(layout: &Layout, pids: &[(usize, i32)], detached: bool) {
    let mut out = String::new();
    let sealing = sealing(&layout.spec);
    let kind = if layout.spec.members.is_empty() {
        "public".to_string()
    } else {
        format!("consortium of {} members", layout.spec.members.len())
    };
    out.push_str(&format!(
        "Tally testnet: {} nodes in {} (chain id {}, {sealing}, {kind})\n\n",
        layout.nodes.len(),
        layout.dir.display(),
        layout.spec.chain_id
    ));
    out.push_str("  node  pid      role      RPC                       p2p\n");
    for node in &layout.nodes {
        let pid = pids
            .iter()
            .find(|(i, _)| *i == node.index)
            .map_or("-".to_string(), |(_, p)| p.to_string());
        out.push_str(&format!(
            "  {:<5} {:<8} {:<9} {:<25} {}\n",
            node.index,
            pid,
            role(&layout.spec, node),
            node.rpc_url(),
            node.dial
        ));
    }
    if matches!(layout.spec.engine, EngineSpec::Pow(_)) {
        out.push_str("\nEach miner's rewards go to its beneficiary:\n");
        for node in layout.nodes.iter().filter(|n| n.settings.mine) {
            out.push_str(&format!(
                "  node {}: {}\n",
                node.index, node.settings.beneficiary
            ));
        }
    }
    if let EngineSpec::Bft(bft) = &layout.spec.engine {
        out.push_str(&format!(
            "\n{}\nEach node's member (its account is an admin and receives its validator's \
             fees):\n",
            fault_tolerance_line(bft)
        ));
        for node in &layout.nodes {
            if let Some(member) = bft.members.iter().find(|m| m.node_key == node.public) {
                out.push_str(&format!(
                    "  node {}: {} {}\n",
                    node.index, member.name, member.account
                ));
            }
        }
    }
    out.push_str(
        "\nThe 10 test-mnemonic accounts (\"test test ... junk\") are funded as in `tally dev`.\n",
    );
    out.push_str(&format!(
        "Logs: {}/node-<i>/node.log\n",
        layout.dir.display()
    ));
    if detached {
        out.push_str(&format!(
            "Running in the background; stop with: tally testnet stop --dir {}\n",
            layout.dir.display()
        ));
    } else {
        out.push_str("Press Ctrl-C to stop the nodes.\n");
    }
    println!("{out}");
}

/// `tally testnet stop`: SIGTERM every recorded node that still runs.
fn stop(dir: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        layout::is_testnet(dir),
        "{} holds no testnet (no chain.toml)",
        dir.display()
    );
    let layout = layout::open(dir)?;
    let recorded = procs::read_pids(&layout.dir)?;
    let mut procs: Vec<Proc<'_>> = recorded
        .iter()
        .filter_map(|(i, pid)| {
            let node = layout.nodes.iter().find(|n| n.index == *i)?;
            procs::is_running(*pid, node).then_some(Proc::Pid(*pid, node))
        })
        .collect();
    if procs.is_empty() {
        println!(
            "No node of the testnet in {} is running",
            layout.dir.display()
        );
        procs::remove_pids(&layout.dir);
        return Ok(());
    }
    let count = procs.len();
    let killed = procs::terminate(&mut procs);
    procs::remove_pids(&layout.dir);
    if killed > 0 {
        println!("Stopped {count} nodes ({killed} killed after not stopping in time)");
    } else {
        println!("Stopped {count} nodes");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        new: NewNetworkArgs,
    }

    fn options(args: &[&str]) -> anyhow::Result<CreateOptions> {
        let cli = Cli::try_parse_from(std::iter::once("tally").chain(args.iter().copied()))?;
        cli.new.create_options()
    }

    fn error(args: &[&str]) -> String {
        match options(args) {
            Ok(_) => panic!("{args:?} was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn bft_defaults_to_four_validators_org1_to_org4_and_1_s_blocks() {
        let opts = options(&["--consensus", "bft"]).unwrap();
        assert_eq!(opts.nodes, 4);
        assert_eq!(opts.block_time_ms, 1000);
        assert_eq!(opts.bft, Some(BftOptions::all(4)));
        assert_eq!(
            BftOptions::all(4).member_names,
            ["org1", "org2", "org3", "org4"]
        );
    }

    #[test]
    fn bft_members_set_the_node_count() {
        let opts = options(&[
            "--consensus",
            "bft",
            "--members",
            "a,b,c",
            "--validators",
            "2",
            "--no-empty-blocks",
            "--block-time",
            "0.1",
        ])
        .unwrap();
        assert_eq!(opts.nodes, 3);
        assert_eq!(opts.block_time_ms, 100);
        assert_eq!(
            opts.bft,
            Some(BftOptions {
                validators: 2,
                member_names: vec!["a".into(), "b".into(), "c".into()],
                create_empty_blocks: false,
            })
        );
        // --nodes may repeat the count.
        let same = options(&["--consensus", "bft", "--members", "a,b", "-n", "2"]).unwrap();
        assert_eq!(same.nodes, 2);
        let counted = options(&["--consensus", "bft", "-n", "6", "--validators", "4"]).unwrap();
        assert_eq!(counted.bft.unwrap().member_names.len(), 6);
    }

    #[test]
    fn bad_bft_flags_are_refused_with_the_fix() {
        let e = error(&["--consensus", "bft", "--members", "a,b,c", "--nodes", "4"]);
        assert!(e.contains("--nodes 4 does not match the 3 names"), "{e}");
        let e = error(&["--consensus", "bft", "--validators", "0"]);
        assert!(e.contains("--validators must be between 1 and"), "{e}");
        let e = error(&[
            "--consensus",
            "bft",
            "--members",
            "a,b",
            "--validators",
            "3",
        ]);
        assert!(
            e.contains("between 1 and the number of nodes (2), got 3"),
            "{e}"
        );
        let e = error(&["--consensus", "bft", "--block-time", "0.05"]);
        assert!(e.contains("at least 0.1 seconds"), "{e}");
        let e = error(&["--consensus", "bft", "--members", "a,,b"]);
        assert!(e.contains("empty name"), "{e}");
        let e = error(&["--consensus", "bft", "--members", "a,b,a"]);
        assert!(e.contains("names `a` twice"), "{e}");
        let many: Vec<String> = (0..17).map(|i| format!("m{i}")).collect();
        let e = error(&["--consensus", "bft", "--members", &many.join(",")]);
        assert!(e.contains("between 1 and 16 members, got 17"), "{e}");
    }

    #[test]
    fn bft_flags_are_refused_for_other_engines() {
        let e = error(&["--validators", "2"]);
        assert!(
            e.contains("--validators only apply to a BFT chain; add --consensus bft"),
            "{e}"
        );
        let e = error(&[
            "--consensus",
            "pow",
            "--members",
            "a,b",
            "--no-empty-blocks",
        ]);
        assert!(e.contains("--members, --no-empty-blocks only apply"), "{e}");
        assert_eq!(options(&["--consensus", "pow"]).unwrap().bft, None);
    }

    #[test]
    fn bft_table_names_roles_and_fault_tolerance() {
        let spec = |v: u8| BftSpec {
            block_time_ms: 1000,
            create_empty_blocks: false,
            timeout_ms: 1000,
            timeout_delta_ms: 500,
            validators: (1..=v)
                .map(|i| tally_primitives::BftValidator {
                    key: tally_primitives::B256::repeat_byte(i),
                    power: 1,
                })
                .collect(),
            members: vec![],
            roles: Default::default(),
            governance_threshold_pct: 67,
            min_gas_price: 0,
        };
        assert_eq!(
            fault_tolerance_line(&spec(4)),
            "4 validators: tolerates f = 1 faulty validator (f = (V-1)/3)"
        );
        assert_eq!(
            fault_tolerance_line(&spec(1)),
            "1 validator: tolerates f = 0 faulty validators (f = (V-1)/3)"
        );
        let mut chain = ChainSpec::dev(Default::default(), 0);
        chain.engine = EngineSpec::Bft(spec(4));
        assert!(sealing(&chain).contains("when transactions are pending"));
    }
}
