//! The interface the node uses to reach its peers, whatever carries the bytes.
//!
//! [`NetworkHandle`] implements it over libp2p; [`crate::sim::SimNetwork`]
//! implements it over an in-process hub with seeded delays, drops, reordering
//! and partitions, so multi-node tests exercise the same node code paths.

use std::future::Future;

use libp2p::{Multiaddr, PeerId};

use crate::{
    GossipKind, Misbehaviour, NetworkError, NetworkHandle, PeerInfo, RequestId, SyncRequest,
    SyncResponse,
};

/// What a node needs from a network. Events arrive separately, on the
/// `Receiver<NetworkEvent>` returned next to the implementation.
pub trait Network: Clone + Send + Sync + 'static {
    /// This node's peer id.
    fn local_peer_id(&self) -> PeerId;
    /// Gossips `data` on the topic of `kind`.
    fn publish(
        &self,
        kind: GossipKind,
        data: Vec<u8>,
    ) -> impl Future<Output = Result<(), NetworkError>> + Send;
    /// Sends a sync request to `peer` and waits for the answer.
    fn request(
        &self,
        peer: PeerId,
        request: SyncRequest,
    ) -> impl Future<Output = Result<SyncResponse, NetworkError>> + Send;
    /// Answers an inbound request.
    fn respond(
        &self,
        id: RequestId,
        response: SyncResponse,
    ) -> impl Future<Output = Result<(), NetworkError>> + Send;
    /// Penalises a peer for something it sent.
    fn report_peer(
        &self,
        peer: PeerId,
        misbehaviour: Misbehaviour,
    ) -> impl Future<Output = Result<(), NetworkError>> + Send;
    /// Currently connected peers.
    fn peers(&self) -> impl Future<Output = Result<Vec<PeerId>, NetworkError>> + Send;

    // The operator's controls (geth's `admin_` namespace). Blocks are kept in
    // memory: a restarted node has none.

    /// Connected peers with how they are connected, ordered by peer id.
    fn peer_infos(&self) -> impl Future<Output = Result<Vec<PeerInfo>, NetworkError>> + Send;
    /// Dials `addr` and, when it names its peer (`/p2p/<id>`), keeps that
    /// peer as a static peer, redialled whenever it is not connected (as
    /// geth's `admin_addPeer`). Returns once the dial has started: a peer
    /// that does not answer is not an error here. Fails at once for an
    /// address libp2p cannot dial or a peer the node refuses (blocked,
    /// banned, not a member).
    fn add_peer(&self, addr: Multiaddr) -> impl Future<Output = Result<(), NetworkError>> + Send;
    /// Disconnects `peer` and forgets it as a static peer. Returns whether
    /// it was connected or static. It may come back, as any peer may
    /// (discovery, its own dials); [`Network::block_peer`] keeps it out.
    fn remove_peer(&self, peer: PeerId) -> impl Future<Output = Result<bool, NetworkError>> + Send;
    /// Disconnects `peer` and refuses it, inbound and outbound, until
    /// [`Network::unblock_peer`]. This is how an operator partitions a
    /// running network by hand.
    fn block_peer(&self, peer: PeerId) -> impl Future<Output = Result<(), NetworkError>> + Send;
    /// Lets a blocked peer connect again, and dials it where it was last
    /// seen listening. Returns whether it was blocked.
    fn unblock_peer(&self, peer: PeerId)
        -> impl Future<Output = Result<bool, NetworkError>> + Send;
    /// Blocked peers, ordered by peer id.
    fn blocked_peers(&self) -> impl Future<Output = Result<Vec<PeerId>, NetworkError>> + Send;
    /// Addresses this node listens on (empty when it has no sockets, as in
    /// the simulator).
    fn listen_addrs(&self) -> impl Future<Output = Result<Vec<Multiaddr>, NetworkError>> + Send;
    /// Replaces a consortium's member allowlist; peers no longer on it are
    /// disconnected. The simulator has no allowlist: a no-op there.
    fn set_allowlist(
        &self,
        _peers: Vec<PeerId>,
    ) -> impl Future<Output = Result<(), NetworkError>> + Send {
        async { Ok(()) }
    }
}

impl Network for NetworkHandle {
    fn local_peer_id(&self) -> PeerId {
        NetworkHandle::local_peer_id(self)
    }

    fn publish(
        &self,
        kind: GossipKind,
        data: Vec<u8>,
    ) -> impl Future<Output = Result<(), NetworkError>> + Send {
        NetworkHandle::publish(self, kind, data)
    }

    fn request(
        &self,
        peer: PeerId,
        request: SyncRequest,
    ) -> impl Future<Output = Result<SyncResponse, NetworkError>> + Send {
        NetworkHandle::request(self, peer, request)
    }

    fn respond(
        &self,
        id: RequestId,
        response: SyncResponse,
    ) -> impl Future<Output = Result<(), NetworkError>> + Send {
        NetworkHandle::respond(self, id, response)
    }

    fn report_peer(
        &self,
        peer: PeerId,
        misbehaviour: Misbehaviour,
    ) -> impl Future<Output = Result<(), NetworkError>> + Send {
        NetworkHandle::report_peer(self, peer, misbehaviour)
    }

    fn peers(&self) -> impl Future<Output = Result<Vec<PeerId>, NetworkError>> + Send {
        NetworkHandle::peers(self)
    }

    fn peer_infos(&self) -> impl Future<Output = Result<Vec<PeerInfo>, NetworkError>> + Send {
        NetworkHandle::peer_infos(self)
    }

    fn add_peer(&self, addr: Multiaddr) -> impl Future<Output = Result<(), NetworkError>> + Send {
        NetworkHandle::add_peer(self, addr)
    }

    fn remove_peer(&self, peer: PeerId) -> impl Future<Output = Result<bool, NetworkError>> + Send {
        NetworkHandle::remove_peer(self, peer)
    }

    fn block_peer(&self, peer: PeerId) -> impl Future<Output = Result<(), NetworkError>> + Send {
        NetworkHandle::block_peer(self, peer)
    }

    fn unblock_peer(
        &self,
        peer: PeerId,
    ) -> impl Future<Output = Result<bool, NetworkError>> + Send {
        NetworkHandle::unblock_peer(self, peer)
    }

    fn blocked_peers(&self) -> impl Future<Output = Result<Vec<PeerId>, NetworkError>> + Send {
        NetworkHandle::blocked_peers(self)
    }

    fn listen_addrs(&self) -> impl Future<Output = Result<Vec<Multiaddr>, NetworkError>> + Send {
        NetworkHandle::listen_addrs(self)
    }

    fn set_allowlist(
        &self,
        peers: Vec<PeerId>,
    ) -> impl Future<Output = Result<(), NetworkError>> + Send {
        NetworkHandle::set_allowlist(self, peers)
    }
}
