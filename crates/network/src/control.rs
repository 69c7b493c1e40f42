//! The operator's peer controls from outside the network: parsing what an
//! operator types, and [`PeerControl`], the controls of any [`Network`]
//! behind one concrete type.
//!
//! [`Network`]'s methods return `impl Future`, so it cannot be a trait
//! object; a holder that must not be generic over the network (the node's
//! RPC backend, an `Arc<dyn Backend>`) keeps a [`PeerControl`] instead.

use std::{fmt, sync::Arc};

use futures::{future::BoxFuture, FutureExt};
use libp2p::{Multiaddr, PeerId};

use crate::{peers::peer_of, Network, NetworkError, PeerInfo};

/// A peer id as an operator gives it: the bare id (`12D3KooW…`) or an
/// address ending with it (`/ip4/10.0.0.1/tcp/30303/p2p/12D3KooW…`).
pub fn parse_peer_id(text: &str) -> Result<PeerId, NetworkError> {
    let text = text.trim();
    if text.starts_with('/') {
        let addr = parse_peer_addr(text)?;
        return peer_of(&addr).ok_or_else(|| {
            NetworkError::InvalidPeer(format!(
                "address {text} does not name a peer; expected it to end with /p2p/<peer id>"
            ))
        });
    }
    text.parse().map_err(|e| {
        NetworkError::InvalidPeer(format!(
            "invalid peer id {text:?}: {e}; expected a libp2p peer id such as 12D3KooW… \
             or an address ending with /p2p/<peer id>"
        ))
    })
}

/// A peer address as an operator gives it, e.g.
/// `/ip4/10.0.0.1/tcp/30303/p2p/12D3KooW…`.
pub fn parse_peer_addr(text: &str) -> Result<Multiaddr, NetworkError> {
    let text = text.trim();
    text.parse().map_err(|e| {
        NetworkError::InvalidPeer(format!(
            "invalid peer address {text:?}: {e}; expected a multiaddr such as \
             /ip4/10.0.0.1/tcp/30303/p2p/12D3KooW…"
        ))
    })
}

/// The peer controls of a [`Network`], cheap to clone, whatever the network
/// (libp2p or the simulator). Each method does what the [`Network`] method
/// of the same name does.
#[derive(Clone)]
pub struct PeerControl {
    inner: Arc<dyn Controls>,
}

impl fmt::Debug for PeerControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeerControl")
            .field("local_peer_id", &self.inner.local_peer_id())
            .finish()
    }
}

impl PeerControl {
    pub fn new<N: Network>(net: N) -> Self {
        PeerControl {
            inner: Arc::new(net),
        }
    }

    pub fn local_peer_id(&self) -> PeerId {
        self.inner.local_peer_id()
    }

    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>, NetworkError> {
        self.inner.listen_addrs().await
    }

    pub async fn peer_infos(&self) -> Result<Vec<PeerInfo>, NetworkError> {
        self.inner.peer_infos().await
    }

    pub async fn add_peer(&self, addr: Multiaddr) -> Result<(), NetworkError> {
        self.inner.add_peer(addr).await
    }

    pub async fn remove_peer(&self, peer: PeerId) -> Result<bool, NetworkError> {
        self.inner.remove_peer(peer).await
    }

    pub async fn block_peer(&self, peer: PeerId) -> Result<(), NetworkError> {
        self.inner.block_peer(peer).await
    }

    pub async fn unblock_peer(&self, peer: PeerId) -> Result<bool, NetworkError> {
        self.inner.unblock_peer(peer).await
    }

    pub async fn blocked_peers(&self) -> Result<Vec<PeerId>, NetworkError> {
        self.inner.blocked_peers().await
    }

    pub async fn set_allowlist(&self, peers: Vec<PeerId>) -> Result<(), NetworkError> {
        self.inner.set_allowlist(peers).await
    }
}

/// [`Network`]'s controls with boxed futures, so they fit in a trait object.
trait Controls: Send + Sync {
    fn local_peer_id(&self) -> PeerId;
    fn listen_addrs(&self) -> BoxFuture<'_, Result<Vec<Multiaddr>, NetworkError>>;
    fn peer_infos(&self) -> BoxFuture<'_, Result<Vec<PeerInfo>, NetworkError>>;
    fn add_peer(&self, addr: Multiaddr) -> BoxFuture<'_, Result<(), NetworkError>>;
    fn remove_peer(&self, peer: PeerId) -> BoxFuture<'_, Result<bool, NetworkError>>;
    fn block_peer(&self, peer: PeerId) -> BoxFuture<'_, Result<(), NetworkError>>;
    fn unblock_peer(&self, peer: PeerId) -> BoxFuture<'_, Result<bool, NetworkError>>;
    fn blocked_peers(&self) -> BoxFuture<'_, Result<Vec<PeerId>, NetworkError>>;
    fn set_allowlist(&self, peers: Vec<PeerId>) -> BoxFuture<'_, Result<(), NetworkError>>;
}

impl<N: Network> Controls for N {
    fn local_peer_id(&self) -> PeerId {
        Network::local_peer_id(self)
    }

    fn listen_addrs(&self) -> BoxFuture<'_, Result<Vec<Multiaddr>, NetworkError>> {
        Network::listen_addrs(self).boxed()
    }

    fn peer_infos(&self) -> BoxFuture<'_, Result<Vec<PeerInfo>, NetworkError>> {
        Network::peer_infos(self).boxed()
    }

    fn add_peer(&self, addr: Multiaddr) -> BoxFuture<'_, Result<(), NetworkError>> {
        Network::add_peer(self, addr).boxed()
    }

    fn remove_peer(&self, peer: PeerId) -> BoxFuture<'_, Result<bool, NetworkError>> {
        Network::remove_peer(self, peer).boxed()
    }

    fn block_peer(&self, peer: PeerId) -> BoxFuture<'_, Result<(), NetworkError>> {
        Network::block_peer(self, peer).boxed()
    }

    fn unblock_peer(&self, peer: PeerId) -> BoxFuture<'_, Result<bool, NetworkError>> {
        Network::unblock_peer(self, peer).boxed()
    }

    fn blocked_peers(&self) -> BoxFuture<'_, Result<Vec<PeerId>, NetworkError>> {
        Network::blocked_peers(self).boxed()
    }

    fn set_allowlist(&self, peers: Vec<PeerId>) -> BoxFuture<'_, Result<(), NetworkError>> {
        Network::set_allowlist(self, peers).boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_ids_parse_bare_or_at_the_end_of_an_address() {
        let peer = PeerId::random();
        assert_eq!(parse_peer_id(&peer.to_string()).ok(), Some(peer));
        let addr = format!("/ip4/10.0.0.1/tcp/30303/p2p/{peer}");
        assert_eq!(parse_peer_id(&addr).ok(), Some(peer));
        assert_eq!(parse_peer_id(&format!(" {peer}\n")).ok(), Some(peer));

        let err = parse_peer_id("/ip4/10.0.0.1/tcp/30303").expect_err("no peer id");
        assert!(err.to_string().contains("/p2p/<peer id>"), "{err}");
        let err = parse_peer_id("enode://abc@1.2.3.4:30303").expect_err("not a peer id");
        assert!(err.to_string().contains("enode://abc"), "{err}");
        let err = parse_peer_addr("10.0.0.1:30303").expect_err("not a multiaddr");
        assert!(err.to_string().contains("expected a multiaddr"), "{err}");
    }
}
