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

    let seen = tracker
        .await
        .map_err(|e| anyhow::anyhow!("inclusion tracker crashed: {e}"))??;
    include_bar.finish();
    for (i, at, block) in seen {
        if let Some(o) = outcomes.get_mut(i) {
            o.included_at = Some(at);
            o.block = Some(block);
        }
    }
    Ok(LoadResult {
        outcomes,
        submit_window,
    })
}

/// Follows the chain from `next` and returns (tx index, time seen, block)
/// for every bench transaction found in a block.
async fn track(
    rpc: Rpc,
    index: Arc<HashMap<B256, usize>>,
    mut next: u64,
    start: Instant,
    deadline: Instant,
    accepted: watch::Receiver<Option<usize>>,
    bar: ProgressBar,
) -> anyhow::Result<Vec<(usize, Duration, u64)>> {
    let mut seen = Vec::new();
    // A reorg can show a transaction twice; the first sighting counts.
    let mut found = vec![false; index.len()];
    let mut errors = 0u32;
    loop {
        let done = accepted.borrow().is_some_and(|n| seen.len() >= n);
        if done || Instant::now() >= deadline {
            return Ok(seen);
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
                }
            }
            next = block.number + 1;
        }
    }
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
