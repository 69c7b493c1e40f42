//! Property tests: incremental state roots equal roots rebuilt from scratch,
//! history reads match a model at every height, and unwinding then
//! re-applying the same blocks gives identical roots and hashes.

mod common;

use alloy_primitives::U256;
use common::*;
use proptest::prelude::*;
use tally_primitives::{StateChanges, StorageChanges};
use tally_state::{ChainDb, StateError};

/// Small domains so that blocks overwrite, delete and wipe the same keys.
fn changes() -> impl Strategy<Value = StateChanges> {
    let acc = (0u8..6, proptest::option::of((0u64..4, 0u64..4)));
    let store = (
        0u8..6,
        any::<bool>(),
        proptest::collection::vec((0u64..6, 0u64..3), 0..5),
    );
    (
        proptest::collection::vec(acc, 0..5),
        proptest::collection::vec(store, 0..4),
    )
        .prop_map(|(accs, stores)| {
            let mut c = StateChanges::default();
            for (a, v) in accs {
                c.accounts.insert(addr(a), v.map(|(n, b)| account(n, b)));
            }
            for (a, wiped, slots) in stores {
                let entry = c
                    .storage
                    .entry(addr(a))
                    .or_insert_with(StorageChanges::default);
                // A low-probability wipe keeps most storage alive across blocks.
                entry.wiped |= wiped && a % 3 == 0;
                for (s, v) in slots {
                    entry.slots.insert(U256::from(s), U256::from(v));
                }
            }
            c
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn roots_history_and_unwind_agree_with_model(
        blocks in proptest::collection::vec(changes(), 1..7),
        back in 0usize..7,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let db = ChainDb::open(&dir.path().join("chain.redb")).unwrap();
        let spec = spec();
        db.init_genesis(&spec).unwrap();
        let mut models = vec![Model::from_spec(&spec)];
        let mut sealed = Vec::new();
        for c in &blocks {
            let b = commit(&db, c, vec![]);
            let mut m = models.last().unwrap().clone();
            m.apply(c);
            prop_assert_eq!(b.header.state_root, m.root());
            models.push(m);
            sealed.push(b);
        }
        let addrs: Vec<_> = (0u8..6).map(addr).collect();
        let slots: Vec<U256> = (0u64..6).map(U256::from).collect();
        for (n, m) in models.iter().enumerate() {
            m.assert_matches(&db.state_at(n as u64).unwrap(), &addrs, &slots);
        }

        let head = blocks.len() as u64;
        let target = head.saturating_sub(back as u64);
        let removed = db.unwind_to(target).unwrap();
        prop_assert_eq!(removed.len() as u64, head - target);
        prop_assert_eq!(db.head().unwrap().number, target);
        models[target as usize].assert_matches(&db.latest_state().unwrap(), &addrs, &slots);

        for (i, c) in blocks.iter().enumerate().skip(target as usize) {
            let b = commit(&db, c, vec![]);
            prop_assert_eq!(&b, &sealed[i]);
        }
        for (n, m) in models.iter().enumerate() {
            m.assert_matches(&db.state_at(n as u64).unwrap(), &addrs, &slots);
        }
        // Proofs on the re-applied chain verify for every address.
        let head_root = db.head().unwrap().state_root;
        for a in &addrs {
            let slot_keys: Vec<_> = slots.iter().map(|s| alloy_primitives::B256::from(*s)).collect();
            db.account_proof(*a, &slot_keys, head).unwrap().verify(&head_root).unwrap();
        }
    }

    /// A run of blocks written in one transaction, whose blocks read tree
    /// nodes that earlier blocks of the run wrote, gives the roots that
    /// block-by-block commits give, and the same state at every height;
    /// with roots checked on this thread or behind, it keeps the trees it
    /// is told to keep, whole, and the next block builds on them.
    #[test]
    fn a_run_in_one_transaction_agrees_with_the_model(
        blocks in proptest::collection::vec(changes(), 1..24),
        keep_from in 0u64..26,
        behind in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let db = ChainDb::open(&dir.path().join("chain.redb")).unwrap();
        let spec = spec();
        db.init_genesis(&spec).unwrap();
        let mut models = vec![Model::from_spec(&spec)];
        let mut batch = db.begin_batch().unwrap();
        batch.keep_trees_from(keep_from);
        for c in &blocks {
            let mut m = models.last().unwrap().clone();
            m.apply(c);
            if behind {
                let block = seal(batch.head(), m.root(), vec![], &[]);
                batch.append_deferred(&block, &[], c).unwrap();
            } else {
                let (root, prepared) = batch.prepare_state_root(c).unwrap();
                prop_assert_eq!(root, m.root());
                let block = seal(batch.head(), root, vec![], &[]);
                batch.append(&block, &[], c, prepared).unwrap();
            }
            models.push(m);
        }
        batch.commit().unwrap();
        let addrs: Vec<_> = (0u8..6).map(addr).collect();
        let slots: Vec<U256> = (0u64..6).map(U256::from).collect();
        let slot_keys: Vec<_> = slots.iter().map(|s| alloy_primitives::B256::from(*s)).collect();
        let last = blocks.len() as u64;
        for (n, m) in models.iter().enumerate() {
            let n = n as u64;
            m.assert_matches(&db.state_at(n).unwrap(), &addrs, &slots);
            let kept = n == 0 || n == last || n + 1 >= keep_from;
            let root = db.header_by_number(n).unwrap().unwrap().state_root;
            for a in &addrs {
                match db.account_proof(*a, &slot_keys, n) {
                    Ok(p) => {
                        prop_assert!(kept, "block {n}'s tree was not to be kept");
                        p.verify(&root).unwrap();
                    }
                    Err(StateError::TreeNotKept { number }) => {
                        prop_assert!(!kept && number == n, "block {n}'s tree was to be kept");
                    }
                    Err(e) => panic!("proof at {n}: {e}"),
                }
            }
        }
        let next = commit(&db, blocks.last().unwrap(), vec![]);
        for a in &addrs {
            db.account_proof(*a, &slot_keys, next.number()).unwrap().verify(&next.header.state_root).unwrap();
        }
    }
}
