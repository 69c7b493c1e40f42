//! Blocks: a header and the transactions it commits to.

use crate::{merkle, Header, Receipt, SealedHeader};
use alloy_consensus::TxEnvelope;
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{keccak256, Address, B256};
use alloy_rlp::{RlpDecodable, RlpEncodable};

/// A block as it travels between nodes.
#[derive(Clone, Debug, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct Block {
    pub header: Header,
    pub transactions: Vec<TxEnvelope>,
}

/// A block with its hash and the recovered sender of each transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedBlock {
    pub header: SealedHeader,
    pub transactions: Vec<TxEnvelope>,
    /// `senders[i]` signed `transactions[i]`.
    pub senders: Vec<Address>,
}

/// A block with its senders and its receipts, as readers that need both
/// share them (receipt lookups).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockWithReceipts {
    pub block: SealedBlock,
    /// `receipts[i]` is `block.transactions[i]`'s.
    pub receipts: Vec<Receipt>,
}

impl SealedBlock {
    pub fn hash(&self) -> B256 {
        self.header.hash
    }

    pub fn number(&self) -> u64 {
        self.header.number
    }

    pub fn tx_hashes(&self) -> impl Iterator<Item = B256> + '_ {
        self.transactions.iter().map(|tx| *tx.tx_hash())
    }

    pub fn to_block(&self) -> Block {
        Block {
            header: self.header.header.clone(),
            transactions: self.transactions.clone(),
        }
    }
}

/// Where a mined transaction sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct TxLocation {
    pub block_hash: B256,
    pub block_number: u64,
    pub index: u64,
}

/// The transactions root: a binary Merkle root over the transaction hashes
/// (Keccak-256 of each EIP-2718 encoding), so a transaction's inclusion can be
/// proven with [`merkle::proof`] from its hash alone.
pub fn transactions_root(txs: &[TxEnvelope]) -> B256 {
    let leaves: Vec<B256> = txs.iter().map(|tx| *tx.tx_hash()).collect();
    merkle::root(&leaves)
}

/// The receipts root: a binary Merkle root over Keccak-256 of each receipt's RLP.
pub fn receipts_root(receipts: &[Receipt]) -> B256 {
    let leaves: Vec<B256> = receipts.iter().map(Receipt::leaf_hash).collect();
    merkle::root(&leaves)
}

/// Keccak-256 of a transaction's EIP-2718 encoding (its hash).
pub fn tx_hash(tx: &TxEnvelope) -> B256 {
    keccak256(tx.encoded_2718())
}
