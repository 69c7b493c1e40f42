//! What BFT consensus keeps on disk: the commit certificate of every
//! committed block, and the validator's write-ahead log of what it signed.
//!
//! The write-ahead log is what keeps a restarted validator from signing
//! two different values at one height, round and step: each signed
//! message is committed (durably) here before it is sent.

use crate::{schema::*, StorageError};

/// WAL key: height, round and vote kind (0 for a proposal), big-endian so
/// the entries of a height are adjacent and in order.
fn wal_key(height: u64, round: u32, kind: u8) -> [u8; 13] {
    let mut key = [0u8; 13];
    key[..8].copy_from_slice(&height.to_be_bytes());
    key[8..12].copy_from_slice(&round.to_be_bytes());
    key[12] = kind;
    key
}

impl crate::Store {
    /// Keeps the encoded commit certificate of block `number`, durably.
    pub fn put_certificate(&self, number: u64, cert: &[u8]) -> Result<(), StorageError> {
        let txn = self.begin_write()?;
        txn.open_table(CERTIFICATES)?.insert(number, cert)?;
        txn.commit()?;
        Ok(())
    }

    /// The encoded commit certificate of block `number`, if kept.
    pub fn certificate(&self, number: u64) -> Result<Option<Vec<u8>>, StorageError> {
        let txn = self.begin_read()?;
        let table = txn.open_table(CERTIFICATES)?;
        Ok(table.get(number)?.map(|v| v.value().to_vec()))
    }

    /// Records a message this validator signed, durably, before it is sent.
    pub fn wal_put(
        &self,
        height: u64,
        round: u32,
        kind: u8,
        message: &[u8],
    ) -> Result<(), StorageError> {
        let txn = self.begin_write()?;
        txn.open_table(BFT_WAL)?
            .insert(&wal_key(height, round, kind), message)?;
        txn.commit()?;
        Ok(())
    }

    /// The messages signed at `height` or above, in order.
    pub fn wal_from(&self, height: u64) -> Result<Vec<Vec<u8>>, StorageError> {
        let txn = self.begin_read()?;
        let table = txn.open_table(BFT_WAL)?;
        let mut out = Vec::new();
        let from = wal_key(height, 0, 0);
        for entry in table.range::<&[u8; 13]>(&from..)? {
            out.push(entry?.1.value().to_vec());
        }
        Ok(out)
    }

    /// Forgets what was signed below `height` (those heights are committed).
    pub fn wal_prune(&self, height: u64) -> Result<(), StorageError> {
        let txn = self.begin_write()?;
        {
            let mut table = txn.open_table(BFT_WAL)?;
            let below = wal_key(height, 0, 0);
            table.retain_in::<&[u8; 13], _>(..&below, |_, _| false)?;
        }
        txn.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn wal_keeps_order_and_prunes() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(&dir.path().join("c.redb")).unwrap();
        store.wal_put(5, 1, 2, b"b").unwrap();
        store.wal_put(5, 0, 1, b"a").unwrap();
        store.wal_put(6, 0, 0, b"c").unwrap();
        assert_eq!(
            store.wal_from(5).unwrap(),
            vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]
        );
        store.wal_prune(6).unwrap();
        assert_eq!(store.wal_from(0).unwrap(), vec![b"c".to_vec()]);
        store.put_certificate(3, b"cert").unwrap();
        assert_eq!(store.certificate(3).unwrap(), Some(b"cert".to_vec()));
        assert_eq!(store.certificate(4).unwrap(), None);
    }
}
