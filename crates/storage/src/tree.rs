//! The block tree's tables: blocks kept off the canonical chain and the
//! fork-choice weight of every kept block.
//!
//! Like [`crate::blocks`], the writers take an open write transaction, so a
//! reorg puts the unwound blocks here and takes the new branch out in the
//! same atomic commit that changes the canonical chain.

use crate::{
    codec::{decode_rlp, StoredSideBlock},
    schema::*,
    StorageError,
};
use alloy_primitives::{keccak256, B256};
use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use tally_primitives::{SealedBlock, SealedHeader};

/// Keeps `block` as a side block (by its hash), senders included.
pub fn put_side_block(txn: &WriteTransaction, block: &SealedBlock) -> Result<(), StorageError> {
    let stored = StoredSideBlock {
        header: block.header.header.clone(),
        transactions: block.transactions.clone(),
        senders: block.senders.clone(),
    };
    txn.open_table(SIDE_BLOCKS)?
        .insert(&block.hash().0, alloy_rlp::encode(&stored).as_slice())?;
    Ok(())
}

/// Decodes a stored side block and checks it is the block its key names.
fn decode_side(key: &B256, bytes: &[u8]) -> Result<SealedBlock, StorageError> {
    let stored: StoredSideBlock = decode_rlp("side block", key, bytes)?;
    let header = stored.header.seal_slow();
    if header.hash != *key || stored.senders.len() != stored.transactions.len() {
        return Err(StorageError::corrupt(
            "side block",
            key,
            format!(
                "its header hashes to {} and it has {} senders for {} transactions",
                header.hash,
                stored.senders.len(),
                stored.transactions.len()
            ),
        ));
    }
    Ok(SealedBlock {
        header,
        transactions: stored.transactions,
        senders: stored.senders,
    })
}

/// Removes and returns a side block.
pub fn take_side_block(
    txn: &WriteTransaction,
    hash: &B256,
) -> Result<Option<SealedBlock>, StorageError> {
    match txn.open_table(SIDE_BLOCKS)?.remove(&hash.0)? {
        Some(v) => Ok(Some(decode_side(hash, v.value())?)),
        None => Ok(None),
    }
}

/// Sets the weight of the chain ending at `hash`.
pub fn set_weight(txn: &WriteTransaction, hash: &B256, weight: u128) -> Result<(), StorageError> {
    txn.open_table(WEIGHTS)?
        .insert(&hash.0, &weight.to_be_bytes())?;
    Ok(())
}

/// Forgets the weight of a block no longer kept.
pub fn remove_weight(txn: &WriteTransaction, hash: &B256) -> Result<(), StorageError> {
    txn.open_table(WEIGHTS)?.remove(&hash.0)?;
    Ok(())
}

/// Reads over one consistent snapshot.
pub struct TreeReader<'a> {
    txn: &'a ReadTransaction,
}

impl<'a> TreeReader<'a> {
    pub fn new(txn: &'a ReadTransaction) -> Self {
        TreeReader { txn }
    }

    pub fn weight(&self, hash: &B256) -> Result<Option<u128>, StorageError> {
        Ok(self
            .txn
            .open_table(WEIGHTS)?
            .get(&hash.0)?
            .map(|v| u128::from_be_bytes(*v.value())))
    }

    pub fn side_block(&self, hash: &B256) -> Result<Option<SealedBlock>, StorageError> {
        match self.txn.open_table(SIDE_BLOCKS)?.get(&hash.0)? {
            Some(v) => Ok(Some(decode_side(hash, v.value())?)),
            None => Ok(None),
        }
    }

    /// The headers of every side block, for the node's in-memory tree.
    pub fn side_headers(&self) -> Result<Vec<SealedHeader>, StorageError> {
        let table = self.txn.open_table(SIDE_BLOCKS)?;
        let mut out = Vec::new();
        for entry in table.iter()? {
            let (k, v) = entry?;
            let key = B256::from(*k.value());
            let stored: StoredSideBlock = decode_rlp("side block", key, v.value())?;
            let hash = keccak256(alloy_rlp::encode(&stored.header));
            if hash != key {
                return Err(StorageError::corrupt(
                    "side block",
                    key,
                    format!("its header hashes to {hash}"),
                ));
            }
            out.push(SealedHeader {
                hash,
                header: stored.header,
            });
        }
        Ok(out)
    }
}
