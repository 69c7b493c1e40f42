//! Tally's blocks, transactions and receipts in the shapes Ethereum clients
//! parse (`alloy-rpc-types-eth`).
//!
//! `difficulty` is the work the header's compact target (`bits`) stands
//! for, zero for engines without one; `nonce` is the seal when it is an
//! 8-byte PoW nonce, zero otherwise. Tally has no mix hash or uncles: those
//! fields are zeros (and the empty-list hash for `sha3Uncles`) so that
//! ethers, viem and web3.py accept the objects; `totalDifficulty`, dropped
//! from the spec since the merge, is left out. `hash` is always Tally's own
//! block hash, never a hash recomputed over the Ethereum-shaped header.

use alloy_consensus::{
    Eip658Value, Receipt as ConsensusReceipt, ReceiptEnvelope, ReceiptWithBloom,
};
use alloy_consensus::{Transaction as _, TxEnvelope};
use alloy_primitives::{Address, B256, B64, U256};
use alloy_rpc_types_eth::{
    Block, BlockTransactions, Header as RpcHeader, Log as RpcLog, Transaction, TransactionReceipt,
};
use tally_primitives::{Receipt, SealedBlock, SealedHeader};

use crate::mining::work_from_bits;

/// Keccak-256 of the RLP of an empty list: `sha3Uncles` of a block without
/// uncles.
pub const EMPTY_OMMERS_HASH: B256 = alloy_consensus::constants::EMPTY_OMMER_ROOT_HASH;

/// The header as an RPC header; `size` is the block's RLP length when known.
pub fn rpc_header(header: &SealedHeader, size: Option<usize>) -> RpcHeader {
    let h = &header.header;
    let inner = alloy_consensus::Header {
        parent_hash: h.parent_hash,
        ommers_hash: EMPTY_OMMERS_HASH,
        beneficiary: h.beneficiary,
        state_root: h.state_root,
        transactions_root: h.transactions_root,
        receipts_root: h.receipts_root,
        logs_bloom: h.logs_bloom,
        difficulty: work_from_bits(h.bits),
        number: h.number,
        gas_limit: h.gas_limit,
        gas_used: h.gas_used,
        timestamp: h.timestamp,
        extra_data: h.extra_data.clone(),
        mix_hash: B256::ZERO,
        nonce: B64::try_from(h.seal.as_ref()).unwrap_or(B64::ZERO),
        base_fee_per_gas: Some(h.base_fee),
        withdrawals_root: None,
        blob_gas_used: None,
        excess_blob_gas: None,
        parent_beacon_block_root: None,
        requests_hash: None,
        block_access_list_hash: None,
        slot_number: None,
    };
    RpcHeader {
        hash: header.hash,
        inner,
        total_difficulty: None,
        size: size.map(U256::from),
    }
}

/// A mined transaction with its position and the price it paid.
pub fn rpc_transaction(
    tx: &TxEnvelope,
    sender: Address,
    header: &SealedHeader,
    index: usize,
) -> Transaction {
    Transaction {
        inner: alloy_consensus::transaction::Recovered::new_unchecked(tx.clone(), sender),
        block_hash: Some(header.hash),
        block_number: Some(header.number),
        transaction_index: Some(index as u64),
        effective_gas_price: Some(tx.effective_gas_price(Some(header.base_fee))),
        block_timestamp: None,
    }
}

/// A transaction still in the pool: no block fields, and (as geth reports)
/// the fee cap as its gas price.
pub fn rpc_pending_transaction(tx: &TxEnvelope, sender: Address) -> Transaction {
    Transaction {
        inner: alloy_consensus::transaction::Recovered::new_unchecked(tx.clone(), sender),
        block_hash: None,
        block_number: None,
        transaction_index: None,
        effective_gas_price: None,
        block_timestamp: None,
    }
}

/// The block with either full transactions or only their hashes.
pub fn rpc_block(block: &SealedBlock, full: bool) -> Block {
    let size = alloy_rlp::encode(block.to_block()).len();
    let header = rpc_header(&block.header, Some(size));
    let transactions = if full {
        BlockTransactions::Full(
            block
                .transactions
                .iter()
                .zip(&block.senders)
                .enumerate()
                .map(|(i, (tx, sender))| rpc_transaction(tx, *sender, &block.header, i))
                .collect(),
        )
    } else {
        BlockTransactions::Hashes(block.tx_hashes().collect())
    };
    Block {
        header,
        uncles: Vec::new(),
        transactions,
        withdrawals: None,
    }
}

/// The logs of one receipt as RPC logs. `first_log_index` is the block-wide
/// index of the receipt's first log (logs are numbered across the block).
pub fn rpc_logs(
    receipt: &Receipt,
    header: &SealedHeader,
    tx_hash: B256,
    tx_index: usize,
    first_log_index: usize,
) -> Vec<RpcLog> {
    receipt
        .logs
        .iter()
        .enumerate()
        .map(|(i, log)| RpcLog {
            inner: log.clone(),
            block_hash: Some(header.hash),
            block_number: Some(header.number),
            block_timestamp: Some(header.timestamp),
            transaction_hash: Some(tx_hash),
            transaction_index: Some(tx_index as u64),
            log_index: Some((first_log_index + i) as u64),
            removed: false,
        })
        .collect()
}

/// The receipt of transaction `index` in `block`. Returns `None` when the
/// block and receipts disagree in length (a corrupt store), so callers can
/// report it rather than index out of bounds.
pub fn rpc_receipt(
    block: &SealedBlock,
    receipts: &[Receipt],
    index: usize,
) -> Option<TransactionReceipt> {
    let tx = block.transactions.get(index)?;
    let sender = *block.senders.get(index)?;
    let receipt = receipts.get(index)?;
    let first_log_index: usize = receipts.iter().take(index).map(|r| r.logs.len()).sum();
    let tx_hash = *tx.tx_hash();
    let logs = rpc_logs(receipt, &block.header, tx_hash, index, first_log_index);
    let inner = ReceiptEnvelope::from_typed(
        tx.tx_type(),
        ReceiptWithBloom {
            receipt: ConsensusReceipt {
                status: Eip658Value::Eip658(receipt.success),
                cumulative_gas_used: receipt.cumulative_gas_used,
                logs,
            },
            logs_bloom: receipt.bloom(),
        },
    );
    let contract_address = match tx.to() {
        None => Some(sender.create(tx.nonce())),
        Some(_) => None,
    };
    Some(TransactionReceipt {
        inner,
        transaction_hash: tx_hash,
        transaction_index: Some(index as u64),
        block_hash: Some(block.hash()),
        block_number: Some(block.number()),
        gas_used: receipt.gas_used,
        effective_gas_price: tx.effective_gas_price(Some(block.header.base_fee)),
        blob_gas_used: None,
        blob_gas_price: None,
        from: sender,
        to: tx.to(),
        contract_address,
    })
}

/// All receipts of a block, or `None` if block and receipts disagree.
pub fn rpc_block_receipts(
    block: &SealedBlock,
    receipts: &[Receipt],
) -> Option<Vec<TransactionReceipt>> {
    if receipts.len() != block.transactions.len() {
        return None;
    }
    (0..block.transactions.len())
        .map(|i| rpc_receipt(block, receipts, i))
        .collect()
}
