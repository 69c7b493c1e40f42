//! `eth_getLogs`: scanning canonical blocks for logs matching a filter.
//!
//! Each header's `logs_bloom` is checked first, so only blocks that may hold
//! a match have their body and receipts read. Ranges and result counts are
//! bounded so one request cannot make the node read its whole history.

use alloy_rpc_types_eth::{Filter, FilterBlockOption, Log as RpcLog};
use jsonrpsee::types::ErrorObjectOwned;
use tally_primitives::{Receipt, SealedBlock};

use crate::backend::Backend;
use crate::block_id::tag_number;
use crate::convert::rpc_logs;
use crate::error::{internal, invalid_params, rpc_err, LIMIT_EXCEEDED, SERVER_ERROR};

/// Bounds on one log query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLimits {
    /// Most blocks one range query may span.
    pub max_block_range: u64,
    /// Most logs one query may return.
    pub max_logs: usize,
}

/// The logs of one block matching `filter`'s addresses and topics (its
/// block range is not checked here).
pub fn block_logs(filter: &Filter, block: &SealedBlock, receipts: &[Receipt]) -> Vec<RpcLog> {
    let mut out = Vec::new();
    let mut log_index = 0usize;
    for (i, (receipt, tx)) in receipts.iter().zip(&block.transactions).enumerate() {
        if receipt.logs.iter().any(|l| filter.matches(l)) {
            let logs = rpc_logs(receipt, &block.header, *tx.tx_hash(), i, log_index);
            out.extend(logs.into_iter().filter(|l| filter.matches(&l.inner)));
        }
        log_index += receipt.logs.len();
    }
    out
}

/// The inclusive block range a filter covers, resolved against the chain
/// now (`fromBlock` defaults to `latest`, as does `toBlock`).
pub fn filter_range(backend: &dyn Backend, filter: &Filter) -> (u64, u64) {
    let head = backend.head().number;
    let (from, to) = filter.block_option.as_range();
    let from = from.map_or(head, |t| tag_number(backend, *t));
    let to = to.map_or(head, |t| tag_number(backend, *t)).min(head);
    (from, to)
}

/// Runs a log query to completion, or fails past the limits.
pub fn get_logs(
    backend: &dyn Backend,
    filter: &Filter,
    limits: LogLimits,
) -> Result<Vec<RpcLog>, ErrorObjectOwned> {
    if let FilterBlockOption::AtBlockHash(hash) = filter.block_option {
        let block = backend
            .block_by_hash(hash)?
            .ok_or_else(|| rpc_err(SERVER_ERROR, format!("unknown block {hash}")))?;
        let receipts = backend
            .receipts(hash)?
            .ok_or_else(|| internal(format!("receipts of block {hash} are missing")))?;
        return Ok(block_logs(filter, &block, &receipts));
    }
    let (from, to) = filter_range(backend, filter);
    logs_in_range(backend, filter, from, to, limits)
}

/// Logs matching `filter` in canonical blocks `from..=to`.
pub fn logs_in_range(
    backend: &dyn Backend,
    filter: &Filter,
    from: u64,
    to: u64,
    limits: LogLimits,
) -> Result<Vec<RpcLog>, ErrorObjectOwned> {
    if from > to {
        // An empty range past the head is normal for polling; a reversed
        // explicit range is the caller's mistake.
        if from <= backend.head().number {
            return Err(invalid_params(format!(
                "invalid block range: fromBlock {from} is after toBlock {to}"
            )));
        }
        return Ok(Vec::new());
    }
    let span = to - from + 1;
    if span > limits.max_block_range {
        return Err(rpc_err(
            LIMIT_EXCEEDED,
            format!(
                "block range {from}..={to} spans {span} blocks, more than the limit of {}; \
                 split the query into smaller ranges",
                limits.max_block_range
            ),
        ));
    }
    let mut out = Vec::new();
    for number in from..=to {
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
        out.extend(block_logs(filter, &block, &receipts));
        if out.len() > limits.max_logs {
            return Err(rpc_err(
                LIMIT_EXCEEDED,
                format!(
                    "query returned more than {} results (range {from}..={to}); \
                     narrow the block range or the filter",
                    limits.max_logs
                ),
            ));
        }
    }
    Ok(out)
}
