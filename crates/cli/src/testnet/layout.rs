//! The testnet directory: created once, reused on every later start.
//!
//! ```text
//! D/chain.toml          the chain spec (see [`super::spec`]): 10 funded test
//!                       accounts; dev: authority = node 1's key; bft:
//!                       validators, members and the node allowlist
//! D/pids                "<node> <pid>" per running node, for `tally testnet stop`
//! D/node-<i>/node.key   the node's ed25519 identity
//! D/node-<i>/node.toml  its config (datadir ".", RPC and p2p ports, bootnodes;
//!                       pow: mine = true, beneficiary = test account i-1;
//!                       bft: beneficiary = its member's account, test account i-1)
//! D/node-<i>/node.log   its output
//! ```
//!
//! A dev network has one producer, node 1. On a proof-of-work network every
//! node mines (one thread each) and pays itself to its own test account, so
//! each node's rewards show in that account's balance. A PoW spec's
//! genesis timestamp is the time of creation: the difficulty rule is
//! anchored there, and a genesis in the past would read as a chain far
//! behind its schedule. On a BFT network each node is one member's node;
//! the first `--validators` nodes sign blocks and their fees go to their
//! member's account.
//!
//! `chain.toml` is written last, so a directory whose creation was cut short
//! is not mistaken for a testnet.

use std::{
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
};

use anyhow::Context;
use tally_crypto::node_key::NodeKey;
use tally_network::PeerId;
use tally_primitives::{ChainSpec, B256};

use super::spec;
use crate::node_cmd::{config::NodeSettings, NodeFile};

/// At most this many nodes: ports are laid out in blocks of this size.
pub const MAX_NODES: usize = 16;

/// Which engine a new network runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Consensus {
    /// Node 1 seals every block; the others check its signature.
    #[default]
    Dev,
    /// Every node mines (SHA-256d proof of work).
    Pow,
    /// Tendermint BFT consortium: one node per member, the first
    /// `--validators` of them sign blocks.
    Bft,
}

impl Consensus {
    pub fn name(self) -> &'static str {
        match self {
            Consensus::Dev => "dev",
            Consensus::Pow => "pow",
            Consensus::Bft => "bft",
        }
    }
}

/// Miner threads each node of a new PoW network runs: with several nodes
/// on one machine, more would only fight over its cores.
pub const POW_MINER_THREADS: usize = 1;

/// How to create a new testnet.
pub struct CreateOptions {
    pub consensus: Consensus,
    pub nodes: usize,
    /// Dev: node 1 seals every this many ms (0: when transactions are
    /// pending). PoW: the block time the difficulty rule steers toward.
    pub block_time_ms: u64,
    /// Only the network's own node keys may connect (a BFT network always
    /// is a consortium).
    pub consortium: bool,
    /// RPC on `base..base+N`, p2p on `base+16..base+16+N`; `None`: free ports.
    pub base_port: Option<u16>,
    /// The BFT network's validators and members; `None` for other engines
    /// (and, for BFT, [`BftOptions::all`]).
    pub bft: Option<BftOptions>,
}

/// Who runs a new BFT network: node `i` is member `i`'s node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BftOptions {
    /// The first this many nodes are validators.
    pub validators: usize,
    /// One name per node.
    pub member_names: Vec<String>,
    pub create_empty_blocks: bool,
}

impl BftOptions {
    /// `nodes` members `org1..orgN`, all validators, empty blocks made.
    pub fn all(nodes: usize) -> BftOptions {
        BftOptions {
            validators: nodes,
            member_names: (1..=nodes).map(|i| format!("org{i}")).collect(),
            create_empty_blocks: true,
        }
    }

    /// Checks these options against a network of `nodes` nodes.
    pub fn check(&self, nodes: usize) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.member_names.len() == nodes,
            "a BFT network runs one node per member: {} member names for {nodes} nodes",
            self.member_names.len()
        );
        anyhow::ensure!(
            (1..=nodes).contains(&self.validators),
            "--validators must be between 1 and the number of nodes ({nodes}), got {}",
            self.validators
        );
        let mut seen = std::collections::BTreeSet::new();
        for name in &self.member_names {
            anyhow::ensure!(
                !name.trim().is_empty(),
                "--members has an empty name; give names separated by commas, like org1,org2"
            );
            anyhow::ensure!(
                seen.insert(name.as_str()),
                "--members names `{name}` twice; each member needs its own name"
            );
        }
        Ok(())
    }
}

/// One node of a testnet, as its files describe it.
pub struct NodeEntry {
    /// 1-based.
    pub index: usize,
    pub dir: PathBuf,
    pub config_path: PathBuf,
    pub settings: NodeSettings,
    /// Its ed25519 public key, as the chain spec names it.
    pub public: B256,
    /// Its listen address with `/p2p/<peer id>`: what others dial.
    pub dial: String,
}

impl NodeEntry {
    pub fn rpc_url(&self) -> String {
        format!("http://{}", self.settings.rpc)
    }
}

pub struct Layout {
    pub dir: PathBuf,
    pub chain_path: PathBuf,
    pub spec: ChainSpec,
    pub nodes: Vec<NodeEntry>,
}

pub fn chain_path(dir: &Path) -> PathBuf {
    dir.join("chain.toml")
}

fn node_dir(dir: &Path, index: usize) -> PathBuf {
    dir.join(format!("node-{index}"))
}

pub fn is_testnet(dir: &Path) -> bool {
    chain_path(dir).is_file()
}

fn peer_id(key: &NodeKey) -> anyhow::Result<PeerId> {
    tally_network::peer_id_from_ed25519_public(key.public().to_bytes())
        .map_err(|e| anyhow::anyhow!("node key 0x{}: {e}", key.node_id()))
}

/// `n` distinct ports that were free a moment ago on loopback. Listeners
/// stay open until all are picked, so no port is handed out twice.
fn free_ports(n: usize) -> anyhow::Result<Vec<u16>> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()
        .context("finding free ports on 127.0.0.1")?;
    listeners
        .iter()
        .map(|l| Ok(l.local_addr()?.port()))
        .collect::<Result<_, std::io::Error>>()
        .context("finding free ports on 127.0.0.1")
}

/// (RPC, p2p) port of each node.
fn ports(opts: &CreateOptions) -> anyhow::Result<Vec<(u16, u16)>> {
    match opts.base_port {
        Some(base) => {
            anyhow::ensure!(
                usize::from(base) + 2 * MAX_NODES <= usize::from(u16::MAX),
                "--base-port {base} is too high: ports up to {} are needed",
                usize::from(base) + 2 * MAX_NODES - 1
            );
            Ok((0..opts.nodes as u16)
                .map(|i| (base + i, base + MAX_NODES as u16 + i))
                .collect())
        }
        None => {
            let p = free_ports(2 * opts.nodes)?;
            Ok(p.chunks(2).map(|c| (c[0], c[1])).collect())
        }
    }
}

/// Generates keys, configs and the chain spec of a new testnet in `dir`.
pub fn create(dir: &Path, opts: &CreateOptions) -> anyhow::Result<Layout> {
    anyhow::ensure!(
        (1..=MAX_NODES).contains(&opts.nodes),
        "--nodes must be between 1 and {MAX_NODES}, got {}",
        opts.nodes
    );
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .next()
            .is_none();
        anyhow::ensure!(
            empty,
            "{} exists but holds no testnet (no chain.toml); choose another --dir or empty it",
            dir.display()
        );
    }
    if opts.consensus == Consensus::Pow {
        // The spec would load, but no block could be mined on schedule.
        anyhow::ensure!(
            opts.block_time_ms >= 1000,
            "a proof-of-work block time must be at least 1 second (block timestamps are whole \
             seconds), got {} s",
            opts.block_time_ms as f64 / 1000.0
        );
    }
    let bft = match opts.consensus {
        Consensus::Bft => {
            let bft = opts
                .bft
                .clone()
                .unwrap_or_else(|| BftOptions::all(opts.nodes));
            bft.check(opts.nodes)?;
            Some(bft)
        }
        _ => {
            anyhow::ensure!(
                opts.bft.is_none(),
                "validators and members only apply to a BFT network, not {}",
                opts.consensus.name()
            );
            None
        }
    };
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let keys: Vec<NodeKey> = (0..opts.nodes).map(|_| NodeKey::generate()).collect();
    let ports = ports(opts)?;
    // Node i's account: test account i-1 (funded for the first 10 nodes).
    let accounts = spec::test_accounts(opts.nodes)?;
    let mut dials = Vec::with_capacity(opts.nodes);
    for (key, (_, p2p)) in keys.iter().zip(&ports) {
        dials.push(format!("/ip4/127.0.0.1/tcp/{p2p}/p2p/{}", peer_id(key)?));
    }
    for (i, (key, (rpc, p2p))) in keys.iter().zip(&ports).enumerate() {
        let dir = node_dir(dir, i + 1);
        key.save(&dir.join("node.key"))?;
        // Node 1 is everyone's bootnode; it lists all others so that,
        // restarted alone, it finds the network again.
        let bootnodes = if i == 0 {
            dials[1..].to_vec()
        } else {
            vec![dials[0].clone()]
        };
        let pow = opts.consensus == Consensus::Pow;
        // A PoW node mines to its own test account; a BFT node's fees go
        // to its member's account, the same test account.
        let beneficiary = match opts.consensus {
            Consensus::Dev => None,
            Consensus::Pow | Consensus::Bft => accounts.get(i).copied(),
        };
        let file = NodeFile {
            datadir: ".".into(),
            rpc: SocketAddr::from(([127, 0, 0, 1], *rpc)),
            listen: format!("/ip4/127.0.0.1/tcp/{p2p}"),
            bootnodes,
            mdns: false,
            max_peers: 50,
            ws_max_connections: None,
            ws_max_per_ip: None,
            beneficiary,
            mine: pow,
            miner_threads: pow.then_some(POW_MINER_THREADS),
            log: None,
        };
        let path = dir.join("node.toml");
        std::fs::write(&path, file.to_toml())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let publics: Vec<B256> = keys
        .iter()
        .map(|k| B256::from(k.public().to_bytes()))
        .collect();
    let spec = spec::testnet_spec(opts, bft.as_ref(), &publics, &accounts);
    let path = chain_path(dir);
    std::fs::write(&path, spec.to_toml()).with_context(|| format!("writing {}", path.display()))?;
    open(dir)
}

/// Reads an existing testnet's files.
pub fn open(dir: &Path) -> anyhow::Result<Layout> {
    let dir = dir
        .canonicalize()
        .with_context(|| format!("opening testnet directory {}", dir.display()))?;
    let chain_path = chain_path(&dir);
    let spec = ChainSpec::load(&chain_path)?;
    let mut nodes = Vec::new();
    for index in 1..=MAX_NODES {
        let ndir = node_dir(&dir, index);
        let config_path = ndir.join("node.toml");
        if !config_path.is_file() {
            break;
        }
        let settings = NodeFile::load(&config_path)?;
        let key_path = settings.datadir.join("node.key");
        // Never generate here: a new key would not be the spec's authority
        // or member, nor the peer id other nodes' bootnodes name.
        let key = NodeKey::load(&key_path).with_context(|| {
            format!(
                "node {index} of the testnet in {} has no usable key",
                dir.display()
            )
        })?;
        let peer_id = peer_id(&key)?;
        let dial = format!("{}/p2p/{peer_id}", settings.network.listen);
        nodes.push(NodeEntry {
            index,
            dir: ndir,
            config_path,
            settings,
            public: B256::from(key.public().to_bytes()),
            dial,
        });
    }
    anyhow::ensure!(
        !nodes.is_empty(),
        "{} has a chain.toml but no node-1/node.toml",
        dir.display()
    );
    Ok(Layout {
        dir,
        chain_path,
        spec,
        nodes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_primitives::{EngineSpec, PowSpec};

    #[test]
    fn created_testnet_reopens_with_the_same_identities() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("net");
        let opts = CreateOptions {
            consensus: Consensus::Dev,
            nodes: 3,
            block_time_ms: 500,
            consortium: true,
            base_port: Some(20000),
            bft: None,
        };
        let made = create(&dir, &opts).unwrap();
        assert_eq!(made.nodes.len(), 3);
        let again = open(&dir).unwrap();
        assert_eq!(again.spec, made.spec);
        assert_eq!(again.spec.members.len(), 3);
        assert_eq!(again.spec.alloc.len(), 10);
        assert_eq!(again.spec.chain_id, 31337);
        for (a, b) in made.nodes.iter().zip(&again.nodes) {
            assert_eq!(a.dial, b.dial);
            assert_eq!(a.settings.rpc, b.settings.rpc);
        }
        assert_eq!(again.nodes[2].settings.rpc.port(), 20002);
        assert_eq!(
            again.nodes[2].settings.network.listen.to_string(),
            "/ip4/127.0.0.1/tcp/20018"
        );
        // Everyone bootstraps from node 1; node 1 from everyone else.
        assert_eq!(
            again.nodes[1].settings.network.bootnodes[0].to_string(),
            again.nodes[0].dial
        );
        assert_eq!(again.nodes[0].settings.network.bootnodes.len(), 2);
        assert!(matches!(
            &again.spec.engine,
            EngineSpec::Dev { authority: Some(a), .. } if *a == again.spec.members[0]
        ));
        // A second create over it is refused rather than overwriting keys.
        assert!(create(&dir, &opts).is_err());
    }

    #[test]
    fn pow_testnet_mines_on_every_node_to_distinct_accounts() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("pow");
        let opts = CreateOptions {
            consensus: Consensus::Pow,
            nodes: 3,
            block_time_ms: 3000,
            consortium: false,
            base_port: None,
            bft: None,
        };
        let made = create(&dir, &opts).unwrap();
        let EngineSpec::Pow(pow) = &made.spec.engine else {
            panic!("not a PoW spec: {:?}", made.spec.engine);
        };
        assert_eq!(pow.target_block_time_ms, 3000);
        assert_eq!(pow.block_reward, PowSpec::default().block_reward);
        assert!(made.spec.timestamp.abs_diff(spec::unix_now()) < 60);
        assert_eq!(made.spec.chain_id, 31337);
        let accounts = tally_crypto::mnemonic::dev_accounts(3);
        for (node, (_, account)) in made.nodes.iter().zip(&accounts) {
            assert_eq!(node.settings.beneficiary, *account);
            assert!(made.spec.alloc.contains_key(account), "funded at genesis");
            assert_eq!(node.settings.miner_threads, Some(POW_MINER_THREADS));
            assert!(node.settings.mine);
        }
        // Below a second no timestamp could follow the schedule.
        let too_fast = CreateOptions {
            block_time_ms: 500,
            ..opts
        };
        let Err(e) = create(&tmp.path().join("fast"), &too_fast) else {
            panic!("a 0.5 s PoW block time was accepted");
        };
        assert!(e.to_string().contains("at least 1 second"), "{e}");
    }

    #[test]
    fn bft_testnet_pays_each_node_to_its_member_and_reopens() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("bft");
        let opts = CreateOptions {
            consensus: Consensus::Bft,
            nodes: 4,
            block_time_ms: 1000,
            consortium: false,
            base_port: None,
            bft: Some(BftOptions {
                validators: 3,
                member_names: ["a", "b", "c", "d"].map(String::from).to_vec(),
                create_empty_blocks: true,
            }),
        };
        let made = create(&dir, &opts).unwrap();
        let EngineSpec::Bft(bft) = &made.spec.engine else {
            panic!("not a BFT spec: {:?}", made.spec.engine);
        };
        assert_eq!(bft.validators.len(), 3);
        let publics: Vec<B256> = made.nodes.iter().map(|n| n.public).collect();
        assert_eq!(made.spec.members, publics);
        for (node, member) in made.nodes.iter().zip(&bft.members) {
            assert_eq!(member.node_key, node.public);
            assert_eq!(node.settings.beneficiary, member.account);
            assert!(!node.settings.mine);
            assert_eq!(node.settings.miner_threads, None);
        }
        assert_eq!(open(&dir).unwrap().spec, made.spec);
    }

    #[test]
    fn bft_options_must_fit_the_node_count() {
        let tmp = tempfile::tempdir().unwrap();
        let opts = CreateOptions {
            consensus: Consensus::Bft,
            nodes: 3,
            block_time_ms: 1000,
            consortium: false,
            base_port: None,
            bft: Some(BftOptions::all(2)),
        };
        let Err(e) = create(&tmp.path().join("a"), &opts) else {
            panic!("2 members for 3 nodes were accepted");
        };
        assert!(e.to_string().contains("2 member names for 3 nodes"), "{e}");
        let dev = CreateOptions {
            consensus: Consensus::Dev,
            bft: Some(BftOptions::all(3)),
            ..opts
        };
        assert!(create(&tmp.path().join("b"), &dev).is_err());
        assert!(!tmp.path().join("b").exists(), "nothing written");
    }

    #[test]
    fn free_ports_are_distinct() {
        let opts = CreateOptions {
            consensus: Consensus::Dev,
            nodes: 16,
            block_time_ms: 0,
            consortium: false,
            base_port: None,
            bft: None,
        };
        let mut all: Vec<u16> = ports(&opts)
            .unwrap()
            .iter()
            .flat_map(|(a, b)| [*a, *b])
            .collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 32);
    }
}
