//! A full pool: eviction of the least useful transaction, or refusal.

mod common;

use common::*;
use tally_txpool::{PoolConfig, PoolError, TxPool};

fn small_pool(max_txs: usize) -> TxPool {
    TxPool::new(PoolConfig {
        max_txs,
        ..config()
    })
}

#[test]
fn a_full_pool_evicts_the_cheapest_for_a_better_paying_transaction() {
    let pool = small_pool(3);
    let state = State::default();
    let txs: Vec<_> = (0..3).map(|i| tx1559(i, 0, 100, 2 + i as u128)).collect();
    for tx in &txs {
        pool.add_raw(&raw(tx), &state).unwrap();
    }
    // Paying the same tip as the cheapest (2) is not enough.
    let err = pool
        .add_raw(&raw(&tx1559(10, 0, 100, 2)), &state)
        .unwrap_err();
    assert_eq!(
        err,
        PoolError::PoolFull {
            capacity: 3,
            min_tip: 2 * GWEI
        }
    );
    assert!(err.to_string().starts_with("txpool is full"));
    assert_eq!(pool.len(), 3);

    let rich = tx1559(11, 0, 100, 5);
    pool.add_raw(&raw(&rich), &state).unwrap();
    assert_eq!(pool.len(), 3);
    assert!(!pool.contains(txs[0].tx_hash()));
    assert!(pool.contains(rich.tx_hash()));
}

#[test]
fn queued_transactions_are_evicted_first() {
    let pool = small_pool(3);
    let state = State::default();
    let queued = tx1559(0, 5, 100, 90); // gap: queued despite its high tip
    let p1 = tx1559(1, 0, 100, 2);
    let p2 = tx1559(2, 0, 100, 3);
    for tx in [&queued, &p1, &p2] {
        pool.add_raw(&raw(tx), &state).unwrap();
    }
    // A queued newcomer does not displace pending transactions...
    let err = pool
        .add_raw(&raw(&tx1559(3, 1, 100, 50)), &state)
        .unwrap_err();
    assert!(matches!(err, PoolError::PoolFull { .. }));
    // ...but an executable one displaces the queued one, whatever its tip.
    let newcomer = tx1559(4, 0, 100, 1);
    pool.add_raw(&raw(&newcomer), &state).unwrap();
    assert!(!pool.contains(queued.tx_hash()));
    assert_eq!((pool.pending_count(), pool.queued_count()), (3, 0));
}

#[test]
fn evicting_a_pending_transaction_queues_its_sender_successors() {
    let pool = small_pool(3);
    let state = State::default();
    let a0 = tx1559(0, 0, 100, 1);
    let a1 = tx1559(0, 1, 100, 9);
    let b0 = tx1559(1, 0, 100, 5);
    for tx in [&a0, &a1, &b0] {
        pool.add_raw(&raw(tx), &state).unwrap();
    }
    pool.add_raw(&raw(&tx1559(2, 0, 100, 2)), &state).unwrap();
    assert!(!pool.contains(a0.tx_hash()));
    // a1 lost its predecessor: queued, and never offered for a block.
    assert_eq!(pool.queued_count(), 1);
    assert!(pool
        .best_transactions(BLOCK_GAS)
        .iter()
        .all(|t| t.hash != *a1.tx_hash()));
}

#[test]
fn a_sender_never_evicts_its_own_earlier_transactions() {
    let pool = small_pool(2);
    let state = State::default();
    pool.add_raw(&raw(&tx1559(0, 0, 100, 1)), &state).unwrap();
    pool.add_raw(&raw(&tx1559(1, 0, 100, 50)), &state).unwrap();
    // Sender 0's nonce 1 would only evict sender 0's nonce 0 (cheapest), which
    // would strand it; the next cheapest (tip 50) pays more, so it is refused.
    let err = pool
        .add_raw(&raw(&tx1559(0, 1, 100, 10)), &state)
        .unwrap_err();
    assert_eq!(
        err,
        PoolError::PoolFull {
            capacity: 2,
            min_tip: 50 * GWEI
        }
    );
}

#[test]
fn replacement_in_a_full_pool_needs_no_eviction() {
    let pool = small_pool(2);
    let state = State::default();
    pool.add_raw(&raw(&tx1559(0, 0, 100, 1)), &state).unwrap();
    pool.add_raw(&raw(&tx1559(1, 0, 100, 1)), &state).unwrap();
    pool.add_raw(&raw(&tx1559(0, 0, 200, 2)), &state).unwrap();
    assert_eq!(pool.len(), 2);
}

#[test]
fn the_pool_never_grows_past_its_capacity() {
    let pool = small_pool(25);
    let state = State::default();
    for i in 0..60u64 {
        let tx = tx1559(i % 20, i / 20, 100, 1 + (i * 7 % 13) as u128);
        let _ = pool.add_raw(&raw(&tx), &state);
        assert!(pool.len() <= 25);
        assert_eq!(pool.len(), pool.pending_count() + pool.queued_count());
    }
    assert_eq!(pool.len(), 25);
}
