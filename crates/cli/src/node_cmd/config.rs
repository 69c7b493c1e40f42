//! `node.toml`: how one node of a network runs (where its data lives, where
//! it serves RPC, how it reaches its peers). What the chain *is* lives in the
//! chain spec, shared by every node; this file is per node.
//!
//! ```toml
//! datadir = "."                          # relative to this file
//! rpc = "127.0.0.1:8545"
//! listen = "/ip4/127.0.0.1/tcp/30303"
//! bootnodes = ["/ip4/127.0.0.1/tcp/30304/p2p/12D3KooW…"]
//! mdns = false
//! max_peers = 50
//! # ws_max_connections = 500             # WebSocket connections open at once (HTTP counted apart)
//! # ws_max_per_ip = 100                  # of them, from one IP address
//! # beneficiary = "0x…"                  # receives the fees (and PoW rewards) of its blocks
//! # mine = true                          # proof-of-work chains: build and mine blocks
//! # miner_threads = 1                    # 0: only external miners (eth_getWork / `tally mine`)
//! # log = "info"                         # RUST_LOG overrides it
//! ```
//!
//! `tally node --mine`, `--miner-threads N` and `--coinbase ADDR` override
//! `mine`, `miner_threads` and `beneficiary`.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use tally_network::Multiaddr;
use tally_node::{NetworkOptions, RpcLimits};
use tally_primitives::Address;

/// Why a node config file cannot be used. Every message names the file and,
/// where there is one, the field.
#[derive(Debug, thiserror::Error)]
pub enum NodeConfigError {
    // Not `source`: the cause is in the message already, and `{:#}` would
    // print it twice.
    #[error("cannot read node config {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("node config {path} is not valid: {message}")]
    Parse { path: String, message: String },
    #[error("node config {path}: field `{field}`: {message}")]
    Field {
        path: String,
        field: String,
        message: String,
    },
}

fn default_listen() -> String {
    "/ip4/0.0.0.0/tcp/30303".into()
}

fn default_max_peers() -> usize {
    50
}

/// The file as written: multiaddrs stay text so errors can quote them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeFile {
    /// The node's data directory (chain database, `node.key`), relative to
    /// the config file's directory.
    pub datadir: PathBuf,
    /// JSON-RPC (HTTP and WebSocket) `host:port`.
    pub rpc: SocketAddr,
    /// The peer-to-peer listen multiaddr.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Peers dialled at start: multiaddrs ending in `/p2p/<peer id>`.
    #[serde(default)]
    pub bootnodes: Vec<String>,
    /// Find peers on the local network by multicast DNS.
    #[serde(default)]
    pub mdns: bool,
    #[serde(default = "default_max_peers")]
    pub max_peers: usize,
    /// Most WebSocket connections the RPC server keeps open at once
    /// [default: 500]; HTTP requests are counted apart. Beside `rpc`, not
    /// in a table under it, so `rpc = "host:port"` files keep working.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ws_max_connections: Option<u32>,
    /// Most WebSocket connections open at once from one IP address
    /// [default: 100].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ws_max_per_ip: Option<u32>,
    /// Receives the fees, and on a proof-of-work chain the rewards, of the
    /// blocks this node builds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beneficiary: Option<Address>,
    /// Build blocks and mine them (proof-of-work chains only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mine: bool,
    /// Threads of the built-in miner when mining [default: 1]; 0 leaves
    /// the work to external miners.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub miner_threads: Option<usize>,
    /// Log filter (`info`, `debug`, `tally_node=debug,info`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
}

/// A checked config, paths resolved.
#[derive(Clone, Debug)]
pub struct NodeSettings {
    pub datadir: PathBuf,
    pub rpc: SocketAddr,
    pub rpc_limits: RpcLimits,
    pub network: NetworkOptions,
    pub beneficiary: Address,
    pub mine: bool,
    pub miner_threads: Option<usize>,
    pub log: Option<String>,
}

impl NodeFile {
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a node config serialises to TOML")
    }

    pub fn parse(text: &str, path: &Path) -> Result<NodeFile, NodeConfigError> {
        toml::from_str(text).map_err(|e| NodeConfigError::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// Reads and checks `path`; relative paths in it are taken from the
    /// file's own directory, so a config works from any working directory.
    pub fn load(path: &Path) -> Result<NodeSettings, NodeConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| NodeConfigError::Read {
            path: path.display().to_string(),
            error,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, path)?.resolve(path, base)
    }

    pub fn resolve(self, path: &Path, base: &Path) -> Result<NodeSettings, NodeConfigError> {
        let field = |field: &str, message: String| NodeConfigError::Field {
            path: path.display().to_string(),
            field: field.into(),
            message,
        };
        let listen = parse_multiaddr(&self.listen).map_err(|m| field("listen", m))?;
        let mut bootnodes = Vec::with_capacity(self.bootnodes.len());
        for (i, text) in self.bootnodes.iter().enumerate() {
            let addr = parse_multiaddr(text).map_err(|m| field(&format!("bootnodes[{i}]"), m))?;
            // Without the peer id the noise handshake cannot authenticate
            // the bootnode, and on a consortium chain the node would not
            // know whether it is a member before connecting.
            if !addr.to_string().contains("/p2p/") {
                return Err(field(
                    &format!("bootnodes[{i}]"),
                    format!("{text:?} has no /p2p/<peer id> suffix (expected e.g. /ip4/10.0.0.1/tcp/30303/p2p/12D3KooW…)"),
                ));
            }
            bootnodes.push(addr);
        }
        if self.max_peers == 0 {
            return Err(field("max_peers", "must be at least 1".into()));
        }
        // A cap of 0 would refuse every WebSocket as "too many".
        let cap = |name: &str, value: Option<u32>, default: u32| match value {
            Some(0) => Err(field(
                name,
                "must be at least 1 (a cap of 0 would refuse every WebSocket; leave it out for \
                 the default)"
                    .into(),
            )),
            Some(n) => Ok(n),
            None => Ok(default),
        };
        let defaults = RpcLimits::default();
        let rpc_limits = RpcLimits {
            ws_max_connections: cap(
                "ws_max_connections",
                self.ws_max_connections,
                defaults.ws_max_connections,
            )?,
            ws_max_per_ip: cap("ws_max_per_ip", self.ws_max_per_ip, defaults.ws_max_per_ip)?,
        };
        // `components` drops the `.` of the usual `datadir = "."`.
        let datadir = base.join(&self.datadir).components().collect();
        let mut network = NetworkOptions::new(listen);
        network.bootnodes = bootnodes;
        network.mdns = self.mdns;
        network.max_peers = self.max_peers;
        Ok(NodeSettings {
            datadir,
            rpc: self.rpc,
            rpc_limits,
            network,
            beneficiary: self.beneficiary.unwrap_or(Address::ZERO),
            mine: self.mine,
            miner_threads: self.miner_threads,
            log: self.log,
        })
    }
}

fn parse_multiaddr(text: &str) -> Result<Multiaddr, String> {
    text.parse::<Multiaddr>().map_err(|e| {
        format!("{text:?} is not a multiaddr ({e}); expected e.g. /ip4/127.0.0.1/tcp/30303")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(text: &str) -> Result<NodeSettings, NodeConfigError> {
        let path = Path::new("/etc/tally/node.toml");
        NodeFile::parse(text, path)?.resolve(path, Path::new("/etc/tally"))
    }

    #[test]
    fn relative_datadir_is_taken_from_the_config_directory() {
        let s = resolve("datadir = \"data\"\nrpc = \"127.0.0.1:8545\"\n").unwrap();
        assert_eq!(s.datadir, Path::new("/etc/tally/data"));
        assert_eq!(s.network.max_peers, 50);
        assert!(!s.network.mdns);
        assert_eq!(s.network.listen.to_string(), "/ip4/0.0.0.0/tcp/30303");
        assert_eq!(s.rpc_limits, RpcLimits::default());
        assert_eq!(s.rpc_limits.ws_max_connections, 500);
        assert_eq!(s.rpc_limits.ws_max_per_ip, 100);
        let abs = resolve("datadir = \"/var/tally\"\nrpc = \"127.0.0.1:8545\"\n").unwrap();
        assert_eq!(abs.datadir, Path::new("/var/tally"));
    }

    #[test]
    fn round_trips_through_toml() {
        let file = NodeFile {
            datadir: ".".into(),
            rpc: "127.0.0.1:9000".parse().unwrap(),
            listen: "/ip4/127.0.0.1/tcp/9100".into(),
            bootnodes: vec![
                "/ip4/127.0.0.1/tcp/9101/p2p/12D3KooWGzh8JQzBJ4QFYV8JAF3AjyUadTJ1ohZZTsZWWzpeZiFr"
                    .into(),
            ],
            mdns: true,
            max_peers: 7,
            ws_max_connections: Some(20),
            ws_max_per_ip: Some(3),
            beneficiary: Some(Address::repeat_byte(7)),
            mine: true,
            miner_threads: Some(0),
            log: Some("debug".into()),
        };
        let path = Path::new("node.toml");
        let back = NodeFile::parse(&file.to_toml(), path).unwrap();
        assert_eq!(back, file);
        let s = back.resolve(path, Path::new("/x")).unwrap();
        assert_eq!(s.network.bootnodes.len(), 1);
        assert_eq!(s.network.max_peers, 7);
        assert_eq!(
            s.rpc_limits,
            RpcLimits {
                ws_max_connections: 20,
                ws_max_per_ip: 3
            }
        );
        assert!(s.network.mdns);
        assert_eq!(s.beneficiary, Address::repeat_byte(7));
        assert!(s.mine);
        assert_eq!(s.miner_threads, Some(0));
    }

    #[test]
    fn mining_is_off_unless_asked_for() {
        let s = resolve("datadir = \".\"\nrpc = \"127.0.0.1:1\"\n").unwrap();
        assert!(!s.mine);
        assert_eq!(s.miner_threads, None);
        assert_eq!(s.beneficiary, Address::ZERO);
        let s = resolve(
            "datadir = \".\"\nrpc = \"127.0.0.1:1\"\nmine = true\nminer_threads = 2\n\
             beneficiary = \"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\"\n",
        )
        .unwrap();
        assert!(s.mine);
        assert_eq!(s.miner_threads, Some(2));
        assert_eq!(
            s.beneficiary.to_string(),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        );
    }

    #[test]
    fn websocket_caps_are_at_least_one() {
        let s = resolve("datadir = \".\"\nrpc = \"127.0.0.1:1\"\nws_max_per_ip = 4\n").unwrap();
        assert_eq!(s.rpc_limits.ws_max_per_ip, 4);
        assert_eq!(s.rpc_limits.ws_max_connections, 500);
        for key in ["ws_max_connections", "ws_max_per_ip"] {
            let e = resolve(&format!(
                "datadir = \".\"\nrpc = \"127.0.0.1:1\"\n{key} = 0\n"
            ))
            .unwrap_err()
            .to_string();
            assert!(
                e.contains("/etc/tally/node.toml")
                    && e.contains(&format!("`{key}`"))
                    && e.contains("at least 1"),
                "{e}"
            );
        }
        let e = resolve("datadir = \".\"\nrpc = \"127.0.0.1:1\"\nws_max_per_ip = -1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("ws_max_per_ip"), "{e}");
    }

    #[test]
    fn errors_name_the_file_and_field() {
        let e = resolve(
            "datadir = \".\"\nrpc = \"127.0.0.1:1\"\nbootnodes = [\"/ip4/1.2.3.4/tcp/1\"]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("/etc/tally/node.toml") && e.contains("bootnodes[0]") && e.contains("/p2p/"),
            "{e}"
        );
        let e = resolve("datadir = \".\"\nrpc = \"127.0.0.1:1\"\nlisten = \"tcp:1\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`listen`") && e.contains("tcp:1"), "{e}");
        let e = resolve("datadir = \".\"\nrpc = \"localhost\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/etc/tally/node.toml") && e.contains("rpc"),
            "{e}"
        );
        let e = resolve("datadir = \".\"\nrpc = \"127.0.0.1:1\"\nbootnode = []\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("bootnode"), "{e}");
    }
}
