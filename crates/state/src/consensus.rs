//! BFT consensus records kept beside the chain: commit certificates and
//! the validator's write-ahead log (see `tally_storage::consensus`).

use crate::{ChainDb, StateError};

impl ChainDb {
    /// Keeps the encoded commit certificate of block `number`, durably.
    pub fn put_certificate(&self, number: u64, cert: &[u8]) -> Result<(), StateError> {
        Ok(self.inner.store.put_certificate(number, cert)?)
    }

    /// The encoded commit certificate of block `number`, if kept.
    pub fn certificate(&self, number: u64) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.inner.store.certificate(number)?)
    }

    /// Records a message this validator signed, durably, before it is sent.
    pub fn wal_put(
        &self,
        height: u64,
        round: u32,
        kind: u8,
        message: &[u8],
    ) -> Result<(), StateError> {
        Ok(self.inner.store.wal_put(height, round, kind, message)?)
    }

    /// The messages this validator signed at `height` or above.
    pub fn wal_from(&self, height: u64) -> Result<Vec<Vec<u8>>, StateError> {
        Ok(self.inner.store.wal_from(height)?)
    }

    /// Forgets what was signed below `height`.
    pub fn wal_prune(&self, height: u64) -> Result<(), StateError> {
        Ok(self.inner.store.wal_prune(height)?)
    }
}
