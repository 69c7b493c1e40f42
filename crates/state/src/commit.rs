//! Computing the next state root, committing a block, and unwinding blocks.

use crate::{
    trie::{self, NodeReader},
    ChainDb, StateError, StateSnapshot,
};
use alloy_primitives::{Address, B256, U256};
use jmt::{KeyHash, OwnedValue};
use redb::{ReadableTable, WriteTransaction};
use tally_primitives::{Receipt, SealedBlock, StateChanges};
use tally_storage::{
    blocks::{self, read_meta_u64, BlockReader},
    codec::{encode_opt_account, Changeset},
    keys,
    schema::*,
    StorageError,
};

/// The result of [`ChainDb::prepare_state_root`]: the new tree nodes, to be
/// written by [`ChainDb::commit_block`] on the same parent.
#[derive(Clone, Debug)]
pub struct PreparedState {
    pub(crate) parent: u64,
    pub(crate) parent_hash: B256,
    pub(crate) root: B256,
    /// The block's new tree nodes, encoded only when written.
    pub(crate) tree: Vec<(jmt::storage::NodeKey, jmt::storage::Node)>,
}

impl PreparedState {
    pub fn root(&self) -> B256 {
        self.root
    }

    pub fn parent(&self) -> u64 {
        self.parent
    }

    /// Number of new tree nodes this block adds.
    pub fn new_nodes(&self) -> usize {
        self.tree.len()
    }
}

/// Computes the tree after `changes` on top of block `parent`'s tree
/// (`None`: the empty tree before genesis). Reads only the paths to changed
/// keys; writes nothing.
pub(crate) fn prepare(
    db: &ChainDb,
    parent: Option<u64>,
    changes: &StateChanges,
) -> Result<PreparedState, StateError> {
    let txn = db.inner.store.begin_read()?;
    let reader = BlockReader::new(&txn);
    let head = reader.head_number()?;
    let nodes = NodeReader::new(txn.open_table(TRIE_NODES)?);
    let (parent, head) = match (parent, head) {
        (None, _) => {
            let set = value_set(changes, |_| Ok(Vec::new()))?;
            return prepare_on(&nodes, 0, 0, B256::ZERO, set);
        }
        (Some(_), None) => return Err(db.not_initialized()),
        (Some(p), Some(head)) if p > head => {
            return Err(StateError::AboveHead { requested: p, head })
        }
        (Some(p), Some(head)) => (p, head),
    };
    let hash = reader
        .hash_of(parent)?
        .ok_or(StateError::MissingBlock(parent))?;
    // Only a storage wipe needs to read state: the slots to delete.
    let wipes = changes.storage.values().any(|s| s.wiped);
    let snapshot = wipes
        .then(|| StateSnapshot::new(&txn, parent, head))
        .transpose()?;
    let set = value_set(changes, |a| match &snapshot {
        Some(state) => state.storage_slots(a),
        None => Ok(Vec::new()),
    })?;
    prepare_on(&nodes, parent + 1, parent, hash, set)
}

/// Applies `set` to the tree of `parent` as block `block`'s tree.
pub(crate) fn prepare_on<R: jmt::storage::TreeReader>(
    nodes: &R,
    block: u64,
    parent: u64,
    parent_hash: B256,
    set: Vec<(KeyHash, Option<OwnedValue>)>,
) -> Result<PreparedState, StateError> {
    let (root, tree) = trie::apply_block(nodes, block, set).map_err(StateError::trie)?;
    Ok(PreparedState {
        parent,
        parent_hash,
        root,
        tree,
    })
}

/// The tree writes of `changes`, sorted by key hash so that neighbouring
/// updates share the tree paths jmt has just loaded.
/// `parent_slots` lists an account's slots in the parent state; it is
/// asked only for accounts whose storage the block wipes.
pub(crate) fn value_set(
    changes: &StateChanges,
    parent_slots: impl Fn(&Address) -> Result<Vec<U256>, StateError>,
) -> Result<Vec<(KeyHash, Option<OwnedValue>)>, StateError> {
    let mut set = Vec::with_capacity(
        changes.accounts.len()
            + changes
                .storage
                .values()
                .map(|s| s.slots.len())
                .sum::<usize>(),
    );
    for (a, acc) in &changes.accounts {
        set.push((trie::account_key(a), trie::account_value(acc)));
    }
    for (a, s) in &changes.storage {
        if s.wiped {
            for slot in parent_slots(a)? {
                if !s.slots.contains_key(&slot) {
                    set.push((trie::storage_key(a, &slot), None));
                }
            }
        }
        for (slot, v) in &s.slots {
            set.push((trie::storage_key(a, slot), trie::storage_value(v)));
        }
    }
    set.sort_unstable_by_key(|x| x.0);
    Ok(set)
}

/// Writes plain state changes and, when `record` is set, their history
/// entries and the block's changeset.
pub(crate) fn write_state(
    txn: &WriteTransaction,
    number: u64,
    changes: &StateChanges,
    record: bool,
) -> Result<(), StateError> {
    let mut cs = Changeset::default();
    {
        let mut accounts = txn.open_table(ACCOUNTS)?;
        let mut history = txn.open_table(ACCOUNT_HISTORY)?;
        // Sorted writes keep redb's B-tree inserts local.
        let mut sorted: Vec<_> = changes.accounts.iter().collect();
        sorted.sort_unstable_by_key(|(a, _)| **a);
        for (a, new) in sorted {
            let key = keys::account_key(a);
            let prev = match new {
                Some(acc) => {
                    accounts.insert(&key, tally_storage::codec::encode_account(acc).as_slice())?
                }
                None => accounts.remove(&key)?,
            };
            if record {
                let prev = match prev {
                    Some(v) => tally_storage::codec::decode_opt_account(v.value())
                        .map_err(|e| StorageError::corrupt("account", a, e))?,
                    None => None,
                };
                history.insert(
                    &keys::account_history_key(a, number),
                    encode_opt_account(&prev).as_slice(),
                )?;
                cs.accounts.push((*a, prev));
            }
        }
    }
    {
        let mut storage = txn.open_table(STORAGE)?;
        let mut history = txn.open_table(STORAGE_HISTORY)?;
        let mut writes: Vec<(Address, U256, U256)> = Vec::new();
        for (a, s) in &changes.storage {
            if s.wiped {
                for slot in crate::snapshot::live_slots(&storage, a)? {
                    if !s.slots.contains_key(&slot) {
                        writes.push((*a, slot, U256::ZERO));
                    }
                }
            }
            writes.extend(s.slots.iter().map(|(slot, v)| (*a, *slot, *v)));
        }
        writes.sort_unstable_by_key(|x| (x.0, x.1));
        for (a, slot, v) in writes {
            let key = keys::storage_key(&a, &slot);
            let prev = if v.is_zero() {
                storage.remove(&key)?
            } else {
                storage.insert(&key, &v.to_be_bytes::<32>())?
            };
            if record {
                let prev = prev
                    .map(|p| U256::from_be_bytes(*p.value()))
                    .unwrap_or_default();
                history.insert(
                    &keys::storage_history_key(&a, &slot, number),
                    &prev.to_be_bytes::<32>(),
                )?;
                cs.storage.push((a, slot, prev));
            }
        }
    }
    if !changes.code.is_empty() {
        let mut code = txn.open_table(CODE)?;
        for (h, c) in &changes.code {
            code.insert(&h.0, c.as_ref())?;
        }
    }
    if record {
        txn.open_table(CHANGESETS)?
            .insert(number, cs.encode().as_slice())?;
    }
    Ok(())
}

/// Writes one block's new tree nodes.
pub(crate) fn write_tree(
    txn: &WriteTransaction,
    tree: &[(jmt::storage::NodeKey, jmt::storage::Node)],
) -> Result<(), StateError> {
    let encoded = trie::encode_nodes(tree.iter().map(|(k, n)| (k, n))).map_err(StateError::trie)?;
    write_nodes(txn, encoded)
}

/// Writes tree nodes in key order (version, then path), so they append.
pub(crate) fn write_nodes(
    txn: &WriteTransaction,
    mut encoded: trie::EncodedNodes,
) -> Result<(), StateError> {
    encoded.sort_unstable();
    let mut t = txn.open_table(TRIE_NODES)?;
    for (k, v) in &encoded {
        t.insert(k.as_slice(), v.as_slice())?;
    }
    Ok(())
}

/// The head number and hash as the write transaction sees them.
pub(crate) fn head_in(txn: &WriteTransaction, db: &ChainDb) -> Result<(u64, B256), StateError> {
    let head =
        read_meta_u64(&txn.open_table(META)?, META_HEAD)?.ok_or_else(|| db.not_initialized())?;
    let hash = txn
        .open_table(CANONICAL)?
        .get(head)?
        .map(|v| B256::from(*v.value()))
        .ok_or(StateError::MissingBlock(head))?;
    Ok((head, hash))
}

impl ChainDb {
    /// The state root after applying `changes` on top of block `parent`'s
    /// state, computed incrementally; writes nothing. Pass the returned
    /// [`PreparedState`] to [`ChainDb::commit_block`].
    pub fn prepare_state_root(
        &self,
        parent: u64,
        changes: &StateChanges,
    ) -> Result<(B256, PreparedState), StateError> {
        let prepared = prepare(self, Some(parent), changes)?;
        Ok((prepared.root, prepared))
    }

    /// Writes `block` on top of the head in one durable write transaction:
    /// header, body, receipts, tx index, canonical hash, state changes with
    /// their history and changeset, tree nodes and the new head. Refuses a
    /// block that does not extend the head, a `prepared` made on another
    /// parent, and a header whose state root differs from `prepared`'s.
    pub fn commit_block(
        &self,
        block: &SealedBlock,
        receipts: &[Receipt],
        changes: &StateChanges,
        prepared: PreparedState,
    ) -> Result<(), StateError> {
        let mut batch = self.begin_batch()?;
        batch.append(block, receipts, changes, prepared)?;
        batch.commit()
    }

    /// Removes the blocks above `number` (returned highest first) and
    /// restores the state, history and tree to what they were after block
    /// `number`, in one write transaction.
    pub fn unwind_to(&self, number: u64) -> Result<Vec<SealedBlock>, StateError> {
        let mut batch = self.begin_batch()?;
        let removed = batch.unwind_to(number)?;
        batch.commit()?;
        Ok(removed.into_iter().map(|(b, _)| b).collect())
    }
}

/// Unwinds the canonical chain in `txn` to block `number`: blocks above it
/// are removed (returned highest first, with their receipts) and state,
/// history and tree restored to what they were after `number`.
pub(crate) fn unwind_in(
    txn: &WriteTransaction,
    db: &ChainDb,
    number: u64,
) -> Result<Vec<(SealedBlock, Vec<Receipt>)>, StateError> {
    let (head, _) = head_in(txn, db)?;
    if number > head {
        return Err(StateError::AboveHead {
            requested: number,
            head,
        });
    }
    if !trie::tree_kept(&NodeReader::new(txn.open_table(TRIE_NODES)?), number)? {
        return Err(StateError::TreeNotKept { number });
    }
    let mut removed = Vec::new();
    for b in (number + 1..=head).rev() {
        let receipts = match txn.open_table(RECEIPTS)?.get(b)? {
            Some(v) => tally_storage::codec::decode_rlp("receipts", b, v.value())?,
            None => return Err(StateError::MissingBlock(b)),
        };
        undo_state(txn, b)?;
        let block = blocks::remove_block(txn, b)?.ok_or(StateError::MissingBlock(b))?;
        removed.push((block, receipts));
    }
    {
        // Tree nodes are keyed by version first: one range holds all
        // nodes written by the removed blocks.
        let from = keys::trie_version_prefix(trie::version_of(number) + 1);
        let mut nodes = txn.open_table(TRIE_NODES)?;
        nodes.retain_in(from.as_slice().., |_, _| false)?;
    }
    blocks::set_head(txn, number)?;
    Ok(removed)
}

/// Restores the plain state from block `b`'s changeset and drops its history.
fn undo_state(txn: &WriteTransaction, b: u64) -> Result<(), StateError> {
    let cs = {
        let mut t = txn.open_table(CHANGESETS)?;
        let v = t.remove(b)?.ok_or(StateError::MissingBlock(b))?;
        Changeset::decode(v.value()).map_err(|e| StorageError::corrupt("changeset", b, e))?
    };
    let mut accounts = txn.open_table(ACCOUNTS)?;
    let mut account_history = txn.open_table(ACCOUNT_HISTORY)?;
    for (a, prev) in &cs.accounts {
        account_history.remove(&keys::account_history_key(a, b))?;
        let key = keys::account_key(a);
        match prev {
            Some(acc) => {
                accounts.insert(&key, tally_storage::codec::encode_account(acc).as_slice())?;
            }
            None => {
                accounts.remove(&key)?;
            }
        }
    }
    let mut storage = txn.open_table(STORAGE)?;
    let mut storage_history = txn.open_table(STORAGE_HISTORY)?;
    for (a, slot, prev) in &cs.storage {
        storage_history.remove(&keys::storage_history_key(a, slot, b))?;
        let key = keys::storage_key(a, slot);
        if prev.is_zero() {
            storage.remove(&key)?;
        } else {
            storage.insert(&key, &prev.to_be_bytes::<32>())?;
        }
    }
    Ok(())
}
