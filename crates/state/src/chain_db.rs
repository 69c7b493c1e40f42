//! The [`ChainDb`] handle: opening, genesis, block and state reads.

use crate::lookup::Lookups;
use crate::recent::Recent;
use crate::{commit, StateError, StateSnapshot};
use alloy_primitives::{keccak256, Address, Bloom, Bytes, B256};
use parking_lot::{Mutex, RwLock};
use std::{collections::BTreeMap, path::Path, sync::Arc};
use tally_primitives::{
    block::{receipts_root, transactions_root},
    Account, BlockWithReceipts, ChainSpec, EngineSpec, GenesisAccount, Header, Receipt,
    SealedBlock, SealedHeader, StateChanges, StorageChanges, TxLocation, EMPTY_CODE_HASH,
};
use tally_storage::{
    blocks::{self, BlockReader},
    schema::META_GENESIS_SPEC,
    tree::TreeReader,
    Store,
};

/// The chain database: blocks, receipts, world state, history and the state
/// tree, in one redb file. Cheap to clone; all clones share the file.
#[derive(Clone)]
pub struct ChainDb {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) store: Store,
    /// The latest committed header, `None` before genesis.
    pub(crate) head: RwLock<Option<SealedHeader>>,
    /// Serialises commits and unwinds, so the head checks and the head cache
    /// agree with what each write transaction sees.
    pub(crate) write_lock: Mutex<()>,
    /// Recently read blocks with their receipts, decoded.
    pub(crate) recent: Recent,
    /// The transaction index entries not yet written to the file.
    pub(crate) lookups: Lookups,
}

impl ChainDb {
    /// Creates or opens the database file at `path` (e.g. `datadir/chain.redb`).
    pub fn open(path: &Path) -> Result<ChainDb, StateError> {
        let store = Store::open(path)?;
        let head = {
            let txn = store.begin_read()?;
            let reader = BlockReader::new(&txn);
            match reader.head_number()? {
                Some(n) => Some(reader.header(n)?.ok_or(StateError::MissingBlock(n))?),
                None => None,
            }
        };
        let lookups = Lookups::load(&store)?;
        Ok(ChainDb {
            inner: Arc::new(Inner {
                lookups,
                store,
                head: RwLock::new(head),
                write_lock: Mutex::new(()),
                recent: Recent::default(),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        self.inner.store.path()
    }

    pub(crate) fn not_initialized(&self) -> StateError {
        StateError::NotInitialized {
            path: self.path().to_path_buf(),
        }
    }

    /// On an empty database writes the genesis state from `spec.alloc` and
    /// block 0; otherwise returns the stored genesis, provided it was made
    /// from the same spec.
    pub fn init_genesis(&self, spec: &ChainSpec) -> Result<SealedHeader, StateError> {
        self.init_genesis_with(spec, &BTreeMap::new())
    }

    /// [`ChainDb::init_genesis`] with `extra` accounts written beside
    /// `spec.alloc` (an `extra` account replaces an alloc entry at the same
    /// address): the system contracts' genesis state, which the executor
    /// derives from the spec. They change the genesis state root but not
    /// the spec hash the genesis header commits to, so `extra` must be a
    /// function of the spec.
    pub fn init_genesis_with(
        &self,
        spec: &ChainSpec,
        extra: &BTreeMap<Address, GenesisAccount>,
    ) -> Result<SealedHeader, StateError> {
        let _w = self.inner.write_lock.lock();
        let given = spec.hash();
        {
            let txn = self.inner.store.begin_read()?;
            let reader = BlockReader::new(&txn);
            if reader.head_number()?.is_some() {
                let stored = reader
                    .meta(META_GENESIS_SPEC)?
                    .filter(|v| v.len() == 32)
                    .map(|v| B256::from_slice(&v))
                    .unwrap_or_default();
                if stored != given {
                    return Err(StateError::SpecMismatch {
                        path: self.path().to_path_buf(),
                        stored,
                        given,
                    });
                }
                return reader.header(0)?.ok_or(StateError::MissingBlock(0));
            }
        }
        let changes = genesis_changes(spec.alloc.iter().chain(extra));
        let prepared = commit::prepare(self, None, &changes)?;
        let header = Header {
            parent_hash: B256::ZERO,
            number: 0,
            timestamp: spec.timestamp,
            beneficiary: Address::ZERO,
            transactions_root: transactions_root(&[]),
            receipts_root: receipts_root(&[]),
            state_root: prepared.root,
            logs_bloom: Bloom::ZERO,
            gas_limit: spec.gas_limit,
            gas_used: 0,
            base_fee: spec.base_fee,
            // Proof-of-work chains anchor their difficulty rule at genesis.
            bits: match &spec.engine {
                EngineSpec::Pow(pow) => pow.initial_bits,
                _ => 0,
            },
            extra_data: Bytes::copy_from_slice(given.as_slice()),
            seal: Bytes::new(),
        }
        .seal_slow();
        let block = SealedBlock {
            header: header.clone(),
            transactions: vec![],
            senders: vec![],
        };
        let txn = self.inner.store.begin_write()?;
        blocks::insert_block(&txn, &block, &[])?;
        tally_storage::tree::set_weight(&txn, &header.hash, 0)?;
        commit::write_state(&txn, 0, &changes, false)?;
        commit::write_tree(&txn, &prepared.tree)?;
        txn.open_table(tally_storage::schema::META)?
            .insert(META_GENESIS_SPEC, given.as_slice())?;
        blocks::set_head(&txn, 0)?;
        txn.commit()?;
        *self.inner.head.write() = Some(header.clone());
        Ok(header)
    }

    /// The latest committed block.
    pub fn head(&self) -> Result<SealedHeader, StateError> {
        self.inner
            .head
            .read()
            .clone()
            .ok_or_else(|| self.not_initialized())
    }

    pub fn header_by_number(&self, n: u64) -> Result<Option<SealedHeader>, StateError> {
        let txn = self.inner.store.begin_read()?;
        Ok(BlockReader::new(&txn).header(n)?)
    }

    pub fn header_by_hash(&self, h: B256) -> Result<Option<SealedHeader>, StateError> {
        let txn = self.inner.store.begin_read()?;
        let reader = BlockReader::new(&txn);
        match reader.number_of(&h)? {
            Some(n) => Ok(reader.header(n)?),
            None => Ok(None),
        }
    }

    /// A canonical block with its senders.
    pub fn block_by_number(&self, n: u64) -> Result<Option<SealedBlock>, StateError> {
        let txn = self.inner.store.begin_read()?;
        Ok(BlockReader::new(&txn).block(n)?)
    }

    pub fn block_by_hash(&self, h: B256) -> Result<Option<SealedBlock>, StateError> {
        let txn = self.inner.store.begin_read()?;
        let reader = BlockReader::new(&txn);
        match reader.number_of(&h)? {
            Some(n) => Ok(reader.block(n)?),
            None => Ok(None),
        }
    }

    pub fn receipts(&self, block_hash: B256) -> Result<Option<Vec<Receipt>>, StateError> {
        let txn = self.inner.store.begin_read()?;
        let reader = BlockReader::new(&txn);
        match reader.number_of(&block_hash)? {
            Some(n) => Ok(reader.receipts(n)?),
            None => Ok(None),
        }
    }

    /// A canonical block with its senders and receipts, decoded once and
    /// shared by later readers (see [`BlockWithReceipts`]): what receipt
    /// lookups read.
    pub fn block_with_receipts(
        &self,
        block_hash: B256,
    ) -> Result<Option<Arc<BlockWithReceipts>>, StateError> {
        let txn = self.inner.store.begin_read()?;
        let reader = BlockReader::new(&txn);
        let Some(n) = reader.number_of(&block_hash)? else {
            return Ok(None);
        };
        if let Some(entry) = self.inner.recent.get(&block_hash) {
            return Ok(Some(entry));
        }
        let Some(block) = reader.block(n)? else {
            return Err(StateError::MissingBlock(n));
        };
        let receipts = reader.receipts(n)?.ok_or_else(|| {
            tally_storage::StorageError::corrupt("receipts", n, "missing for a stored block")
        })?;
        let entry = Arc::new(BlockWithReceipts { block, receipts });
        self.inner.recent.insert(block_hash, entry.clone());
        Ok(Some(entry))
    }

    /// Where a canonical transaction is: in the index table, or among the
    /// newest blocks' entries still in memory (`lookup`).
    pub fn tx_location(&self, tx_hash: B256) -> Result<Option<TxLocation>, StateError> {
        let txn = self.inner.store.begin_read()?;
        let reader = BlockReader::new(&txn);
        if let Some(at) = reader.tx_location(&tx_hash)? {
            return Ok(Some(at));
        }
        self.inner.lookups.find(&reader, &tx_hash)
    }

    /// The fork-choice weight of the chain ending at `hash`, if kept.
    pub fn weight(&self, hash: &B256) -> Result<Option<u128>, StateError> {
        let txn = self.inner.store.begin_read()?;
        Ok(TreeReader::new(&txn).weight(hash)?)
    }

    /// A block kept off the canonical chain.
    pub fn side_block(&self, hash: &B256) -> Result<Option<SealedBlock>, StateError> {
        let txn = self.inner.store.begin_read()?;
        Ok(TreeReader::new(&txn).side_block(hash)?)
    }

    /// The headers of every block kept off the canonical chain.
    pub fn side_headers(&self) -> Result<Vec<SealedHeader>, StateError> {
        let txn = self.inner.store.begin_read()?;
        Ok(TreeReader::new(&txn).side_headers()?)
    }

    /// The state after block `number` (any kept block up to the head).
    pub fn state_at(&self, number: u64) -> Result<StateSnapshot, StateError> {
        let txn = self.inner.store.begin_read()?;
        let head = BlockReader::new(&txn)
            .head_number()?
            .ok_or_else(|| self.not_initialized())?;
        if number > head {
            return Err(StateError::AboveHead {
                requested: number,
                head,
            });
        }
        StateSnapshot::new(&txn, number, head)
    }

    /// The state after the head block.
    pub fn latest_state(&self) -> Result<StateSnapshot, StateError> {
        let txn = self.inner.store.begin_read()?;
        let head = BlockReader::new(&txn)
            .head_number()?
            .ok_or_else(|| self.not_initialized())?;
        StateSnapshot::new(&txn, head, head)
    }
}

/// Genesis accounts as the changes of block 0; a later entry for an
/// address replaces an earlier one.
fn genesis_changes<'a>(
    accounts: impl Iterator<Item = (&'a Address, &'a GenesisAccount)>,
) -> StateChanges {
    let mut changes = StateChanges::default();
    for (address, acc) in accounts {
        let code_hash = match &acc.code {
            Some(code) if !code.is_empty() => {
                let h = keccak256(code);
                changes.code.insert(h, code.clone());
                h
            }
            _ => EMPTY_CODE_HASH,
        };
        changes.accounts.insert(
            *address,
            Some(Account {
                nonce: acc.nonce,
                balance: acc.balance,
                code_hash,
            }),
        );
        changes.storage.remove(address);
        if !acc.storage.is_empty() {
            changes.storage.insert(
                *address,
                StorageChanges {
                    wiped: false,
                    slots: acc.storage.iter().map(|(k, v)| (*k, *v)).collect(),
                },
            );
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U256;

    #[test]
    fn extra_genesis_accounts_change_the_state_but_not_the_spec_hash() {
        let dir = tempfile::tempdir().unwrap();
        let spec = ChainSpec::dev(BTreeMap::new(), 0);
        let system = Address::repeat_byte(0x10);
        let mut extra = BTreeMap::new();
        extra.insert(
            system,
            GenesisAccount {
                nonce: 1,
                code: Some(Bytes::from_static(&[0xfe])),
                storage: [(U256::from(7), U256::from(42))].into_iter().collect(),
                ..Default::default()
            },
        );
        let plain = ChainDb::open(&dir.path().join("plain.redb"))
            .unwrap()
            .init_genesis(&spec)
            .unwrap();
        let db = ChainDb::open(&dir.path().join("system.redb")).unwrap();
        let with = db.init_genesis_with(&spec, &extra).unwrap();
        assert_eq!(with.extra_data, plain.extra_data);
        assert_ne!(with.state_root, plain.state_root);
        let state = db.latest_state().unwrap();
        assert_eq!(state.account(&system).unwrap().unwrap().nonce, 1);
        assert_eq!(
            state.storage(&system, &U256::from(7)).unwrap(),
            U256::from(42)
        );
        // Re-opening with plain init_genesis finds the same spec hash.
        assert_eq!(db.init_genesis(&spec).unwrap(), with);
    }
}
