//! The transaction index (`ChainDb::tx_location`): the newest blocks'
//! entries are kept in memory and written to the file in batches, and a
//! reader must not tell the difference — before and after a batch is
//! written, across reopening, reorgs and discarded runs.

mod common;

use alloy_primitives::B256;
use common::*;
use tally_primitives::{Receipt, SealedBlock, StateChanges};
use tally_state::{BlockBatch, ChainDb};

/// More blocks than are ever kept in memory before a batch is written.
const BLOCKS: u64 = 600;

fn path(dir: &tempfile::TempDir) -> std::path::PathBuf {
    dir.path().join("chain.redb")
}

/// Appends a block with `txs` and no state changes on the head of `batch`.
fn append(batch: &mut BlockBatch<'_>, txs: Vec<alloy_consensus::TxEnvelope>) -> SealedBlock {
    let changes = StateChanges::default();
    let (root, prepared) = batch.prepare_state_root(&changes).unwrap();
    let receipts: Vec<Receipt> = (0..txs.len() as u64).map(receipt).collect();
    let block = seal(batch.head(), root, txs, &receipts);
    batch.append(&block, &receipts, &changes, prepared).unwrap();
    block
}

/// Asserts that `tx(nonce)` is at `(block, index)`, or nowhere.
fn assert_at(db: &ChainDb, nonce: u64, at: Option<(&SealedBlock, u64)>) {
    let found = db.tx_location(*tx(nonce).tx_hash()).unwrap();
    let found = found.map(|l| (l.block_hash, l.block_number, l.index));
    let expected = at.map(|(b, i)| (b.hash(), b.number(), i));
    assert_eq!(found, expected, "transaction with nonce {nonce}");
}

/// Block `n` of the first chain holds `tx(n)`; blocks past [`BLOCKS`] hold
/// two transactions.
fn first_chain(db: &ChainDb) -> Vec<SealedBlock> {
    db.init_genesis(&spec()).unwrap();
    let mut batch = db.begin_batch().unwrap();
    let mut blocks: Vec<SealedBlock> = (1..=BLOCKS)
        .map(|n| append(&mut batch, vec![tx(n)]))
        .collect();
    batch.commit().unwrap();
    // Then block by block: these stay in memory.
    for n in BLOCKS + 1..=BLOCKS + 10 {
        blocks.push(commit(
            db,
            &StateChanges::default(),
            vec![tx(n), tx(n + 1000)],
        ));
    }
    blocks
}

#[test]
fn every_transaction_is_found_before_and_after_its_batch_is_written_and_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let db = ChainDb::open(&path(&dir)).unwrap();
    let blocks = first_chain(&db);
    let check = |db: &ChainDb| {
        for b in &blocks {
            let n = b.number();
            assert_at(db, n, Some((b, 0)));
            if n > BLOCKS {
                assert_at(db, n + 1000, Some((b, 1)));
            }
        }
        assert_at(db, 5_000, None);
        assert_eq!(db.tx_location(B256::repeat_byte(9)).unwrap(), None);
    };
    check(&db);
    drop(db);
    // The file holds the written batch; the blocks after it are read back.
    let db = ChainDb::open(&path(&dir)).unwrap();
    check(&db);
}

#[test]
fn a_reorg_below_the_written_batch_moves_and_forgets_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let db = ChainDb::open(&path(&dir)).unwrap();
    let old = first_chain(&db);
    // Back below the last written batch, then a new branch that carries
    // one of the abandoned transactions at another position.
    let fork = BLOCKS - 5;
    let mut batch = db.begin_batch().unwrap();
    batch.unwind_to(fork).unwrap();
    let moved = append(&mut batch, vec![tx(9_000), tx(BLOCKS - 2)]);
    batch.commit().unwrap();
    let newer = commit(&db, &StateChanges::default(), vec![tx(9_001)]);

    let check = |db: &ChainDb| {
        for b in &old[..fork as usize] {
            assert_at(db, b.number(), Some((b, 0)));
        }
        for n in (fork + 1..=BLOCKS + 10).filter(|n| *n != BLOCKS - 2) {
            assert_at(db, n, None);
            assert_at(db, n + 1000, None);
        }
        assert_at(db, BLOCKS - 2, Some((&moved, 1)));
        assert_at(db, 9_000, Some((&moved, 0)));
        assert_at(db, 9_001, Some((&newer, 0)));
    };
    check(&db);
    drop(db);
    let db = ChainDb::open(&path(&dir)).unwrap();
    check(&db);

    // The chain grows past the next batch: still the same answers.
    let mut batch = db.begin_batch().unwrap();
    let later: Vec<SealedBlock> = (0..BLOCKS)
        .map(|i| append(&mut batch, vec![tx(20_000 + i)]))
        .collect();
    batch.commit().unwrap();
    check(&db);
    for (i, b) in later.iter().enumerate() {
        assert_at(&db, 20_000 + i as u64, Some((b, 0)));
    }
}

#[test]
fn a_discarded_run_leaves_no_entries() {
    let dir = tempfile::tempdir().unwrap();
    let db = ChainDb::open(&path(&dir)).unwrap();
    let blocks = first_chain(&db);
    let head = blocks.last().unwrap().number();
    {
        let mut batch = db.begin_batch().unwrap();
        batch.unwind_to(head - 3).unwrap();
        append(&mut batch, vec![tx(7_000)]);
        // Dropped without commit.
    }
    assert_at(&db, 7_000, None);
    for b in &blocks[blocks.len() - 3..] {
        assert_at(&db, b.number(), Some((b, 0)));
    }
    // Enough blocks after it that the next batch is written: it holds the
    // committed chain only.
    let mut batch = db.begin_batch().unwrap();
    for i in 0..BLOCKS {
        append(&mut batch, vec![tx(30_000 + i)]);
    }
    batch.commit().unwrap();
    drop(db);
    let db = ChainDb::open(&path(&dir)).unwrap();
    assert_at(&db, 7_000, None);
    for b in &blocks {
        assert_at(&db, b.number(), Some((b, 0)));
    }
}
