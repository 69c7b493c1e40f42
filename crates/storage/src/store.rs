//! Opening the database file and checking its schema.

use crate::{schema::*, StorageError};
use redb::{
    Database, Durability, ReadTransaction, ReadableDatabase, ReadableTable, WriteTransaction,
};
use std::path::{Path, PathBuf};

/// An open chain database file.
#[derive(Debug)]
pub struct Store {
    db: Database,
    path: PathBuf,
}

impl Store {
    /// Creates `path` if it is missing or empty, opens it otherwise, and checks
    /// that it holds Tally tables of [`SCHEMA_VERSION`]. A file that is not a
    /// redb database, is damaged, or belongs to another program gives an error
    /// naming the file.
    pub fn open(path: &Path) -> Result<Store, StorageError> {
        let owned = path.to_path_buf();
        // redb trusts files that were closed cleanly and may panic on some
        // damaged ones; a damaged file must be an error naming it, not a crash.
        let opened = std::panic::catch_unwind(|| Database::create(path));
        let db = match opened {
            Ok(Ok(db)) => db,
            Ok(Err(source)) => {
                return Err(StorageError::Open {
                    path: owned,
                    source,
                })
            }
            Err(_) => {
                return Err(StorageError::Open {
                    path: owned,
                    source: redb::DatabaseError::Storage(redb::StorageError::Corrupted(
                        "the file is damaged (redb failed while reading it)".into(),
                    )),
                })
            }
        };
        let store = Store { db, path: owned };
        store.check_schema()?;
        Ok(store)
    }

    fn check_schema(&self) -> Result<(), StorageError> {
        let txn = self.begin_write()?;
        let has_tables = txn.list_tables()?.next().is_some();
        {
            let mut meta = txn.open_table(META)?;
            let found = meta.get(META_SCHEMA_VERSION)?.map(|v| v.value().to_vec());
            match found {
                Some(v) => {
                    let bytes: [u8; 4] = v.as_slice().try_into().map_err(|_| {
                        StorageError::corrupt("schema version", META_SCHEMA_VERSION, "not 4 bytes")
                    })?;
                    let found = u32::from_be_bytes(bytes);
                    if found != SCHEMA_VERSION {
                        return Err(StorageError::SchemaMismatch {
                            path: self.path.clone(),
                            found,
                            expected: SCHEMA_VERSION,
                        });
                    }
                }
                None if has_tables => {
                    return Err(StorageError::Foreign {
                        path: self.path.clone(),
                    })
                }
                None => {
                    meta.insert(META_SCHEMA_VERSION, SCHEMA_VERSION.to_be_bytes().as_slice())?;
                    // Create every table now, so readers never meet a
                    // missing one.
                    txn.open_table(HEADERS)?;
                    txn.open_table(CANONICAL)?;
                    txn.open_table(HEADER_NUMBERS)?;
                    txn.open_table(BODIES)?;
                    txn.open_table(RECEIPTS)?;
                    txn.open_table(TX_LOOKUP)?;
                    txn.open_table(ACCOUNTS)?;
                    txn.open_table(STORAGE)?;
                    txn.open_table(CODE)?;
                    txn.open_table(ACCOUNT_HISTORY)?;
                    txn.open_table(STORAGE_HISTORY)?;
                    txn.open_table(CHANGESETS)?;
                    txn.open_table(TRIE_NODES)?;
                    txn.open_table(SIDE_BLOCKS)?;
                    txn.open_table(WEIGHTS)?;
                    txn.open_table(CERTIFICATES)?;
                    txn.open_table(BFT_WAL)?;
                }
            }
        }
        txn.commit()?;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A consistent snapshot of the last commit.
    pub fn begin_read(&self) -> Result<ReadTransaction, StorageError> {
        Ok(self.db.begin_read()?)
    }

    /// A write transaction that is durable once `commit` returns.
    pub fn begin_write(&self) -> Result<WriteTransaction, StorageError> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        Ok(txn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_file_gets_schema_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chain.redb");
        drop(Store::open(&path).unwrap());
        let store = Store::open(&path).unwrap();
        let txn = store.begin_read().unwrap();
        let meta = txn.open_table(META).unwrap();
        let v = meta.get(META_SCHEMA_VERSION).unwrap().unwrap();
        assert_eq!(v.value(), SCHEMA_VERSION.to_be_bytes());
    }

    #[test]
    fn garbage_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chain.redb");
        std::fs::write(&path, vec![0xAB; 64 * 1024]).unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, StorageError::Open { .. }), "{err}");
        assert!(err.to_string().contains("chain.redb"), "{err}");
    }

    #[test]
    fn foreign_redb_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.redb");
        {
            let db = Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            let t: redb::TableDefinition<'_, u64, u64> = redb::TableDefinition::new("x");
            txn.open_table(t).unwrap().insert(1, 2).unwrap();
            txn.commit().unwrap();
        }
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, StorageError::Foreign { .. }), "{err}");
        assert!(err.to_string().contains("other.redb"), "{err}");
    }

    #[test]
    fn other_schema_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chain.redb");
        {
            let store = Store::open(&path).unwrap();
            let txn = store.begin_write().unwrap();
            txn.open_table(META)
                .unwrap()
                .insert(META_SCHEMA_VERSION, 99u32.to_be_bytes().as_slice())
                .unwrap();
            txn.commit().unwrap();
        }
        let err = Store::open(&path).unwrap_err();
        assert!(
            matches!(err, StorageError::SchemaMismatch { found: 99, .. }),
            "{err}"
        );
    }

    #[test]
    fn damaged_file_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chain.redb");
        drop(Store::open(&path).unwrap());
        let mut bytes = std::fs::read(&path).unwrap();
        // Overwrite the header and some of the pages behind it.
        for b in bytes.iter_mut().take(4096) {
            *b ^= 0x5A;
        }
        std::fs::write(&path, &bytes).unwrap();
        assert!(Store::open(&path).is_err());
        // A truncated file too.
        std::fs::write(&path, &bytes[..bytes.len().min(100)]).unwrap();
        assert!(Store::open(&path).is_err());
    }
}
