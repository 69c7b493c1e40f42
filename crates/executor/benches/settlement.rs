//! Settlement throughput in the executor: a block of single DvP
//! settlements (asset for asset), and netted batches of 300 and 1,000
//! instructions, with their gas.
//!
//!   cargo bench -p tally-executor --bench settlement

#[path = "../tests/system/chain.rs"]
#[allow(dead_code)]
mod chain;

use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::SolCall;
use chain::{user, Chain, User, CHAIN_ID};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::collections::BTreeMap;
use tally_crypto::sign_hash;
use tally_executor::{
    call,
    system::{
        abi::{ITallyAssets as A, ITallySettlement as S},
        settlement_digest, ASSETS, SETTLEMENT,
    },
    BlockBuilder, CallRequest,
};
use tally_primitives::{ChainSpec, GenesisAccount};

/// Parties on each side.
const PARTIES: u8 = 100;

fn dev_chain() -> Chain {
    let alloc: BTreeMap<_, _> = (1..=2 * PARTIES + 2)
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
    spec.gas_limit = 1_000_000_000;
    Chain::new(&spec)
}

fn issue(chain: &mut Chain, issuer: &User, symbol: &str, id: u64) -> Address {
    let c = A::issueCall {
        name: symbol.into(),
        symbol: symbol.into(),
        decimals: 0,
        cap: U256::from(u64::MAX),
        regulator: Address::ZERO,
        policy: A::Policy {
            allowlist: false,
            maxHolding: U256::ZERO,
            purpose: String::new(),
        },
    };
    assert!(chain.send(issuer, ASSETS, c));
    tally_executor::system::assets::token_address(id)
}

/// Assets X and Y held by parties 3..3+P (side A) and the next P (side B).
fn setup() -> (Chain, Address, Address) {
    let mut chain = dev_chain();
    let x = issue(&mut chain, &user(1), "X", 1);
    let y = issue(&mut chain, &user(2), "Y", 2);
    // Every party already holds both assets (a steady state: no batch
    // pays for adding holders).
    for i in 0..PARTIES {
        for (issuer, token) in [(1, x), (2, y)] {
            for who in [3 + i, 3 + PARTIES + i] {
                let c = A::mintCall {
                    token,
                    to: user(who).address,
                    amount: U256::from(1_000_000u64),
                };
                assert!(chain.send(&user(issuer), ASSETS, c));
            }
        }
    }
    (chain, x, y)
}

fn signed(ins: &S::Instruction, a: &User, b: &User) -> (Bytes, Bytes) {
    let id = settlement_digest(CHAIN_ID, ins);
    let sig = |u: &User| Bytes::from(sign_hash(&u.key, &id).as_bytes().to_vec());
    (sig(a), sig(b))
}

fn instruction(x: Address, y: Address, i: u8, nonce: u64) -> S::Instruction {
    S::Instruction {
        partyA: user(3 + i).address,
        partyB: user(3 + PARTIES + i).address,
        assetA: x,
        amountA: U256::from(10u64),
        assetB: y,
        amountB: U256::from(7u64),
        expiry: u64::MAX,
        nonce: U256::from(nonce),
    }
}

fn bench(c: &mut Criterion) {
    let (chain, x, y) = setup();
    let mut env = chain.env();
    env.gas_limit = 1_000_000_000;

    // One block: each A-side party submits one settlement with its peer.
    let txs: Vec<_> = (0..PARTIES)
        .map(|i| {
            let ins = instruction(x, y, i, 1);
            let (sa, sb) = signed(&ins, &user(3 + i), &user(3 + PARTIES + i));
            let call = S::settleCall {
                instruction: ins,
                signatureA: sa,
                signatureB: sb,
            };
            let from = user(3 + i);
            let tx = chain.tx(&from, Some(SETTLEMENT), call.abi_encode(), 500_000);
            (tx, from.address)
        })
        .collect();
    let mut group = c.benchmark_group("settlement");
    group.throughput(Throughput::Elements(u64::from(PARTIES)));
    group.sample_size(20);
    group.bench_function("dvp_block_of_100", |b| {
        b.iter_batched(
            || BlockBuilder::new(&chain.state, env.clone()),
            |mut builder| {
                for (tx, sender) in &txs {
                    let r = builder.execute(tx, *sender).expect("valid settlement");
                    assert!(r.receipt.success);
                }
                builder.finish().unwrap()
            },
            BatchSize::SmallInput,
        )
    });

    // Netted batches: 300 instructions (three per pair) fit one
    // transaction (EIP-7825 caps a transaction at 2^24 gas); 1,000 do not,
    // so that one runs as an eth_call, which lifts the cap.
    let batch = |rounds: u64| {
        let mut instructions = Vec::new();
        let (mut sigs_a, mut sigs_b) = (Vec::new(), Vec::new());
        for n in 0..rounds {
            for i in 0..PARTIES {
                let ins = instruction(x, y, i, 100 + n);
                let (sa, sb) = signed(&ins, &user(3 + i), &user(3 + PARTIES + i));
                instructions.push(ins);
                sigs_a.push(sa);
                sigs_b.push(sb);
            }
        }
        S::settleBatchCall {
            instructions,
            signaturesA: sigs_a,
            signaturesB: sigs_b,
        }
        .abi_encode()
    };
    let submitter = user(2 * PARTIES + 2);
    let request = CallRequest {
        from: Some(submitter.address),
        to: Some(SETTLEMENT),
        gas: Some(900_000_000),
        input: batch(10).into(),
        ..Default::default()
    };
    let out = call(&chain.state, &env, &request).unwrap();
    assert!(out.success, "the batch of 1,000 failed: {out:?}");
    println!(
        "settlement/netted_batch_of_1000 as a call: {} gas ({} per instruction)",
        out.gas_used,
        out.gas_used / 1000
    );
    group.throughput(Throughput::Elements(1000));
    group.bench_function("netted_batch_of_1000_call", |b| {
        b.iter(|| {
            let out = call(&chain.state, &env, &request).unwrap();
            assert!(out.success);
        })
    });
    let tx = chain.tx(&submitter, Some(SETTLEMENT), batch(3), 16_000_000);
    let mut builder = BlockBuilder::new(&chain.state, env.clone());
    let receipt = builder
        .execute(&tx, submitter.address)
        .expect("valid batch");
    assert!(
        receipt.receipt.success,
        "the batch of 300 reverted: {:?}",
        receipt.output
    );
    println!(
        "settlement/netted_batch_of_300 in a transaction: {} gas ({} per instruction)",
        receipt.receipt.gas_used,
        receipt.receipt.gas_used / 300
    );
    group.throughput(Throughput::Elements(300));
    group.sample_size(10);
    group.bench_function("netted_batch_of_300", |b| {
        b.iter_batched(
            || BlockBuilder::new(&chain.state, env.clone()),
            |mut builder| {
                let r = builder
                    .execute(&tx, submitter.address)
                    .expect("valid batch");
                assert!(r.receipt.success);
            },
            BatchSize::SmallInput,
        )
    });

    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
