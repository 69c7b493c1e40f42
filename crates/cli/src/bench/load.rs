//! The timed phase: pipelined submission of pre-signed transactions and
//! inclusion tracking by following new blocks, then an (untimed) receipt
//! check so reverted transactions are counted, not hidden.
//!
//! Submission and tracking run concurrently: a transaction's latency runs
//! from the moment its batch is sent to the moment the bench first sees a
//! block that contains it, so it includes the node's pool, block production
//! and the poll interval (`POLL`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy_primitives::{Bytes, B256};
use futures::stream::{self, FuturesUnordered, StreamExt as _};
use indicatif::ProgressBar;
use tokio::sync::watch;

use super::plan::{depends_on, SignedTx};
use super::report::TxOutcome;
use super::rpc::{BlockTxs, Rpc};

/// How often the tracker asks for the head when no new block came.
const POLL: Duration = Duration::from_millis(25);
/// Once submission has ended and no bench transaction has turned up in a
/// block for this long (empty blocks do not count), the tracker asks the
/// node about the ones it has not seen: if the node knows none of them,
/// none will come, and the run ends then rather than at the timeout.
const QUIET: Duration = Duration::from_secs(3);
/// Transactions asked about per eth_getTransactionByHash batch.
const ASK_BATCH: usize = 500;
/// Blocks read per eth_getBlockByNumber batch while catching up.
const BLOCKS_PER_BATCH: u64 = 64;
/// Block batches in flight while catching up: a node that makes a block per
/// transaction (Hardhat's automine) outruns one batch at a time, and the lag
/// would show up as latency.
const BLOCK_BATCHES_IN_FLIGHT: u64 = 4;

/// Knobs of the timed phase.
#[derive(Clone, Copy, Debug)]
pub struct LoadConfig {
    pub batch: usize,
    pub concurrency: usize,
    /// Number of senders, to keep each sender's nonces in order.
    pub senders: usize,
    /// Give up on inclusion this long after the timed phase started.
    pub timeout: Duration,
    /// Offered load in transactions per second (`None`: as fast as the
    /// node answers, within `concurrency`).
    pub rate: Option<f64>,
}

/// When batch `j` (of `batch` transactions) is due at `rate` tx/s, from the
/// start of the timed phase.
pub fn due(j: usize, batch: usize, rate: f64) -> Duration {
    Duration::from_secs_f64((j.saturating_mul(batch)) as f64 / rate)
}

/// Per-transaction outcomes (in `txs` order) and the submission window.
pub struct LoadResult {
    pub outcomes: Vec<TxOutcome>,
    pub submit_window: Duration,
}

/// Sends `txs` (batch `j` to `submit[j % submit.len()]`) and follows the
/// chain on `rpc` until all accepted ones are included or the timeout
/// passes.
pub async fn run(
    rpc: &Rpc,
    submit: &[Rpc],
    txs: &[SignedTx],
    config: LoadConfig,
    submit_bar: &ProgressBar,
    include_bar: &ProgressBar,
) -> anyhow::Result<LoadResult> {
    let index: Arc<HashMap<B256, usize>> =
        Arc::new(txs.iter().enumerate().map(|(i, t)| (t.hash, i)).collect());
    let first_block = rpc.block_number().await?.saturating_add(1);
    // Tells the tracker how many were accepted once submission ends.
    let (accepted_tx, accepted_rx) = watch::channel(None::<usize>);

    let start = Instant::now();
    let deadline = start + config.timeout;
    let tracker = tokio::spawn(track(
        rpc.clone(),
        index,
        first_block,
        start,
        deadline,
        accepted_rx,
        include_bar.clone(),
    ));

    let mut outcomes = vec![TxOutcome::default(); txs.len()];
    let size = config.batch.max(1);
    let batches: Vec<&[SignedTx]> = txs.chunks(size).collect();
    let scheduled = |j: usize| config.rate.map(|r| due(j, size, r));
    let send = |j: usize, chunk: &[SignedTx]| {
        let raws: Vec<Bytes> = chunk.iter().map(|t| t.raw.clone()).collect();
        let target = submit.get(j % submit.len().max(1)).unwrap_or(rpc);
        async move {
            // At a fixed rate a batch counts from its scheduled time: one
            // held back by a slow node still owes the time it waited.
            let sent = scheduled(j).unwrap_or_else(|| start.elapsed());
            (j, sent, target.send_raw_batch(&raws).await)
        }
    };
    let mut in_flight = FuturesUnordered::new();
    let mut answered = vec![false; batches.len()];
    // Batches 0..prefix are all answered.
    let mut prefix = 0;
    let mut next = 0;
    let mut accepted = 0;
    loop {
        // The next batch's scheduled time, when it waits only for that.
        let mut wake = None;
        while let Some(chunk) = batches.get(next) {
            let ready =
                depends_on(next, size, config.senders, txs.len()).is_none_or(|d| d < prefix);
            if in_flight.len() >= config.concurrency.max(1) || !ready {
                break;
            }
            if let Some(at) = scheduled(next).filter(|at| start.elapsed() < *at) {
                wake = Some(at);
                break;
            }
            in_flight.push(send(next, chunk));
            next += 1;
        }
        let answer = match wake {
            Some(at) => tokio::select! {
                answer = in_flight.next(), if !in_flight.is_empty() => answer,
                () = tokio::time::sleep_until((start + at).into()) => continue,
            },
            None => in_flight.next().await,
        };
        let Some((j, sent, result)) = answer else {
            break;
        };
        let slots = outcomes.iter_mut().skip(j * size).take(size);
        let len = batches.get(j).map_or(0, |b| b.len());
        match result {
            Ok(entries) => {
                for (o, entry) in slots.zip(entries) {
                    o.submitted_at = Some(sent);
                    match entry {
                        Ok(_) => accepted += 1,
                        Err(msg) => o.rejected = Some(msg),
                    }
                }
            }
            // The whole request failed (connection refused, timeout): every
            // transaction in it counts as rejected with that reason.
            Err(e) => {
                let msg = format!("{e:#}");
                for o in slots {
                    o.submitted_at = Some(sent);
                    o.rejected = Some(msg.clone());
                }
            }
        }
        submit_bar.inc(len as u64);
        if let Some(a) = answered.get_mut(j) {
            *a = true;
        }
        while answered.get(prefix).copied().unwrap_or(false) {
            prefix += 1;
        }
    }
    let submit_window = start.elapsed();
    submit_bar.finish();
    // The tracker may already be gone (timeout); it then has nothing to learn.
    let _ = accepted_tx.send(Some(accepted));

    let tracked = tracker
        .await
        .map_err(|e| anyhow::anyhow!("inclusion tracker crashed: {e}"))??;
    include_bar.finish();
    for (i, at, block) in tracked.seen {
        if let Some(o) = outcomes.get_mut(i) {
            o.included_at = Some(at);
            o.block = Some(block);
        }
    }
    for i in tracked.forgotten {
        if let Some(o) = outcomes.get_mut(i) {
            o.dropped = true;
        }
    }
    Ok(LoadResult {
        outcomes,
        submit_window,
    })
}

/// What the tracker learned.
struct Tracked {
    /// (tx index, time seen, block) of every bench transaction found in a
    /// block.
    seen: Vec<(usize, Duration, u64)>,
    /// The transactions never seen, when the node knew none of them (see
    /// [`forgotten`]); empty when the run ended otherwise.
    forgotten: Vec<usize>,
}

/// Follows the chain from `next` until every accepted transaction is in a
/// block, the node has forgotten the rest, or the deadline passes.
async fn track(
    rpc: Rpc,
    index: Arc<HashMap<B256, usize>>,
    mut next: u64,
    start: Instant,
    deadline: Instant,
    accepted: watch::Receiver<Option<usize>>,
    bar: ProgressBar,
) -> anyhow::Result<Tracked> {
    let mut seen = Vec::new();
    // A reorg can show a transaction twice; the first sighting counts.
    let mut found = vec![false; index.len()];
    let mut hashes = vec![B256::ZERO; index.len()];
    for (hash, &i) in index.iter() {
        if let Some(h) = hashes.get_mut(i) {
            *h = *hash;
        }
    }
    let mut errors = 0u32;
    let mut last_news = Instant::now();
    loop {
        let submitted = *accepted.borrow();
        if submitted.is_some_and(|n| seen.len() >= n) || Instant::now() >= deadline {
            return Ok(Tracked {
                seen,
                forgotten: Vec::new(),
            });
        }
        if submitted.is_some() && last_news.elapsed() >= QUIET {
            // Asked again only after another quiet spell.
            last_news = Instant::now();
            if let Some(gone) = forgotten(&rpc, &hashes, &found).await {
                return Ok(Tracked {
                    seen,
                    forgotten: gone,
                });
            }
        }
        let blocks = match new_blocks(&rpc, next).await {
            Ok(blocks) => blocks,
            // A node under load may time out a poll; only a node that keeps
            // failing ends the run.
            Err(e) if errors < 20 => {
                errors += 1;
                tracing::debug!("following new blocks: {e:#}");
                Vec::new()
            }
            Err(e) => return Err(e.context("following new blocks")),
        };
        let at = start.elapsed();
        if blocks.is_empty() {
            tokio::time::sleep(POLL).await;
        }
        for block in blocks {
            for hash in &block.hashes {
                let Some(&i) = index.get(hash) else { continue };
                if let Some(slot) = found.get_mut(i).filter(|f| !**f) {
                    *slot = true;
                    seen.push((i, at, block.number));
                    bar.inc(1);
                    last_news = Instant::now();
                }
            }
            next = block.number + 1;
        }
    }
}

/// The transactions not found in a block, if the node knows none of them:
/// not pooled and not mined, none of them will ever be included (a
/// replacement took its place, the pool evicted it, or a block builder
/// found it invalid). `None` while the node still knows any (pending, or in
/// a block not read yet), or cannot say.
async fn forgotten(rpc: &Rpc, hashes: &[B256], found: &[bool]) -> Option<Vec<usize>> {
    let unseen: Vec<usize> = (0..hashes.len())
        .filter(|&i| !found.get(i).copied().unwrap_or(true))
        .collect();
    for chunk in unseen.chunks(ASK_BATCH) {
        let asked: Vec<B256> = chunk
            .iter()
            .filter_map(|&i| hashes.get(i).copied())
            .collect();
        match rpc.transactions_known(&asked).await {
            Ok(known) if known.iter().all(|k| !k) => {}
            Ok(_) => return None,
            Err(e) => {
                tracing::debug!("asking about unseen transactions: {e:#}");
                return None;
            }
        }
    }
    Some(unseen)
}

/// The blocks from `next` up to the head that the node serves, in order.
async fn new_blocks(rpc: &Rpc, next: u64) -> anyhow::Result<Vec<BlockTxs>> {
    let head = rpc.block_number().await?;
    if head < next {
        return Ok(Vec::new());
    }
    let batches = (head - next + 1)
        .div_ceil(BLOCKS_PER_BATCH)
        .min(BLOCK_BATCHES_IN_FLIGHT);
    let requests = (0..batches).map(|k| {
        let from = next + k * BLOCKS_PER_BATCH;
        rpc.blocks_tx_hashes(from, BLOCKS_PER_BATCH.min(head + 1 - from))
    });
    let answers = futures::future::try_join_all(requests).await?;
    // Keep only the contiguous run from `next`: a batch stops early at a
    // block the node does not serve yet; later blocks are read next time.
    let mut blocks = Vec::new();
    for block in answers.into_iter().flatten() {
        if block.number != next + blocks.len() as u64 {
            break;
        }
        blocks.push(block);
    }
    Ok(blocks)
}

/// Marks included transactions whose receipt is missing or has status 0.
/// Untimed: runs after the measurement.
pub async fn check_receipts(
    rpc: &Rpc,
    txs: &[SignedTx],
    outcomes: &mut [TxOutcome],
    batch: usize,
    concurrency: usize,
) -> anyhow::Result<()> {
    let included: Vec<usize> = (0..outcomes.len())
        .filter(|&i| outcomes.get(i).is_some_and(|o| o.included_at.is_some()))
        .collect();
    let chunks: Vec<Vec<usize>> = included.chunks(batch.max(1)).map(<[_]>::to_vec).collect();
    let results: Vec<_> = stream::iter(chunks)
        .map(|chunk| async move {
            let hashes: Vec<B256> = chunk
                .iter()
                .filter_map(|&i| txs.get(i).map(|t| t.hash))
                .collect();
            rpc.receipts(&hashes).await.map(|r| (chunk, r))
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    for result in results {
        let (chunk, receipts) = result?;
        for (i, receipt) in chunk.into_iter().zip(receipts) {
            if let Some(o) = outcomes.get_mut(i) {
                o.failed = !receipt.is_some_and(|r| r.success);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::plan;
    use alloy_consensus::TxEip1559;
    use alloy_primitives::{Address, TxKind, U256};
    use tally_node::{MiningOptions, Node, NodeConfig};
    use tally_primitives::{ChainSpec, EngineSpec, GenesisAccount, PowSpec};

    const GWEI: u128 = 1_000_000_000;

    /// A proof-of-work node whose miner starts paused: nothing is mined
    /// until the test says so.
    async fn paused_miner(dir: &std::path::Path, funded: Address) -> (Node, u64) {
        let alloc = [(
            funded,
            GenesisAccount {
                balance: U256::from(10u128.pow(21)),
                ..Default::default()
            },
        )]
        .into_iter()
        .collect();
        let mut spec = ChainSpec::dev(alloc, 0);
        spec.engine = EngineSpec::Pow(PowSpec {
            target_block_time_ms: 1000,
            initial_bits: 0x1f00_ffff,
            halflife_s: 2,
            ..PowSpec::default()
        });
        let chain_id = spec.chain_id;
        let node = Node::start(NodeConfig {
            datadir: dir.to_path_buf(),
            spec,
            rpc_addr: "127.0.0.1:0".parse().unwrap(),
            rpc_limits: Default::default(),
            beneficiary: Address::ZERO,
            dev_block_time_ms: None,
            node_key: None,
            network: None,
            mining: Some(MiningOptions { threads: 1 }),
            index: false,
        })
        .await
        .unwrap();
        node.set_mining(false);
        (node, chain_id)
    }

    /// A transaction replaced in the pool is forgotten by the node. The
    /// run ends once the chain has been quiet for a while, not at the
    /// timeout, and counts it as dropped.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_transaction_the_node_forgets_is_dropped_without_waiting_for_the_timeout() {
        let (key, address) = tally_crypto::mnemonic::dev_accounts(1).remove(0);
        let dir = tempfile::tempdir().unwrap();
        let (node, chain_id) = paused_miner(dir.path(), address).await;
        let url = format!("http://{}", node.rpc_addr());
        let rpc = Rpc::new(&url, Duration::from_secs(10)).unwrap();
        let tx = |tip_gwei: u128| {
            plan::sign(
                &key,
                TxEip1559 {
                    chain_id,
                    nonce: 0,
                    gas_limit: 21_000,
                    max_fee_per_gas: 100 * tip_gwei * GWEI,
                    max_priority_fee_per_gas: tip_gwei * GWEI,
                    to: TxKind::Call(Address::repeat_byte(7)),
                    value: U256::from(1u64),
                    ..Default::default()
                },
            )
        };
        // The second replaces the first: the same nonce, twice the fees.
        let txs = [tx(1), tx(2)];
        let replacement = txs[1].hash;

        // Mining resumes once the replacement is pooled, so the first can
        // never be mined.
        let watcher = Rpc::new(&url, Duration::from_secs(10)).unwrap();
        let resume = async {
            for _ in 0..1500 {
                if watcher
                    .transactions_known(&[replacement])
                    .await
                    .is_ok_and(|k| k == [true])
                {
                    node.set_mining(true);
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            panic!("the replacement never reached the pool");
        };
        let config = LoadConfig {
            batch: 1,
            concurrency: 1,
            senders: 1,
            timeout: Duration::from_secs(120),
            rate: None,
        };
        let bar = ProgressBar::hidden();
        let started = Instant::now();
        let (result, ()) = tokio::join!(run(&rpc, &[], &txs, config, &bar, &bar), resume);
        let result = result.unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "waited {:?}: the timeout, not the quiet chain, ended the run",
            started.elapsed()
        );
        let [first, second] = &result.outcomes[..] else {
            panic!("two outcomes");
        };
        assert!(first.rejected.is_none(), "{first:?}");
        assert!(first.included_at.is_none() && first.dropped, "{first:?}");
        assert!(
            second.included_at.is_some() && !second.dropped,
            "{second:?}"
        );
        node.stop().await;
    }
}
