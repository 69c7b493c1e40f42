//! Tally's peer-to-peer network layer on libp2p.
//!
//! # Design
//!
//! Following Lighthouse, the network is a *service*: one tokio task owns the
//! libp2p [`Swarm`](libp2p::Swarm) and nothing else touches it. The node talks
//! to it only through channels:
//!
//! - [`NetworkService::start`] builds the swarm (TCP + noise + yamux; identify,
//!   ping, gossipsub, a CBOR request-response protocol for sync, and a
//!   connection gate), binds the listen address, dials the bootnodes and spawns
//!   the task. It returns a [`NetworkHandle`] and a receiver of
//!   [`NetworkEvent`]s.
//! - [`NetworkHandle`] is cloneable and sends commands over a **bounded**
//!   channel (publish, request, respond, report a peer, list peers, shut
//!   down). Commands that have an answer carry a oneshot, so the task never
//!   blocks on a caller.
//! - Events flow out over a **bounded** channel. Gossip that does not fit is
//!   dropped and counted ([`NetworkHandle::dropped_gossip`]): other peers
//!   re-gossip it, and a slow node must not grow memory without bound. Other
//!   events wait in a small bounded queue.
//!
//! The task only moves bytes. Transactions, blocks and consensus messages are
//! opaque `Vec<u8>` here: decoding, signature recovery and execution are CPU
//! work that the node does on its own workers, never on the network task.
//! Sync messages are CBOR-encoded by libp2p's codec on the connection tasks,
//! with a size cap ([`NetworkConfig::max_message_size`]) so a peer cannot
//! exhaust memory.
//!
//! # Chains and membership
//!
//! Topic names (`tally/<genesis hex>/{tx,block,consensus}`) and the sync
//! protocol name contain the genesis hash, so nodes of different chains never
//! exchange messages; the identify handshake carries chain id and genesis, and
//! a peer announcing another chain is disconnected. On consortium chains the
//! [`NetworkConfig::allowlist`] lists member peer ids: the connection gate
//! refuses any other peer as soon as the noise handshake reveals its key,
//! before any protocol runs, and reports [`NetworkEvent::Refused`]. Peers the
//! node reports with [`NetworkHandle::report_peer`] accumulate penalties and
//! are disconnected and banned at a threshold.
//!
//! # Operator controls
//!
//! Like geth's `admin_` namespace, [`Network`] lists peers with how they are
//! connected ([`PeerInfo`]), adds peers by address (kept as static peers and
//! redialled), removes them, and *blocks* them: a blocked peer is cut and
//! refused by the gate in both directions until unblocked, which is how an
//! operator partitions a running network by hand. The simulator honours
//! the same calls. [`PeerControl`] carries these controls for holders that
//! cannot be generic over the network.
//!
//! # Discovery
//!
//! Nodes find each other through a Kademlia DHT seeded by the bootnodes
//! ([`NetworkConfig::kademlia`], on by default; its protocol name contains the
//! genesis hash too) and, on a LAN, through mDNS ([`NetworkConfig::mdns`]).
//! Discovered peers are dialled only while the node is below
//! [`NetworkConfig::max_peers`], and on consortium chains only members are
//! dialled; the gate still has the last word on every connection.

mod api;
mod behaviour;
mod config;
mod control;
mod discovery;
mod error;
mod gate;
mod handle;
mod peers;
mod service;
pub mod sim;
mod types;

pub use api::Network;
pub use config::{
    keypair_from_ed25519_secret, peer_id_from_ed25519_public, peer_id_from_ed25519_secret,
    NetworkConfig, DEFAULT_MAX_GOSSIP_SIZE, DEFAULT_MAX_MESSAGE_SIZE,
};
pub use control::{parse_peer_addr, parse_peer_id, PeerControl};
pub use error::NetworkError;
pub use handle::NetworkHandle;
pub use service::NetworkService;
pub use types::{
    Direction, GossipKind, Misbehaviour, NetworkEvent, PeerInfo, RefuseReason, RequestId,
    SyncRequest, SyncResponse,
};

/// Re-exported so callers can name addresses, peer ids and keys without
/// depending on libp2p themselves.
pub use libp2p::{identity::Keypair, multiaddr, Multiaddr, PeerId};
