//! `tally node --config node.toml --chain chain.toml`: one node of a network.
//!
//! The chain spec says what the chain is (genesis, engine, authority,
//! consortium members) and is the same file on every node; `node.toml` says
//! how this node runs (see [`config`]). The node key lives in the datadir and
//! is created on first start. The command prints a banner with everything a
//! peer or a user needs (peer id, dialable addresses, RPC URL, role), shows
//! catch-up progress, and stops cleanly on SIGINT or SIGTERM.
//!
//! On a proof-of-work chain there is no producer: a node started with
//! `--mine` (or `mine = true`) builds blocks and mines them on its own
//! threads, or with `--miner-threads 0` hands the work to external miners
//! (`tally mine`); any other node verifies and follows the most work.

pub mod config;
mod progress;

use std::path::{Path, PathBuf};

use anyhow::Context;
use tally_crypto::node_key::NodeKey;
use tally_node::{node_key_in, MiningOptions, Node, NodeConfig};
use tally_primitives::{Address, ChainSpec, EngineSpec, B256};

use crate::shutdown::Shutdown;
pub use config::NodeFile;
use config::NodeSettings;

/// More miner threads than this is a typo, not a machine.
const MAX_MINER_THREADS: usize = 1024;

#[derive(clap::Args)]
pub struct NodeArgs {
    /// This node's config (datadir, RPC address, listen address, bootnodes).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// The chain spec shared by every node of the network.
    #[arg(long, value_name = "FILE")]
    chain: PathBuf,
    /// Build blocks and mine them (proof-of-work chains; overrides `mine`
    /// in node.toml).
    #[arg(long)]
    mine: bool,
    /// Threads of the built-in miner; 0 leaves the work to external miners
    /// (`eth_getWork`, `tally mine`) [default: node.toml's
    /// `miner_threads`, else 1].
    #[arg(long, value_name = "N")]
    miner_threads: Option<usize>,
    /// The account that receives this node's block rewards and fees
    /// (overrides `beneficiary` in node.toml).
    #[arg(long, value_name = "ADDRESS")]
    coinbase: Option<Address>,
    /// Do not keep the SQL index of the chain (`index.sqlite` in the
    /// datadir); `tally sql` then answers that it is off.
    #[arg(long)]
    no_index: bool,
    #[command(flatten)]
    explorer: crate::explorer::ExplorerArgs,
}

/// What this node does on its chain.
#[derive(Debug, PartialEq, Eq)]
enum Role {
    /// It holds the chain spec's authority key and seals blocks.
    Producer,
    /// It verifies blocks sealed by the authority.
    Follower(B256),
    /// No authority in the spec: every node would seal its own blocks.
    Unsealed,
    /// Proof of work: builds blocks and mines them on this many threads
    /// (0: only external miners do).
    Miner { threads: usize },
    /// Proof of work without mining: verifies and follows the most work.
    Verifier,
    /// BFT: signs proposals and votes.
    Validator,
    /// BFT: follows committed blocks by their certificates.
    Member,
}

fn role(spec: &ChainSpec, key: &NodeKey, mining: Option<&MiningOptions>) -> Role {
    match &spec.engine {
        EngineSpec::Pow(_) => match mining {
            Some(m) => Role::Miner { threads: m.threads },
            None => Role::Verifier,
        },
        EngineSpec::Dev {
            authority: Some(a), ..
        } if a.0 == key.public().to_bytes() => Role::Producer,
        EngineSpec::Dev {
            authority: Some(a), ..
        } => Role::Follower(*a),
        EngineSpec::Dev {
            authority: None, ..
        } => Role::Unsealed,
        EngineSpec::Bft(bft)
            if bft
                .validators
                .iter()
                .any(|v| v.key.0 == key.public().to_bytes()) =>
        {
            Role::Validator
        }
        EngineSpec::Bft(_) => Role::Member,
    }
}

/// What `NodeConfig::mining` is, from the flags and node.toml.
fn mining_options(
    args: &NodeArgs,
    settings: &NodeSettings,
    spec: &ChainSpec,
) -> anyhow::Result<Option<MiningOptions>> {
    if !(args.mine || settings.mine) {
        anyhow::ensure!(
            args.miner_threads.is_none(),
            "--miner-threads needs --mine (or `mine = true` in {})",
            args.config.display()
        );
        return Ok(None);
    }
    if !matches!(spec.engine, EngineSpec::Pow(_)) {
        let asked = if args.mine {
            "--mine".to_string()
        } else {
            format!("`mine = true` in {}", args.config.display())
        };
        anyhow::bail!(
            "{asked}: only proof-of-work chains are mined, and chain spec {} runs the dev engine \
             (blocks sealed by its authority); drop {asked}",
            args.chain.display()
        );
    }
    let threads = args.miner_threads.or(settings.miner_threads).unwrap_or(1);
    anyhow::ensure!(
        threads <= MAX_MINER_THREADS,
        "miner threads: {threads} is more than the {MAX_MINER_THREADS} allowed"
    );
    Ok(Some(MiningOptions { threads }))
}

/// `None` on a public chain; otherwise whether `key` is a listed member.
fn is_member(spec: &ChainSpec, key: &NodeKey) -> Option<bool> {
    let me = B256::from(key.public().to_bytes());
    (!spec.members.is_empty()).then(|| spec.members.contains(&me))
}

pub fn run(args: NodeArgs) -> anyhow::Result<()> {
    let settings = NodeFile::load(&args.config)?;
    progress::init_logging(settings.log.as_deref())
        .with_context(|| format!("node config {}: field `log`", args.config.display()))?;
    let spec = ChainSpec::load(&args.chain)?;
    let mining = mining_options(&args, &settings, &spec)?;
    let beneficiary = args.coinbase.unwrap_or(settings.beneficiary);
    if mining.is_some() && beneficiary == Address::ZERO {
        tracing::warn!(
            "mining with no beneficiary: block rewards go to the zero address (set --coinbase or \
             `beneficiary` in {})",
            args.config.display()
        );
    }
    let key = node_key_in(&settings.datadir)?;
    let role = role(&spec, &key, mining.as_ref());
    if role == Role::Unsealed {
        tracing::warn!(
            "chain spec {} names no authority: this node seals its own blocks and will fork \
             from any other node (set engine.authority to the producer's node key)",
            args.chain.display()
        );
    }
    if is_member(&spec, &key) == Some(false) {
        // The member nodes refuse us as soon as the handshake reveals our
        // key; say so here, where the operator of this node looks.
        tracing::warn!(
            node_key = %key.node_id(),
            "this node's key is not among the {} members of chain {:?} in {}: member nodes will \
             refuse its connections (not a member of this chain). Ask a member to add \
             0x{} to `members`",
            spec.members.len(),
            spec.name,
            args.chain.display(),
            key.node_id()
        );
    }

    let config = NodeConfig {
        datadir: settings.datadir.clone(),
        spec: spec.clone(),
        rpc_addr: settings.rpc,
        rpc_limits: settings.rpc_limits,
        beneficiary,
        dev_block_time_ms: None,
        node_key: Some(key.clone()),
        network: Some(settings.network.clone()),
        mining,
        index: !args.no_index,
    };
    let runtime = crate::async_runtime()?;
    runtime.block_on(async move {
        let shutdown = Shutdown::install()?;
        let node = Node::start(config)
            .await
            .map_err(|e| {
                crate::rpc_in_use(
                    e,
                    &format!("set another `rpc` address in {}", args.config.display()),
                )
            })
            .with_context(|| format!("starting the node of {}", args.config.display()))?;
        let node = args.explorer.serve(node).await?;
        print_banner(&node, &spec, &key, (&role, beneficiary), &settings.datadir).await;
        let reporter = tokio::spawn(progress::report(node.sync_status()));
        let failed = tokio::select! {
            _ = shutdown.wait() => None,
            reason = node.failed() => Some(reason),
        };
        tracing::info!("shutting down");
        reporter.abort();
        node.stop().await;
        tracing::info!("stopped cleanly");
        match failed {
            Some(reason) => Err(anyhow::anyhow!(reason)),
            None => anyhow::Ok(()),
        }
    })
}

/// The addresses peers can dial, with our peer id appended. The listener may
/// report its address a moment after start; wait for it briefly.
async fn dialable_addrs(node: &Node) -> Vec<String> {
    let Some(net) = node.network() else {
        return Vec::new();
    };
    let peer = net.local_peer_id();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        let addrs = net.listen_addrs().await.unwrap_or_default();
        if !addrs.is_empty() || tokio::time::Instant::now() >= deadline {
            return addrs.iter().map(|a| format!("{a}/p2p/{peer}")).collect();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn print_banner(
    node: &Node,
    spec: &ChainSpec,
    key: &NodeKey,
    (role, beneficiary): (&Role, Address),
    datadir: &Path,
) {
    let mut out = String::new();
    out.push_str(&format!(
        "Tally node of chain {:?} (chain id {})\n",
        spec.name, spec.chain_id
    ));
    if let Some(net) = node.network() {
        out.push_str(&format!("Peer id: {}\n", net.local_peer_id()));
    }
    out.push_str(&format!("Node key (public): 0x{}\n", key.node_id()));
    for addr in dialable_addrs(node).await {
        out.push_str(&format!("Listening: {addr}\n"));
    }
    match role {
        Role::Producer => {
            out.push_str("Role: block producer (this node is the chain's authority)\n")
        }
        Role::Follower(a) => out.push_str(&format!(
            "Role: follower (verifies blocks sealed by authority {a})\n"
        )),
        Role::Unsealed => {
            out.push_str("Role: seals its own blocks (the chain spec names no authority)\n")
        }
        Role::Miner { threads: 0 } => out.push_str(&format!(
            "Role: miner for external miners (eth_getWork / `tally mine`), rewards to \
             {beneficiary}\n"
        )),
        Role::Miner { threads } => out.push_str(&format!(
            "Role: miner ({threads} thread{}), rewards to {beneficiary}\n",
            if *threads == 1 { "" } else { "s" }
        )),
        Role::Verifier => {
            out.push_str("Role: verifier (follows the most proof of work; --mine to mine)\n")
        }
        Role::Validator => out.push_str("Role: BFT validator (proposes and votes)\n"),
        Role::Member => {
            out.push_str("Role: BFT member (follows blocks by their commit certificates)\n")
        }
    }
    match is_member(spec, key) {
        None => {}
        Some(true) => out.push_str(&format!(
            "Consortium: member ({} members)\n",
            spec.members.len()
        )),
        Some(false) => {
            out.push_str("Consortium: NOT a member; member nodes will refuse this node\n")
        }
    }
    let head = node.head();
    out.push_str(&format!("Data directory: {}\n", datadir.display()));
    out.push_str(&format!("Genesis: {}\n", node.genesis().hash));
    out.push_str(&format!("Head: #{} {}\n", head.number, head.hash));
    out.push_str(&crate::explorer::banner_line(node));
    out.push_str(&format!(
        "JSON-RPC (HTTP and WebSocket): http://{0}  ws://{0}\n",
        node.rpc_addr()
    ));
    println!("{out}");
}

#[cfg(test)]
mod tests {
    use super::*;

    use clap::Parser;
    use tally_primitives::PowSpec;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        node: NodeArgs,
    }

    fn args(extra: &[&str]) -> NodeArgs {
        let mut argv = vec!["tally", "--config", "n.toml", "--chain", "c.toml"];
        argv.extend_from_slice(extra);
        Cli::try_parse_from(argv).unwrap().node
    }

    fn settings(toml: &str) -> NodeSettings {
        let text = format!("datadir = \".\"\nrpc = \"127.0.0.1:1\"\n{toml}");
        let path = Path::new("n.toml");
        NodeFile::parse(&text, path)
            .unwrap()
            .resolve(path, Path::new("."))
            .unwrap()
    }

    fn pow_spec() -> ChainSpec {
        let mut spec = ChainSpec::dev(Default::default(), 0);
        spec.engine = EngineSpec::Pow(PowSpec::default());
        spec
    }

    #[test]
    fn mining_comes_from_flags_or_node_toml() {
        let pow = pow_spec();
        let threads = |a: &[&str], t: &str| {
            mining_options(&args(a), &settings(t), &pow)
                .unwrap()
                .map(|m| m.threads)
        };
        assert_eq!(threads(&[], ""), None);
        assert_eq!(threads(&["--mine"], ""), Some(1));
        assert_eq!(threads(&["--mine", "--miner-threads", "0"], ""), Some(0));
        assert_eq!(threads(&[], "mine = true\nminer_threads = 3"), Some(3));
        assert_eq!(
            threads(&["--miner-threads", "2"], "mine = true\nminer_threads = 3"),
            Some(2)
        );
        let e = mining_options(&args(&["--miner-threads", "2"]), &settings(""), &pow)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--miner-threads needs --mine"), "{e}");
    }

    #[test]
    fn a_dev_chain_is_not_mined() {
        let dev = ChainSpec::dev(Default::default(), 0);
        let e = mining_options(&args(&["--mine"]), &settings(""), &dev)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("only proof-of-work chains are mined") && e.contains("c.toml"),
            "{e}"
        );
        let e = mining_options(&args(&[]), &settings("mine = true"), &dev)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`mine = true` in n.toml"), "{e}");
        assert!(mining_options(&args(&[]), &settings(""), &dev)
            .unwrap()
            .is_none());
    }

    #[test]
    fn coinbase_flag_parses_an_address() {
        let a = args(&["--coinbase", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"]);
        assert_eq!(
            a.coinbase.map(|c| c.to_string()).as_deref(),
            Some("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
        );
        assert!(
            Cli::try_parse_from(["t", "--config", "a", "--chain", "b", "--coinbase", "x"]).is_err()
        );
    }

    #[test]
    fn role_and_membership_follow_the_spec() {
        let me = NodeKey::generate();
        let other = NodeKey::generate();
        let pow = pow_spec();
        assert_eq!(role(&pow, &me, None), Role::Verifier);
        let mining = MiningOptions { threads: 0 };
        assert_eq!(role(&pow, &me, Some(&mining)), Role::Miner { threads: 0 });
        let mut spec = ChainSpec::dev(Default::default(), 0);
        assert_eq!(role(&spec, &me, None), Role::Unsealed);
        assert_eq!(is_member(&spec, &me), None);
        let authority = B256::from(me.public().to_bytes());
        spec.engine = EngineSpec::Dev {
            block_time_ms: 0,
            authority: Some(authority),
        };
        assert_eq!(role(&spec, &me, None), Role::Producer);
        assert_eq!(role(&spec, &other, None), Role::Follower(authority));
        spec.members = vec![authority];
        assert_eq!(is_member(&spec, &me), Some(true));
        assert_eq!(is_member(&spec, &other), Some(false));
    }
}
