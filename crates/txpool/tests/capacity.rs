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

/// A 100 KB call: gas for its calldata floor, a fee cap of 100 gwei.
fn big_tx(signer: u64, nonce: u64, tip_gwei: u128) -> Vec<u8> {
    let input = alloy_primitives::Bytes::from(vec![1u8; 100_000]);
    raw(&tx1559_full(
        signer,
        nonce,
        100 * GWEI,
        tip_gwei * GWEI,
        5_000_000,
        input,
    ))
}

/// Big nonce-gapped transactions (never minable, so never paid for) fill
/// the byte budget, not memory: past it the pool evicts the gapped first
/// and refuses what pays no more than what it would displace.
#[test]
fn the_pool_is_bounded_by_bytes_and_evicts_gapped_transactions_first() {
    let one = big_tx(0, 0, 1).len();
    let pool = TxPool::new(PoolConfig {
        max_bytes: 3 * one + one / 2,
        ..config()
    });
    let state = State::default();
    // Three gapped (queued) transactions from different senders fill it.
    for signer in 1..=3 {
        pool.add_raw(&big_tx(signer, 7, 50), &state).unwrap();
    }
    assert_eq!((pool.len(), pool.queued_count()), (3, 3));
    assert!(pool.bytes() <= 3 * one + one / 2);
    // A fourth gapped one paying no more than they do is refused, naming
    // the byte budget.
    let err = pool.add_raw(&big_tx(4, 7, 50), &state).unwrap_err();
    assert!(matches!(err, PoolError::PoolFullBytes { .. }), "{err:?}");
    assert!(err.to_string().starts_with("txpool is full: "), "{err}");
    assert!(err.to_string().contains("bytes of transactions"), "{err}");
    // An executable one displaces a gapped one, whatever their tips.
    let pending = big_tx(5, 0, 1);
    pool.add_raw(&pending, &state).unwrap();
    assert_eq!((pool.len(), pool.pending_count()), (3, 1));
    assert!(pool.bytes() <= 3 * one + one / 2);
    // Small transactions still fit beside them until the budget is spent.
    pool.add_raw(&raw(&tx1559(6, 0, 100, 2)), &state).unwrap();
    assert!(pool.bytes() <= 3 * one + one / 2);
}

/// One big transaction may displace several small ones, all or none.
#[test]
fn a_big_transaction_evicts_as_many_as_it_needs_or_none() {
    let small = raw(&tx1559(0, 0, 100, 1)).len();
    let big = big_tx(200, 0, 30);
    // Room for the big one beside one small one: adding it to 100 small
    // ones means evicting 99 of them.
    // (Half a small one of slack: signatures vary in length by a byte.)
    let limit = big.len() + small + small / 2;
    let pool = TxPool::new(PoolConfig {
        max_bytes: limit,
        ..config()
    });
    let state = State::default();
    for signer in 0..100 {
        let tip = if signer >= 98 { 90 } else { 2 };
        pool.add_raw(&raw(&tx1559(signer, 0, 100, tip)), &state)
            .expect("small transactions fit");
    }
    // The 99 include one tipping 90, more than the big one's 30: it is
    // refused and nothing is evicted.
    let err = pool.add_raw(&big, &state).unwrap_err();
    assert_eq!(
        err,
        PoolError::PoolFullBytes {
            limit,
            min_tip: 90 * GWEI
        }
    );
    assert_eq!(pool.len(), 100, "a refusal evicts nothing");
    // Tipping more than all of them, it takes their place.
    let richer = big_tx(201, 0, 95);
    pool.add_raw(&richer, &state)
        .expect("the richer big one fits");
    assert_eq!(pool.len(), 2);
    assert!(pool.bytes() <= limit);
}

#[test]
fn nonces_far_ahead_and_the_maximum_nonce_are_refused() {
    let pool = pool();
    let state = State::default();
    let limit = config().max_nonce_gap;
    pool.add_raw(&raw(&tx1559(0, limit, 100, 1)), &state)
        .expect("a nonce at the gap limit is queued");
    let err = pool
        .add_raw(&raw(&tx1559(1, limit + 1, 100, 1)), &state)
        .unwrap_err();
    assert!(
        err.to_string().starts_with("nonce too high: address"),
        "{err}"
    );
    assert!(err.to_string().contains("at most 1000 ahead"), "{err}");
    // EIP-2681: nonce 2^64 - 1 is refused, even right at the account's.
    let mut at_max = State::default();
    let sender = tally_crypto::address_of(&key(2));
    at_max
        .accounts
        .insert(sender, (u64::MAX, alloy_primitives::U256::MAX));
    let err = pool
        .add_raw(&raw(&tx1559(2, u64::MAX, 100, 1)), &at_max)
        .unwrap_err();
    assert!(err.to_string().starts_with("nonce has max value"), "{err}");
}
