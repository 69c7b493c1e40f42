//! Shared helpers: keys, a map-backed account reader, signed transactions.
#![allow(dead_code)]

use std::collections::HashMap;

use alloy_consensus::{TxEip1559, TxEip2930, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, U256};
use tally_crypto::{address_of, secret_key, sign_transaction, SecretKey};
use tally_txpool::{AccountReader, PoolConfig, TxPool};

pub const CHAIN_ID: u64 = 31337;
pub const GWEI: u128 = 1_000_000_000;
pub const BASE_FEE: u64 = 1_000_000_000;
pub const BLOCK_GAS: u64 = 30_000_000;

pub fn key(i: u64) -> SecretKey {
    secret_key(&U256::from(i + 1).to_be_bytes::<32>()).unwrap()
}

pub fn addr(i: u64) -> Address {
    address_of(&key(i))
}

pub fn config() -> PoolConfig {
    PoolConfig::new(CHAIN_ID, BLOCK_GAS, BASE_FEE)
}

pub fn pool() -> TxPool {
    TxPool::new(config())
}

/// Accounts by address; absent ones have nonce 0 and a large balance, so
/// tests only list the accounts they care about.
#[derive(Default)]
pub struct State {
    pub accounts: HashMap<Address, (u64, U256)>,
}

impl State {
    pub fn set(&mut self, a: Address, nonce: u64, balance: U256) {
        self.accounts.insert(a, (nonce, balance));
    }
}

impl AccountReader for State {
    fn nonce_and_balance(&self, a: &Address) -> Result<(u64, U256), String> {
        Ok(self
            .accounts
            .get(a)
            .copied()
            .unwrap_or((0, U256::from(10u128.pow(24)))))
    }
}

/// An EIP-1559 transfer of 1 wei with the given fees (in gwei).
pub fn tx1559(signer: u64, nonce: u64, max_fee_gwei: u128, tip_gwei: u128) -> TxEnvelope {
    tx1559_full(
        signer,
        nonce,
        max_fee_gwei * GWEI,
        tip_gwei * GWEI,
        21_000,
        Bytes::new(),
    )
}

pub fn tx1559_full(
    signer: u64,
    nonce: u64,
    max_fee: u128,
    tip: u128,
    gas_limit: u64,
    input: Bytes,
) -> TxEnvelope {
    sign_transaction(
        &key(signer),
        TxEip1559 {
            chain_id: CHAIN_ID,
            nonce,
            gas_limit,
            max_fee_per_gas: max_fee,
            max_priority_fee_per_gas: tip,
            to: TxKind::Call(Address::repeat_byte(0xaa)),
            value: U256::from(1),
            access_list: Default::default(),
            input,
        },
    )
}

pub fn legacy(signer: u64, nonce: u64, chain_id: Option<u64>, gas_price_gwei: u128) -> TxEnvelope {
    sign_transaction(
        &key(signer),
        TxLegacy {
            chain_id,
            nonce,
            gas_price: gas_price_gwei * GWEI,
            gas_limit: 21_000,
            to: TxKind::Call(Address::repeat_byte(0xbb)),
            value: U256::from(1),
            input: Bytes::new(),
        },
    )
}

pub fn tx2930(signer: u64, nonce: u64, tx: TxEip2930) -> TxEnvelope {
    sign_transaction(&key(signer), TxEip2930 { nonce, ..tx })
}

pub fn raw(tx: &TxEnvelope) -> Vec<u8> {
    tx.encoded_2718()
}
