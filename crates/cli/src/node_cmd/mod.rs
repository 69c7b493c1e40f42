//! `tally node --config node.toml --chain chain.toml`: one node of a network.
//!
//! The chain spec says what the chain is (genesis, engine, authority,
//! consortium members) and is the same file on every node; `node.toml` says
//! how this node runs (see [`config`]). The node key lives in the datadir and
//! is created on first start. The command prints a banner with everything a
//! peer or a user needs (peer id, dialable addresses, RPC URL, role), shows
//! catch-up progress, and stops cleanly on SIGINT or SIGTERM.

pub mod config;
mod progress;

use std::path::{Path, PathBuf};

use anyhow::Context;
use tally_crypto::node_key::NodeKey;
use tally_node::{node_key_in, Node, NodeConfig};
use tally_primitives::{ChainSpec, EngineSpec, B256};

use crate::shutdown::Shutdown;
pub use config::NodeFile;

#[derive(clap::Args)]
pub struct NodeArgs {
    /// This node's config (datadir, RPC address, listen address, bootnodes).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// The chain spec shared by every node of the network.
    #[arg(long, value_name = "FILE")]
    chain: PathBuf,
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
}

fn role(spec: &ChainSpec, key: &NodeKey) -> Role {
    match &spec.engine {
        EngineSpec::Dev {
            authority: Some(a), ..
        } if a.0 == key.public().to_bytes() => Role::Producer,
        EngineSpec::Dev {
            authority: Some(a), ..
        } => Role::Follower(*a),
        EngineSpec::Dev {
            authority: None, ..
        } => Role::Unsealed,
    }
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
    let key = node_key_in(&settings.datadir)?;
    let role = role(&spec, &key);
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
        beneficiary: settings.beneficiary,
        dev_block_time_ms: None,
        node_key: Some(key.clone()),
        network: Some(settings.network.clone()),
    };
    let runtime = crate::async_runtime()?;
    runtime.block_on(async move {
        let shutdown = Shutdown::install()?;
        let node = Node::start(config)
            .await
            .with_context(|| format!("starting the node of {}", args.config.display()))?;
        print_banner(&node, &spec, &key, &role, &settings.datadir).await;
        let reporter = tokio::spawn(progress::report(node.sync_status()));
        shutdown.wait().await;
        tracing::info!("shutting down");
        reporter.abort();
        node.stop().await;
        tracing::info!("stopped cleanly");
        anyhow::Ok(())
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

async fn print_banner(node: &Node, spec: &ChainSpec, key: &NodeKey, role: &Role, datadir: &Path) {
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
    out.push_str(&format!(
        "JSON-RPC (HTTP and WebSocket): http://{0}  ws://{0}\n",
        node.rpc_addr()
    ));
    println!("{out}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_and_membership_follow_the_spec() {
        let me = NodeKey::generate();
        let other = NodeKey::generate();
        let mut spec = ChainSpec::dev(Default::default(), 0);
        assert_eq!(role(&spec, &me), Role::Unsealed);
        assert_eq!(is_member(&spec, &me), None);
        let authority = B256::from(me.public().to_bytes());
        spec.engine = EngineSpec::Dev {
            block_time_ms: 0,
            authority: Some(authority),
        };
        assert_eq!(role(&spec, &me), Role::Producer);
        assert_eq!(role(&spec, &other), Role::Follower(authority));
        spec.members = vec![authority];
        assert_eq!(is_member(&spec, &me), Some(true));
        assert_eq!(is_member(&spec, &other), Some(false));
    }
}
