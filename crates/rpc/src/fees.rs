//! Fee suggestions: `eth_gasPrice`, `eth_maxPriorityFeePerGas` and
//! `eth_feeHistory` (what wallets use to price EIP-1559 transactions).

use alloy_consensus::Transaction as _;
use alloy_rpc_types_eth::{BlockNumberOrTag, FeeHistory};
use jsonrpsee::types::ErrorObjectOwned;
use tally_primitives::{Receipt, SealedBlock};

use crate::backend::Backend;
use crate::block_id::tag_number;
use crate::error::{internal, invalid_params, rpc_err, SERVER_ERROR};

/// Most blocks one `eth_feeHistory` call covers (geth's limit).
pub const MAX_FEE_HISTORY_BLOCKS: u64 = 1024;

/// Most reward percentiles one `eth_feeHistory` call asks for (geth's
/// limit): the answer holds one tip per percentile per block.
pub const MAX_REWARD_PERCENTILES: usize = 100;

/// `eth_gasPrice`: a legacy price that gets a transaction into the next
/// block: its base fee plus the suggested tip.
pub fn gas_price(backend: &dyn Backend) -> u128 {
    u128::from(backend.next_base_fee()).saturating_add(backend.suggested_priority_fee())
}

pub fn fee_history(
    backend: &dyn Backend,
    block_count: u64,
    newest: BlockNumberOrTag,
    percentiles: Option<Vec<f64>>,
) -> Result<FeeHistory, ErrorObjectOwned> {
    if let Some(p) = &percentiles {
        validate_percentiles(p)?;
    }
    let head = backend.head().number;
    let newest = tag_number(backend, newest);
    if newest > head {
        return Err(rpc_err(
            SERVER_ERROR,
            format!("request beyond head block: requested {newest}, head {head}"),
        ));
    }
    let count = block_count.min(MAX_FEE_HISTORY_BLOCKS).min(newest + 1);
    let mut history = FeeHistory {
        oldest_block: newest + 1 - count,
        reward: percentiles.as_ref().map(|_| Vec::new()),
        ..Default::default()
    };
    if count == 0 {
        history.oldest_block = 0;
        return Ok(history);
    }
    for number in history.oldest_block..=newest {
        let header = backend
            .header_by_number(number)?
            .ok_or_else(|| internal(format!("canonical header {number} is missing")))?;
        history.base_fee_per_gas.push(u128::from(header.base_fee));
        history.gas_used_ratio.push(if header.gas_limit == 0 {
            0.0
        } else {
            header.gas_used as f64 / header.gas_limit as f64
        });
        if let (Some(p), Some(rewards)) = (&percentiles, history.reward.as_mut()) {
            let block = backend
                .block_by_hash(header.hash)?
                .ok_or_else(|| internal(format!("body of block {number} is missing")))?;
            let receipts = backend
                .receipts(header.hash)?
                .ok_or_else(|| internal(format!("receipts of block {number} are missing")))?;
            rewards.push(block_rewards(&block, &receipts, p));
        }
    }
    let next_base_fee = if newest == head {
        backend.next_base_fee()
    } else {
        backend
            .header_by_number(newest + 1)?
            .map_or_else(|| backend.next_base_fee(), |h| h.base_fee)
    };
    history.base_fee_per_gas.push(u128::from(next_base_fee));
    Ok(history)
}

fn validate_percentiles(p: &[f64]) -> Result<(), ErrorObjectOwned> {
    if p.len() > MAX_REWARD_PERCENTILES {
        return Err(invalid_params(format!(
            "{} reward percentiles requested, more than the limit of {MAX_REWARD_PERCENTILES}",
            p.len()
        )));
    }
    for (i, v) in p.iter().enumerate() {
        if !(0.0..=100.0).contains(v) {
            return Err(invalid_params(format!(
                "reward percentile {v} is out of range; expected 0 to 100"
            )));
        }
        if i > 0 && p[i - 1] > *v {
            return Err(invalid_params(format!(
                "reward percentiles must be ascending; {} comes before {v}",
                p[i - 1]
            )));
        }
    }
    Ok(())
}

/// The tip paid at each gas-weighted percentile of a block, geth's way:
/// transactions sorted by tip, each counting for the gas it used.
fn block_rewards(block: &SealedBlock, receipts: &[Receipt], percentiles: &[f64]) -> Vec<u128> {
    let base_fee = block.header.base_fee;
    let mut txs: Vec<(u128, u64)> = block
        .transactions
        .iter()
        .zip(receipts)
        .map(|(tx, r)| (tx.effective_tip_per_gas(base_fee).unwrap_or(0), r.gas_used))
        .collect();
    if txs.is_empty() {
        return vec![0; percentiles.len()];
    }
    txs.sort_unstable_by_key(|(tip, _)| *tip);
    let total: u64 = txs.iter().map(|(_, g)| g).sum();
    let mut out = Vec::with_capacity(percentiles.len());
    let mut idx = 0;
    let mut cumulative = txs[0].1;
    for p in percentiles {
        let threshold = (total as f64 * p / 100.0) as u64;
        while cumulative < threshold && idx + 1 < txs.len() {
            idx += 1;
            cumulative += txs[idx].1;
        }
        out.push(txs[idx].0);
    }
    out
}
