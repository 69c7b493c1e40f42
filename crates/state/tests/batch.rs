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

/// The run of [`run_changes`] committed block by block, for the roots and
/// hashes a deferred run must reproduce.
fn reference_chain() -> (tempfile::TempDir, Vec<SealedBlock>) {
    let (dir, db) = open();
    let blocks = run_changes()
        .iter()
        .enumerate()
        .map(|(i, c)| commit(&db, c, vec![tx(i as u64)]))
        .collect();
    (dir, blocks)
}

#[test]
fn a_run_gives_the_chain_block_by_block_commits_give() {
    let (_a, expected) = reference_chain();

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

/// Proofs of account 0 and slot 1 of account 1 at `n`, checked against the
/// block's state root.
fn proofs_at(db: &ChainDb, n: u64) -> Result<(), StateError> {
    let root = db.header_by_number(n).unwrap().unwrap().state_root;
    db.account_proof(addr(0), &[], n)?.verify(&root).unwrap();
    db.account_proof(addr(1), &[U256::from(1).into()], n)?
        .verify(&root)
        .unwrap();
    Ok(())
}

#[test]
fn a_run_keeps_the_trees_it_is_told_to_keep_and_refuses_proofs_at_others() {
    let (_a, expected) = reference_chain();

    let (_dir, db) = open();
    let mut batch = db.begin_batch().unwrap();
    batch.keep_trees_from(4);
    let got: Vec<SealedBlock> = run_changes()
        .iter()
        .map(|c| append(&mut batch, c))
        .collect();
    batch.commit().unwrap();
    assert_eq!(got, expected, "every block's root is still verified");

    proofs_at(&db, 0).unwrap();
    for n in 1..=2 {
        let err = proofs_at(&db, n).unwrap_err();
        assert!(
            matches!(err, StateError::TreeNotKept { number } if number == n),
            "{err}"
        );
        // The plain state of those blocks is still there.
        assert!(db.state_at(n).is_ok());
    }
    // The tree the first kept block builds on is whole too.
    for n in 3..=5 {
        proofs_at(&db, n).unwrap();
    }

    // Unwinding needs the target's tree: refused into the run, allowed to a kept block.
    let err = db.unwind_to(2).unwrap_err();
    assert!(
        matches!(err, StateError::TreeNotKept { number: 2 }),
        "{err}"
    );
    assert_eq!(db.head().unwrap(), expected[4].header);
    db.unwind_to(4).unwrap();
    assert_eq!(db.head().unwrap(), expected[3].header);
    proofs_at(&db, 4).unwrap();

    // A run that keeps no tree but its last builds on the kept head.
    let mut batch = db.begin_batch().unwrap();
    batch.keep_trees_from(u64::MAX);
    let more = [run_changes()[4].clone(), run_changes()[0].clone()];
    let last = more.iter().map(|c| append(&mut batch, c)).last().unwrap();
    batch.commit().unwrap();
    assert_eq!(db.head().unwrap(), last.header);
    assert!(matches!(
        proofs_at(&db, 5),
        Err(StateError::TreeNotKept { number: 5 })
    ));
    proofs_at(&db, 6).unwrap();
    let next = commit(&db, &run_changes()[1], vec![]);
    proofs_at(&db, next.number()).unwrap();
}

#[test]
fn roots_checked_behind_give_the_chain_block_by_block_commits_give() {
    let (_a, expected) = reference_chain();
    let (_b, db) = open();
    let mut batch = db.begin_batch().unwrap();
    batch.keep_trees_from(4);
    for (i, c) in run_changes().iter().enumerate() {
        let receipts = vec![receipt(0)];
        let block = seal(
            batch.head(),
            expected[i].header.state_root,
            vec![tx(i as u64)],
            &receipts,
        );
        assert_eq!(block, expected[i]);
        batch.append_deferred(&block, &receipts, c).unwrap();
    }
    // A run checking roots behind cannot also take synchronously prepared blocks.
    assert!(batch.prepare_state_root(&run_changes()[0]).is_err());
    batch.finish_roots().unwrap();
    batch.commit().unwrap();

    assert_eq!(db.head().unwrap(), expected[4].header);
    for n in 1..=2 {
        assert!(matches!(
            proofs_at(&db, n),
            Err(StateError::TreeNotKept { .. })
        ));
    }
    for n in 3..=5 {
        proofs_at(&db, n).unwrap();
    }
    let next = commit(&db, &run_changes()[1], vec![]);
    proofs_at(&db, next.number()).unwrap();
}

#[test]
fn a_wrong_root_found_behind_refuses_the_whole_run() {
    let (_a, expected) = reference_chain();
    let (_b, db) = open();
    let genesis = db.head().unwrap();
    let mut batch = db.begin_batch().unwrap();
    let changes = run_changes();
    for (i, c) in changes.iter().take(2).enumerate() {
        batch
            .append_deferred(&expected[i], &[receipt(0)], c)
            .unwrap();
    }
    let receipts = vec![receipt(0)];
    let forged = seal(
        batch.head(),
        alloy_primitives::B256::repeat_byte(9),
        vec![tx(2)],
        &receipts,
    );
    // Written at once; its root is checked behind.
    batch
        .append_deferred(&forged, &receipts, &changes[2])
        .unwrap();
    let err = batch.finish_roots().unwrap_err();
    assert!(
        matches!(err, StateError::StateRootMismatch { number: 3, computed, .. }
            if computed == expected[2].header.state_root),
        "{err}"
    );
    // Asked again, the run still refuses; committing it is refused too.
    assert!(matches!(
        batch.finish_roots(),
        Err(StateError::StateRootMismatch { number: 3, .. })
    ));
    let err = batch.commit().unwrap_err();
    assert!(
        matches!(err, StateError::StateRootMismatch { number: 3, .. }),
        "{err}"
    );
    // Nothing of the run is stored, and the database takes blocks again.
    assert_eq!(db.head().unwrap(), genesis);
    assert_eq!(db.block_by_number(1).unwrap(), None);
    let b = commit(&db, &changes[0], vec![tx(0)]);
    assert_eq!(b, expected[0]);
}
