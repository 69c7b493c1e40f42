//! Messages exchanged with the node: gossip kinds, sync requests and responses,
//! events, and the misbehaviour scale used to ban peers.

use std::fmt;

use libp2p::{Multiaddr, PeerId};
use serde::{Deserialize, Serialize};

/// Which gossip topic a message travels on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GossipKind {
    /// Signed transactions (RLP-encoded envelopes).
    Tx,
    /// Sealed blocks (RLP-encoded).
    Block,
    /// Consensus engine messages (votes, proposals); opaque here.
    Consensus,
}

impl GossipKind {
    /// All kinds, in topic order.
    pub const ALL: [GossipKind; 3] = [GossipKind::Tx, GossipKind::Block, GossipKind::Consensus];

    /// The last segment of the topic name.
    pub fn as_str(self) -> &'static str {
        match self {
            GossipKind::Tx => "tx",
            GossipKind::Block => "block",
            GossipKind::Consensus => "consensus",
        }
    }
}

impl fmt::Display for GossipKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request a syncing node sends to one peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncRequest {
    /// Up to `count` consecutive blocks starting at number `start`.
    BlocksByRange { start: u64, count: u32 },
    /// One block by its hash.
    BlockByHash([u8; 32]),
    /// The peer's chain and head.
    Status,
    /// Up to `count` consecutive headers starting at number `start`: a
    /// branch's work is checked on its headers before its bodies are
    /// downloaded.
    HeadersByRange { start: u64, count: u32 },
    /// The commit certificate of block `number` (BFT chains): a syncing
    /// node checks the last block of a range with it (each earlier block's
    /// certificate travels in the header of the block after it).
    Certificate { number: u64 },
}

/// The answer to a [`SyncRequest`]. Blocks are opaque RLP bytes: the node
/// encodes and decodes them (off the network task).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncResponse {
    /// Answer to `BlocksByRange`: the blocks the peer has, in order (may be fewer).
    Blocks(Vec<Vec<u8>>),
    /// Answer to `BlockByHash`: `None` if the peer does not know the block.
    Block(Option<Vec<u8>>),
    /// Answer to `HeadersByRange`: RLP headers, in order (may be fewer).
    Headers(Vec<Vec<u8>>),
    /// Answer to `Certificate`: the RLP certificate, `None` if the peer has
    /// none for that block.
    Certificate(Option<Vec<u8>>),
    /// Answer to `Status`.
    Status {
        genesis: [u8; 32],
        head_number: u64,
        head_hash: [u8; 32],
        /// Fork-choice weight of the peer's head (`u128` big-endian), so a
        /// node can tell a heavier branch from a longer one.
        #[serde(default)]
        head_weight: [u8; 16],
    },
    /// The peer could not serve the request (the reason is for logs only).
    Error(String),
}

/// Identifies an inbound request until the node answers it with
/// [`NetworkHandle::respond`](crate::NetworkHandle::respond).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Something a peer did wrong, reported by the node after it decoded or
/// checked what the peer sent. Penalties add up; at the configured threshold
/// the peer is disconnected and banned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Misbehaviour {
    /// Bytes that do not decode (a bug or an attack, but cheap to send).
    MalformedMessage,
    /// A transaction that fails validation (bad signature, wrong chain id).
    InvalidTransaction,
    /// A block whose seal or roots are wrong: costly for us, never honest.
    InvalidBlock,
    /// A sync response that does not answer the request.
    InvalidResponse,
    /// Consensus message that is invalid or equivocates.
    InvalidConsensusMessage,
    /// Too many messages or requests.
    Spam,
    /// Immediately ban (e.g. proven equivocation).
    Fatal,
}

impl Misbehaviour {
    /// Penalty points added to the peer's score; 100 is the default ban threshold.
    pub fn penalty(self) -> u32 {
        match self {
            Misbehaviour::MalformedMessage => 20,
            Misbehaviour::InvalidTransaction => 5,
            // Never honest: one is enough to disconnect.
            Misbehaviour::InvalidBlock => 100,
            Misbehaviour::InvalidResponse => 25,
            Misbehaviour::InvalidConsensusMessage => 25,
            Misbehaviour::Spam => 10,
            Misbehaviour::Fatal => u32::MAX,
        }
    }
}

/// Why a connection was refused or cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefuseReason {
    /// Consortium chain: the peer's key is not a member.
    NotAllowed,
    /// The peer is banned for misbehaviour.
    Banned,
    /// The operator blocked the peer ([`Network::block_peer`](crate::Network::block_peer)).
    Blocked,
    /// We are at `max_peers`.
    TooManyPeers,
    /// The peer announced another chain (identify protocol version).
    WrongChain { theirs: String, ours: String },
    /// Misbehaviour penalties reached the ban threshold; the peer is now banned.
    Misbehaved { score: u32 },
}

impl fmt::Display for RefuseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefuseReason::NotAllowed => f.write_str("not a member of this chain"),
            RefuseReason::Banned => f.write_str("banned for misbehaviour"),
            RefuseReason::Blocked => f.write_str("blocked by the operator"),
            RefuseReason::TooManyPeers => f.write_str("peer limit reached"),
            RefuseReason::WrongChain { theirs, ours } => {
                write!(f, "on another chain ({theirs}, expected {ours})")
            }
            RefuseReason::Misbehaved { score } => {
                write!(f, "misbehaviour penalty {score} reached the ban threshold")
            }
        }
    }
}

/// Which side opened a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The peer dialled us.
    Inbound,
    /// We dialled the peer.
    Outbound,
}

/// A connected peer, for the operator (`admin_peers`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    pub peer_id: PeerId,
    /// Direction of the peer's oldest open connection.
    pub direction: Direction,
    /// The peer's address on that connection. For an inbound connection
    /// this is usually an ephemeral port, not where the peer listens.
    pub remote_addr: Multiaddr,
    /// Our address on that connection; known only for inbound connections
    /// (libp2p does not report the local port of a dial).
    pub local_addr: Option<Multiaddr>,
    /// The client the peer announced through identify (e.g. `tally/v0.1.0`),
    /// once identify has run.
    pub agent_version: Option<String>,
    /// The protocol version the peer announced: `tally/1/<chain id>/<genesis>`.
    pub protocol_version: Option<String>,
    /// Where the peer says it listens (identify), at most a few addresses.
    pub listen_addrs: Vec<Multiaddr>,
    /// Added with [`Network::add_peer`](crate::Network::add_peer): redialled
    /// whenever it is not connected.
    pub is_static: bool,
}

/// What the network tells the node.
#[derive(Debug)]
pub enum NetworkEvent {
    /// A gossip message on one of our topics. `from` is the original publisher
    /// (signed), not the peer that relayed it.
    Gossip {
        from: PeerId,
        kind: GossipKind,
        data: Vec<u8>,
    },
    /// A peer asks for sync data; answer with `NetworkHandle::respond(id, ..)`.
    Request {
        from: PeerId,
        id: RequestId,
        request: SyncRequest,
    },
    /// First connection to this peer opened.
    PeerConnected(PeerId),
    /// Last connection to this peer closed.
    PeerDisconnected(PeerId),
    /// A connection was refused or cut, and why.
    Refused { peer: PeerId, reason: RefuseReason },
}
