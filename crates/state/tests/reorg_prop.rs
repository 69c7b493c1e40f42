//! Reorgs at the state layer: unwinding to a common ancestor and applying
//! another branch in one write transaction gives the state, roots and
//! blocks of a database that only ever saw that branch; a reorg dropped
//! before its commit (a crash) leaves the old branch whole.

mod common;

use common::*;
use proptest::prelude::*;
use tally_primitives::StateChanges;
use tally_state::ChainDb;

fn changes() -> impl Strategy<Value = StateChanges> {
    proptest::collection::vec((0u8..6, proptest::option::of((0u64..4, 0u64..9))), 0..5).prop_map(
        |accs| {
            let mut c = StateChanges::default();
            for (a, v) in accs {
                c.accounts.insert(addr(a), v.map(|(n, b)| account(n, b)));
            }
            c
        },
    )
}

fn fresh() -> (tempfile::TempDir, ChainDb) {
    let dir = tempfile::tempdir().unwrap();
    let db = ChainDb::open(&dir.path().join("chain.redb")).unwrap();
    db.init_genesis(&spec()).unwrap();
    (dir, db)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn a_reorg_in_one_transaction_equals_the_winning_branch_alone(
        common_part in proptest::collection::vec(changes(), 0..4),
        old_branch in proptest::collection::vec(changes(), 1..5),
        new_branch in proptest::collection::vec(changes(), 1..6),
        crash in any::<bool>(),
    ) {
        let (_d1, db) = fresh();
        let (_d2, witness) = fresh();
        for c in &common_part {
            commit(&db, c, vec![]);
            commit(&witness, c, vec![]);
        }
        let ancestor = db.head().unwrap();
        let old: Vec<_> = old_branch.iter().map(|c| commit(&db, c, vec![])).collect();
        let new: Vec<_> = new_branch.iter().map(|c| commit(&witness, c, vec![])).collect();

        let mut batch = db.begin_batch().unwrap();
        let removed = batch.unwind_to(ancestor.number).unwrap();
        prop_assert_eq!(removed.len(), old.len());
        for ((block, _), expected) in removed.iter().zip(old.iter().rev()) {
            prop_assert_eq!(block, expected);
            batch.put_side_block(block, 1).unwrap();
        }
        for (block, c) in new.iter().zip(&new_branch) {
            let (root, prepared) = batch.prepare_state_root(c).unwrap();
            prop_assert_eq!(root, block.header.state_root);
            batch.append(block, &[], c, prepared).unwrap();
        }
        let addrs: Vec<_> = (0u8..6).map(addr).collect();
        let read = |db: &ChainDb| {
            let s = db.latest_state().unwrap();
            addrs.iter().map(|a| s.account(a).unwrap()).collect::<Vec<_>>()
        };
        if crash {
            // Dropped before commit: the old branch is untouched.
            drop(batch);
            let path = db.path().to_path_buf();
            drop(db);
            let reopened = ChainDb::open(&path).unwrap();
            prop_assert_eq!(reopened.head().unwrap(), old.last().unwrap().header.clone());
            prop_assert!(reopened.side_block(&old[0].hash()).unwrap().is_none());
            return Ok(());
        }
        batch.commit().unwrap();
        let path = db.path().to_path_buf();
        drop(db);
        let reopened = ChainDb::open(&path).unwrap();
        prop_assert_eq!(reopened.head().unwrap(), witness.head().unwrap());
        prop_assert_eq!(read(&reopened), read(&witness));
        for n in 0..=witness.head().unwrap().number {
            prop_assert_eq!(
                reopened.header_by_number(n).unwrap(),
                witness.header_by_number(n).unwrap()
            );
        }
        // The unwound blocks are kept as side blocks (unless the new branch
        // holds the very same block).
        for b in old.iter().filter(|b| !new.contains(b)) {
            prop_assert!(reopened.side_block(&b.hash()).unwrap().is_some());
            prop_assert!(reopened.header_by_hash(b.hash()).unwrap().is_none());
        }
    }
}
