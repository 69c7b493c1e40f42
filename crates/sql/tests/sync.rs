//! Following the chain: reorgs, unwinds, restarts and stops mid-sync end
//! with exactly the rows of the canonical chain.

mod common;

use std::cell::Cell;

use alloy_primitives::B256;
use common::*;
use proptest::prelude::*;
use serde_json::json;
use tally_sql::{BlockSource, Index, IndexError, IndexedBlock, Progress, SourceError};

#[derive(Clone, Debug)]
enum Op {
    /// The chain grows by this many blocks.
    Extend(u64),
    /// The last `k` blocks are replaced by `n` of a new branch.
    Reorg {
        k: u64,
        n: u64,
    },
    Sync,
    /// A sync that the node stops after this many block reads.
    SyncStopped(u64),
    /// The node restarts: the index is dropped and opened from its file.
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1u64..6).prop_map(Op::Extend),
        2 => (1u64..5, 0u64..7).prop_map(|(k, n)| Op::Reorg { k, n }),
        3 => Just(Op::Sync),
        2 => (0u64..8).prop_map(Op::SyncStopped),
        1 => Just(Op::Reopen),
    ]
}

/// The index's blocks are canonical and contiguous from genesis.
fn assert_prefix(index: &Index, chain: &Chain) {
    let got = rows(
        index,
        "SELECT number, hash FROM blocks ORDER BY number",
        &[],
    );
    for (i, row) in got.iter().enumerate() {
        assert_eq!(row[0], json!(i), "a gap or a duplicate at {i}");
        let hash = chain.blocks[i].block.hash();
        assert_eq!(
            row[1],
            json!(format!("{hash:#x}")),
            "block {i} is not canonical"
        );
    }
    assert_eq!(
        index.stats().head,
        got.len().checked_sub(1).map(|n| n as u64)
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn any_history_ends_with_the_canonical_rows(ops in prop::collection::vec(op(), 1..14)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.sqlite");
        let mut chain = Chain::default();
        chain.extend(1, 0);
        let mut branch = 0;
        let mut index = Index::open_with(&path, small_batches()).unwrap();
        for op in ops {
            match op {
                Op::Extend(n) => chain.extend(n, branch),
                Op::Reorg { k, n } => {
                    branch += 1;
                    chain.reorg(k, n, branch);
                }
                Op::Sync => {
                    index.sync(&chain, &mut no_progress()).unwrap();
                    assert_prefix(&index, &chain);
                    prop_assert_eq!(index.stats().head, Some(chain.blocks.len() as u64 - 1));
                }
                Op::SyncStopped(budget) => {
                    let source = Failing { inner: &chain, budget: Cell::new(budget) };
                    let _ = index.sync(&source, &mut no_progress());
                    assert_prefix(&index, &chain);
                }
                Op::Reopen => {
                    drop(index);
                    index = Index::open_with(&path, small_batches()).unwrap();
                }
            }
        }
        index.sync(&chain, &mut no_progress()).unwrap();
        assert_prefix(&index, &chain);
        prop_assert_eq!(dump(&index), fresh_dump(&chain));
        prop_assert_eq!(stored_balances(&index), balances_from_transfers(&index));
    }
}

#[test]
fn a_reorg_deletes_the_abandoned_rows_in_every_table() {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path().join("i.sqlite")).unwrap();
    let mut chain = Chain::default();
    chain.push(0, &[]);
    chain.push(
        0,
        &[(
            Tx::Erc20 {
                from: 1,
                token: 1,
                to: 2,
                amount: 5,
            },
            1,
        )],
    );
    chain.push(
        0,
        &[
            (
                Tx::Stamp {
                    from: 1,
                    docs: 2,
                    salt: 9,
                },
                2,
            ),
            (Tx::Create { from: 2, ok: true }, 2),
            (Tx::Issue { from: 3, id: 1 }, 2),
            (
                Tx::Trace {
                    from: 4,
                    product: 3,
                },
                2,
            ),
            (Tx::Revoke { from: 1, doc: 1 }, 2),
        ],
    );
    index.sync(&chain, &mut no_progress()).unwrap();
    let count = |table: &str| scalar(&index, &format!("SELECT COUNT(*) FROM {table}"), &[]);
    for table in [
        "notary_batches",
        "notary_documents",
        "notary_revocations",
        "trace_products",
        "trace_events",
        "assets",
        "contracts",
    ] {
        assert_ne!(count(table), json!(0), "{table} is empty before the reorg");
    }
    assert_eq!(count("token_transfers"), json!(2));

    // Block 2 is replaced by an empty block of another branch.
    chain.blocks.pop();
    chain.push(7, &[]);
    let report = index.sync(&chain, &mut no_progress()).unwrap();
    assert_eq!(
        (report.unwound, report.indexed, report.head),
        (1, 1, Some(2))
    );
    for table in [
        "notary_batches",
        "notary_documents",
        "notary_revocations",
        "trace_products",
        "trace_events",
        "assets",
        "contracts",
    ] {
        assert_eq!(
            count(table),
            json!(0),
            "{table} kept rows of the abandoned block"
        );
    }
    assert_eq!(count("token_transfers"), json!(1));
    assert_eq!(dump(&index), fresh_dump(&chain));
    assert_eq!(index.stats().blocks_unwound, 1);
}

#[test]
fn an_unwind_to_a_shorter_chain_and_to_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path().join("i.sqlite")).unwrap();
    let mut chain = Chain::default();
    chain.extend(30, 0);
    index.sync(&chain, &mut no_progress()).unwrap();
    chain.blocks.truncate(12);
    let report = index.sync(&chain, &mut no_progress()).unwrap();
    assert_eq!(
        (report.unwound, report.indexed, report.head),
        (18, 0, Some(11))
    );
    assert_eq!(dump(&index), fresh_dump(&chain));

    // A different genesis: nothing matches, everything goes.
    let mut other = Chain::default();
    other.extend(3, 5);
    let report = index.sync(&other, &mut no_progress()).unwrap();
    assert_eq!((report.unwound, report.indexed), (12, 3));
    assert_eq!(dump(&index), fresh_dump(&other));

    let report = index.sync(&Chain::default(), &mut no_progress()).unwrap();
    assert_eq!((report.unwound, report.head), (3, None));
    assert_eq!(scalar(&index, "SELECT COUNT(*) FROM logs", &[]), json!(0));
    assert_eq!(index.stats().head, None);
}

#[test]
fn a_deep_reorg_finds_the_fork_with_few_reads() {
    struct Counting<'a> {
        chain: &'a Chain,
        hashes: Cell<u64>,
    }
    impl BlockSource for Counting<'_> {
        fn head(&self) -> Result<Option<(u64, B256)>, SourceError> {
            self.chain.head()
        }
        fn block(&self, n: u64) -> Result<Option<IndexedBlock>, SourceError> {
            self.chain.block(n)
        }
        fn hash(&self, n: u64) -> Result<Option<B256>, SourceError> {
            self.hashes.set(self.hashes.get() + 1);
            self.chain.hash(n)
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path().join("i.sqlite")).unwrap();
    let mut chain = Chain::default();
    chain.extend(400, 0);
    index.sync(&chain, &mut no_progress()).unwrap();
    chain.reorg(300, 310, 1);
    let source = Counting {
        chain: &chain,
        hashes: Cell::new(0),
    };
    let report = index.sync(&source, &mut no_progress()).unwrap();
    assert_eq!((report.unwound, report.indexed), (300, 310));
    assert!(
        source.hashes.get() < 40,
        "{} hash reads",
        source.hashes.get()
    );
    assert_eq!(dump(&index), fresh_dump(&chain));
}

#[test]
fn a_stop_mid_batch_keeps_whole_blocks_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("i.sqlite");
    let mut chain = Chain::default();
    chain.extend(20, 0);
    {
        let index = Index::open_with(&path, small_batches()).unwrap();
        let source = Failing {
            inner: &chain,
            budget: Cell::new(7),
        };
        let err = index.sync(&source, &mut no_progress()).unwrap_err();
        assert!(matches!(err, IndexError::Source(_)), "{err}");
        assert!(err.to_string().contains("the node is stopping"), "{err}");
        // 7 blocks were read: all of them are kept, whole.
        assert_eq!(index.stats().head, Some(6));
        let txs = scalar(&index, "SELECT SUM(tx_count) FROM blocks", &[]);
        assert_eq!(
            txs,
            scalar(&index, "SELECT COUNT(*) FROM transactions", &[]),
            "a block without all its transactions"
        );
    }
    let index = Index::open_with(&path, small_batches()).unwrap();
    assert_eq!(index.stats().head, Some(6));
    let report = index.sync(&chain, &mut no_progress()).unwrap();
    assert_eq!(report.indexed, 13);
    assert_eq!(dump(&index), fresh_dump(&chain));
}

#[test]
fn a_reorg_during_the_sync_is_followed() {
    // The source switches to another branch after some block reads, as a
    // node's chain can while the index reads it.
    struct Switching {
        before: Chain,
        after: Chain,
        reads: Cell<u64>,
    }
    impl Switching {
        fn now(&self) -> &Chain {
            if self.reads.get() < 6 {
                &self.before
            } else {
                &self.after
            }
        }
    }
    impl BlockSource for Switching {
        fn head(&self) -> Result<Option<(u64, B256)>, SourceError> {
            self.now().head()
        }
        fn block(&self, n: u64) -> Result<Option<IndexedBlock>, SourceError> {
            self.reads.set(self.reads.get() + 1);
            self.now().block(n)
        }
        fn hash(&self, n: u64) -> Result<Option<B256>, SourceError> {
            self.now().hash(n)
        }
    }
    let mut before = Chain::default();
    before.extend(12, 0);
    let mut after = before.clone();
    after.reorg(9, 11, 1);
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open_with(dir.path().join("i.sqlite"), small_batches()).unwrap();
    let source = Switching {
        before,
        after: after.clone(),
        reads: Cell::new(0),
    };
    index.sync(&source, &mut no_progress()).unwrap();
    assert_eq!(dump(&index), fresh_dump(&after));
}

#[test]
fn progress_is_reported_per_batch_and_stats_count() {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open_with(dir.path().join("i.sqlite"), small_batches()).unwrap();
    let mut chain = Chain::default();
    chain.extend(10, 0);
    let mut seen = Vec::new();
    let report = index
        .sync(&chain, &mut |p: Progress| seen.push((p.indexed, p.head)))
        .unwrap();
    assert!(seen.len() >= 4, "batches of at most 3 blocks: {seen:?}");
    assert_eq!(seen.last(), Some(&(Some(9), 9)));
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "{seen:?}");
    let stats = index.stats();
    assert_eq!(
        (stats.head, stats.blocks, stats.blocks_indexed),
        (Some(9), 10, 10)
    );
    assert_eq!(stats.head_hash, Some(chain.blocks[9].block.hash()));
    assert_eq!(stats.rows_written, report.rows);
    let total: u64 = [
        "blocks",
        "transactions",
        "logs",
        "token_transfers",
        "contracts",
        "notary_batches",
        "notary_documents",
        "notary_revocations",
        "trace_products",
        "trace_events",
        "assets",
    ]
    .iter()
    .map(|t| {
        scalar(&index, &format!("SELECT COUNT(*) FROM {t}"), &[])
            .as_u64()
            .unwrap()
    })
    .sum();
    assert_eq!(stats.rows_written, total);
    // Already at the head: nothing to do, nothing reported.
    let mut calls = 0;
    let again = index.sync(&chain, &mut |_| calls += 1).unwrap();
    assert_eq!((again.indexed, again.unwound, calls), (0, 0, 0));
}

#[test]
fn a_source_missing_a_block_below_its_head_is_an_error() {
    struct Holey(Chain);
    impl BlockSource for Holey {
        fn head(&self) -> Result<Option<(u64, B256)>, SourceError> {
            self.0.head()
        }
        fn block(&self, n: u64) -> Result<Option<IndexedBlock>, SourceError> {
            if n == 3 {
                return Ok(None);
            }
            self.0.block(n)
        }
    }
    let mut chain = Chain::default();
    chain.extend(6, 0);
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path().join("i.sqlite")).unwrap();
    let err = index.sync(&Holey(chain), &mut no_progress()).unwrap_err();
    assert!(
        matches!(err, IndexError::MissingBlock { number: 3, head: 5 }),
        "{err}"
    );
    assert_eq!(index.stats().head, Some(2));
}

#[test]
fn a_block_inconsistent_with_its_receipts_is_refused() {
    let mut chain = Chain::default();
    chain.push(
        0,
        &[(
            Tx::Pay {
                from: 1,
                to: 2,
                value: 3,
            },
            0,
        )],
    );
    chain.blocks[0].receipts.clear();
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path().join("i.sqlite")).unwrap();
    let err = index.sync(&chain, &mut no_progress()).unwrap_err();
    assert!(
        matches!(err, IndexError::Malformed { number: 0, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("1 transactions but 0 receipts"),
        "{err}"
    );
    assert_eq!(index.stats().head, None);
}
