//! State commitment benchmarks (see docs/adr/0001-state-commitment.md).
//!
//! - `update/jmt_incremental/K`: new root after changing K random keys of a
//!   100k-key state, through `ChainDb::prepare_state_root` (jmt on redb).
//! - `update/alloy_trie_rebuild/K`: the same with alloy-trie's HashBuilder,
//!   which needs every sorted leaf: a full rebuild from an in-memory map
//!   (optimistic for it: a node would also have to read the leaves from disk).
//! - `block/erc20_5000`: prepare_state_root + commit_block of a block of
//!   5,000 ERC-20-like transfers (sender account, two token balance slots,
//!   shared fee recipient) on the same large state.
//!
//! `TALLY_BENCH_KEYS` overrides the state size (default 100000).

use alloy_primitives::{keccak256, Address, B256, U256};
use alloy_trie::{HashBuilder, Nibbles};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::{collections::BTreeMap, hint::black_box, time::Duration};
use tally_primitives::{Account, ChainSpec, Header, SealedBlock, StateChanges, StorageChanges};
use tally_state::ChainDb;

fn state_size() -> usize {
    std::env::var("TALLY_BENCH_KEYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn address(i: u64) -> Address {
    Address::from_slice(&keccak256(i.to_be_bytes())[..20])
}

const TOKEN: u64 = u64::MAX;

fn acc(nonce: u64, balance: u64) -> Account {
    Account {
        nonce,
        balance: U256::from(balance),
        ..Default::default()
    }
}

/// Commits `changes` as the next block (empty body).
fn commit(db: &ChainDb, changes: &StateChanges) {
    let head = db.head().unwrap();
    let (root, prepared) = db.prepare_state_root(head.number, changes).unwrap();
    let header = Header {
        parent_hash: head.hash,
        number: head.number + 1,
        state_root: root,
        ..Default::default()
    }
    .seal_slow();
    let block = SealedBlock {
        header,
        transactions: vec![],
        senders: vec![],
    };
    db.commit_block(&block, &[], changes, prepared).unwrap();
}

/// A database holding `n` keys: n/2 accounts and n/2 token balance slots.
fn large_db(dir: &std::path::Path, n: usize) -> ChainDb {
    let db = ChainDb::open(&dir.join("chain.redb")).unwrap();
    db.init_genesis(&ChainSpec::dev(BTreeMap::new(), 0))
        .unwrap();
    let holders = (n / 2) as u64;
    for chunk in (0..holders).collect::<Vec<_>>().chunks(50_000) {
        let mut c = StateChanges::default();
        let token = c
            .storage
            .entry(address(TOKEN))
            .or_insert_with(StorageChanges::default);
        for &i in chunk {
            token.slots.insert(
                U256::from_be_bytes(address(i).into_word().0),
                U256::from(1_000_000u64),
            );
        }
        for &i in chunk {
            c.accounts.insert(address(i), Some(acc(0, 1_000_000_000)));
        }
        commit(&db, &c);
    }
    db
}

/// `txs` transfers between random holders, as an ERC-20 block changes state.
fn erc20_block(rng: &mut StdRng, holders: u64, txs: usize, nonce: u64) -> StateChanges {
    let mut c = StateChanges::default();
    c.accounts.insert(address(TOKEN - 1), Some(acc(0, nonce)));
    let mut slots = StorageChanges::default();
    for _ in 0..txs {
        let from = rng.gen_range(0..holders);
        let to = rng.gen_range(0..holders);
        c.accounts
            .insert(address(from), Some(acc(nonce, 999_000_000)));
        slots.slots.insert(
            U256::from_be_bytes(address(from).into_word().0),
            U256::from(rng.gen_range(1..1_000_000u64)),
        );
        slots.slots.insert(
            U256::from_be_bytes(address(to).into_word().0),
            U256::from(rng.gen_range(1..1_000_000u64)),
        );
    }
    c.storage.insert(address(TOKEN), slots);
    c
}

fn update(c: &mut Criterion) {
    let n = state_size();
    let dir = tempfile::tempdir().unwrap();
    let db = large_db(dir.path(), n);
    let holders = (n / 2) as u64;
    let head = db.head().unwrap().number;

    // The alloy-trie side: every leaf in a sorted map.
    let mut leaves: BTreeMap<B256, Vec<u8>> = (0..holders)
        .flat_map(|i| {
            let a = address(i);
            [
                (
                    keccak256(a),
                    acc(0, 1_000_000_000).balance.to_be_bytes::<32>().to_vec(),
                ),
                (
                    keccak256(a.into_word()),
                    U256::from(1_000_000u64).to_be_bytes::<32>().to_vec(),
                ),
            ]
        })
        .collect();

    let mut group = c.benchmark_group("update");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    for k in [1_000usize, 10_000] {
        let mut rng = StdRng::seed_from_u64(k as u64);
        group.bench_with_input(BenchmarkId::new("jmt_incremental", k), &k, |b, &k| {
            b.iter_batched(
                || {
                    let mut ch = StateChanges::default();
                    for _ in 0..k {
                        ch.accounts
                            .insert(address(rng.gen_range(0..holders)), Some(acc(1, rng.gen())));
                    }
                    ch
                },
                |ch| black_box(db.prepare_state_root(head, &ch).unwrap().0),
                criterion::BatchSize::LargeInput,
            )
        });
        group.bench_with_input(BenchmarkId::new("alloy_trie_rebuild", k), &k, |b, &k| {
            b.iter(|| {
                for _ in 0..k {
                    let key = keccak256(address(rng.gen_range(0..holders)));
                    leaves.insert(
                        key,
                        U256::from(rng.gen::<u64>()).to_be_bytes::<32>().to_vec(),
                    );
                }
                let mut hb = HashBuilder::default();
                for (key, v) in &leaves {
                    hb.add_leaf(Nibbles::unpack(key), v);
                }
                black_box(hb.root())
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("block");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    let mut rng = StdRng::seed_from_u64(7);
    let mut nonce = 1;
    group.bench_function("erc20_5000_prepare_only", |b| {
        b.iter_batched(
            || erc20_block(&mut rng, holders, 5_000, 0),
            |ch| {
                let head = db.head().unwrap().number;
                black_box(db.prepare_state_root(head, &ch).unwrap().0)
            },
            criterion::BatchSize::LargeInput,
        )
    });
    group.bench_function("erc20_5000", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let ch = erc20_block(&mut rng, holders, 5_000, nonce);
                nonce += 1;
                let start = std::time::Instant::now();
                commit(&db, &ch);
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, update);
criterion_main!(benches);
