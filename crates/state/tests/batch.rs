//! Runs of blocks written in one write transaction ([`ChainDb::begin_batch`]):
//! the same chain as block-by-block commits, invisible to readers until
//! committed, discarded when dropped.

mod common;

use alloy_primitives::U256;
use common::*;
use tally_primitives::{Receipt, SealedBlock, StateChanges};
use tally_state::{BlockBatch, ChainDb, StateError, StateReader};

fn open() -> (tempfile::TempDir, ChainDb) {
    let dir = tempfile::tempdir().unwrap();
    let db = ChainDb::open(&dir.path().join("chain.redb")).unwrap();
    db.init_genesis(&spec()).unwrap();
    (dir, db)
}

/// Five blocks touching accounts and storage, with a deletion and a wipe.
fn run_changes() -> Vec<StateChanges> {
    let mut out = Vec::new();
    let mut c = StateChanges::default();
    c.accounts.insert(addr(0), Some(account(1, 10)));
    c.accounts.insert(addr(3), Some(account(0, 7)));
    c.storage
        .insert(addr(1), storage_change(false, &[(1, 12), (5, 55)]));
    out.push(c);
    let mut c = StateChanges::default();
    c.accounts.insert(addr(3), None);
    c.storage.insert(addr(1), storage_change(false, &[(1, 0)]));
    out.push(c);
    out.push(StateChanges::default());
    let mut c = StateChanges::default();
    c.accounts.insert(addr(0), Some(account(2, 20)));
    c.storage.insert(addr(1), storage_change(true, &[(9, 99)]));
    out.push(c);
    let mut c = StateChanges::default();
    c.accounts.insert(addr(3), Some(account(5, 5)));
    c.storage.insert(addr(1), storage_change(false, &[(2, 23)]));
    out.push(c);
    out
}

/// Appends a block with `changes` on the head of `batch`.
fn append(batch: &mut BlockBatch<'_>, changes: &StateChanges) -> SealedBlock {
    let (root, prepared) = batch.prepare_state_root(changes).unwrap();
    let txs = vec![tx(batch.head().number)];
    let receipts: Vec<Receipt> = vec![receipt(0)];
    let block = seal(batch.head(), root, txs, &receipts);
    batch.append(&block, &receipts, changes, prepared).unwrap();
    block
}

#[test]
fn a_run_gives_the_chain_block_by_block_commits_give() {
    let (_a, one_by_one) = open();
    let expected: Vec<SealedBlock> = run_changes()
        .iter()
        .enumerate()
        .map(|(i, c)| commit(&one_by_one, c, vec![tx(i as u64)]))
        .collect();

    let (_b, db) = open();
    let mut batch = db.begin_batch().unwrap();
    let got: Vec<SealedBlock> = run_changes()
        .iter()
        .map(|c| append(&mut batch, c))
        .collect();
    assert_eq!(batch.len(), 5);
    batch.commit().unwrap();

    assert_eq!(got, expected, "same headers, roots and hashes");
    assert_eq!(db.head().unwrap(), expected[4].header);
    let addrs = [addr(0), addr(1), addr(3), addr(4)];
    let slots: Vec<U256> = [1u64, 2, 5, 9, 10].iter().map(|s| U256::from(*s)).collect();
    let mut model = Model::from_spec(&spec());
    for (i, c) in run_changes().iter().enumerate() {
        model.apply(c);
        let n = i as u64 + 1;
        model.assert_matches(&db.state_at(n).unwrap(), &addrs, &slots);
        assert_eq!(db.block_by_number(n).unwrap().as_ref(), Some(&expected[i]));
        let hash = expected[i].transactions[0].tx_hash();
        assert_eq!(db.tx_location(*hash).unwrap().unwrap().block_number, n);
    }
    // The run's history unwinds like any other block's.
    db.unwind_to(2).unwrap();
    assert_eq!(db.head().unwrap(), expected[1].header);
}

#[test]
fn blocks_in_a_run_read_what_earlier_blocks_of_the_run_wrote() {
    let (_dir, db) = open();
    let genesis = db.head().unwrap();
    let mut batch = db.begin_batch().unwrap();
    let changes = run_changes();
    let first = append(&mut batch, &changes[0]);
    {
        let state = batch.state().unwrap();
        assert_eq!(state.number(), 1);
        assert_eq!(state.account(&addr(3)).unwrap(), Some(account(0, 7)));
        assert_eq!(
            state.storage(&addr(1), &U256::from(5)).unwrap(),
            U256::from(55)
        );
        // Block hashes of the run are there for BLOCKHASH; later ones are not.
        assert_eq!(state.block_hash(0).unwrap(), Some(genesis.hash));
        assert_eq!(state.block_hash(1).unwrap(), Some(first.hash()));
        assert_eq!(state.block_hash(2).unwrap(), None);
    }
    // Readers still see the genesis until the run commits.
    assert_eq!(db.head().unwrap(), genesis);
    assert_eq!(db.latest_state().unwrap().account(&addr(3)).unwrap(), None);
    assert_eq!(db.block_by_number(1).unwrap(), None);
    append(&mut batch, &changes[1]);
    batch.commit().unwrap();
    assert_eq!(db.head().unwrap().number, 2);
    assert_eq!(
        db.state_at(1).unwrap().account(&addr(3)).unwrap(),
        Some(account(0, 7))
    );
    assert_eq!(db.latest_state().unwrap().account(&addr(3)).unwrap(), None);
}

#[test]
fn a_dropped_run_leaves_nothing_and_a_bad_block_is_refused() {
    let (_dir, db) = open();
    let genesis = db.head().unwrap();
    {
        let mut batch = db.begin_batch().unwrap();
        append(&mut batch, &run_changes()[0]);
        // Dropped without commit.
    }
    assert_eq!(db.head().unwrap(), genesis);
    assert_eq!(db.block_by_number(1).unwrap(), None);

    let mut batch = db.begin_batch().unwrap();
    let changes = &run_changes()[0];
    let (root, prepared) = batch.prepare_state_root(changes).unwrap();
    let wrong_root = seal(
        batch.head(),
        alloy_primitives::B256::repeat_byte(9),
        vec![],
        &[],
    );
    let err = batch
        .append(&wrong_root, &[], changes, prepared.clone())
        .unwrap_err();
    assert!(matches!(err, StateError::StateRootMismatch { .. }), "{err}");
    let mut orphan = seal(batch.head(), root, vec![], &[]);
    orphan.header = tally_primitives::Header {
        number: 5,
        ..orphan.header.header.clone()
    }
    .seal_slow();
    let err = batch.append(&orphan, &[], changes, prepared).unwrap_err();
    assert!(matches!(err, StateError::NotOnHead { .. }), "{err}");
    // A run with nothing appended commits nothing, and the lock is free again.
    assert!(batch.is_empty());
    batch.commit().unwrap();
    let b = commit(&db, changes, vec![]);
    assert_eq!(db.head().unwrap(), b.header);
}
