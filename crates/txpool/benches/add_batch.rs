//! Throughput of `add_raw_batch`: 10,000 ERC-20 `transfer` transactions from
//! 1,000 senders (10 nonces each), into an empty pool. Dominated by the
//! parallel sender recovery; the insert phase runs under one write lock.

use std::hint::black_box;

use alloy_consensus::TxEip1559;
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, U256};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use tally_txpool::{AccountReader, PoolConfig, TxPool};

const SENDERS: u64 = 1_000;
const PER_SENDER: u64 = 10;

struct Rich;

impl AccountReader for Rich {
    fn nonce_and_balance(&self, _: &Address) -> Result<(u64, U256), String> {
        Ok((0, U256::from(10u128.pow(24))))
    }
}

/// `transfer(address,uint256)` calldata: selector + two 32-byte words.
fn erc20_transfer(to: Address, amount: u64) -> Bytes {
    let mut data = vec![0xa9, 0x05, 0x9c, 0xbb];
    data.extend_from_slice(&[0u8; 12]);
    data.extend_from_slice(to.as_slice());
    data.extend_from_slice(&U256::from(amount).to_be_bytes::<32>());
    data.into()
}

fn transactions() -> Vec<Bytes> {
    let token = Address::repeat_byte(0x70);
    let mut raws = Vec::with_capacity((SENDERS * PER_SENDER) as usize);
    let keys: Vec<_> = (0..SENDERS)
        .map(|i| tally_crypto::secret_key(&U256::from(i + 1).to_be_bytes::<32>()).unwrap())
        .collect();
    // Nonce-major order, as gossip would deliver them: every sender's nonce 0,
    // then every nonce 1, ...
    for nonce in 0..PER_SENDER {
        for (i, key) in keys.iter().enumerate() {
            let tx = TxEip1559 {
                chain_id: 1337,
                nonce,
                gas_limit: 60_000,
                max_fee_per_gas: 2_000_000_000,
                max_priority_fee_per_gas: 1 + (i as u128 % 50) * 10_000_000,
                to: TxKind::Call(token),
                value: U256::ZERO,
                access_list: Default::default(),
                input: erc20_transfer(Address::repeat_byte(i as u8), 1_000 + nonce),
            };
            raws.push(
                tally_crypto::sign_transaction(key, tx)
                    .encoded_2718()
                    .into(),
            );
        }
    }
    raws
}

fn bench(c: &mut Criterion) {
    let raws = transactions();
    let config = PoolConfig::new(1337, 30_000_000, 1_000_000_000);
    let check = TxPool::new(config.clone());
    if let Some(Err(e)) = check
        .add_raw_batch(&raws, &Rich)
        .into_iter()
        .find(Result::is_err)
    {
        panic!("bench transaction refused: {e}");
    }
    assert_eq!(check.pending_count(), raws.len());

    let mut group = c.benchmark_group("txpool");
    group.throughput(Throughput::Elements(raws.len() as u64));
    group.sample_size(20);
    group.bench_function("add_raw_batch/10k_erc20_1k_senders", |b| {
        b.iter_batched(
            || TxPool::new(config.clone()),
            |pool| black_box(pool.add_raw_batch(&raws, &Rich)),
            BatchSize::LargeInput,
        )
    });
    // The floor: decoding and sender recovery alone, no pool.
    group.bench_function("decode_and_recover_only/10k", |b| {
        b.iter(|| {
            let txs: Vec<_> = raws.iter().map(|r| TxPool::decode(r).unwrap()).collect();
            black_box(tally_crypto::recover_senders(&txs))
        })
    });
    group.bench_function("best_transactions/10k_pending_30M_gas", |b| {
        b.iter(|| black_box(check.best_transactions(30_000_000)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
