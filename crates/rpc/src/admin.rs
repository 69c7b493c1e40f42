//! Peer controls: geth's `admin_` peer methods and Tally's blocks, over the
//! backend's optional peer methods (a node without a network answers with
//! the backend's "no network" error).

use std::sync::Arc;

use jsonrpsee::core::{async_trait, RpcResult};

use crate::api::{AdminApiServer, AdminNodeInfo};
use crate::backend::{Backend, PeerInfo};

/// Handlers for the peer controls.
#[derive(Clone)]
pub struct AdminRpc {
    pub(crate) backend: Arc<dyn Backend>,
}

#[async_trait]
impl AdminApiServer for AdminRpc {
    async fn peers(&self) -> RpcResult<Vec<PeerInfo>> {
        Ok(self.backend.peers().await?)
    }

    async fn node_info(&self) -> RpcResult<AdminNodeInfo> {
        let identity = self.backend.node_identity().await?;
        Ok(AdminNodeInfo {
            id: identity.id,
            name: self.backend.client_version(),
            listen_addr: identity.listen_addrs.first().cloned(),
            listen_addrs: identity.listen_addrs,
        })
    }

    async fn add_peer(&self, url: String) -> RpcResult<bool> {
        self.backend.add_peer(url).await?;
        Ok(true)
    }

    async fn remove_peer(&self, url: String) -> RpcResult<bool> {
        Ok(self.backend.remove_peer(url).await?)
    }

    async fn block_peer(&self, peer: String) -> RpcResult<bool> {
        self.backend.block_peer(peer).await?;
        Ok(true)
    }

    async fn unblock_peer(&self, peer: String) -> RpcResult<bool> {
        Ok(self.backend.unblock_peer(peer).await?)
    }

    async fn blocked_peers(&self) -> RpcResult<Vec<String>> {
        Ok(self.backend.blocked_peers().await?)
    }
}
