//! [`BlockBatch`]: a run of blocks executed and written in one redb write
//! transaction.
//!
//! Each block of a run reads the state its predecessor in the run left (the
//! plain tables and tree nodes of the open transaction), so a run of synced
//! blocks pays for one commit instead of one per block. Readers see none of
//! the run until [`BlockBatch::commit`], then all of it at once.
//!
//! Tree retention: every block's tree is kept unless the run is told
//! otherwise ([`BlockBatch::keep_trees_from`]). Blocks below that number
//! write no tree nodes of their own; the nodes the later trees need (the
//! newest at each path) are written once, when the first kept block is
//! appended or at commit. Most of a block's tree nodes are rewritten by the
//! next blocks, so a long run writes a fraction of the bytes. Proofs and
//! unwinding need a block's whole tree and refuse blocks whose tree was
//! not kept ([`StateError::TreeNotKept`]).

use crate::{
    commit::{self, PreparedState},
    lookup::Staged,
    root_worker::{Job, RootWorker},
    run_tree::RunTree,
    snapshot::{self, StateReader},
    trie::NodeReader,
    ChainDb, StateError,
};
use alloy_primitives::{Address, Bytes, B256, U256};
use parking_lot::MutexGuard;
use redb::{ReadableTable, Table, WriteTransaction};
use tally_primitives::{Account, Receipt, SealedBlock, SealedHeader, StateChanges};
use tally_storage::{blocks, codec::decode_rlp, schema::*, tree};

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
    /// The run's tree, while roots are computed on this thread.
    tree: Option<RunTree>,
    /// The thread computing roots behind [`BlockBatch::append_deferred`].
    worker: Option<RootWorker>,
    /// Why the worker stopped; the run can no longer be committed.
    roots_failed: Option<StateError>,
    /// Something besides appended blocks was written (an unwind, side
    /// blocks, weights): commit even with no block appended.
    touched: bool,
    /// The run's changes to the transaction index (`lookup`).
    lookups: Staged,
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
            tree: Some(RunTree::new(0)),
            worker: None,
            roots_failed: None,
            touched: false,
            lookups: Staged::default(),
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

    /// Keeps the state trees of blocks `number - 1` and above only (block
    /// `number - 1`'s tree is what block `number`'s builds on; the run's
    /// last block keeps its tree in any case). Earlier blocks stay verified,
    /// and their plain state and history are written as usual, but proofs
    /// at them and unwinding to them are refused. Call it before the first
    /// block is appended.
    pub fn keep_trees_from(&mut self, number: u64) {
        if self.appended == 0 {
            self.tree = Some(RunTree::new(number));
        }
    }

    /// Unwinds the chain to block `number` inside the run, before any block
    /// is appended: a reorg then appends the new branch and commits both in
    /// one transaction, so a crash leaves the old chain or the new one.
    /// Returns the removed blocks (highest first) with their receipts.
    pub fn unwind_to(
        &mut self,
        number: u64,
    ) -> Result<Vec<(SealedBlock, Vec<Receipt>)>, StateError> {
        if self.appended > 0 || self.worker.is_some() {
            return Err(StateError::trie(
                "a run can only unwind before its first block is appended",
            ));
        }
        let removed = commit::unwind_in(&self.txn, self.db, number)?;
        self.head = header_in(&self.txn, number)?;
        self.touched = true;
        self.lookups.unwind(number);
        Ok(removed)
    }

    /// Keeps `block` off the canonical chain, by hash, senders included,
    /// with the weight of the chain ending at it.
    pub fn put_side_block(&mut self, block: &SealedBlock, weight: u128) -> Result<(), StateError> {
        tree::put_side_block(&self.txn, block)?;
        tree::set_weight(&self.txn, &block.hash(), weight)?;
        self.touched = true;
        Ok(())
    }

    /// Takes a side block out of the side table (to append it).
    pub fn take_side_block(&mut self, hash: &B256) -> Result<Option<SealedBlock>, StateError> {
        self.touched = true;
        Ok(tree::take_side_block(&self.txn, hash)?)
    }

    /// Forgets a side block and its weight.
    pub fn drop_side_block(&mut self, hash: &B256) -> Result<(), StateError> {
        tree::take_side_block(&self.txn, hash)?;
        tree::remove_weight(&self.txn, hash)?;
        self.touched = true;
        Ok(())
    }

    /// Sets the fork-choice weight of the chain ending at `hash`.
    pub fn set_weight(&mut self, hash: &B256, weight: u128) -> Result<(), StateError> {
        tree::set_weight(&self.txn, hash, weight)?;
        self.touched = true;
        Ok(())
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

    /// The tree writes of `changes` on the head of the run.
    fn value_set(
        &self,
        changes: &StateChanges,
    ) -> Result<Vec<(jmt::KeyHash, Option<jmt::OwnedValue>)>, StateError> {
        let wipes = changes.storage.values().any(|s| s.wiped);
        let storage = wipes.then(|| self.txn.open_table(STORAGE)).transpose()?;
        commit::value_set(changes, |a| match &storage {
            Some(t) => Ok(snapshot::live_slots(t, a)?.into_iter().collect()),
            None => Ok(Vec::new()),
        })
    }

    /// The state root after applying `changes` on the head of the run, as
    /// [`ChainDb::prepare_state_root`] computes it for committed blocks.
    pub fn prepare_state_root(
        &self,
        changes: &StateChanges,
    ) -> Result<(B256, PreparedState), StateError> {
        let tree = self.tree.as_ref().ok_or_else(deferred_only)?;
        let set = self.value_set(changes)?;
        let nodes = NodeReader::new(self.txn.open_table(TRIE_NODES)?);
        let prepared = commit::prepare_on(
            &tree.reader(&nodes),
            self.head.number + 1,
            self.head.number,
            self.head.hash,
            set,
        )?;
        Ok((prepared.root, prepared))
    }

    /// Refuses a block that does not extend the head of the run.
    fn check_on_head(&self, block: &SealedBlock) -> Result<(), StateError> {
        let (head, head_hash) = (self.head.number, self.head.hash);
        if Some(block.number()) != head.checked_add(1) || block.header.parent_hash != head_hash {
            return Err(StateError::NotOnHead {
                number: block.number(),
                hash: block.hash(),
                head,
                head_hash,
            });
        }
        Ok(())
    }

    /// Writes everything of `block` but its tree nodes, and makes it the head.
    fn write_block(
        &mut self,
        block: &SealedBlock,
        receipts: &[Receipt],
        changes: &StateChanges,
    ) -> Result<(), StateError> {
        let n = block.number();
        blocks::insert_block(&self.txn, block, receipts)?;
        commit::write_state(&self.txn, n, changes, true)?;
        blocks::set_head(&self.txn, n)?;
        self.lookups.add(block);
        self.head = block.header.clone();
        self.appended += 1;
        Ok(())
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
        self.check_on_head(block)?;
        let (head, head_hash) = (self.head.number, self.head.hash);
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
                number: block.number(),
                claimed: block.header.state_root,
                computed: prepared.root,
            });
        }
        let tree = self.tree.as_mut().ok_or_else(deferred_only)?;
        for nodes in tree.add(block.number(), prepared.tree)? {
            commit::write_nodes(&self.txn, nodes)?;
        }
        self.write_block(block, receipts, changes)
    }

    /// Writes `block` like [`BlockBatch::append`], but checks its state
    /// root on a second thread while the next blocks execute. A root that
    /// differs is reported as [`StateError::StateRootMismatch`] (naming its
    /// block) by a later `append_deferred` or by [`BlockBatch::finish_roots`];
    /// the run can then no longer be committed. A run uses `append` or
    /// `append_deferred`, not both.
    pub fn append_deferred(
        &mut self,
        block: &SealedBlock,
        receipts: &[Receipt],
        changes: &StateChanges,
    ) -> Result<(), StateError> {
        self.check_on_head(block)?;
        if self.worker.is_none() {
            let tree = self.tree.take().ok_or_else(deferred_only)?;
            let nodes = self.db.inner.store.begin_read()?.open_table(TRIE_NODES)?;
            self.worker = Some(RootWorker::spawn(nodes, tree)?);
        }
        let job = Job {
            number: block.number(),
            claimed: block.header.state_root,
            set: self.value_set(changes)?,
        };
        if !self.worker.as_ref().is_some_and(|w| w.send(job)) {
            self.finish_roots()?;
            return Err(StateError::trie("the state root thread stopped"));
        }
        self.write_block(block, receipts, changes)
    }

    /// Waits for the roots of blocks appended with
    /// [`BlockBatch::append_deferred`] and writes their tree nodes; returns
    /// the time spent computing them. Fails with the first root that
    /// differs. [`BlockBatch::commit`] calls it too.
    pub fn finish_roots(&mut self) -> Result<std::time::Duration, StateError> {
        if let Some(e) = &self.roots_failed {
            return Err(e.again());
        }
        let Some(worker) = self.worker.take() else {
            if let Some(nodes) = self
                .tree
                .as_mut()
                .map(RunTree::unwritten)
                .transpose()?
                .flatten()
            {
                commit::write_nodes(&self.txn, nodes)?;
            }
            return Ok(std::time::Duration::ZERO);
        };
        let finished = match worker.finish() {
            Ok(f) => f,
            Err(e) => {
                self.roots_failed = Some(e.again());
                return Err(e);
            }
        };
        for nodes in finished.nodes {
            commit::write_nodes(&self.txn, nodes)?;
        }
        Ok(finished.busy)
    }

    /// Commits the run; readers then see every appended block. A run with
    /// no blocks commits nothing.
    pub fn commit(mut self) -> Result<(), StateError> {
        self.finish_roots()?;
        let BlockBatch {
            db,
            txn,
            _lock,
            head,
            appended,
            touched,
            lookups,
            ..
        } = self;
        if appended == 0 && !touched {
            return Ok(());
        }
        let index = &db.inner.lookups;
        let mark = if lookups.is_empty() {
            None
        } else {
            match index.stage(&txn, lookups, head.number, &db.inner.store) {
                Ok(mark) => mark,
                Err(e) => {
                    index.failed();
                    return Err(e);
                }
            }
        };
        if let Err(e) = txn.commit() {
            index.failed();
            return Err(e.into());
        }
        index.committed(mark);
        *db.inner.head.write() = Some(head);
        Ok(())
    }
}

/// Mixing [`BlockBatch::append`] with [`BlockBatch::append_deferred`] in one run.
fn deferred_only() -> StateError {
    StateError::trie("this run checks its roots on the state root thread; use append_deferred")
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
