//! ChainDb behaviour: genesis, block storage, history, proofs, unwind,
//! re-opening and damaged files.

mod common;

use alloy_primitives::{keccak256, Bytes, B256, U256};
use common::*;
use tally_primitives::{StateChanges, EMPTY_CODE_HASH};
use tally_state::{ChainDb, StateError};

fn open() -> (tempfile::TempDir, ChainDb) {
    let dir = tempfile::tempdir().unwrap();
    let db = ChainDb::open(&dir.path().join("chain.redb")).unwrap();
    (dir, db)
}

#[test]
fn genesis_writes_alloc_and_survives_reopen() {
    let (dir, db) = open();
    assert!(matches!(db.head(), Err(StateError::NotInitialized { .. })));
    let spec = spec();
    let g = db.init_genesis(&spec).unwrap();
    assert_eq!(g.number, 0);
    assert_eq!(g.parent_hash, B256::ZERO);
    assert_eq!(g.extra_data, Bytes::copy_from_slice(spec.hash().as_slice()));
    assert_eq!(g.gas_limit, spec.gas_limit);
    assert_eq!(g.base_fee, spec.base_fee);
    assert_eq!(g.state_root, Model::from_spec(&spec).root());
    assert_eq!(db.head().unwrap(), g);

    let state = db.latest_state().unwrap();
    let contract = state.account(&addr(1)).unwrap().unwrap();
    assert_eq!(contract.nonce, 3);
    assert_eq!(contract.balance, U256::from(5));
    let code = state.code(&contract.code_hash).unwrap().unwrap();
    assert_eq!(keccak256(&code), contract.code_hash);
    assert_eq!(
        state.storage(&addr(1), &U256::from(2)).unwrap(),
        U256::from(22)
    );
    assert_eq!(state.storage(&addr(1), &U256::from(3)).unwrap(), U256::ZERO);
    let eoa = state.account(&addr(0)).unwrap().unwrap();
    assert_eq!(eoa.code_hash, EMPTY_CODE_HASH);
    assert_eq!(state.account(&addr(9)).unwrap(), None);
    drop(state);
    drop(db);

    let db = ChainDb::open(&dir.path().join("chain.redb")).unwrap();
    assert_eq!(db.head().unwrap(), g);
    assert_eq!(db.init_genesis(&spec).unwrap(), g);

    let mut other = spec.clone();
    other.chain_id = 7;
    let err = db.init_genesis(&other).unwrap_err();
    assert!(matches!(err, StateError::SpecMismatch { .. }), "{err}");
    assert!(err.to_string().contains("chain.redb"), "{err}");
}

#[test]
fn blocks_receipts_and_tx_lookup_read_back_after_reopen() {
    let (dir, db) = open();
    db.init_genesis(&spec()).unwrap();
    let mut changes = StateChanges::default();
    changes.accounts.insert(addr(0), Some(account(2, 900)));
    let b1 = commit(&db, &changes, vec![tx(0), tx(1)]);
    let b2 = commit(&db, &StateChanges::default(), vec![tx(2)]);
    drop(db);

    let db = ChainDb::open(&dir.path().join("chain.redb")).unwrap();
    assert_eq!(db.head().unwrap(), b2.header);
    assert_eq!(db.block_by_number(1).unwrap().unwrap(), b1);
    assert_eq!(db.block_by_hash(b2.hash()).unwrap().unwrap(), b2);
    assert_eq!(db.header_by_hash(b1.hash()).unwrap().unwrap(), b1.header);
    assert_eq!(db.header_by_number(2).unwrap().unwrap(), b2.header);
    assert_eq!(db.block_by_number(3).unwrap(), None);
    assert_eq!(db.header_by_hash(B256::repeat_byte(7)).unwrap(), None);
    let receipts = db.receipts(b1.hash()).unwrap().unwrap();
    assert_eq!(receipts, vec![receipt(0), receipt(1)]);
    assert_eq!(db.receipts(B256::repeat_byte(7)).unwrap(), None);
    let loc = db.tx_location(*tx(1).tx_hash()).unwrap().unwrap();
    assert_eq!(
        (loc.block_hash, loc.block_number, loc.index),
        (b1.hash(), 1, 1)
    );
    let loc = db.tx_location(*tx(2).tx_hash()).unwrap().unwrap();
    assert_eq!((loc.block_number, loc.index), (2, 0));
    assert_eq!(db.tx_location(B256::repeat_byte(3)).unwrap(), None);
    assert_eq!(
        db.latest_state().unwrap().account(&addr(0)).unwrap(),
        Some(account(2, 900))
    );
    // State roots are the incremental ones and match a rebuild.
    let mut model = Model::from_spec(&spec());
    model.apply(&changes);
    assert_eq!(b2.header.state_root, model.root());
}

#[test]
fn state_at_returns_each_height() {
    let (_dir, db) = open();
    let spec = spec();
    db.init_genesis(&spec).unwrap();
    let mut models = vec![Model::from_spec(&spec)];
    let blocks: Vec<StateChanges> = vec![
        {
            let mut c = StateChanges::default();
            c.accounts.insert(addr(0), Some(account(1, 10)));
            c.accounts.insert(addr(3), Some(account(0, 7)));
            c.storage
                .insert(addr(1), storage_change(false, &[(1, 12), (5, 55)]));
            c
        },
        {
            let mut c = StateChanges::default();
            c.accounts.insert(addr(3), None);
            c.storage.insert(addr(1), storage_change(false, &[(1, 0)]));
            c
        },
        StateChanges::default(),
        {
            let mut c = StateChanges::default();
            c.accounts.insert(addr(0), Some(account(2, 20)));
            c.storage.insert(addr(1), storage_change(true, &[(9, 99)]));
            c
        },
        {
            let mut c = StateChanges::default();
            c.accounts.insert(addr(3), Some(account(5, 5)));
            c.storage.insert(addr(1), storage_change(false, &[(2, 23)]));
            c
        },
    ];
    for c in &blocks {
        let b = commit(&db, c, vec![]);
        let mut m = models.last().unwrap().clone();
        m.apply(c);
        assert_eq!(b.header.state_root, m.root(), "block {}", b.number());
        models.push(m);
    }
    let addrs = [addr(0), addr(1), addr(3), addr(4)];
    let slots: Vec<U256> = [1u64, 2, 5, 9, 10].iter().map(|s| U256::from(*s)).collect();
    for (n, m) in models.iter().enumerate() {
        let state = db.state_at(n as u64).unwrap();
        assert_eq!(state.number(), n as u64);
        m.assert_matches(&state, &addrs, &slots);
        let mut present: Vec<U256> = m
            .storage
            .keys()
            .filter(|(a, _)| *a == addr(1))
            .map(|(_, s)| *s)
            .collect();
        present.sort();
        assert_eq!(state.storage_slots(&addr(1)).unwrap(), present, "block {n}");
    }
    let err = db.state_at(6).err().unwrap();
    assert!(
        matches!(
            err,
            StateError::AboveHead {
                requested: 6,
                head: 5
            }
        ),
        "{err}"
    );
    // A snapshot keeps its view while blocks are committed after it.
    let before = db.latest_state().unwrap();
    let mut c = StateChanges::default();
    c.accounts.insert(addr(0), Some(account(9, 9)));
    commit(&db, &c, vec![]);
    assert_eq!(before.account(&addr(0)).unwrap(), Some(account(2, 20)));
    assert_eq!(
        db.latest_state().unwrap().account(&addr(0)).unwrap(),
        Some(account(9, 9))
    );
}

#[test]
fn proofs_verify_and_fail_when_tampered() {
    let (_dir, db) = open();
    db.init_genesis(&spec()).unwrap();
    let mut c = StateChanges::default();
    c.accounts.insert(addr(4), Some(account(1, 44)));
    c.storage.insert(addr(1), storage_change(false, &[(7, 77)]));
    let b1 = commit(&db, &c, vec![]);
    let mut c2 = StateChanges::default();
    c2.storage
        .insert(addr(1), storage_change(false, &[(7, 78)]));
    let b2 = commit(&db, &c2, vec![]);

    let slots = [
        B256::from(U256::from(7)),
        B256::from(U256::from(1)),
        B256::from(U256::from(1000)),
    ];
    let p = db.account_proof(addr(1), &slots, 2).unwrap();
    assert_eq!(p.root, b2.header.state_root);
    assert_eq!(p.storage[0].value, U256::from(78));
    assert_eq!(p.storage[1].value, U256::from(11));
    assert_eq!(p.storage[2].value, U256::ZERO);
    p.verify(&b2.header.state_root).unwrap();
    // Against another root it fails.
    assert!(p.verify(&b1.header.state_root).is_err());

    // A historical proof verifies against the historical root.
    let old = db.account_proof(addr(1), &slots[..1], 1).unwrap();
    assert_eq!(old.storage[0].value, U256::from(77));
    old.verify(&b1.header.state_root).unwrap();

    // Absent account.
    let absent = db.account_proof(addr(200), &slots[..1], 2).unwrap();
    assert_eq!(absent.account, None);
    absent.verify(&b2.header.state_root).unwrap();

    // Tampering: a claimed value, a missing account, bytes of the proof.
    let mut t = p.clone();
    t.storage[0].value = U256::from(79);
    assert!(matches!(
        t.verify(&b2.header.state_root),
        Err(StateError::InvalidProof { .. })
    ));
    let mut t = p.clone();
    t.storage[2].value = U256::from(1);
    assert!(t.verify(&b2.header.state_root).is_err());
    let mut t = p.clone();
    t.account.as_mut().unwrap().balance += U256::from(1);
    assert!(t.verify(&b2.header.state_root).is_err());
    let mut t = p.clone();
    t.account = None;
    assert!(t.verify(&b2.header.state_root).is_err());
    let mut t = absent.clone();
    t.account = Some(account(0, 1));
    assert!(t.verify(&b2.header.state_root).is_err());
    let mut t = p.clone();
    let mut bytes = t.proof.to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    t.proof = bytes.into();
    assert!(t.verify(&b2.header.state_root).is_err());
    let mut t = p.clone();
    t.proof = Bytes::from_static(&[1, 2, 3]);
    assert!(t.verify(&b2.header.state_root).is_err());
}

#[test]
fn commit_rejects_wrong_parent_stale_prepare_and_bad_root() {
    let (_dir, db) = open();
    let g = db.init_genesis(&spec()).unwrap();
    let mut c = StateChanges::default();
    c.accounts.insert(addr(0), Some(account(1, 1)));
    let (root, prepared) = db.prepare_state_root(0, &c).unwrap();

    // Wrong state root in the header.
    let bad = seal(&g, B256::repeat_byte(9), vec![], &[]);
    let err = db
        .commit_block(&bad, &[], &c, prepared.clone())
        .unwrap_err();
    assert!(matches!(err, StateError::StateRootMismatch { .. }), "{err}");

    let b1 = seal(&g, root, vec![], &[]);
    db.commit_block(&b1, &[], &c, prepared.clone()).unwrap();
    // The same block again no longer extends the head.
    let err = db.commit_block(&b1, &[], &c, prepared.clone()).unwrap_err();
    assert!(matches!(err, StateError::NotOnHead { .. }), "{err}");

    // A prepare on block 0 cannot be committed on block 1.
    let b2 = seal(&b1.header, root, vec![], &[]);
    let err = db.commit_block(&b2, &[], &c, prepared).unwrap_err();
    assert!(matches!(err, StateError::StalePrepared { .. }), "{err}");

    // prepare above the head is an error.
    assert!(matches!(
        db.prepare_state_root(5, &c),
        Err(StateError::AboveHead { .. })
    ));

    // A prepare made before a reorg replaced its parent is refused.
    let mut c2 = StateChanges::default();
    c2.accounts.insert(addr(5), Some(account(0, 5)));
    let (_, before_reorg) = db.prepare_state_root(1, &c2).unwrap();
    db.unwind_to(0).unwrap();
    let mut other = StateChanges::default();
    other.accounts.insert(addr(6), Some(account(0, 6)));
    let b1b = commit(&db, &other, vec![]);
    let b2b = seal(&b1b.header, before_reorg.root(), vec![], &[]);
    let err = db.commit_block(&b2b, &[], &c2, before_reorg).unwrap_err();
    assert!(matches!(err, StateError::StalePrepared { .. }), "{err}");
}

#[test]
fn unwind_restores_state_blocks_and_root() {
    let (dir, db) = open();
    let spec = spec();
    db.init_genesis(&spec).unwrap();
    let mut c1 = StateChanges::default();
    c1.accounts.insert(addr(0), Some(account(1, 1)));
    c1.storage
        .insert(addr(1), storage_change(false, &[(1, 0), (3, 33)]));
    c1.code.insert(keccak256([1u8]), Bytes::from_static(&[1]));
    let b1 = commit(&db, &c1, vec![tx(0)]);
    let mut c2 = StateChanges::default();
    c2.accounts.insert(addr(1), None);
    c2.storage.insert(addr(1), storage_change(true, &[]));
    let b2 = commit(&db, &c2, vec![tx(1)]);
    let b3 = commit(&db, &StateChanges::default(), vec![tx(2)]);

    let removed = db.unwind_to(1).unwrap();
    assert_eq!(removed, vec![b3.clone(), b2.clone()]);
    assert_eq!(db.head().unwrap(), b1.header);
    assert_eq!(db.block_by_number(2).unwrap(), None);
    assert_eq!(db.block_by_hash(b3.hash()).unwrap(), None);
    assert_eq!(db.tx_location(*tx(1).tx_hash()).unwrap(), None);
    assert!(db.tx_location(*tx(0).tx_hash()).unwrap().is_some());
    assert_eq!(db.receipts(b2.hash()).unwrap(), None);
    let mut m = Model::from_spec(&spec);
    m.apply(&c1);
    let slots: Vec<U256> = (0..5u64).map(U256::from).collect();
    m.assert_matches(&db.latest_state().unwrap(), &[addr(0), addr(1)], &slots);
    assert!(matches!(db.state_at(2), Err(StateError::AboveHead { .. })));
    assert!(db.unwind_to(5).is_err());
    assert_eq!(db.unwind_to(1).unwrap(), vec![]);

    // Re-applying the same blocks gives the same blocks and roots.
    let (root2, p2) = db.prepare_state_root(1, &c2).unwrap();
    assert_eq!(root2, b2.header.state_root);
    db.commit_block(&b2, &[receipt(0)], &c2, p2).unwrap();
    let (root3, p3) = db.prepare_state_root(2, &StateChanges::default()).unwrap();
    assert_eq!(root3, b3.header.state_root);
    db.commit_block(&b3, &[receipt(0)], &StateChanges::default(), p3)
        .unwrap();
    drop(db);
    let db = ChainDb::open(&dir.path().join("chain.redb")).unwrap();
    assert_eq!(db.head().unwrap(), b3.header);
    let p = db
        .account_proof(addr(1), &[B256::from(U256::from(3))], 3)
        .unwrap();
    assert_eq!(p.account, None);
    assert_eq!(p.storage[0].value, U256::ZERO);
    p.verify(&b3.header.state_root).unwrap();
}

#[test]
fn damaged_database_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.redb");
    std::fs::write(
        &path,
        b"this is not a database at all, just some text".repeat(100),
    )
    .unwrap();
    let err = ChainDb::open(&path).err().unwrap();
    assert!(err.to_string().contains("chain.redb"), "{err}");
}

#[test]
fn handle_is_send_sync_clone() {
    fn check<T: Send + Sync + Clone>() {}
    fn check_snapshot<T: Send + Sync>() {}
    check::<ChainDb>();
    check_snapshot::<tally_state::StateSnapshot>();
}

#[test]
fn block_with_receipts_follows_the_canonical_chain() {
    let (_dir, db) = open();
    db.init_genesis(&spec()).unwrap();
    let b1 = commit(&db, &StateChanges::default(), vec![tx(0), tx(1)]);
    let b2 = commit(&db, &StateChanges::default(), vec![tx(2)]);

    // Read twice: the second read is the shared, already decoded copy, and
    // both are what the block and receipt reads give.
    let first = db.block_with_receipts(b2.hash()).unwrap().unwrap();
    let again = db.block_with_receipts(b2.hash()).unwrap().unwrap();
    assert!(std::sync::Arc::ptr_eq(&first, &again));
    assert_eq!(first.block, b2);
    assert_eq!(
        Some(first.receipts.clone()),
        db.receipts(b2.hash()).unwrap()
    );

    // Once a reorg abandons block 2 it is not served, though it was read.
    db.unwind_to(1).unwrap();
    assert_eq!(db.block_with_receipts(b2.hash()).unwrap(), None);
    let b1_read = db.block_with_receipts(b1.hash()).unwrap().unwrap();
    assert_eq!(b1_read.block, b1);
    assert_eq!(b1_read.receipts.len(), 2);
    assert_eq!(db.block_with_receipts(B256::repeat_byte(7)).unwrap(), None);

    // Many blocks later the oldest copies are dropped and read again.
    let mut later = Vec::new();
    for n in 0..100u64 {
        later.push(commit(&db, &StateChanges::default(), vec![tx(10 + n)]));
    }
    for b in later.iter().chain([&b1]) {
        let read = db.block_with_receipts(b.hash()).unwrap().unwrap();
        assert_eq!(&read.block, b);
    }
}
