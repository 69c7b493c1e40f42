//! Building each kind of claim and wrapping it with its block's header and
//! finality evidence.

use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, B256};
use jsonrpsee::core::RpcResult;
use tally_primitives::{merkle, SealedBlock, TxLocation};
use tally_verify::{
    records::{trace, TRACE},
    AccountClaim, Claim, ProductRecord, Proof, ReceiptClaim, StorageClaim, TraceClaim,
    TraceEventRecord, TxClaim, FORMAT,
};

use super::finality;
use crate::backend::Backend;
use crate::error::{internal, rpc_err, SERVER_ERROR};

/// `claim` proven at block `number`, with the header and finality evidence.
pub(super) fn wrap(backend: &dyn Backend, number: u64, claim: Claim) -> RpcResult<Proof> {
    let spec = backend.chain_spec()?;
    let header = backend
        .header_by_number(number)?
        .ok_or_else(|| rpc_err(SERVER_ERROR, format!("the node has no block {number}")))?;
    Ok(Proof {
        format: FORMAT.into(),
        chain_id: spec.chain_id,
        spec_hash: spec.hash(),
        claim,
        header: Bytes::from(alloy_rlp::encode(&header.header)),
        finality: finality::evidence(backend, &spec, number)?,
    })
}

/// A mined transaction's location and block.
fn mined(backend: &dyn Backend, tx_hash: B256) -> RpcResult<(TxLocation, SealedBlock)> {
    let loc = backend.tx_location(tx_hash)?.ok_or_else(|| {
        rpc_err(
            SERVER_ERROR,
            format!("transaction {tx_hash} is not in any block of this chain"),
        )
    })?;
    let block = backend
        .block_by_hash(loc.block_hash)?
        .ok_or_else(|| internal(format!("block {} is missing", loc.block_hash)))?;
    Ok((loc, block))
}

fn tx_path(block: &SealedBlock, index: usize) -> RpcResult<merkle::MerkleProof> {
    let hashes: Vec<B256> = block.tx_hashes().collect();
    merkle::proof(&hashes, index).ok_or_else(|| {
        internal(format!(
            "transaction {index} is not in block {}",
            block.number()
        ))
    })
}

pub(super) fn transaction(
    backend: &dyn Backend,
    tx_hash: B256,
    include_raw: bool,
) -> RpcResult<Proof> {
    let (loc, block) = mined(backend, tx_hash)?;
    let index = loc.index as usize;
    let claim = TxClaim {
        tx_hash,
        path: tx_path(&block, index)?,
        raw: include_raw.then(|| Bytes::from(block.transactions[index].encoded_2718())),
    };
    wrap(backend, loc.block_number, Claim::Transaction(claim))
}

pub(super) fn receipt(backend: &dyn Backend, tx_hash: B256) -> RpcResult<Proof> {
    let (loc, block) = mined(backend, tx_hash)?;
    let index = loc.index as usize;
    let receipts = backend.receipts(loc.block_hash)?.ok_or_else(|| {
        internal(format!(
            "receipts of block {} are missing",
            loc.block_number
        ))
    })?;
    let leaves: Vec<B256> = receipts.iter().map(|r| r.leaf_hash()).collect();
    let receipt = receipts.get(index).ok_or_else(|| {
        internal(format!(
            "receipt {index} of block {} is missing",
            loc.block_number
        ))
    })?;
    let claim = ReceiptClaim {
        tx_hash,
        tx_path: tx_path(&block, index)?,
        receipt: Bytes::from(alloy_rlp::encode(receipt)),
        path: merkle::proof(&leaves, index)
            .ok_or_else(|| internal(format!("receipt {index} has no path")))?,
    };
    wrap(backend, loc.block_number, Claim::Receipt(claim))
}

pub(super) fn account(backend: &dyn Backend, address: Address, number: u64) -> RpcResult<Proof> {
    let p = backend.state_proof(address, &[], number)?;
    let claim = AccountClaim {
        address,
        account: p.account,
        proof: p.proof,
    };
    wrap(backend, number, Claim::Account(claim))
}

pub(super) fn storage(
    backend: &dyn Backend,
    address: Address,
    slots: &[B256],
    number: u64,
) -> RpcResult<Proof> {
    let p = backend.state_proof(address, slots, number)?;
    let claim = StorageClaim {
        address,
        slots: p.slots,
    };
    wrap(backend, number, Claim::Storage(claim))
}

/// A product's registration and events after block `number`, or an error
/// naming the unknown product.
pub(super) fn trace_records(
    backend: &dyn Backend,
    product_id: &str,
    number: u64,
) -> RpcResult<(ProductRecord, Vec<TraceEventRecord>)> {
    let product = backend.trace_product(product_id, number)?.ok_or_else(|| {
        rpc_err(
            SERVER_ERROR,
            format!("no product {product_id:?} is registered at block {number}"),
        )
    })?;
    let events = backend.trace_events(product_id, number)?;
    Ok((product, events))
}

pub(super) fn trace(backend: &dyn Backend, product_id: &str, number: u64) -> RpcResult<Proof> {
    let (product, events) = trace_records(backend, product_id, number)?;
    let slot = trace::head_slot(trace::product_key(product_id));
    let mut p = backend.state_proof(TRACE, &[B256::from(slot)], number)?;
    let head = p
        .slots
        .pop()
        .ok_or_else(|| internal("the state proof holds no slot"))?;
    let claim = TraceClaim {
        product_id: product_id.to_string(),
        product,
        events,
        head_proof: head.proof,
    };
    wrap(backend, number, Claim::Trace(claim))
}
