//! Crash safety: a process killed with SIGKILL while committing blocks leaves
//! a database that opens with whole blocks only, and the chain continues.
//!
//! The test re-runs its own binary as the child that commits blocks.

mod common;

use alloy_primitives::U256;
use common::*;
use std::time::Duration;
use tally_primitives::StateChanges;
use tally_state::ChainDb;

const DIR_VAR: &str = "TALLY_CRASH_CHILD_DIR";

/// Deterministic changes of block `i`, so the parent can rebuild the state.
fn changes_of(i: u64) -> StateChanges {
    let mut c = StateChanges::default();
    c.accounts
        .insert(addr((i % 5) as u8), Some(account(i, i * 10)));
    c.storage.insert(
        addr(1),
        storage_change(false, &[(i % 7, i), ((i + 3) % 7, 0)]),
    );
    c
}

#[test]
#[ignore = "run only as the child of sigkill_leaves_whole_blocks"]
fn crash_child() {
    let Ok(dir) = std::env::var(DIR_VAR) else {
        return;
    };
    let db = ChainDb::open(&std::path::Path::new(&dir).join("chain.redb")).unwrap();
    db.init_genesis(&spec()).unwrap();
    loop {
        let i = db.head().unwrap().number + 1;
        commit(&db, &changes_of(i), vec![tx(i)]);
    }
}

#[test]
fn sigkill_leaves_whole_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--ignored", "--nocapture"])
        .env(DIR_VAR, dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    // `kill` sends SIGKILL on Unix: no destructors, no flush.
    child.kill().unwrap();
    child.wait().unwrap();

    let db = ChainDb::open(&dir.path().join("chain.redb")).unwrap();
    let head = db.head().unwrap();
    assert!(head.number > 0, "the child committed no block in time");
    let mut model = Model::from_spec(&spec());
    for i in 1..=head.number {
        model.apply(&changes_of(i));
        let b = db.block_by_number(i).unwrap().unwrap();
        assert_eq!(b.transactions, vec![tx(i)]);
        assert_eq!(db.receipts(b.hash()).unwrap().unwrap().len(), 1);
        // The transaction index too, written or read back from the blocks.
        let at = db.tx_location(*tx(i).tx_hash()).unwrap().unwrap();
        assert_eq!((at.block_hash, at.index), (b.hash(), 0));
    }
    assert_eq!(head.state_root, model.root());
    let slots: Vec<U256> = (0..7u64).map(U256::from).collect();
    let addrs: Vec<_> = (0..5u8).map(addr).collect();
    model.assert_matches(&db.latest_state().unwrap(), &addrs, &slots);
    // The chain goes on from the recovered head.
    let next = commit(&db, &changes_of(head.number + 1), vec![]);
    model.apply(&changes_of(head.number + 1));
    assert_eq!(next.header.state_root, model.root());
}
