//! Proofs anyone can check offline (`tally-proof/1`, `docs/proofs.md`),
//! and the notary and traceability reads:
//! `tally_getTransactionProof`, `tally_getReceiptProof`,
//! `tally_getAccountProof`, `tally_getStorageProof`,
//! `tally_getNotaryProof`, `tally_getTraceProof`,
//! `tally_getNotaryRecords` and `tally_getTraceHistory`.
//!
//! A proof holds its claim, the exact header of the block it is proven at
//! and that block's finality evidence for the chain's engine ([`finality`]);
//! `tally-verify` checks it with nothing but the chain spec. State claims
//! are proven at `finalized` unless a block is named.

mod build;
mod finality;
mod notary;

use std::sync::Arc;

use alloy_primitives::{Address, B256};
use alloy_rpc_types_eth::{BlockId, BlockNumberOrTag};
use jsonrpsee::core::{async_trait, RpcResult};
use jsonrpsee::proc_macros::rpc;
use serde::{Deserialize, Serialize};
use tally_verify::{ProductRecord, Proof, TraceEventRecord};

use crate::backend::Backend;
use crate::block_id::state_number;
use crate::error::invalid_params;
use crate::eth::blocking;

pub use notary::NotaryStamp;

/// Every stamp of `document` (its SHA-256) up to block `number`, oldest
/// first, with its batch and any revocation: what `tally_getNotaryRecords`
/// answers, for the node's other readers (the explorer). Uses the SQL
/// index to find the blocks when the backend has one.
pub fn notary_records(
    backend: &dyn Backend,
    document: B256,
    number: u64,
) -> RpcResult<Vec<NotaryStamp>> {
    notary::records(backend, document, number)
}

/// Most storage slots one `tally_getStorageProof` proves.
pub const MAX_PROOF_SLOTS: usize = 64;

/// A product's registration and events at a block (`tally_getTraceHistory`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceHistory {
    pub product_id: String,
    /// The block whose state this is.
    pub block: u64,
    pub product: ProductRecord,
    pub events: Vec<TraceEventRecord>,
}

/// Proof builders and the notary and traceability reads.
#[rpc(server, namespace = "tally")]
pub trait ProofsApi {
    /// Proof that a mined transaction is in its block; `includeRaw` adds
    /// its bytes so the checker can show sender, recipient and value.
    #[method(name = "getTransactionProof")]
    async fn transaction_proof(&self, tx_hash: B256, include_raw: Option<bool>)
        -> RpcResult<Proof>;

    /// Proof of a mined transaction's receipt (status, gas, logs).
    #[method(name = "getReceiptProof")]
    async fn receipt_proof(&self, tx_hash: B256) -> RpcResult<Proof>;

    /// Proof of an account (or its absence) at `block` (default `finalized`).
    #[method(name = "getAccountProof")]
    async fn account_proof(&self, address: Address, block: Option<BlockId>) -> RpcResult<Proof>;

    /// Proof of storage slots of `address` at `block` (default `finalized`).
    #[method(name = "getStorageProof")]
    async fn storage_proof(
        &self,
        address: Address,
        slots: Vec<B256>,
        block: Option<BlockId>,
    ) -> RpcResult<Proof>;

    /// Every stamp of a document (its SHA-256) up to `block` (default
    /// `latest`), oldest first, with its batch and any revocation.
    #[method(name = "getNotaryRecords")]
    async fn notary_records(
        &self,
        document: B256,
        block: Option<BlockId>,
    ) -> RpcResult<Vec<NotaryStamp>>;

    /// Proof of a document's first stamp and of its revocation or its
    /// absence, at `block` (default `finalized`).
    #[method(name = "getNotaryProof")]
    async fn notary_proof(&self, document: B256, block: Option<BlockId>) -> RpcResult<Proof>;

    /// A product's registration and every event, at `block` (default `latest`).
    #[method(name = "getTraceHistory")]
    async fn trace_history(
        &self,
        product_id: String,
        block: Option<BlockId>,
    ) -> RpcResult<TraceHistory>;

    /// Proof of a product's whole history at `block` (default `finalized`).
    #[method(name = "getTraceProof")]
    async fn trace_proof(&self, product_id: String, block: Option<BlockId>) -> RpcResult<Proof>;
}

/// Handlers for the proof methods.
#[derive(Clone)]
pub struct ProofsRpc {
    pub(crate) backend: Arc<dyn Backend>,
}

/// The block a proof is made at: the one named, or the finalized block.
fn proof_block(backend: &dyn Backend, block: Option<BlockId>) -> RpcResult<u64> {
    state_number(
        backend,
        Some(block.unwrap_or(BlockId::Number(BlockNumberOrTag::Finalized))),
    )
}

#[async_trait]
impl ProofsApiServer for ProofsRpc {
    async fn transaction_proof(
        &self,
        tx_hash: B256,
        include_raw: Option<bool>,
    ) -> RpcResult<Proof> {
        let b = self.backend.clone();
        blocking(move || build::transaction(&*b, tx_hash, include_raw.unwrap_or(false))).await
    }

    async fn receipt_proof(&self, tx_hash: B256) -> RpcResult<Proof> {
        let b = self.backend.clone();
        blocking(move || build::receipt(&*b, tx_hash)).await
    }

    async fn account_proof(&self, address: Address, block: Option<BlockId>) -> RpcResult<Proof> {
        let b = self.backend.clone();
        blocking(move || {
            let number = proof_block(&*b, block)?;
            build::account(&*b, address, number)
        })
        .await
    }

    async fn storage_proof(
        &self,
        address: Address,
        slots: Vec<B256>,
        block: Option<BlockId>,
    ) -> RpcResult<Proof> {
        if slots.is_empty() || slots.len() > MAX_PROOF_SLOTS {
            return Err(invalid_params(format!(
                "give 1 to {MAX_PROOF_SLOTS} storage slots to prove, not {}",
                slots.len()
            )));
        }
        let b = self.backend.clone();
        blocking(move || {
            let number = proof_block(&*b, block)?;
            build::storage(&*b, address, &slots, number)
        })
        .await
    }

    async fn notary_records(
        &self,
        document: B256,
        block: Option<BlockId>,
    ) -> RpcResult<Vec<NotaryStamp>> {
        let b = self.backend.clone();
        blocking(move || {
            let number = state_number(&*b, block)?;
            notary::records(&*b, document, number)
        })
        .await
    }

    async fn notary_proof(&self, document: B256, block: Option<BlockId>) -> RpcResult<Proof> {
        let b = self.backend.clone();
        blocking(move || {
            let number = proof_block(&*b, block)?;
            notary::proof(&*b, document, number)
        })
        .await
    }

    async fn trace_history(
        &self,
        product_id: String,
        block: Option<BlockId>,
    ) -> RpcResult<TraceHistory> {
        let b = self.backend.clone();
        blocking(move || {
            let number = state_number(&*b, block)?;
            let (product, events) = build::trace_records(&*b, &product_id, number)?;
            Ok(TraceHistory {
                product_id,
                block: number,
                product,
                events,
            })
        })
        .await
    }

    async fn trace_proof(&self, product_id: String, block: Option<BlockId>) -> RpcResult<Proof> {
        let b = self.backend.clone();
        blocking(move || {
            let number = proof_block(&*b, block)?;
            build::trace(&*b, &product_id, number)
        })
        .await
    }
}
