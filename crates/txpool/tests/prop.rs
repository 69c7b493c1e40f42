//! Property: whatever arrives in whatever order, and whatever blocks commit,
//! the block selection never gives a sender's nonces out of order or with a
//! gap, never exceeds the gas limit, and the pool's counters agree.

mod common;

use std::collections::HashMap;

use alloy_primitives::{Address, Bytes, U256};
use common::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Add {
        sender: u64,
        nonce: u64,
        tip: u128,
        gas: u64,
    },
    /// Mine the sender's next transaction, if the pool has it pending.
    Mine { sender: u64 },
    /// Another node's block advanced the sender's nonce by `by`.
    External { sender: u64, by: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..4u64, 0..8u64, 1..20u128, prop::sample::select(vec![21_000u64, 50_000, 200_000]))
            .prop_map(|(sender, nonce, tip, gas)| Op::Add { sender, nonce, tip, gas }),
        2 => (0..4u64).prop_map(|sender| Op::Mine { sender }),
        1 => (0..4u64, 1..3u64).prop_map(|(sender, by)| Op::External { sender, by }),
    ]
}

fn check(pool: &tally_txpool::TxPool, state: &State, gas_limit: u64) -> Result<(), TestCaseError> {
    let best = pool.best_transactions(gas_limit);
    prop_assert!(best.iter().map(|t| t.gas_limit).sum::<u64>() <= gas_limit);
    let mut next: HashMap<Address, u64> = HashMap::new();
    for tx in &best {
        let state_nonce = state.accounts.get(&tx.sender).map_or(0, |a| a.0);
        let expected = next.entry(tx.sender).or_insert(state_nonce);
        prop_assert_eq!(
            tx.nonce,
            *expected,
            "sender {} out of order or gapped",
            tx.sender
        );
        *expected += 1;
    }
    let all = pool.best_transactions(u64::MAX);
    prop_assert_eq!(all.len(), pool.pending_count());
    prop_assert_eq!(pool.len(), pool.pending_count() + pool.queued_count());
    let mut per_sender: HashMap<Address, u64> = HashMap::new();
    for tx in &all {
        *per_sender.entry(tx.sender).or_default() += 1;
    }
    for s in 0..4 {
        let a = addr(s);
        let state_nonce = state.accounts.get(&a).map_or(0, |x| x.0);
        let expected = per_sender.get(&a).map(|n| state_nonce + n);
        prop_assert_eq!(pool.pending_nonce(&a), expected);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn selection_never_gaps_or_reorders_nonces(
        ops in prop::collection::vec(op(), 1..40),
        gas_limit in 21_000u64..400_000,
    ) {
        let pool = pool();
        let mut state = State::default();
        for s in 0..4 {
            state.set(addr(s), 0, U256::from(10u128.pow(24)));
        }
        for op in ops {
            match op {
                Op::Add { sender, nonce, tip, gas } => {
                    let tx = tx1559_full(sender, nonce, 100 * GWEI, tip * GWEI, gas, Bytes::new());
                    let _ = pool.add_raw(&raw(&tx), &state);
                }
                Op::Mine { sender } => {
                    let a = addr(sender);
                    let nonce = state.accounts[&a].0;
                    if pool.best_transactions(u64::MAX).iter().any(|t| t.sender == a && t.nonce == nonce) {
                        state.accounts.get_mut(&a).unwrap().0 += 1;
                        pool.on_block_committed(&[(a, nonce)], &state);
                    }
                }
                Op::External { sender, by } => {
                    state.accounts.get_mut(&addr(sender)).unwrap().0 += by;
                    pool.on_block_committed(&[], &state);
                }
            }
            check(&pool, &state, gas_limit)?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    /// Arbitrary bytes never panic the decoder, and whatever it accepts is
    /// the canonical encoding, so the hash clients computed over their bytes
    /// is the hash the pool and blocks use.
    #[test]
    fn decode_is_total_and_canonical(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(tx) = tally_txpool::TxPool::decode(&bytes) {
            use alloy_eips::eip2718::Encodable2718;
            prop_assert_eq!(tx.encoded_2718(), bytes);
        }
    }

    /// Flipping any byte of a valid transaction is either refused or yields a
    /// transaction whose encoding is exactly the flipped bytes.
    #[test]
    fn corrupted_transactions_decode_canonically_or_not_at_all(
        index in any::<prop::sample::Index>(),
        value in any::<u8>(),
        kind in 0..3u8,
    ) {
        let tx = match kind {
            0 => legacy(0, 3, Some(CHAIN_ID), 2),
            1 => tx1559_full(0, 7, 3 * GWEI, GWEI, 50_000, Bytes::from(vec![1, 2, 3])),
            _ => legacy(1, 0, None, 5),
        };
        let mut bytes = raw(&tx);
        let i = index.index(bytes.len());
        bytes[i] = value;
        if let Ok(decoded) = tally_txpool::TxPool::decode(&bytes) {
            use alloy_eips::eip2718::Encodable2718;
            prop_assert_eq!(decoded.encoded_2718(), bytes);
        }
    }
}
