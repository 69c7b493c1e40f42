//! Network configuration, node identity and the chain-specific protocol names.

use std::{collections::HashSet, time::Duration};

use libp2p::{gossipsub::IdentTopic, identity::Keypair, Multiaddr, PeerId, StreamProtocol};

use crate::{GossipKind, NetworkError};

/// Default cap for one sync request or response (a batch of blocks).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024;
/// Default cap for one gossip message (a block is the largest).
pub const DEFAULT_MAX_GOSSIP_SIZE: usize = 4 * 1024 * 1024;

/// How one node joins the network.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    /// Address to listen on, e.g. `/ip4/0.0.0.0/tcp/30333` (`tcp/0` picks a free port).
    pub listen: Multiaddr,
    /// Peers dialled at start (and again whenever the node has no peer at all).
    /// A `/p2p/<peer id>` suffix lets the dialer check who answers.
    pub bootnodes: Vec<Multiaddr>,
    /// Consortium chains: only these peers may connect, in either direction.
    /// `None` means a public chain where anyone may connect.
    pub allowlist: Option<HashSet<PeerId>>,
    /// Connected peers beyond this number are refused.
    pub max_peers: usize,
    /// Chain id (EIP-155); part of the handshake so different chains never pair.
    pub chain_id: u64,
    /// Hash of the genesis block; in every topic and protocol name.
    pub genesis_hash: [u8; 32],
    /// Capacity of the command channel (handle to service).
    pub command_buffer: usize,
    /// Capacity of the event channel (service to node). Gossip beyond it is dropped.
    pub event_buffer: usize,
    /// Largest sync request/response accepted, in bytes.
    pub max_message_size: usize,
    /// Largest gossip message accepted, in bytes.
    pub max_gossip_size: usize,
    /// Gossipsub heartbeat: how often meshes are repaired. Short in tests.
    pub gossip_heartbeat: Duration,
    /// How long a sync request may take before it fails.
    pub request_timeout: Duration,
    /// Accumulated misbehaviour penalty at which a peer is disconnected and banned.
    pub ban_threshold: u32,
    /// How long a ban lasts.
    pub ban_duration: Duration,
    /// Find peers through a Kademlia DHT seeded by the bootnodes (public chains;
    /// harmless on consortium chains, where non-members are never dialled).
    pub kademlia: bool,
    /// Find peers on the local network by multicast DNS (LAN and dev setups).
    /// Only addresses on non-loopback interfaces are announced.
    pub mdns: bool,
    /// How often discovery runs (Kademlia bootstrap, mDNS query, expiry of
    /// stalled dials) while the node has room for more peers. Short in tests.
    pub discovery_interval: Duration,
    /// The client name peers see through identify (`admin_peers` shows it
    /// as the peer's name), e.g. the node's `web3_clientVersion`.
    pub agent_version: String,
}

impl NetworkConfig {
    /// A public-chain configuration with sensible defaults: no bootnodes, no allowlist.
    pub fn new(listen: Multiaddr, chain_id: u64, genesis_hash: [u8; 32]) -> Self {
        Self {
            listen,
            bootnodes: Vec::new(),
            allowlist: None,
            max_peers: 50,
            chain_id,
            genesis_hash,
            command_buffer: 1024,
            event_buffer: 4096,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_gossip_size: DEFAULT_MAX_GOSSIP_SIZE,
            gossip_heartbeat: Duration::from_millis(700),
            request_timeout: Duration::from_secs(30),
            ban_threshold: 100,
            ban_duration: Duration::from_secs(3600),
            kademlia: true,
            mdns: false,
            discovery_interval: Duration::from_secs(30),
            agent_version: format!("tally/v{}", env!("CARGO_PKG_VERSION")),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), NetworkError> {
        let positive = [
            ("max_peers", self.max_peers),
            ("command_buffer", self.command_buffer),
            ("event_buffer", self.event_buffer),
            ("max_message_size", self.max_message_size),
            ("max_gossip_size", self.max_gossip_size),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(NetworkError::InvalidConfig(format!(
                    "{name} is 0; expected a positive number"
                )));
            }
        }
        if self.ban_threshold == 0 {
            return Err(NetworkError::InvalidConfig(
                "ban_threshold is 0; expected a positive penalty total".into(),
            ));
        }
        let durations = [
            ("gossip_heartbeat", self.gossip_heartbeat),
            ("discovery_interval", self.discovery_interval),
        ];
        for (name, value) in durations {
            if value.is_zero() {
                return Err(NetworkError::InvalidConfig(format!(
                    "{name} is 0; expected a positive duration"
                )));
            }
        }
        Ok(())
    }

    fn genesis_hex(&self) -> String {
        hex::encode(self.genesis_hash)
    }

    /// The gossipsub topic for one kind of message: `tally/<genesis hex>/<kind>`.
    pub fn topic(&self, kind: GossipKind) -> IdentTopic {
        IdentTopic::new(format!("tally/{}/{}", self.genesis_hex(), kind.as_str()))
    }

    /// The identify protocol version; peers announcing another one are on another chain.
    pub fn identify_version(&self) -> String {
        format!("tally/1/{}/{}", self.chain_id, self.genesis_hex())
    }

    pub(crate) fn sync_protocol(&self) -> Result<StreamProtocol, NetworkError> {
        StreamProtocol::try_from_owned(format!("/tally/{}/sync/1", self.genesis_hex()))
            .map_err(|e| NetworkError::InvalidConfig(format!("sync protocol name: {e}")))
    }

    /// The Kademlia protocol name: per chain, so nodes of different chains
    /// never share routing tables.
    pub(crate) fn kad_protocol(&self) -> Result<StreamProtocol, NetworkError> {
        StreamProtocol::try_from_owned(format!("/tally/{}/kad/1.0.0", self.genesis_hex()))
            .map_err(|e| NetworkError::InvalidConfig(format!("kademlia protocol name: {e}")))
    }
}

/// The libp2p identity for a node whose ed25519 secret is `secret` (32 raw bytes,
/// e.g. `tally_crypto::node_key::NodeKey::to_bytes()`), so the peer id is stable
/// across restarts and can be listed in a consortium allowlist.
pub fn keypair_from_ed25519_secret(secret: [u8; 32]) -> Result<Keypair, NetworkError> {
    // libp2p zeroes the buffer it is given; it is our copy, so that is fine.
    let mut bytes = secret;
    Keypair::ed25519_from_bytes(&mut bytes).map_err(|e| NetworkError::InvalidKey(e.to_string()))
}

/// The peer id of a node whose ed25519 *public* key is `public` (32 bytes, as
/// chain specs list member node ids), for building a consortium allowlist.
pub fn peer_id_from_ed25519_public(public: [u8; 32]) -> Result<PeerId, NetworkError> {
    let key = libp2p::identity::ed25519::PublicKey::try_from_bytes(&public).map_err(|e| {
        NetworkError::InvalidKey(format!("public key {}: {e}", hex::encode(public)))
    })?;
    Ok(libp2p::identity::PublicKey::from(key).to_peer_id())
}

/// The peer id that a node with this ed25519 secret will have.
pub fn peer_id_from_ed25519_secret(secret: [u8; 32]) -> Result<PeerId, NetworkError> {
    Ok(keypair_from_ed25519_secret(secret)?.public().to_peer_id())
}

#[cfg(test)]
mod tests {
    use tally_crypto::node_key::NodeKey;

    use super::*;

    fn listen() -> Multiaddr {
        "/ip4/127.0.0.1/tcp/0".parse().expect("static address")
    }

    #[test]
    fn node_key_gives_a_stable_peer_id_matching_its_public_key() {
        let node_key = NodeKey::from_bytes(&[7u8; 32]);
        let first = peer_id_from_ed25519_secret(node_key.to_bytes()).expect("valid key");
        let second = peer_id_from_ed25519_secret(node_key.to_bytes()).expect("valid key");
        assert_eq!(first, second);
        let from_public =
            peer_id_from_ed25519_public(node_key.public().to_bytes()).expect("valid public key");
        assert_eq!(first, from_public);
        let other = peer_id_from_ed25519_secret([8u8; 32]).expect("valid key");
        assert_ne!(first, other);
    }

    #[test]
    fn invalid_public_key_is_rejected() {
        // Not a point on the curve (y = 2 has no valid x for ed25519).
        let mut bad = [0u8; 32];
        bad[0] = 2;
        let err = peer_id_from_ed25519_public(bad).expect_err("invalid point must be rejected");
        assert!(err.to_string().contains("public key"), "{err}");
    }

    #[test]
    fn topics_and_protocols_depend_on_the_genesis_hash() {
        let a = NetworkConfig::new(listen(), 1, [1u8; 32]);
        let b = NetworkConfig::new(listen(), 1, [2u8; 32]);
        for kind in GossipKind::ALL {
            assert_ne!(a.topic(kind).hash(), b.topic(kind).hash());
            assert!(a.topic(kind).to_string().ends_with(kind.as_str()));
        }
        assert_eq!(
            a.topic(GossipKind::Tx).to_string(),
            format!("tally/{}/tx", hex::encode([1u8; 32]))
        );
        assert_ne!(a.identify_version(), b.identify_version());
        let other_chain_id = NetworkConfig::new(listen(), 2, [1u8; 32]);
        assert_ne!(a.identify_version(), other_chain_id.identify_version());
        assert_ne!(
            a.sync_protocol().expect("valid"),
            b.sync_protocol().expect("valid")
        );
        assert_ne!(
            a.kad_protocol().expect("valid"),
            b.kad_protocol().expect("valid")
        );
        assert_eq!(
            a.kad_protocol().expect("valid").as_ref(),
            format!("/tally/{}/kad/1.0.0", hex::encode([1u8; 32]))
        );
    }

    #[test]
    fn zero_limits_are_rejected_with_the_field_name() {
        let mut config = NetworkConfig::new(listen(), 1, [0u8; 32]);
        assert!(config.validate().is_ok());
        config.max_peers = 0;
        let err = config.validate().expect_err("zero max_peers");
        assert!(err.to_string().contains("max_peers"), "{err}");
    }

    #[test]
    fn discovery_defaults_and_zero_interval() {
        let mut config = NetworkConfig::new(listen(), 1, [0u8; 32]);
        assert!(config.kademlia);
        assert!(!config.mdns);
        config.discovery_interval = Duration::ZERO;
        let err = config.validate().expect_err("zero discovery_interval");
        assert!(err.to_string().contains("discovery_interval"), "{err}");
    }
}
