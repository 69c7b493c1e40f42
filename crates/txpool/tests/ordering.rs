//! Queueing, promotion, block selection and the block-commit lifecycle.

mod common;

use alloy_primitives::{Bytes, B256, U256};
use common::*;
use tally_txpool::PooledTx;

fn hashes(txs: &[PooledTx]) -> Vec<B256> {
    txs.iter().map(|t| t.hash).collect()
}

#[test]
fn nonce_gap_is_queued_then_promoted_when_filled() {
    let pool = pool();
    let state = State::default();
    let t2 = tx1559(0, 2, 2, 1);
    let t1 = tx1559(0, 1, 2, 1);
    let t0 = tx1559(0, 0, 2, 1);
    pool.add_raw(&raw(&t2), &state).unwrap();
    pool.add_raw(&raw(&t1), &state).unwrap();
    assert_eq!((pool.pending_count(), pool.queued_count()), (0, 2));
    assert_eq!(pool.pending_nonce(&addr(0)), None);
    assert!(pool.best_transactions(BLOCK_GAS).is_empty());
    assert_eq!(pool.queued_transactions().len(), 2);

    pool.add_raw(&raw(&t0), &state).unwrap();
    assert_eq!((pool.pending_count(), pool.queued_count()), (3, 0));
    assert_eq!(pool.pending_nonce(&addr(0)), Some(3));
    assert_eq!(
        hashes(&pool.best_transactions(BLOCK_GAS)),
        vec![*t0.tx_hash(), *t1.tx_hash(), *t2.tx_hash()]
    );
}

#[test]
fn senders_are_ordered_by_tip_and_each_sender_by_nonce() {
    let pool = pool();
    let state = State::default();
    // Sender 0: a low-tip first nonce hides a high-tip second one.
    let a0 = tx1559(0, 0, 100, 1);
    let a1 = tx1559(0, 1, 100, 50);
    let b0 = tx1559(1, 0, 100, 10);
    let c0 = tx1559(2, 0, 100, 5);
    // Legacy: tip = gas price - base fee = 8 - 1 gwei.
    let d0 = legacy(3, 0, Some(CHAIN_ID), 8);
    // Fee cap limits the tip: min(30, 3 - 1) = 2.
    let e0 = tx1559(4, 0, 3, 3);
    for tx in [&a1, &a0, &b0, &c0, &d0, &e0] {
        pool.add_raw(&raw(tx), &state).unwrap();
    }
    let best = pool.best_transactions(BLOCK_GAS);
    assert_eq!(
        hashes(&best),
        vec![
            *b0.tx_hash(),
            *d0.tx_hash(),
            *c0.tx_hash(),
            *e0.tx_hash(),
            *a0.tx_hash(),
            *a1.tx_hash()
        ]
    );
    assert_eq!(hashes(&pool.pending_transactions()), hashes(&best));
}

#[test]
fn equal_tips_keep_arrival_order() {
    let pool = pool();
    let txs: Vec<_> = (0..5).map(|i| tx1559(i, 0, 2, 1)).collect();
    for tx in &txs {
        pool.add_raw(&raw(tx), &State::default()).unwrap();
    }
    let expected: Vec<B256> = txs.iter().map(|t| *t.tx_hash()).collect();
    assert_eq!(hashes(&pool.best_transactions(BLOCK_GAS)), expected);
}

#[test]
fn selection_respects_the_gas_limit_and_skips_what_does_not_fit() {
    let pool = pool();
    let state = State::default();
    let big = tx1559_full(0, 0, 100 * GWEI, 50 * GWEI, 100_000, Bytes::new());
    let after_big = tx1559(0, 1, 100, 40);
    let small: Vec<_> = (1..=3).map(|i| tx1559(i, 0, 100, 10 - i as u128)).collect();
    pool.add_raw(&raw(&big), &state).unwrap();
    pool.add_raw(&raw(&after_big), &state).unwrap();
    for tx in &small {
        pool.add_raw(&raw(tx), &state).unwrap();
    }
    // 90k gas: the 100k transaction does not fit, nor can its successor run
    // without it; the three 21k ones do.
    let best = pool.best_transactions(90_000);
    assert_eq!(
        hashes(&best),
        small.iter().map(|t| *t.tx_hash()).collect::<Vec<_>>()
    );
    // 150k: big (100k) + after_big (21k) + one small (21k) = 142k.
    let best = pool.best_transactions(150_000);
    assert_eq!(
        hashes(&best),
        vec![*big.tx_hash(), *after_big.tx_hash(), *small[0].tx_hash()]
    );
    assert!(best.iter().map(|t| t.gas_limit).sum::<u64>() <= 150_000);
    assert!(pool.best_transactions(20_999).is_empty());
}

#[test]
fn block_candidates_count_the_least_gas_a_transaction_uses_not_its_limit() {
    let pool = pool();
    let state = State::default();
    // Five 100k-limit transactions of one sender, two of another.
    let big: Vec<_> = (0..5)
        .map(|n| tx1559_full(0, n, 100 * GWEI, 10 * GWEI, 100_000, Bytes::new()))
        .collect();
    let other: Vec<_> = (0..2).map(|n| tx1559(1, n, 100, 5)).collect();
    for tx in big.iter().chain(&other) {
        pool.add_raw(&raw(tx), &state).unwrap();
    }
    // By limits, 250k gas holds two of the big ones (200k) and the two
    // 21k ones.
    assert_eq!(pool.best_transactions(250_000).len(), 4);
    // By use, up to eleven 21k transactions fit: all seven are candidates
    // while each one's own limit fits what could be left.
    let candidates = pool.block_candidates(250_000);
    assert_eq!(
        hashes(&candidates),
        big.iter()
            .chain(&other)
            .map(|t| *t.tx_hash())
            .collect::<Vec<_>>()
    );
    // 120k: after one 21k use, 99k could be left, below a big one's limit;
    // that ends its sender's run, the small ones still come.
    let candidates = pool.block_candidates(120_000);
    assert_eq!(
        hashes(&candidates),
        vec![*big[0].tx_hash(), *other[0].tx_hash(), *other[1].tx_hash()]
    );
    assert!(pool.block_candidates(20_999).is_empty());
}

#[test]
fn block_commit_removes_mined_and_stale_and_promotes_queued() {
    let pool = pool();
    let mut state = State::default();
    let a: Vec<_> = (0..3).map(|n| tx1559(0, n, 2, 1)).collect();
    let b_queued = tx1559(1, 2, 2, 1);
    let c0 = tx1559(2, 0, 2, 1);
    for tx in a.iter().chain([&b_queued, &c0]) {
        pool.add_raw(&raw(tx), &state).unwrap();
    }
    assert_eq!((pool.pending_count(), pool.queued_count()), (4, 1));

    // The block mined sender 0's nonces 0 and 1. Sender 1's nonces 0 and 1
    // came in another node's transactions, which closes its gap. Sender 2
    // was not touched.
    state.set(addr(0), 2, U256::from(10u128.pow(24)));
    state.set(addr(1), 2, U256::from(10u128.pow(24)));
    pool.on_block_committed(&[(addr(0), 0), (addr(0), 1)], &state);

    assert!(!pool.contains(a[0].tx_hash()));
    assert!(!pool.contains(a[1].tx_hash()));
    assert!(pool.contains(a[2].tx_hash()));
    assert_eq!((pool.pending_count(), pool.queued_count()), (3, 0));
    assert_eq!(pool.pending_nonce(&addr(0)), Some(3));
    assert_eq!(pool.pending_nonce(&addr(1)), Some(3));
    let best = hashes(&pool.best_transactions(BLOCK_GAS));
    assert_eq!(best.len(), 3);
    assert!(best.contains(b_queued.tx_hash()));

    // A later block moved sender 2 past its only transaction without the
    // pool hearing of the mined pair: it goes as stale.
    state.set(addr(2), 1, U256::from(10u128.pow(24)));
    pool.on_block_committed(&[], &state);
    assert!(!pool.contains(c0.tx_hash()));
    assert_eq!(pool.len(), 2);
}

#[test]
fn mined_pair_alone_advances_the_sender_even_if_state_is_unreadable() {
    struct Broken;
    impl tally_txpool::AccountReader for Broken {
        fn nonce_and_balance(&self, _: &alloy_primitives::Address) -> Result<(u64, U256), String> {
            Err("unavailable".into())
        }
    }
    let pool = pool();
    for n in 0..3 {
        pool.add_raw(&raw(&tx1559(0, n, 2, 1)), &State::default())
            .unwrap();
    }
    pool.on_block_committed(&[(addr(0), 0)], &Broken);
    assert_eq!((pool.pending_count(), pool.queued_count()), (2, 0));
}

#[test]
fn a_balance_drop_demotes_what_is_no_longer_affordable() {
    let pool = pool();
    let mut state = State::default();
    let cost = U256::from(21_000u128 * 2 * GWEI + 1);
    state.set(addr(0), 0, cost * U256::from(3));
    let txs: Vec<_> = (0..3).map(|n| tx1559(0, n, 2, 1)).collect();
    for tx in &txs {
        pool.add_raw(&raw(tx), &state).unwrap();
    }
    assert_eq!(pool.pending_count(), 3);
    state.set(addr(0), 0, cost * U256::from(2));
    pool.on_block_committed(&[], &state);
    assert_eq!((pool.pending_count(), pool.queued_count()), (2, 1));
    assert_eq!(pool.pending_nonce(&addr(0)), Some(2));
    // Less than one transaction's cost: none can ever run, all are dropped.
    state.set(addr(0), 0, cost - U256::from(1));
    pool.on_block_committed(&[], &state);
    assert!(pool.is_empty());
}

#[test]
fn batch_inserts_in_order_and_reports_each_result() {
    let pool = pool();
    let mut state = State::default();
    state.set(addr(3), 5, U256::from(10u128.pow(24)));
    let txs = [
        tx1559(0, 1, 2, 1), // queued, then promoted by the next
        tx1559(0, 0, 2, 1), // ok
        tx1559(1, 0, 2, 3), // tip above cap
        tx1559(3, 4, 2, 1), // nonce too low
        tx1559(2, 0, 2, 1), // ok
    ];
    let raws: Vec<Bytes> = txs.iter().map(|t| raw(t).into()).collect();
    let mut all = raws.clone();
    all.push(Bytes::from(vec![0xc0])); // malformed
    let results = pool.add_raw_batch(&all, &state);
    assert_eq!(results.len(), 6);
    assert_eq!(results[0], Ok(*txs[0].tx_hash()));
    assert_eq!(results[1], Ok(*txs[1].tx_hash()));
    assert!(results[2]
        .as_ref()
        .unwrap_err()
        .to_string()
        .starts_with("max priority fee"));
    assert!(results[3]
        .as_ref()
        .unwrap_err()
        .to_string()
        .starts_with("nonce too low"));
    assert_eq!(results[4], Ok(*txs[4].tx_hash()));
    assert!(results[5].is_err());
    assert_eq!((pool.pending_count(), pool.queued_count()), (3, 0));
    assert_eq!(pool.get(txs[0].tx_hash()).unwrap().sender, addr(0));
}

#[test]
fn removing_a_pending_transaction_queues_its_successors() {
    let pool = pool();
    let txs: Vec<_> = (0..3).map(|n| tx1559(0, n, 2, 1)).collect();
    for tx in &txs {
        pool.add_raw(&raw(tx), &State::default()).unwrap();
    }
    assert!(pool.remove(txs[1].tx_hash()));
    assert!(!pool.remove(txs[1].tx_hash()));
    assert_eq!((pool.pending_count(), pool.queued_count()), (1, 1));
    assert_eq!(pool.pending_nonce(&addr(0)), Some(1));
}

#[test]
fn a_transaction_checked_against_stale_state_is_promoted_on_refresh() {
    let pool = pool();
    let mut state = State::default();
    // Nonce 0 was mined by a block the admission did not see yet: checked
    // against the old state, nonce 1 looks like it follows a gap.
    let stale = State::default();
    state.set(addr(0), 1, U256::from(10u128.pow(24)));
    pool.on_block_committed(&[(addr(0), 0)], &state);
    let t1 = tx1559(0, 1, 2, 1);
    pool.add_raw(&raw(&t1), &stale).unwrap();
    assert_eq!((pool.pending_count(), pool.queued_count()), (0, 1));

    pool.refresh_account(&addr(0), &state);
    assert_eq!((pool.pending_count(), pool.queued_count()), (1, 0));
    assert_eq!(
        hashes(&pool.best_transactions(BLOCK_GAS)),
        vec![*t1.tx_hash()]
    );
}
