//! [`BlockBatch`]: a run of blocks executed and written in one redb write
//! transaction.
//!
//! Each block of a run reads the state its predecessor in the run left (the
//! plain tables and tree nodes of the open transaction), so a run of synced
//! blocks pays for one commit instead of one per block. Readers see none of
//! the run until [`BlockBatch::commit`], then all of it at once.

use crate::{
    commit::{self, PreparedState},
    snapshot::{self, StateReader},
    trie::{NodeReader, Overlay, RecentNodes},
    ChainDb, StateError,
};
use alloy_primitives::{Address, Bytes, B256, U256};
use parking_lot::MutexGuard;
use redb::{ReadableTable, Table, WriteTransaction};
use tally_primitives::{Account, Receipt, SealedBlock, SealedHeader, StateChanges};
use tally_storage::{blocks, codec::decode_rlp, schema::*};

/// Blocks appended on the head inside one write transaction. Holds the
/// database's write lock until committed or dropped; dropping it without
/// [`BlockBatch::commit`] discards the appended blocks.
pub struct BlockBatch<'db> {
    db: &'db ChainDb,
    // Declared before the lock: the transaction ends before the lock is released.
    txn: WriteTransaction,
    _lock: MutexGuard<'db, ()>,
    head: SealedHeader,
    appended: usize,
    /// Tree nodes the run wrote, newest per path.
    recent: RecentNodes,
}

impl ChainDb {
    /// Starts a run of blocks on the current head; the run is on disk once
    /// [`BlockBatch::commit`] returns.
    pub fn begin_batch(&self) -> Result<BlockBatch<'_>, StateError> {
        let lock = self.inner.write_lock.lock();
        let txn = self.inner.store.begin_write()?;
        let (number, _) = commit::head_in(&txn, self)?;
        let head = header_in(&txn, number)?;
        Ok(BlockBatch {
            db: self,
            txn,
            _lock: lock,
            head,
            appended: 0,
            recent: RecentNodes::default(),
        })
    }
}

impl BlockBatch<'_> {
    /// The last block of the run, or the database head before the first.
    pub fn head(&self) -> &SealedHeader {
        &self.head
    }

    /// Blocks appended so far.
    pub fn len(&self) -> usize {
        self.appended
    }

    pub fn is_empty(&self) -> bool {
        self.appended == 0
    }

    /// The state after [`BlockBatch::head`], for executing the next block.
    pub fn state(&mut self) -> Result<PendingState<'_>, StateError> {
        Ok(PendingState {
            number: self.head.number,
            accounts: self.txn.open_table(ACCOUNTS)?,
            storage: self.txn.open_table(STORAGE)?,
            code: self.txn.open_table(CODE)?,
            canonical: self.txn.open_table(CANONICAL)?,
        })
    }

    /// The state root after applying `changes` on the head of the run, as
    /// [`ChainDb::prepare_state_root`] computes it for committed blocks.
    pub fn prepare_state_root(
        &self,
        changes: &StateChanges,
    ) -> Result<(B256, PreparedState), StateError> {
        let wipes = changes.storage.values().any(|s| s.wiped);
        let storage = wipes.then(|| self.txn.open_table(STORAGE)).transpose()?;
        let set = commit::value_set(changes, |a| match &storage {
            Some(t) => Ok(snapshot::live_slots(t, a)?.into_iter().collect()),
            None => Ok(Vec::new()),
        })?;
        let nodes = NodeReader::new(self.txn.open_table(TRIE_NODES)?);
        let reader = Overlay {
            base: &nodes,
            nodes: &self.recent,
        };
        let prepared = commit::prepare_on(
            &reader,
            self.head.number + 1,
            self.head.number,
            self.head.hash,
            set,
        )?;
        Ok((prepared.root, prepared))
    }

    /// Writes `block` on the head of the run: header, body, receipts, tx
    /// index, canonical hash, state changes with their history and
    /// changeset, tree nodes and the new head. Refuses a block that does not
    /// extend the head, a `prepared` made on another parent, and a header
    /// whose state root differs from `prepared`'s.
    pub fn append(
        &mut self,
        block: &SealedBlock,
        receipts: &[Receipt],
        changes: &StateChanges,
        prepared: PreparedState,
    ) -> Result<(), StateError> {
        let (head, head_hash) = (self.head.number, self.head.hash);
        let n = block.number();
        if Some(n) != head.checked_add(1) || block.header.parent_hash != head_hash {
            return Err(StateError::NotOnHead {
                number: n,
                hash: block.hash(),
                head,
                head_hash,
            });
        }
        if prepared.parent != head || prepared.parent_hash != head_hash {
            return Err(StateError::StalePrepared {
                prepared_parent: prepared.parent,
                prepared_parent_hash: prepared.parent_hash,
                head,
                head_hash,
            });
        }
        if prepared.root != block.header.state_root {
            return Err(StateError::StateRootMismatch {
                number: n,
                claimed: block.header.state_root,
                computed: prepared.root,
            });
        }
        blocks::insert_block(&self.txn, block, receipts)?;
        commit::write_state(&self.txn, n, changes, true)?;
        commit::write_nodes(&self.txn, &prepared.nodes)?;
        blocks::set_head(&self.txn, n)?;
        self.recent.insert_all(&prepared.tree);
        self.head = block.header.clone();
        self.appended += 1;
        Ok(())
    }

    /// Commits the run; readers then see every appended block. A run with
    /// no blocks commits nothing.
    pub fn commit(self) -> Result<(), StateError> {
        let BlockBatch {
            db,
            txn,
            _lock,
            head,
            appended,
            ..
        } = self;
        if appended == 0 {
            return Ok(());
        }
        txn.commit()?;
        *db.inner.head.write() = Some(head);
        Ok(())
    }
}

/// The header of canonical block `number` as `txn` sees it.
pub(crate) fn header_in(txn: &WriteTransaction, number: u64) -> Result<SealedHeader, StateError> {
    let headers = txn.open_table(HEADERS)?;
    let v = headers
        .get(number)?
        .ok_or(StateError::MissingBlock(number))?;
    Ok(decode_rlp::<tally_primitives::Header>("header", number, v.value())?.seal_slow())
}

/// The state inside a [`BlockBatch`]: the database head plus the blocks
/// appended so far.
pub struct PendingState<'b> {
    number: u64,
    accounts: Table<'b, &'static [u8; 20], &'static [u8]>,
    storage: Table<'b, &'static [u8; 52], &'static [u8; 32]>,
    code: Table<'b, &'static [u8; 32], &'static [u8]>,
    canonical: Table<'b, u64, &'static [u8; 32]>,
}

impl PendingState<'_> {
    /// The block after which this state holds.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// The hash of canonical block `number`, `None` above this state's block.
    pub fn block_hash(&self, number: u64) -> Result<Option<B256>, StateError> {
        if number > self.number {
            return Ok(None);
        }
        Ok(self.canonical.get(number)?.map(|v| B256::from(*v.value())))
    }
}

impl StateReader for PendingState<'_> {
    fn account(&self, a: &Address) -> Result<Option<Account>, StateError> {
        snapshot::read_account(&self.accounts, a)
    }
    fn storage(&self, a: &Address, slot: &U256) -> Result<U256, StateError> {
        snapshot::read_storage(&self.storage, a, slot)
    }
    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateError> {
        snapshot::read_code(&self.code, code_hash)
    }
}
