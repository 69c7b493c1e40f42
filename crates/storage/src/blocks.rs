//! Writing and reading canonical blocks, receipts and the transaction index.
//!
//! The transaction index (`TX_LOOKUP`, hash to block and position) is not
//! written with each block: the state layer batches it
//! ([`insert_tx_lookups`]) and records how far it reaches
//! ([`set_lookup_mark`]).
//!
//! The functions take an open redb transaction, so the caller decides what
//! else goes into the same atomic commit (the state layer adds the block's
//! state changes to the transaction that [`insert_block`] writes into).

use crate::{
    codec::{decode_rlp, encode_receipts, StoredBody},
    keys,
    schema::*,
    StorageError,
};
use alloy_primitives::{keccak256, B256};
use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use tally_primitives::{Header, Receipt, SealedBlock, SealedHeader, TxLocation};

/// Writes header, body, receipts and canonical hash of `block` (its
/// transactions' index entries are written by [`insert_tx_lookups`]).
pub fn insert_block(
    txn: &WriteTransaction,
    block: &SealedBlock,
    receipts: &[Receipt],
) -> Result<(), StorageError> {
    let n = block.number();
    let hash = keys::b256_key(&block.hash());
    txn.open_table(HEADERS)?
        .insert(n, alloy_rlp::encode(&block.header.header).as_slice())?;
    txn.open_table(CANONICAL)?.insert(n, &hash)?;
    txn.open_table(HEADER_NUMBERS)?.insert(&hash, n)?;
    let body = StoredBody {
        transactions: block.transactions.clone(),
        senders: block.senders.clone(),
    };
    txn.open_table(BODIES)?
        .insert(n, alloy_rlp::encode(&body).as_slice())?;
    txn.open_table(RECEIPTS)?
        .insert(n, encode_receipts(receipts).as_slice())?;
    Ok(())
}

/// One transaction index entry: hash, block number, position in the block.
pub type TxLookup = (B256, u64, u64);

/// Writes transaction index entries, in hash order: sorted, a batch of
/// random hashes rewrites each page of the table once.
pub fn insert_tx_lookups(
    txn: &WriteTransaction,
    entries: &mut [TxLookup],
) -> Result<(), StorageError> {
    entries.sort_unstable_by_key(|e| e.0);
    let mut lookup = txn.open_table(TX_LOOKUP)?;
    for (hash, n, i) in entries.iter() {
        lookup.insert(&hash.0, &keys::tx_lookup_value(*n, *i))?;
    }
    Ok(())
}

/// Records that the transaction index holds every block up to `n`.
pub fn set_lookup_mark(txn: &WriteTransaction, n: u64) -> Result<(), StorageError> {
    txn.open_table(META)?
        .insert(META_LOOKUP_MARK, n.to_be_bytes().as_slice())?;
    Ok(())
}

/// Removes block `n`, everything [`insert_block`] wrote for it and its
/// transactions' index entries; returns the block.
pub fn remove_block(txn: &WriteTransaction, n: u64) -> Result<Option<SealedBlock>, StorageError> {
    let Some(header) = take_header(&mut txn.open_table(HEADERS)?, n)? else {
        return Ok(None);
    };
    txn.open_table(CANONICAL)?.remove(n)?;
    txn.open_table(HEADER_NUMBERS)?.remove(&header.hash.0)?;
    txn.open_table(RECEIPTS)?.remove(n)?;
    let body = match txn.open_table(BODIES)?.remove(n)? {
        Some(v) => decode_rlp::<StoredBody>("block body", n, v.value())?,
        None => {
            return Err(StorageError::corrupt(
                "block body",
                n,
                "missing for a stored header",
            ))
        }
    };
    let mut lookup = txn.open_table(TX_LOOKUP)?;
    for tx in &body.transactions {
        lookup.remove(&tx.tx_hash().0)?;
    }
    Ok(Some(SealedBlock {
        header,
        transactions: body.transactions,
        senders: body.senders,
    }))
}

fn take_header(
    t: &mut redb::Table<'_, u64, &[u8]>,
    n: u64,
) -> Result<Option<SealedHeader>, StorageError> {
    let Some(v) = t.remove(n)? else {
        return Ok(None);
    };
    Ok(Some(seal_stored_header(n, v.value())?))
}

/// The hash is Keccak-256 of the stored RLP itself, so it costs no re-encoding.
fn seal_stored_header(n: u64, bytes: &[u8]) -> Result<SealedHeader, StorageError> {
    let header: Header = decode_rlp("header", n, bytes)?;
    Ok(SealedHeader {
        hash: keccak256(bytes),
        header,
    })
}

pub fn set_head(txn: &WriteTransaction, n: u64) -> Result<(), StorageError> {
    txn.open_table(META)?
        .insert(META_HEAD, n.to_be_bytes().as_slice())?;
    Ok(())
}

/// Reads `u64` meta values (the head number).
pub fn read_meta_u64(
    t: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &'static str,
) -> Result<Option<u64>, StorageError> {
    let Some(v) = t.get(key)? else {
        return Ok(None);
    };
    let bytes: [u8; 8] = v
        .value()
        .try_into()
        .map_err(|_| StorageError::corrupt("meta value", key, "not 8 bytes"))?;
    Ok(Some(u64::from_be_bytes(bytes)))
}

/// Typed reads over one consistent snapshot.
pub struct BlockReader<'a> {
    txn: &'a ReadTransaction,
}

impl<'a> BlockReader<'a> {
    pub fn new(txn: &'a ReadTransaction) -> Self {
        BlockReader { txn }
    }

    pub fn head_number(&self) -> Result<Option<u64>, StorageError> {
        read_meta_u64(&self.txn.open_table(META)?, META_HEAD)
    }

    /// The highest block the transaction index table holds in full
    /// ([`set_lookup_mark`]); for a file written before the mark existed,
    /// the head.
    pub fn lookup_mark(&self) -> Result<Option<u64>, StorageError> {
        let meta = self.txn.open_table(META)?;
        match read_meta_u64(&meta, META_LOOKUP_MARK)? {
            Some(n) => Ok(Some(n)),
            None => read_meta_u64(&meta, META_HEAD),
        }
    }

    pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self
            .txn
            .open_table(META)?
            .get(key)?
            .map(|v| v.value().to_vec()))
    }

    pub fn header(&self, n: u64) -> Result<Option<SealedHeader>, StorageError> {
        match self.txn.open_table(HEADERS)?.get(n)? {
            Some(v) => Ok(Some(seal_stored_header(n, v.value())?)),
            None => Ok(None),
        }
    }

    pub fn number_of(&self, hash: &B256) -> Result<Option<u64>, StorageError> {
        Ok(self
            .txn
            .open_table(HEADER_NUMBERS)?
            .get(&hash.0)?
            .map(|v| v.value()))
    }

    pub fn hash_of(&self, n: u64) -> Result<Option<B256>, StorageError> {
        Ok(self
            .txn
            .open_table(CANONICAL)?
            .get(n)?
            .map(|v| B256::from(*v.value())))
    }

    pub fn block(&self, n: u64) -> Result<Option<SealedBlock>, StorageError> {
        let Some(header) = self.header(n)? else {
            return Ok(None);
        };
        let body = match self.txn.open_table(BODIES)?.get(n)? {
            Some(v) => decode_rlp::<StoredBody>("block body", n, v.value())?,
            None => {
                return Err(StorageError::corrupt(
                    "block body",
                    n,
                    "missing for a stored header",
                ))
            }
        };
        Ok(Some(SealedBlock {
            header,
            transactions: body.transactions,
            senders: body.senders,
        }))
    }

    pub fn receipts(&self, n: u64) -> Result<Option<Vec<Receipt>>, StorageError> {
        match self.txn.open_table(RECEIPTS)?.get(n)? {
            Some(v) => Ok(Some(decode_rlp("receipts", n, v.value())?)),
            None => Ok(None),
        }
    }

    pub fn tx_location(&self, tx_hash: &B256) -> Result<Option<TxLocation>, StorageError> {
        let Some(v) = self.txn.open_table(TX_LOOKUP)?.get(&tx_hash.0)? else {
            return Ok(None);
        };
        let (block_number, index) = keys::decode_tx_lookup(v.value());
        let block_hash = self.hash_of(block_number)?.ok_or_else(|| {
            StorageError::corrupt(
                "tx lookup",
                tx_hash,
                format!("block {block_number} is not stored"),
            )
        })?;
        Ok(Some(TxLocation {
            block_hash,
            block_number,
            index,
        }))
    }
}
