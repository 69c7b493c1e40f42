//! Executor behaviour through its public API, on an in-memory state.

use alloy_consensus::{TxEip1559, TxLegacy};
use alloy_primitives::{address, b256, hex, Address, Bytes, TxKind, B256, U256};
use std::collections::HashMap;
use tally_crypto::{address_of, secret_key, sign_transaction, SecretKey};
use tally_executor::{
    call, execute_block, BlockBuilder, BlockEnv, CallRequest, ExecError, StateSource,
    StateSourceError,
};
use tally_primitives::Account;

const KEY0: B256 = b256!("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
const COINBASE: Address = address!("00000000000000000000000000000000000c0ffe");
const GWEI: u128 = 1_000_000_000;

#[derive(Default)]
struct MemState {
    accounts: HashMap<Address, Account>,
}

impl StateSource for MemState {
    fn account(&self, a: &Address) -> Result<Option<Account>, StateSourceError> {
        Ok(self.accounts.get(a).copied())
    }
    fn storage(&self, _: &Address, _: &U256) -> Result<U256, StateSourceError> {
        Ok(U256::ZERO)
    }
    fn code(&self, _: &B256) -> Result<Option<Bytes>, StateSourceError> {
        Ok(None)
    }
    fn block_hash(&self, _: u64) -> Result<Option<B256>, StateSourceError> {
        Ok(None)
    }
}

fn setup() -> (SecretKey, Address, MemState, BlockEnv) {
    let key = secret_key(KEY0.as_slice()).unwrap();
    let sender = address_of(&key);
    let mut state = MemState::default();
    state.accounts.insert(
        sender,
        Account {
            balance: U256::from(10u128.pow(21)),
            ..Default::default()
        },
    );
    let env = BlockEnv {
        chain_id: 31337,
        number: 1,
        timestamp: 1000,
        beneficiary: COINBASE,
        gas_limit: 30_000_000,
        base_fee: GWEI as u64,
        prevrandao: B256::ZERO,
        rewards: Vec::new(),
        evidence: Vec::new(),
    };
    (key, sender, state, env)
}

fn transfer(key: &SecretKey, nonce: u64, to: Address, value: u64) -> alloy_consensus::TxEnvelope {
    sign_transaction(
        key,
        TxEip1559 {
            chain_id: 31337,
            nonce,
            gas_limit: 21_000,
            max_fee_per_gas: 3 * GWEI,
            max_priority_fee_per_gas: 2 * GWEI,
            to: TxKind::Call(to),
            value: U256::from(value),
            ..Default::default()
        },
    )
}

#[test]
fn transfer_pays_value_tip_to_beneficiary_and_burns_base_fee() {
    let (key, sender, state, env) = setup();
    let to = Address::repeat_byte(0x42);
    let txs = vec![transfer(&key, 0, to, 1234), transfer(&key, 1, to, 1)];
    let out = execute_block(&state, env, &txs, &[sender, sender]).unwrap();
    assert_eq!(out.gas_used, 42_000);
    assert_eq!(out.receipts[1].cumulative_gas_used, 42_000);
    assert!(out.receipts.iter().all(|r| r.success));
    let recipient = out.changes.accounts[&to].unwrap();
    assert_eq!(recipient.balance, U256::from(1235));
    let tip = out.changes.accounts[&COINBASE].unwrap();
    assert_eq!(tip.balance, U256::from(2 * GWEI * 42_000));
    let s = out.changes.accounts[&sender].unwrap();
    assert_eq!(s.nonce, 2);
    let spent = U256::from(3 * GWEI * 42_000 + 1235);
    assert_eq!(s.balance, U256::from(10u128.pow(21)) - spent);
}

#[test]
fn invalid_transactions_are_rejected_without_touching_the_block() {
    let (key, sender, state, env) = setup();
    let mut builder = BlockBuilder::new(&state, env);
    // Nonce 5 while the account is at 0.
    let err = builder
        .execute(&transfer(&key, 5, Address::ZERO, 1), sender)
        .unwrap_err();
    assert!(matches!(err, ExecError::InvalidTransaction { .. }), "{err}");
    // A sender with no funds.
    let poor = Address::repeat_byte(9);
    let err = builder
        .execute(&transfer(&key, 0, Address::ZERO, 1), poor)
        .unwrap_err();
    assert!(matches!(err, ExecError::InvalidTransaction { .. }), "{err}");
    assert_eq!(builder.tx_count(), 0);
    builder
        .execute(&transfer(&key, 0, Address::ZERO, 1), sender)
        .unwrap();
    let out = builder.finish().unwrap();
    assert_eq!(out.receipts.len(), 1);
}

#[test]
fn deploy_store_call_and_revert() {
    let (key, sender, state, env) = setup();
    // Runtime: if calldata[0..32] == 0 revert, else SSTORE(0, calldata[0..32]):
    // PUSH1 0 CALLDATALOAD DUP1 PUSH1 10 JUMPI PUSH0 PUSH0 REVERT
    // JUMPDEST PUSH1 0 SSTORE STOP
    let runtime = hex!("60003580600a575f5ffd5b60005500");
    let mut init = vec![0x6e]; // PUSH15 runtime
    init.extend_from_slice(&runtime);
    init.extend_from_slice(&hex!("600052600f6011f3")); // MSTORE at 0, RETURN(17, 15)
    let deploy = sign_transaction(
        &key,
        TxLegacy {
            chain_id: Some(31337),
            nonce: 0,
            gas_price: 2 * GWEI,
            gas_limit: 200_000,
            to: TxKind::Create,
            value: U256::ZERO,
            input: Bytes::from(init),
        },
    );
    let mut builder = BlockBuilder::new(&state, env.clone());
    let out = builder.execute(&deploy, sender).unwrap();
    assert!(out.receipt.success);
    let contract = out.created.expect("creation address");
    assert_eq!(contract, sender.create(0));

    let store = |nonce, word: U256| {
        sign_transaction(
            &key,
            TxEip1559 {
                chain_id: 31337,
                nonce,
                gas_limit: 100_000,
                max_fee_per_gas: 3 * GWEI,
                max_priority_fee_per_gas: 0,
                to: TxKind::Call(contract),
                input: Bytes::from(word.to_be_bytes::<32>().to_vec()),
                ..Default::default()
            },
        )
    };
    let ok = builder.execute(&store(1, U256::from(77)), sender).unwrap();
    assert!(ok.receipt.success);
    let reverted = builder.execute(&store(2, U256::ZERO), sender).unwrap();
    assert!(!reverted.receipt.success, "zero word must revert");
    let block = builder.finish().unwrap();
    assert_eq!(
        block.changes.storage[&contract].slots[&U256::ZERO],
        U256::from(77)
    );
    let acct = block.changes.accounts[&contract].unwrap();
    assert_eq!(block.changes.code[&acct.code_hash].as_ref(), &runtime[..]);

    // eth_call needs no funded sender and leaves no trace.
    let probe = CallRequest {
        to: Some(Address::repeat_byte(0x77)),
        ..Default::default()
    };
    let res = call(&state, &env, &probe).unwrap();
    assert!(res.success);
    assert_eq!(res.gas_used, 21_000);
}

#[test]
fn a_call_the_sender_cannot_pay_for_uses_geths_wording() {
    let (_, _, state, env) = setup();
    let poor = CallRequest {
        from: Some(Address::repeat_byte(9)),
        to: Some(Address::repeat_byte(0x77)),
        gas_price: Some(2 * GWEI),
        ..Default::default()
    };
    let err = call(&state, &env, &poor).unwrap_err();
    assert!(
        err.to_string()
            .contains("insufficient funds for gas * price + value"),
        "{err}"
    );
}

#[test]
fn block_rewards_are_credited_after_the_transactions() {
    let (key, sender, state, mut env) = setup();
    let reward = U256::from(50u64) * U256::from(10u64).pow(U256::from(18u64));
    env.rewards = vec![(COINBASE, reward)];
    let out = execute_block(
        &state,
        env,
        &[transfer(&key, 0, Address::ZERO, 1)],
        &[sender],
    )
    .unwrap();
    let coinbase = out.changes.accounts[&COINBASE].expect("coinbase exists");
    // The reward plus the transfer's priority fee, nothing more.
    assert!(coinbase.balance > reward, "{}", coinbase.balance);
    assert!(coinbase.balance < reward + U256::from(10u64).pow(U256::from(15u64)));
}
