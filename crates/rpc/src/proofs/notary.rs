//! Finding a document's stamps: the notary logs one `Notarized(document,
//! root, index)` per document. The node's SQL index (`notary_documents`)
//! names the blocks holding a document's logs; without an index, or when
//! the index is not on the canonical chain, a bloom-checked scan of every
//! block (as `eth_getLogs` does) finds them. The other `Notarized` logs of
//! the batch in the same receipt give its leaves and so the document's
//! Merkle path.

use alloy_primitives::{Address, B256, U256};
use alloy_rpc_types_eth::Filter;
use alloy_sol_types::SolEvent;
use jsonrpsee::core::RpcResult;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tally_primitives::{merkle, Log};
use tally_verify::{
    records::{notary, NOTARY},
    Claim, NotaryClaim, Proof, Revocation,
};

use super::build::wrap;
use crate::assets::abi::ITallyNotary::Notarized;
use crate::backend::Backend;
use crate::error::{internal, rpc_err, SERVER_ERROR};

/// One stamp of a document (`tally_getNotaryRecords`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotaryStamp {
    pub document: B256,
    /// The batch's Merkle root and the document's place in it.
    pub root: B256,
    pub index: u64,
    pub path: merkle::MerkleProof,
    pub count: u64,
    pub submitter: Address,
    pub block_number: u64,
    /// The stamping block's timestamp, unix seconds.
    pub timestamp: u64,
    pub tx_hash: B256,
    pub label: String,
    /// The submitter's revocation or supersession, as of the block asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation: Option<Revocation>,
}

/// Where a document was found: its batch's leaves and the stamping tx.
struct Found {
    block_number: u64,
    tx_hash: B256,
    root: B256,
    index: u64,
    leaves: Vec<B256>,
}

fn is_notarized(log: &Log) -> bool {
    log.address == NOTARY && log.topics().first() == Some(&Notarized::SIGNATURE_HASH)
}

/// The batch index a `Notarized` log carries (its one data word).
fn log_index(log: &Log) -> Option<u64> {
    let word = log.data.data.get(..32)?;
    u64::try_from(U256::from_be_slice(word)).ok()
}

/// Every batch holding `document` in blocks `0..=to`, oldest first.
fn find(backend: &dyn Backend, document: B256, to: u64) -> RpcResult<Vec<Found>> {
    let filter = Filter::new()
        .address(NOTARY)
        .event_signature(Notarized::SIGNATURE_HASH)
        .topic1(document);
    let mut found = Vec::new();
    for number in candidate_blocks(backend, document, to)? {
        let Some(header) = backend.header_by_number(number)? else {
            break;
        };
        if !filter.matches_bloom(header.logs_bloom) {
            continue;
        }
        let block = backend
            .block_by_hash(header.hash)?
            .ok_or_else(|| internal(format!("body of block {number} is missing")))?;
        let receipts = backend
            .receipts(header.hash)?
            .ok_or_else(|| internal(format!("receipts of block {number} are missing")))?;
        for (receipt, tx) in receipts.iter().zip(&block.transactions) {
            for log in receipt.logs.iter().filter(|l| filter.matches(l)) {
                let (Some(root), Some(index)) = (log.topics().get(2), log_index(log)) else {
                    continue;
                };
                let mut batch: Vec<(u64, B256)> = receipt
                    .logs
                    .iter()
                    .filter(|l| is_notarized(l) && l.topics().get(2) == Some(root))
                    .filter_map(|l| Some((log_index(l)?, *l.topics().get(1)?)))
                    .collect();
                batch.sort_unstable_by_key(|(i, _)| *i);
                found.push(Found {
                    block_number: number,
                    tx_hash: *tx.tx_hash(),
                    root: *root,
                    index,
                    leaves: batch.into_iter().map(|(_, d)| d).collect(),
                });
            }
        }
    }
    Ok(found)
}

/// The blocks in `0..=to` that may hold `document`'s `Notarized` logs,
/// oldest first: those the SQL index names plus every block past the
/// index's head; every block when the node keeps no index, the index's
/// head is not canonical (it has a reorg still to follow), or its answer
/// was truncated.
fn candidate_blocks(
    backend: &dyn Backend,
    document: B256,
    to: u64,
) -> RpcResult<Box<dyn Iterator<Item = u64>>> {
    let every = || Ok(Box::new(0..=to) as Box<dyn Iterator<Item = u64>>);
    let Ok(head) = backend.sql(
        "SELECT number, hash FROM blocks ORDER BY number DESC LIMIT 1",
        vec![],
    ) else {
        return every();
    };
    let Some((head, hash)) = head["rows"].get(0).and_then(|row| {
        Some((
            row.get(0)?.as_u64()?,
            row.get(1)?.as_str()?.parse::<B256>().ok()?,
        ))
    }) else {
        return every();
    };
    if backend.header_by_number(head)?.map(|h| h.hash) != Some(hash) {
        return every();
    }
    let Ok(rows) = backend.sql(
        "SELECT DISTINCT block_number FROM notary_documents \
         WHERE document = ? AND block_number <= ? ORDER BY block_number",
        vec![json!(document.to_string()), json!(to)],
    ) else {
        return every();
    };
    if rows["truncated"] != json!(false) {
        return every();
    }
    let Some(indexed) = rows["rows"].as_array().and_then(|rows| {
        rows.iter()
            .map(|row| row.get(0)?.as_u64())
            .collect::<Option<Vec<u64>>>()
    }) else {
        return every();
    };
    Ok(Box::new(indexed.into_iter().chain(head + 1..=to)))
}

/// The document's path in its batch, checked against the batch's root.
fn path(found: &Found) -> RpcResult<merkle::MerkleProof> {
    let bad = || {
        internal(format!(
            "the Notarized logs of batch {} in block {} do not rebuild its root",
            found.root, found.block_number
        ))
    };
    if merkle::root(&found.leaves) != found.root {
        return Err(bad());
    }
    merkle::proof(&found.leaves, found.index as usize).ok_or_else(bad)
}

/// Every stamp of `document` up to block `number`, oldest first.
pub(super) fn records(
    backend: &dyn Backend,
    document: B256,
    number: u64,
) -> RpcResult<Vec<NotaryStamp>> {
    let mut out = Vec::new();
    for found in find(backend, document, number)? {
        let record = backend
            .notary_batch(found.root, number)?
            .ok_or_else(|| internal(format!("batch {} has logs but no record", found.root)))?;
        let revocation = backend.notary_revocation(record.submitter, document, number)?;
        out.push(NotaryStamp {
            document,
            root: found.root,
            index: found.index,
            path: path(&found)?,
            count: record.count,
            submitter: record.submitter,
            block_number: record.block_number,
            timestamp: record.timestamp,
            tx_hash: found.tx_hash,
            label: record.label,
            revocation,
        });
    }
    Ok(out)
}

/// Proof of the first stamp of `document` and of its revocation (or that
/// there is none) at block `number`.
pub(super) fn proof(backend: &dyn Backend, document: B256, number: u64) -> RpcResult<Proof> {
    let found = find(backend, document, number)?;
    let first = found.first().ok_or_else(|| {
        rpc_err(
            SERVER_ERROR,
            format!("document {document} was not stamped by block {number}"),
        )
    })?;
    let record = backend
        .notary_batch(first.root, number)?
        .ok_or_else(|| internal(format!("batch {} has logs but no record", first.root)))?;
    let revocation = backend.notary_revocation(record.submitter, document, number)?;
    let slots = [
        B256::from(notary::batch_slot(first.root)),
        B256::from(notary::revocation_slot(record.submitter, document)),
    ];
    let state = backend.state_proof(NOTARY, &slots, number)?;
    let [record_slot, revocation_slot] = <[_; 2]>::try_from(state.slots)
        .map_err(|_| internal("the state proof does not hold the two notary slots"))?;
    let claim = NotaryClaim {
        document,
        root: first.root,
        path: path(first)?,
        record,
        record_proof: record_slot.proof,
        revocation,
        revocation_proof: revocation_slot.proof,
    };
    wrap(backend, number, Claim::Notary(claim))
}
