//! The crate's one error type.

use libp2p::{Multiaddr, PeerId};

use crate::GossipKind;

/// Everything that can go wrong starting the network or talking to it.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The node key bytes are not a valid ed25519 secret.
    #[error("invalid ed25519 node key: {0}; expected 32 raw secret-key bytes")]
    InvalidKey(String),
    /// The configuration is inconsistent (the message names the field).
    #[error("invalid network configuration: {0}")]
    InvalidConfig(String),
    /// Building the libp2p transport or behaviours failed.
    #[error("could not build the libp2p swarm: {0}")]
    Build(String),
    /// The listen address could not be bound.
    #[error("could not listen on {addr}: {reason}")]
    Listen { addr: Multiaddr, reason: String },
    /// The network task is gone (shut down or crashed); the handle is useless.
    #[error("the network service has stopped")]
    ServiceStopped,
    /// No connected peer is subscribed to the topic, so the message reached nobody.
    #[error("no peer is subscribed to the {kind} topic; message not sent")]
    NoPeers { kind: GossipKind },
    /// Gossipsub refused the message for another reason (too large, duplicate, ...).
    #[error("could not publish on the {kind} topic: {reason}")]
    Publish { kind: GossipKind, reason: String },
    /// A sync request failed (dial failure, timeout, connection closed, bad response).
    #[error("sync request to peer {peer} failed: {reason}")]
    Request { peer: PeerId, reason: String },
    /// Dialling an address failed at once (bad address, banned or refused peer).
    #[error("could not dial {addr}: {reason}")]
    Dial { addr: Multiaddr, reason: String },
    /// Text given as a peer id or peer address does not parse (the message
    /// names the input and the expected form).
    #[error("{0}")]
    InvalidPeer(String),
    /// `respond` was called with an id that is unknown, already answered or expired.
    #[error("no open inbound request with id {0}; it was already answered, or the peer gave up")]
    UnknownRequest(u64),
}
