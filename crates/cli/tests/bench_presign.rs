//! Pre-signing for `tally bench`: every raw transaction decodes, recovers to
//! its sender, and carries the planned nonce, fees, target and calldata.

#[allow(dead_code)]
#[path = "../src/bench/plan.rs"]
mod plan;

use alloy_consensus::{Transaction as _, TxEnvelope};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{Address, TxKind, U256};
use alloy_sol_types::SolCall;
use plan::{presign, Fees, Kind, Plan, PlanError, ERC20_GAS, TRANSFER_GAS};
use tally_crypto::{address_of, dev_accounts, recover_sender};

const FEES: Fees = Fees {
    max_fee_per_gas: 20_000_000_000,
    max_priority_fee_per_gas: 1_000_000_000,
};

fn plan(kind: Kind, token: Option<Address>, txs: usize) -> Plan {
    Plan {
        chain_id: 31337,
        fees: FEES,
        kind,
        token,
        token_gas: kind.default_token_gas(),
        txs,
    }
}

#[test]
fn presigned_transfers_recover_to_their_senders_in_nonce_order() {
    let keys: Vec<_> = dev_accounts(3).into_iter().map(|(k, _)| k).collect();
    let addrs: Vec<Address> = keys.iter().map(address_of).collect();
    let txs = presign(&plan(Kind::Transfer, None, 7), &keys).unwrap();
    assert_eq!(txs.len(), 7);
    for (i, signed) in txs.iter().enumerate() {
        let envelope = TxEnvelope::decode_2718(&mut signed.raw.as_ref()).unwrap();
        assert_eq!(envelope.tx_hash(), &signed.hash);
        let sender = recover_sender(&envelope).unwrap();
        assert_eq!(sender, addrs[i % 3], "tx {i}");
        assert_eq!(sender, signed.sender);
        assert_eq!(envelope.nonce(), (i / 3) as u64);
        assert_eq!(envelope.chain_id(), Some(31337));
        assert_eq!(envelope.gas_limit(), TRANSFER_GAS);
        assert_eq!(envelope.max_fee_per_gas(), FEES.max_fee_per_gas);
        assert_eq!(
            envelope.max_priority_fee_per_gas(),
            Some(FEES.max_priority_fee_per_gas)
        );
        // Each sender pays the next one.
        assert_eq!(envelope.kind(), TxKind::Call(addrs[(i + 1) % 3]));
        assert!(envelope.input().is_empty());
    }
}

#[test]
fn erc20_and_mix_call_the_token() {
    let keys: Vec<_> = dev_accounts(2).into_iter().map(|(k, _)| k).collect();
    let addrs: Vec<Address> = keys.iter().map(address_of).collect();
    let token = Address::repeat_byte(0x42);
    for kind in [Kind::Erc20, Kind::Mix] {
        let txs = presign(&plan(kind, Some(token), 6), &keys).unwrap();
        for (i, signed) in txs.iter().enumerate() {
            let envelope = TxEnvelope::decode_2718(&mut signed.raw.as_ref()).unwrap();
            assert_eq!(recover_sender(&envelope).unwrap(), addrs[i % 2]);
            let nonce = (i / 2) as u64;
            if kind.is_token_tx(nonce) {
                assert_eq!(envelope.kind(), TxKind::Call(token));
                assert_eq!(envelope.gas_limit(), ERC20_GAS);
                let call = plan::transferCall::abi_decode(envelope.input()).unwrap();
                assert_eq!(call.to, addrs[(i + 1) % 2]);
                assert_eq!(call.value, U256::from(plan::TOKEN_AMOUNT));
            } else {
                assert_eq!(kind, Kind::Mix);
                assert_eq!(envelope.kind(), TxKind::Call(addrs[(i + 1) % 2]));
            }
        }
        if kind == Kind::Mix {
            assert!(!kind.is_token_tx(0) && kind.is_token_tx(1));
        }
    }
}

#[test]
fn presign_refuses_a_plan_it_cannot_build() {
    let keys: Vec<_> = dev_accounts(1).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        presign(&plan(Kind::Erc20, None, 1), &keys),
        Err(PlanError::NoToken("erc20"))
    );
    assert_eq!(
        presign(&plan(Kind::Transfer, None, 1), &[]),
        Err(PlanError::NoSenders)
    );
}

#[test]
fn funding_covers_the_busiest_sender() {
    assert_eq!(plan::max_txs_per_sender(10, 3), 4);
    assert_eq!(plan::max_txs_per_sender(9, 3), 3);
    assert_eq!(plan::slot(7, 3), (1, 2));
    let cost = plan::max_cost_per_tx(Kind::Mix, FEES);
    assert_eq!(
        cost,
        U256::from(ERC20_GAS) * U256::from(FEES.max_fee_per_gas) + U256::from(1)
    );
}

#[test]
fn each_batch_waits_for_the_batch_with_its_senders_previous_nonces() {
    // 4 senders, batches of 2: batch 2 holds txs 4,5 whose predecessors 0,1
    // are in batch 0; batch 3 (txs 6,7) needs batch 1 (txs 2,3).
    assert_eq!(plan::depends_on(0, 2, 4, 10), None);
    assert_eq!(plan::depends_on(1, 2, 4, 10), None);
    assert_eq!(plan::depends_on(2, 2, 4, 10), Some(0));
    assert_eq!(plan::depends_on(3, 2, 4, 10), Some(1));
    // The last, short batch (tx 8 only) needs batch 2 (tx 4).
    assert_eq!(plan::depends_on(4, 2, 4, 9), Some(2));
    // With more senders than batch x concurrency, batches are independent
    // for a while: 200 senders, batches of 50 -> batch 4 waits for batch 0.
    assert_eq!(plan::depends_on(3, 50, 200, 10_000), None);
    assert_eq!(plan::depends_on(4, 50, 200, 10_000), Some(0));
    // Brute force: every tx's predecessor is in a batch <= the dependency.
    for (senders, batch, txs) in [
        (3usize, 2usize, 20usize),
        (5, 7, 40),
        (1, 1, 5),
        (10, 3, 31),
    ] {
        for j in 0..txs.div_ceil(batch) {
            let dep = plan::depends_on(j, batch, senders, txs);
            for i in j * batch..((j + 1) * batch).min(txs) {
                if let Some(prev) = i.checked_sub(senders) {
                    let prev_batch = prev / batch;
                    if prev_batch < j {
                        assert!(
                            dep.is_some_and(|d| d >= prev_batch),
                            "{senders} {batch} {j} {i}"
                        );
                    }
                }
            }
        }
    }
}
