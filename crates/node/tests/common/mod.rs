//! Shared helpers for node tests: an authority chain spec, signed transfers,
//! and waiting for heads.
#![allow(dead_code)]

use alloy_consensus::TxEip1559;
use alloy_eips::eip2718::Encodable2718;
use std::{collections::BTreeMap, time::Duration};
use tally_crypto::node_key::NodeKey;
use tally_node::{NetworkOptions, Node, NodeConfig};
use tally_primitives::{
    alloy_primitives::TxKind, Address, Bytes, ChainSpec, EngineSpec, GenesisAccount, B256, U256,
};

/// The producer's key in every test network.
pub fn producer_key() -> NodeKey {
    NodeKey::from_bytes(&[42u8; 32])
}

/// A follower's key (never the producer's).
pub fn follower_key(i: u8) -> NodeKey {
    NodeKey::from_bytes(&[100 + i; 32])
}

pub fn authority_spec(block_time_ms: u64) -> ChainSpec {
    let alloc: BTreeMap<Address, GenesisAccount> = tally_crypto::mnemonic::dev_accounts(4)
        .into_iter()
        .map(|(_, a)| {
            let account = GenesisAccount {
                balance: U256::from(10u128.pow(24)),
                ..Default::default()
            };
            (a, account)
        })
        .collect();
    let mut spec = ChainSpec::dev(alloc, 0);
    spec.engine = EngineSpec::Dev {
        block_time_ms,
        authority: Some(B256::from(producer_key().public().to_bytes())),
    };
    spec
}

/// A proof-of-work chain that mines fast in a debug build: an easy target,
/// 1 s blocks, a half-life of two blocks so the target settles within
/// seconds whatever this machine's hash rate; 50-coin rewards that never
/// halve. Funds the same accounts as [`authority_spec`].
pub fn pow_spec() -> ChainSpec {
    let mut spec = authority_spec(0);
    spec.engine = EngineSpec::Pow(tally_primitives::PowSpec {
        target_block_time_ms: 1000,
        initial_bits: 0x1f00_ffff,
        halflife_s: 2,
        block_reward: U256::from(50u64) * U256::from(10u64).pow(U256::from(18u64)),
        halving_interval: 0,
        finality_depth: 64,
        safe_depth: 2,
        max_future_s: 15,
    });
    spec.timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    spec
}

/// `RUST_LOG=info cargo test` shows what the nodes do.
pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

pub fn config(
    dir: &std::path::Path,
    spec: ChainSpec,
    key: NodeKey,
    network: Option<NetworkOptions>,
) -> NodeConfig {
    init_logs();
    NodeConfig {
        datadir: dir.to_path_buf(),
        spec,
        rpc_addr: "127.0.0.1:0".parse().unwrap(),
        rpc_limits: Default::default(),
        beneficiary: Address::repeat_byte(0xbe),
        dev_block_time_ms: None,
        node_key: Some(key),
        network,
        mining: None,
        index: false,
    }
}

/// The first test-mnemonic accounts, derived once: deriving costs tens of
/// milliseconds in a debug build, more than mining a block.
fn dev_keys() -> &'static [(tally_crypto::SecretKey, Address)] {
    static KEYS: std::sync::OnceLock<Vec<(tally_crypto::SecretKey, Address)>> =
        std::sync::OnceLock::new();
    KEYS.get_or_init(|| tally_crypto::mnemonic::dev_accounts(4))
}

/// A signed transfer of `value` wei from test account `from` with `nonce`.
pub fn transfer(from: usize, nonce: u64, value: u64) -> Bytes {
    sign(
        from,
        TxEip1559 {
            nonce,
            gas_limit: 21_000,
            to: TxKind::Call(Address::repeat_byte(0x77)),
            value: U256::from(value),
            ..Default::default()
        },
    )
}

/// The address of test account `i` (of the first four).
pub fn dev_address(i: usize) -> Address {
    dev_keys()[i].1
}

/// `tx` signed by test account `from`, on chain 31337, paying 2 gwei at
/// most with a 1 gwei tip unless `tx` sets a tip.
pub fn sign(from: usize, tx: TxEip1559) -> Bytes {
    let tx = TxEip1559 {
        chain_id: 31337,
        max_fee_per_gas: 2_000_000_000,
        max_priority_fee_per_gas: if tx.max_priority_fee_per_gas == 0 {
            1_000_000_000
        } else {
            tx.max_priority_fee_per_gas
        },
        ..tx
    };
    Bytes::from(tally_crypto::sign_transaction(&dev_keys()[from].0, tx).encoded_2718())
}

/// Waits (up to `secs`) until `cond` holds, polling.
pub async fn wait_for(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every node has the same block at `number` (hash and state root).
pub fn assert_same_block(nodes: &[&Node], number: u64) {
    let first = nodes[0].db().header_by_number(number).unwrap().unwrap();
    for node in &nodes[1..] {
        let h = node.db().header_by_number(number).unwrap().unwrap();
        assert_eq!(h.hash, first.hash, "block {number} differs");
        assert_eq!(h.state_root, first.state_root);
    }
}
pub mod bft;
