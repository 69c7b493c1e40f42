//! The operator's peer controls behind `admin_peers`, `admin_addPeer`,
//! `admin_removePeer` and `tally_blockPeer`: the RPC backend's view of
//! whichever network the node attached.

use futures::future::BoxFuture;
use tally_network::{parse_peer_addr, parse_peer_id, Direction, NetworkError, PeerControl};
use tally_rpc::{BackendError, NodeIdentity, PeerInfo, PeerNetwork};

fn backend_error(e: NetworkError) -> BackendError {
    match e {
        NetworkError::InvalidPeer(_) => BackendError::InvalidParams(e.to_string()),
        NetworkError::ServiceStopped | NetworkError::Dial { .. } => {
            BackendError::Unavailable(e.to_string())
        }
        other => BackendError::Internal(other.to_string()),
    }
}

fn rpc_peer(p: tally_network::PeerInfo) -> PeerInfo {
    PeerInfo {
        id: p.peer_id.to_string(),
        name: p.agent_version.unwrap_or_default(),
        caps: p.protocol_version.into_iter().collect(),
        network: PeerNetwork {
            local_address: p.local_addr.map(|a| a.to_string()),
            remote_address: p.remote_addr.to_string(),
            inbound: p.direction == Direction::Inbound,
            is_static: p.is_static,
        },
        listen_addrs: p.listen_addrs.iter().map(|a| a.to_string()).collect(),
    }
}

/// Runs `f` on the attached network, or says there is none.
fn with<'a, T: Send + 'a>(
    control: Option<&'a PeerControl>,
    f: impl FnOnce(&'a PeerControl) -> BoxFuture<'a, Result<T, BackendError>>,
) -> BoxFuture<'a, Result<T, BackendError>> {
    match control {
        Some(c) => f(c),
        None => Box::pin(async { Err(BackendError::no_network()) }),
    }
}

pub(crate) fn peers(c: Option<&PeerControl>) -> BoxFuture<'_, Result<Vec<PeerInfo>, BackendError>> {
    with(c, |c| {
        Box::pin(async move {
            let peers = c.peer_infos().await.map_err(backend_error)?;
            Ok(peers.into_iter().map(rpc_peer).collect())
        })
    })
}

pub(crate) fn node_identity(
    c: Option<&PeerControl>,
) -> BoxFuture<'_, Result<NodeIdentity, BackendError>> {
    with(c, |c| {
        Box::pin(async move {
            let id = c.local_peer_id();
            let addrs = c.listen_addrs().await.map_err(backend_error)?;
            Ok(NodeIdentity {
                id: id.to_string(),
                listen_addrs: addrs.into_iter().map(|a| format!("{a}/p2p/{id}")).collect(),
            })
        })
    })
}

pub(crate) fn add_peer(
    c: Option<&PeerControl>,
    url: String,
) -> BoxFuture<'_, Result<(), BackendError>> {
    with(c, |c| {
        Box::pin(async move {
            let addr = parse_peer_addr(&url).map_err(backend_error)?;
            c.add_peer(addr).await.map_err(backend_error)
        })
    })
}

pub(crate) fn remove_peer(
    c: Option<&PeerControl>,
    peer: String,
) -> BoxFuture<'_, Result<bool, BackendError>> {
    with(c, |c| {
        Box::pin(async move {
            let id = parse_peer_id(&peer).map_err(backend_error)?;
            c.remove_peer(id).await.map_err(backend_error)
        })
    })
}

pub(crate) fn block_peer(
    c: Option<&PeerControl>,
    peer: String,
) -> BoxFuture<'_, Result<(), BackendError>> {
    with(c, |c| {
        Box::pin(async move {
            let id = parse_peer_id(&peer).map_err(backend_error)?;
            c.block_peer(id).await.map_err(backend_error)
        })
    })
}

pub(crate) fn unblock_peer(
    c: Option<&PeerControl>,
    peer: String,
) -> BoxFuture<'_, Result<bool, BackendError>> {
    with(c, |c| {
        Box::pin(async move {
            let id = parse_peer_id(&peer).map_err(backend_error)?;
            c.unblock_peer(id).await.map_err(backend_error)
        })
    })
}

pub(crate) fn blocked_peers(
    c: Option<&PeerControl>,
) -> BoxFuture<'_, Result<Vec<String>, BackendError>> {
    with(c, |c| {
        Box::pin(async move {
            let blocked = c.blocked_peers().await.map_err(backend_error)?;
            Ok(blocked.iter().map(|p| p.to_string()).collect())
        })
    })
}
