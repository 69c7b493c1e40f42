//! Execution of a block of token transfers: a Tally native asset (the
//! assets system contract, native code) against the same transfers on an
//! EVM ERC-20 (contracts/src/TestToken.sol), on the same in-memory state.
//!
//!   cargo bench -p tally-executor --bench transfers

#[path = "../tests/system/chain.rs"]
#[allow(dead_code)]
mod chain;

use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::SolCall;
use chain::{user, Chain, CHAIN_ID};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::collections::BTreeMap;
use tally_executor::{
    system::{
        abi::{ITallyAsset as T, ITallyAssets as A},
        assets::token_address,
        ASSETS,
    },
    BlockBuilder,
};
use tally_primitives::{ChainSpec, GenesisAccount};

/// Senders; each pays the next, so no transfer creates a holder.
const SENDERS: u8 = 200;

fn setup() -> (Chain, Address, Address) {
    let alloc: BTreeMap<_, _> = (1..=SENDERS)
        .map(|n| {
            let g = GenesisAccount {
                balance: U256::from(10u128.pow(24)),
                ..Default::default()
            };
            (user(n).address, g)
        })
        .collect();
    let mut spec = ChainSpec::dev(alloc, 0);
    spec.chain_id = CHAIN_ID;
    let mut chain = Chain::new(&spec);
    let owner = user(1);

    // The EVM token, all supply to user 1.
    let erc20 = chain.deploy_test_token(&owner, U256::from(10u64.pow(18)));

    // The native asset, issued by user 1.
    let issue = A::issueCall {
        name: "Bench".into(),
        symbol: "B".into(),
        decimals: 0,
        cap: U256::from(10u64.pow(18)),
        regulator: Address::ZERO,
        policy: A::Policy {
            allowlist: false,
            maxHolding: U256::ZERO,
            purpose: String::new(),
        },
    };
    assert!(chain.send(&owner, ASSETS, issue));
    let asset = token_address(1);
    let mint = A::mintCall {
        token: asset,
        to: owner.address,
        amount: U256::from(10u64.pow(12)),
    };
    assert!(chain.send(&owner, ASSETS, mint));

    // Every sender holds both tokens.
    for n in 2..=SENDERS {
        for token in [erc20, asset] {
            let c = T::transferCall {
                to: user(n).address,
                value: U256::from(1_000_000u64),
            };
            assert!(chain.send(&owner, token, c), "sharing {token}");
        }
    }
    (chain, erc20, asset)
}

fn bench(c: &mut Criterion) {
    let (chain, erc20, asset) = setup();
    let mut group = c.benchmark_group("transfers");
    group.throughput(Throughput::Elements(u64::from(SENDERS)));
    group.sample_size(30);
    for (name, token) in [
        ("evm_erc20_block_of_200", erc20),
        ("native_asset_block_of_200", asset),
    ] {
        let txs: Vec<_> = (1..=SENDERS)
            .map(|n| {
                let to = user(n % SENDERS + 1).address;
                let input: Bytes = T::transferCall {
                    to,
                    value: U256::from(1u64),
                }
                .abi_encode()
                .into();
                let from = user(n);
                (
                    chain.tx(&from, Some(token), input.to_vec(), 200_000),
                    from.address,
                )
            })
            .collect();
        let mut builder = BlockBuilder::new(&chain.state, chain.env());
        for (tx, sender) in &txs {
            builder.execute(tx, *sender).expect("valid transfer");
        }
        let out = builder.finish().unwrap();
        let slots: usize = out.changes.storage.values().map(|s| s.slots.len()).sum();
        println!(
            "{name}: {} accounts and {slots} storage slots changed, {} gas",
            out.changes.accounts.len(),
            out.gas_used
        );
        group.bench_function(name, |b| {
            b.iter_batched(
                || BlockBuilder::new(&chain.state, chain.env()),
                |mut builder| {
                    for (tx, sender) in &txs {
                        let r = builder.execute(tx, *sender).expect("valid transfer");
                        assert!(r.receipt.success);
                    }
                    builder.finish().unwrap()
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
