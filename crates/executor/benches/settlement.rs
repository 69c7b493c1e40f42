//! Settlement throughput in the executor: a block of single DvP
//! settlements (asset for asset), and one netted batch of 1,000
//! instructions, with its gas.
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
    system::{
        abi::{ITallyAssets as A, ITallySettlement as S},
        settlement_digest, ASSETS, SETTLEMENT,
    },
    BlockBuilder,
};
use tally_primitives::{ChainSpec, GenesisAccount};

/// Instructions per pair in the netted batch.
const BATCH_ROUNDS: u64 = 2;
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

/// Asset X held by parties 3..3+P (side A), asset Y by the next P (side B).
fn setup() -> (Chain, Address, Address) {
    let mut chain = dev_chain();
    let x = issue(&mut chain, &user(1), "X", 1);
    let y = issue(&mut chain, &user(2), "Y", 2);
    for i in 0..PARTIES {
        for (issuer, token, who) in [(1, x, 3 + i), (2, y, 3 + PARTIES + i)] {
            let c = A::mintCall {
                token,
                to: user(who).address,
                amount: U256::from(1_000_000u64),
            };
            assert!(chain.send(&user(issuer), ASSETS, c));
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

    // One netted batch of 1,000 instructions (ten per pair).
    let mut instructions = Vec::new();
    let (mut sigs_a, mut sigs_b) = (Vec::new(), Vec::new());
    for n in 0..BATCH_ROUNDS {
        for i in 0..PARTIES {
            let ins = instruction(x, y, i, 100 + n);
            let (sa, sb) = signed(&ins, &user(3 + i), &user(3 + PARTIES + i));
            instructions.push(ins);
            sigs_a.push(sa);
            sigs_b.push(sb);
        }
    }
    let call = S::settleBatchCall {
        instructions,
        signaturesA: sigs_a,
        signaturesB: sigs_b,
    };
    let submitter = user(2 * PARTIES + 2);
    let tx = chain.tx(&submitter, Some(SETTLEMENT), call.abi_encode(), 16_000_000);
    let mut builder = BlockBuilder::new(&chain.state, env.clone());
    let receipt = builder
        .execute(&tx, submitter.address)
        .expect("valid batch");
    assert!(
        receipt.receipt.success,
        "the batch reverted: {:?}",
        receipt.output
    );
    println!(
        "settlement/netted_batch_of_1000: {} gas ({} per instruction)",
        receipt.receipt.gas_used,
        receipt.receipt.gas_used / 1000
    );
    group.throughput(Throughput::Elements(1000));
    group.sample_size(10);
    group.bench_function("netted_batch_of_1000", |b| {
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
