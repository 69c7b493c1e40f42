//! Every admission rule, with real signed transactions.

mod common;

use alloy_consensus::{SignableTransaction, Transaction, TxEip1559, TxEip2930, TxEnvelope};
use alloy_eips::eip2930::{AccessList, AccessListItem};
use alloy_primitives::{uint, Address, Bytes, Signature, TxKind, B256, U256};
use common::*;
use tally_txpool::{PoolError, TxPool};

fn add(pool: &TxPool, tx: &TxEnvelope) -> Result<B256, PoolError> {
    pool.add_raw(&raw(tx), &State::default())
}

#[test]
fn decodes_all_three_types_and_rejects_trailing_bytes() {
    let txs = [
        legacy(0, 0, Some(CHAIN_ID), 2),
        tx2930(
            0,
            1,
            TxEip2930 {
                chain_id: CHAIN_ID,
                gas_price: 2 * GWEI,
                gas_limit: 21_000,
                to: TxKind::Call(Address::ZERO),
                ..Default::default()
            },
        ),
        tx1559(0, 2, 2, 1),
    ];
    for tx in &txs {
        let mut bytes = raw(tx);
        assert_eq!(TxPool::decode(&bytes).unwrap(), *tx);
        bytes.push(0);
        let err = TxPool::decode(&bytes).unwrap_err();
        assert!(
            matches!(&err, PoolError::Decode(m) if m.contains("1 trailing bytes")),
            "{err}"
        );
    }
    assert!(matches!(TxPool::decode(&[]), Err(PoolError::Decode(_))));
    assert!(matches!(
        TxPool::decode(&[0x85, 1, 2]),
        Err(PoolError::Decode(_))
    ));
    // Truncated: every prefix of a valid transaction fails cleanly.
    let whole = raw(&txs[2]);
    for len in 1..whole.len() {
        assert!(
            TxPool::decode(&whole[..len]).is_err(),
            "prefix of {len} bytes decoded"
        );
    }
}

#[test]
fn blob_and_set_code_types_are_refused_with_a_reason() {
    for (ty, word) in [(3u8, "blob"), (4u8, "set-code")] {
        let err = TxPool::decode(&[ty, 0xc0]).unwrap_err();
        assert_eq!(
            err,
            PoolError::TxTypeNotSupported {
                ty,
                reason: match ty {
                    3 => "EIP-4844 blob transactions are not accepted",
                    _ => "EIP-7702 set-code transactions are not accepted",
                }
            }
        );
        assert!(err
            .to_string()
            .starts_with("transaction type not supported"));
        assert!(err.to_string().contains(word));
    }
}

/// Garbage is not "a transaction type not supported": the answer says the
/// bytes are not a valid transaction encoding (what wallets show).
#[test]
fn garbage_and_invalid_rlp_are_not_a_valid_encoding() {
    for raw in [
        &[0x05, 0xc0][..],
        &[0x00, 0xc0],
        &[0x00],
        b"hello world",
        &[0x02, 0xf8, 0xff, 0x01],
        &[0xf8, 0x02, 0x01],
        &[0x80],
    ] {
        let err = TxPool::decode(raw).unwrap_err();
        assert!(matches!(err, PoolError::Decode(_)), "{raw:?}: {err:?}");
        let text = err.to_string();
        assert!(
            text.starts_with("invalid transaction encoding: "),
            "{raw:?}: {text}"
        );
        assert!(!text.contains("type not supported"), "{raw:?}: {text}");
    }
    let text = TxPool::decode(&[0x00, 0xc0]).unwrap_err().to_string();
    assert!(
        text.contains("first byte 0x00 is not a transaction type"),
        "{text}"
    );
}

#[test]
fn chain_id_is_checked_for_eip155_and_typed_but_pre155_is_accepted() {
    let pool = pool();
    let err = add(&pool, &legacy(0, 0, Some(1), 2)).unwrap_err();
    assert_eq!(
        err,
        PoolError::InvalidChainId {
            got: 1,
            expected: CHAIN_ID
        }
    );
    assert!(err.to_string().starts_with("invalid chain id"));

    let typed = sign_transaction_with_chain(7);
    assert_eq!(
        add(&pool, &typed).unwrap_err(),
        PoolError::InvalidChainId {
            got: 7,
            expected: CHAIN_ID
        }
    );

    let pre155 = legacy(0, 0, None, 2);
    assert_eq!(add(&pool, &pre155).unwrap(), *pre155.tx_hash());
    assert_eq!(pool.get(pre155.tx_hash()).unwrap().sender, addr(0));
}

fn sign_transaction_with_chain(chain_id: u64) -> TxEnvelope {
    tally_crypto::sign_transaction(
        &key(0),
        TxEip1559 {
            chain_id,
            gas_limit: 21_000,
            max_fee_per_gas: 2 * GWEI,
            to: TxKind::Call(Address::ZERO),
            ..Default::default()
        },
    )
}

#[test]
fn high_s_signature_is_an_invalid_sender() {
    const N: U256 = uint!(0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141_U256);
    let good = tx1559(0, 0, 2, 1);
    let TxEnvelope::Eip1559(signed) = &good else {
        unreachable!()
    };
    let sig = signed.signature();
    // (r, n - s) with the parity flipped is the same signature in its
    // malleable high-s form: secp256k1 accepts it, EIP-2 forbids it.
    let high = Signature::new(sig.r(), N - sig.s(), !sig.v());
    let bad: TxEnvelope = signed.tx().clone().into_signed(high).into();
    let err = add(&pool(), &bad).unwrap_err();
    assert!(
        matches!(&err, PoolError::InvalidSender(m) if m.contains("upper half")),
        "{err}"
    );
    assert!(err.to_string().starts_with("invalid sender"));

    // r = 0 is not a signature at all.
    let zero = Signature::new(U256::ZERO, sig.s(), sig.v());
    let bad: TxEnvelope = signed.tx().clone().into_signed(zero).into();
    assert!(matches!(
        add(&pool(), &bad),
        Err(PoolError::InvalidSender(_))
    ));
}

#[test]
fn nonce_below_the_account_nonce_is_too_low() {
    let pool = pool();
    let mut state = State::default();
    state.set(addr(0), 5, U256::from(10u128.pow(20)));
    let err = pool.add_raw(&raw(&tx1559(0, 4, 2, 1)), &state).unwrap_err();
    assert_eq!(
        err,
        PoolError::NonceTooLow {
            address: addr(0),
            tx_nonce: 4,
            state_nonce: 5
        }
    );
    assert!(err.to_string().starts_with("nonce too low"));
    assert!(pool.add_raw(&raw(&tx1559(0, 5, 2, 1)), &state).is_ok());
}

#[test]
fn balance_must_cover_this_and_earlier_pooled_transactions() {
    let pool = pool();
    let cost = U256::from(21_000u128 * 2 * GWEI + 1);
    let mut state = State::default();
    state.set(addr(0), 0, cost * U256::from(2) - U256::from(1));
    let err = pool.add_raw(&raw(&tx1559(1, 0, 2, 1)), &state);
    assert!(err.is_ok(), "other senders unaffected");

    let mut poor = State::default();
    poor.set(addr(0), 0, cost - U256::from(1));
    let err = pool.add_raw(&raw(&tx1559(0, 0, 2, 1)), &poor).unwrap_err();
    assert!(err
        .to_string()
        .starts_with("insufficient funds for gas * price + value"));

    pool.add_raw(&raw(&tx1559(0, 0, 2, 1)), &state).unwrap();
    let err = pool.add_raw(&raw(&tx1559(0, 1, 2, 1)), &state).unwrap_err();
    assert_eq!(
        err,
        PoolError::InsufficientFunds {
            address: addr(0),
            balance: cost * U256::from(2) - U256::from(1),
            pooled_cost: cost,
            tx_cost: cost,
        }
    );
}

#[test]
fn intrinsic_gas_counts_calldata_creation_and_access_lists() {
    let pool = pool();
    let err = add(
        &pool,
        &tx1559_full(0, 0, 2 * GWEI, GWEI, 20_999, Bytes::new()),
    )
    .unwrap_err();
    assert_eq!(
        err,
        PoolError::IntrinsicGasTooLow {
            gas: 20_999,
            needed: 21_000
        }
    );
    assert!(err.to_string().starts_with("intrinsic gas too low"));

    // 2 zero bytes (4 each) + 2 non-zero (16 each) = 40.
    let data = Bytes::from(vec![0, 0, 1, 2]);
    let err = add(
        &pool,
        &tx1559_full(0, 0, 2 * GWEI, GWEI, 21_039, data.clone()),
    )
    .unwrap_err();
    assert_eq!(
        err,
        PoolError::IntrinsicGasTooLow {
            gas: 21_039,
            needed: 21_040
        }
    );
    // Meeting the standard cost is not enough: the EIP-7623 floor is
    // 10 per token (zero byte 1 token, non-zero 4) = 21000 + 100.
    assert_eq!(
        add(
            &pool,
            &tx1559_full(0, 0, 2 * GWEI, GWEI, 21_040, data.clone())
        )
        .unwrap_err(),
        PoolError::FloorDataGas {
            gas: 21_040,
            needed: 21_100
        }
    );
    add(&pool, &tx1559_full(0, 0, 2 * GWEI, GWEI, 21_100, data)).unwrap();

    // Creation: +32000, and EIP-3860 2 gas per 32-byte word of initcode:
    // 33 non-zero bytes = 528 calldata + 2 words * 2 = 4.
    let create = |gas_limit| {
        tally_crypto::sign_transaction(
            &key(1),
            TxEip1559 {
                chain_id: CHAIN_ID,
                gas_limit,
                max_fee_per_gas: 2 * GWEI,
                to: TxKind::Create,
                input: Bytes::from(vec![0x60; 33]),
                ..Default::default()
            },
        )
    };
    let needed = 21_000 + 32_000 + 33 * 16 + 2 * 2;
    assert_eq!(
        add(&pool, &create(needed - 1)).unwrap_err(),
        PoolError::IntrinsicGasTooLow {
            gas: needed - 1,
            needed
        }
    );
    add(&pool, &create(needed)).unwrap();

    // Access list: 2400 per address, 1900 per storage key.
    let with_list = |gas_limit| {
        tx2930(
            2,
            0,
            TxEip2930 {
                chain_id: CHAIN_ID,
                gas_price: 2 * GWEI,
                gas_limit,
                to: TxKind::Call(Address::ZERO),
                access_list: AccessList(vec![AccessListItem {
                    address: Address::repeat_byte(1),
                    storage_keys: vec![B256::ZERO, B256::repeat_byte(1)],
                }]),
                ..Default::default()
            },
        )
    };
    let needed = 21_000 + 2_400 + 2 * 1_900;
    assert_eq!(
        add(&pool, &with_list(needed - 1)).unwrap_err(),
        PoolError::IntrinsicGasTooLow {
            gas: needed - 1,
            needed
        }
    );
    add(&pool, &with_list(needed)).unwrap();
}

#[test]
fn calldata_floor_and_initcode_limit_apply() {
    let pool = pool();
    // 100 non-zero bytes: standard cost 21000 + 1600, EIP-7623 floor 21000 + 4000.
    let data = Bytes::from(vec![1; 100]);
    let err = add(
        &pool,
        &tx1559_full(0, 0, 2 * GWEI, GWEI, 22_600, data.clone()),
    )
    .unwrap_err();
    assert_eq!(
        err,
        PoolError::FloorDataGas {
            gas: 22_600,
            needed: 25_000
        }
    );
    add(&pool, &tx1559_full(0, 0, 2 * GWEI, GWEI, 25_000, data)).unwrap();

    let big = tally_crypto::sign_transaction(
        &key(1),
        TxEip1559 {
            chain_id: CHAIN_ID,
            gas_limit: 10_000_000,
            max_fee_per_gas: 2 * GWEI,
            to: TxKind::Create,
            input: Bytes::from(vec![0; 49_153]),
            ..Default::default()
        },
    );
    assert_eq!(
        add(&pool, &big).unwrap_err(),
        PoolError::MaxInitCodeSizeExceeded {
            size: 49_153,
            limit: 49_152
        }
    );
}

#[test]
fn block_gas_limit_and_size_limit() {
    let pool = pool();
    let err = add(
        &pool,
        &tx1559_full(0, 0, 2 * GWEI, GWEI, BLOCK_GAS + 1, Bytes::new()),
    )
    .unwrap_err();
    assert_eq!(
        err,
        PoolError::ExceedsBlockGasLimit {
            gas: BLOCK_GAS + 1,
            limit: BLOCK_GAS
        }
    );
    assert!(err.to_string().starts_with("exceeds block gas limit"));

    let data = Bytes::from(vec![1u8; 128 * 1024]);
    let tx = tx1559_full(0, 0, 2 * GWEI, GWEI, 10_000_000, data);
    let size = raw(&tx).len();
    let err = add(&pool, &tx).unwrap_err();
    assert_eq!(
        err,
        PoolError::OversizedData {
            size,
            limit: 128 * 1024
        }
    );
    assert!(err.to_string().starts_with("oversized data"));
}

#[test]
fn fee_cap_below_base_fee_and_tip_above_fee_cap() {
    let pool = pool();
    let err = add(&pool, &tx1559_full(0, 0, GWEI - 1, 0, 21_000, Bytes::new())).unwrap_err();
    assert_eq!(
        err,
        PoolError::FeeCapBelowBaseFee {
            max_fee: GWEI - 1,
            base_fee: BASE_FEE
        }
    );
    assert!(err
        .to_string()
        .starts_with("max fee per gas less than block base fee"));
    // Legacy gas price is its fee cap.
    let err = add(&pool, &legacy(0, 0, Some(CHAIN_ID), 0)).unwrap_err();
    assert!(matches!(
        err,
        PoolError::FeeCapBelowBaseFee { max_fee: 0, .. }
    ));

    let err = add(&pool, &tx1559(0, 0, 2, 3)).unwrap_err();
    assert_eq!(
        err,
        PoolError::TipAboveFeeCap {
            tip: 3 * GWEI,
            max_fee: 2 * GWEI
        }
    );
    assert!(err
        .to_string()
        .starts_with("max priority fee per gas higher than max fee per gas"));
}

#[test]
fn same_hash_twice_is_already_known() {
    let pool = pool();
    let tx = tx1559(0, 0, 2, 1);
    add(&pool, &tx).unwrap();
    let err = add(&pool, &tx).unwrap_err();
    assert_eq!(err, PoolError::AlreadyKnown);
    assert_eq!(err.to_string(), "already known");
    // Also within one batch.
    let other = tx1559(1, 0, 2, 1);
    let r = pool.add_raw_batch(&[raw(&other).into(), raw(&other).into()], &State::default());
    assert_eq!(r[0], Ok(*other.tx_hash()));
    assert_eq!(r[1], Err(PoolError::AlreadyKnown));
}

#[test]
fn replacement_needs_both_fee_cap_and_tip_bumped() {
    let pool = pool();
    let old = tx1559(0, 0, 10, 2);
    add(&pool, &old).unwrap();

    // +5% on both: too little.
    let small = tx1559_full(0, 0, 10_500_000_000, 2_100_000_000, 21_000, Bytes::new());
    let err = add(&pool, &small).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("replacement transaction underpriced"),
        "{err}"
    );
    assert!(matches!(
        err,
        PoolError::ReplacementUnderpriced {
            min_fee: 11_000_000_000,
            min_tip: 2_200_000_000,
            bump_percent: 10
        }
    ));
    // Fee cap bumped, tip not.
    let fee_only = tx1559_full(0, 0, 20 * GWEI, 2 * GWEI, 21_000, Bytes::new());
    assert!(matches!(
        add(&pool, &fee_only),
        Err(PoolError::ReplacementUnderpriced { .. })
    ));
    assert!(pool.contains(old.tx_hash()));

    // +10% on both: replaces.
    let new = tx1559_full(0, 0, 11 * GWEI, 2_200_000_000, 21_000, Bytes::new());
    add(&pool, &new).unwrap();
    assert!(!pool.contains(old.tx_hash()));
    assert_eq!(pool.len(), 1);
    assert_eq!(pool.pending_count(), 1);
    assert_eq!(pool.best_transactions(BLOCK_GAS)[0].hash, *new.tx_hash());
}

#[test]
fn per_sender_limit_refuses_more_but_allows_replacement() {
    let pool = TxPool::new(tally_txpool::PoolConfig {
        max_per_sender: 2,
        ..config()
    });
    add(&pool, &tx1559(0, 0, 2, 1)).unwrap();
    add(&pool, &tx1559(0, 1, 2, 1)).unwrap();
    let err = add(&pool, &tx1559(0, 2, 2, 1)).unwrap_err();
    assert_eq!(
        err,
        PoolError::AccountLimitExceeded {
            address: addr(0),
            limit: 2
        }
    );
    add(&pool, &tx1559(0, 1, 4, 2)).unwrap();
    add(&pool, &tx1559(1, 0, 2, 1)).unwrap();
}

#[test]
fn pooled_tx_caches_fee_figures() {
    let pool = pool();
    let tx = tx1559(0, 0, 5, 3);
    add(&pool, &tx).unwrap();
    let p = pool.get(tx.tx_hash()).unwrap();
    assert_eq!(p.sender, addr(0));
    assert_eq!(p.nonce, 0);
    assert_eq!(p.gas_limit, 21_000);
    assert_eq!(p.max_fee_per_gas, 5 * GWEI);
    assert_eq!(p.max_priority_fee_per_gas, 3 * GWEI);
    assert_eq!(p.cost, U256::from(21_000 * 5 * GWEI + 1));
    assert_eq!(p.encoded_len, raw(&tx).len());
    assert_eq!(p.effective_tip(BASE_FEE), 3 * GWEI);
    assert_eq!(p.effective_tip(4 * BASE_FEE), GWEI);
    assert_eq!(p.tx.nonce(), 0);
}

#[test]
fn state_read_failure_is_reported() {
    struct Broken;
    impl tally_txpool::AccountReader for Broken {
        fn nonce_and_balance(&self, _: &Address) -> Result<(u64, U256), String> {
            Err("disk on fire".into())
        }
    }
    let err = pool()
        .add_raw(&raw(&tx1559(0, 0, 2, 1)), &Broken)
        .unwrap_err();
    assert!(err.to_string().contains("disk on fire"));
}

#[test]
fn gas_above_the_eip7825_cap_is_refused_even_below_the_block_limit() {
    let pool = pool();
    let cap = tally_txpool::validate::MAX_TX_GAS;
    assert!(
        cap < BLOCK_GAS,
        "the test needs a block limit above the cap"
    );
    let err = add(
        &pool,
        &tx1559_full(0, 0, 2 * GWEI, GWEI, cap + 1, Bytes::new()),
    )
    .unwrap_err();
    assert_eq!(err, PoolError::GasLimitTooHigh { gas: cap + 1, cap });
    assert!(add(&pool, &tx1559_full(0, 0, 2 * GWEI, GWEI, cap, Bytes::new())).is_ok());
}
