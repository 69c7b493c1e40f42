//! The small namespaces: `web3_`, `net_` and `tally_`.

use std::sync::Arc;

use alloy_primitives::{keccak256, Bytes, B256, U64};
use jsonrpsee::core::RpcResult;

use crate::api::{NetApiServer, NodeInfo, TallyApiServer, Web3ApiServer};
use crate::backend::Backend;

/// Handlers for `web3_`, `net_` and `tally_`.
#[derive(Clone)]
pub struct MiscRpc {
    pub(crate) backend: Arc<dyn Backend>,
}

impl Web3ApiServer for MiscRpc {
    fn client_version(&self) -> RpcResult<String> {
        Ok(self.backend.client_version())
    }

    fn sha3(&self, data: Bytes) -> RpcResult<B256> {
        Ok(keccak256(&data))
    }
}

impl NetApiServer for MiscRpc {
    fn version(&self) -> RpcResult<String> {
        Ok(self.backend.chain_id().to_string())
    }

    fn listening(&self) -> RpcResult<bool> {
        Ok(true)
    }

    fn peer_count(&self) -> RpcResult<U64> {
        Ok(U64::from(self.backend.peer_count()))
    }
}

impl TallyApiServer for MiscRpc {
    fn node_info(&self) -> RpcResult<NodeInfo> {
        let b = &self.backend;
        let head = b.head();
        Ok(NodeInfo {
            version: b.client_version(),
            chain_id: b.chain_id(),
            engine: b.engine_name(),
            head_number: head.number,
            head_hash: head.hash,
            safe_number: b.safe_number(),
            finalized_number: b.finalized_number(),
            peers: b.peer_count(),
            syncing: b.syncing().is_some(),
        })
    }

    fn metrics(&self) -> RpcResult<serde_json::Value> {
        Ok(self.backend.metrics())
    }
}
