//! Answering peers' sync requests from the database.

use super::limits;
use crate::chain::Chain;
use tally_network::{SyncRequest, SyncResponse};

/// The answer to one request. Runs on a blocking thread (database reads).
pub(crate) fn answer(chain: &Chain, request: SyncRequest) -> SyncResponse {
    match request {
        SyncRequest::Status => {
            let head = chain.head.read().clone();
            match chain.db.header_by_number(0) {
                Ok(Some(genesis)) => SyncResponse::Status {
                    genesis: genesis.hash.0,
                    head_number: head.number,
                    head_hash: head.hash.0,
                    head_weight: chain
                        .db
                        .weight(&head.hash)
                        .ok()
                        .flatten()
                        .unwrap_or_default()
                        .to_be_bytes(),
                },
                _ => SyncResponse::Error("genesis block unreadable".into()),
            }
        }
        SyncRequest::Certificate { number } => match chain.db.certificate(number) {
            Ok(cert) => SyncResponse::Certificate(cert),
            Err(e) => SyncResponse::Error(e.to_string()),
        },
        SyncRequest::BlockByHash(hash) => match chain.db.block_by_hash(hash.into()) {
            Ok(block) => SyncResponse::Block(block.map(|b| alloy_rlp::encode(b.to_block()))),
            Err(e) => SyncResponse::Error(e.to_string()),
        },
        SyncRequest::HeadersByRange { start, count } => {
            let count = count.min(limits::MAX_RANGE);
            let mut headers = Vec::new();
            for number in start..start.saturating_add(u64::from(count)) {
                match chain.db.header_by_number(number) {
                    Ok(Some(h)) => headers.push(alloy_rlp::encode(&h.header)),
                    Ok(None) => break,
                    Err(e) => return SyncResponse::Error(e.to_string()),
                }
            }
            SyncResponse::Headers(headers)
        }
        SyncRequest::BlocksByRange { start, count } => {
            let count = count.min(limits::MAX_RANGE);
            let mut blocks = Vec::new();
            let mut bytes = 0;
            for number in start..start.saturating_add(u64::from(count)) {
                match chain.db.block_by_number(number) {
                    Ok(Some(block)) => {
                        let encoded = alloy_rlp::encode(block.to_block());
                        bytes += encoded.len();
                        // Always send at least one block, or a huge block
                        // could never be synced.
                        if bytes > limits::MAX_RANGE_BYTES && !blocks.is_empty() {
                            break;
                        }
                        blocks.push(encoded);
                    }
                    Ok(None) => break,
                    Err(e) => return SyncResponse::Error(e.to_string()),
                }
            }
            SyncResponse::Blocks(blocks)
        }
    }
}
