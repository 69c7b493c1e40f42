//! The interface the node uses to reach its peers, whatever carries the bytes.
//!
//! [`NetworkHandle`] implements it over libp2p; [`crate::sim::SimNetwork`]
//! implements it over an in-process hub with seeded delays, drops, reordering
//! and partitions, so multi-node tests exercise the same node code paths.

use std::future::Future;

use libp2p::PeerId;

use crate::{
    GossipKind, Misbehaviour, NetworkError, NetworkHandle, RequestId, SyncRequest, SyncResponse,
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
}
