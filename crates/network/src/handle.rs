//! The cloneable handle through which the node talks to the network task.

use std::collections::HashSet;
use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};

use libp2p::{Multiaddr, PeerId};
use tokio::sync::{mpsc, oneshot};

use crate::{
    GossipKind, Misbehaviour, NetworkError, PeerInfo, RequestId, SyncRequest, SyncResponse,
};

/// Counters shared between the task and its handles.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub dropped_gossip: AtomicU64,
    pub dropped_events: AtomicU64,
}

/// Commands from handles to the task. Every command that has an answer
/// carries its own oneshot, so the task never waits on a caller.
#[derive(Debug)]
pub(crate) enum Command {
    Publish {
        kind: GossipKind,
        data: Vec<u8>,
        reply: oneshot::Sender<Result<(), NetworkError>>,
    },
    Request {
        peer: PeerId,
        request: SyncRequest,
        reply: oneshot::Sender<Result<SyncResponse, NetworkError>>,
    },
    Respond {
        id: RequestId,
        response: SyncResponse,
        reply: oneshot::Sender<Result<(), NetworkError>>,
    },
    Report {
        peer: PeerId,
        misbehaviour: Misbehaviour,
    },
    Dial {
        addr: Multiaddr,
        reply: oneshot::Sender<Result<(), NetworkError>>,
    },
    Peers {
        reply: oneshot::Sender<Vec<PeerId>>,
    },
    ListenAddrs {
        reply: oneshot::Sender<Vec<Multiaddr>>,
    },
    PeerInfos {
        reply: oneshot::Sender<Vec<PeerInfo>>,
    },
    AddPeer {
        addr: Multiaddr,
        reply: oneshot::Sender<Result<(), NetworkError>>,
    },
    RemovePeer {
        peer: PeerId,
        reply: oneshot::Sender<bool>,
    },
    Block {
        peer: PeerId,
        reply: oneshot::Sender<()>,
    },
    Unblock {
        peer: PeerId,
        reply: oneshot::Sender<bool>,
    },
    Blocked {
        reply: oneshot::Sender<Vec<PeerId>>,
    },
    SetAllowlist {
        peers: HashSet<PeerId>,
        reply: oneshot::Sender<()>,
    },
    Shutdown {
        done: oneshot::Sender<()>,
    },
}

/// Talks to a running [`NetworkService`](crate::NetworkService). Cheap to clone;
/// all clones share one bounded command channel, so a flood of commands
/// waits (back-pressure) instead of growing memory.
#[derive(Debug, Clone)]
pub struct NetworkHandle {
    commands: mpsc::Sender<Command>,
    local_peer_id: PeerId,
    stats: Arc<Stats>,
}

impl NetworkHandle {
    pub(crate) fn new(
        commands: mpsc::Sender<Command>,
        local_peer_id: PeerId,
        stats: Arc<Stats>,
    ) -> Self {
        Self {
            commands,
            local_peer_id,
            stats,
        }
    }

    /// This node's peer id (derived from its ed25519 key).
    pub fn local_peer_id(&self) -> PeerId {
        self.local_peer_id
    }

    async fn send(&self, command: Command) -> Result<(), NetworkError> {
        self.commands
            .send(command)
            .await
            .map_err(|_| NetworkError::ServiceStopped)
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, NetworkError> {
        let (reply, answer) = oneshot::channel();
        self.send(make(reply)).await?;
        answer.await.map_err(|_| NetworkError::ServiceStopped)
    }

    /// Gossips `data` on the topic of `kind`. Fails with
    /// [`NetworkError::NoPeers`] when no connected peer listens on that topic.
    pub async fn publish(&self, kind: GossipKind, data: Vec<u8>) -> Result<(), NetworkError> {
        self.ask(|reply| Command::Publish { kind, data, reply })
            .await?
    }

    /// Gossips an encoded transaction.
    pub async fn publish_tx(&self, data: Vec<u8>) -> Result<(), NetworkError> {
        self.publish(GossipKind::Tx, data).await
    }

    /// Gossips an encoded block.
    pub async fn publish_block(&self, data: Vec<u8>) -> Result<(), NetworkError> {
        self.publish(GossipKind::Block, data).await
    }

    /// Gossips an encoded consensus message.
    pub async fn publish_consensus(&self, data: Vec<u8>) -> Result<(), NetworkError> {
        self.publish(GossipKind::Consensus, data).await
    }

    /// Sends a sync request to `peer` and waits for its answer (or the
    /// configured request timeout).
    pub async fn request(
        &self,
        peer: PeerId,
        request: SyncRequest,
    ) -> Result<SyncResponse, NetworkError> {
        self.ask(|reply| Command::Request {
            peer,
            request,
            reply,
        })
        .await?
    }

    /// Answers an inbound [`NetworkEvent::Request`](crate::NetworkEvent::Request).
    pub async fn respond(&self, id: RequestId, response: SyncResponse) -> Result<(), NetworkError> {
        self.ask(|reply| Command::Respond {
            id,
            response,
            reply,
        })
        .await?
    }

    /// Penalises `peer`; at the ban threshold it is disconnected and banned.
    pub async fn report_peer(
        &self,
        peer: PeerId,
        misbehaviour: Misbehaviour,
    ) -> Result<(), NetworkError> {
        self.send(Command::Report { peer, misbehaviour }).await
    }

    /// Dials an address (e.g. a peer learned from the chain spec).
    pub async fn dial(&self, addr: Multiaddr) -> Result<(), NetworkError> {
        self.ask(|reply| Command::Dial { addr, reply }).await?
    }

    /// Currently connected peers.
    pub async fn peers(&self) -> Result<Vec<PeerId>, NetworkError> {
        self.ask(|reply| Command::Peers { reply }).await
    }

    /// Connected peers with their addresses, direction and what identify
    /// told about them, ordered by peer id.
    pub async fn peer_infos(&self) -> Result<Vec<PeerInfo>, NetworkError> {
        self.ask(|reply| Command::PeerInfos { reply }).await
    }

    /// Dials `addr` and keeps its peer (named by a `/p2p/<id>` suffix) as a
    /// static peer, redialled while not connected. See
    /// [`Network::add_peer`](crate::Network::add_peer).
    pub async fn add_peer(&self, addr: Multiaddr) -> Result<(), NetworkError> {
        self.ask(|reply| Command::AddPeer { addr, reply }).await?
    }

    /// Disconnects `peer` and forgets it as a static peer; whether it was
    /// connected or static.
    pub async fn remove_peer(&self, peer: PeerId) -> Result<bool, NetworkError> {
        self.ask(|reply| Command::RemovePeer { peer, reply }).await
    }

    /// Disconnects `peer` and refuses it until [`NetworkHandle::unblock_peer`].
    pub async fn block_peer(&self, peer: PeerId) -> Result<(), NetworkError> {
        self.ask(|reply| Command::Block { peer, reply }).await
    }

    /// Lifts a block and dials the peer where it last listened; whether it
    /// was blocked.
    pub async fn unblock_peer(&self, peer: PeerId) -> Result<bool, NetworkError> {
        self.ask(|reply| Command::Unblock { peer, reply }).await
    }

    /// Blocked peers, ordered by peer id.
    pub async fn blocked_peers(&self) -> Result<Vec<PeerId>, NetworkError> {
        self.ask(|reply| Command::Blocked { reply }).await
    }

    /// Replaces a consortium's member allowlist (governance added or
    /// removed a member): peers no longer on it are disconnected. No-op on
    /// a public network.
    pub async fn set_allowlist(&self, peers: Vec<PeerId>) -> Result<(), NetworkError> {
        let peers = peers.into_iter().collect();
        self.ask(|reply| Command::SetAllowlist { peers, reply })
            .await
    }

    /// Addresses this node listens on (with the real port when `tcp/0` was asked).
    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>, NetworkError> {
        self.ask(|reply| Command::ListenAddrs { reply }).await
    }

    /// Stops the network task, closing all connections; returns once it has stopped.
    pub async fn shutdown(&self) -> Result<(), NetworkError> {
        self.ask(|done| Command::Shutdown { done }).await
    }

    /// Gossip messages dropped because the node did not drain events fast enough.
    pub fn dropped_gossip(&self) -> u64 {
        self.stats.dropped_gossip.load(Ordering::Relaxed)
    }

    /// Non-gossip events (requests, peer changes) dropped for the same reason.
    pub fn dropped_events(&self) -> u64 {
        self.stats.dropped_events.load(Ordering::Relaxed)
    }
}
