//! Proof-of-work hashing: one PoW hash, a batch of the miner's nonce
//! search, and the plain `Sha256::digest` SHA-256d it is measured against
//! (`tally bench mine` reports the same pair through
//! `tally_consensus::pow::measure`).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sha2::{Digest, Sha256};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64};
use tally_consensus::pow::{hash::search, pow_hash};
use tally_primitives::{B256, U256};

const BATCH: u64 = 4096;

fn pow(c: &mut Criterion) {
    let seal_hash = B256::repeat_byte(0x42);
    let mut group = c.benchmark_group("pow");
    group.throughput(Throughput::Elements(1));
    group.bench_function("pow_hash", |b| {
        let mut nonce = 0u64;
        b.iter(|| {
            nonce += 1;
            pow_hash(black_box(&seal_hash), nonce)
        })
    });

    group.throughput(Throughput::Elements(BATCH));
    group.bench_function("search_4096", |b| {
        let stop = AtomicBool::new(false);
        let hashes = AtomicU64::new(0);
        let mut start = 0u64;
        b.iter(|| {
            // Target zero: the whole batch is hashed.
            let found = search(
                &seal_hash,
                &U256::ZERO,
                start..=start + (BATCH - 1),
                &stop,
                &hashes,
            );
            start += BATCH;
            found
        })
    });
    group.bench_function("sha256d_digest_4096", |b| {
        let mut input = [0u8; 40];
        input[..32].copy_from_slice(seal_hash.as_slice());
        let mut nonce = 0u64;
        b.iter(|| {
            for _ in 0..BATCH {
                input[32..].copy_from_slice(&nonce.to_be_bytes());
                black_box(Sha256::digest(Sha256::digest(black_box(&input))));
                nonce += 1;
            }
        })
    });
    group.finish();
}

criterion_group!(benches, pow);
criterion_main!(benches);
