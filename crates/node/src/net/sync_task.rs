//! Catch-up and block import from peers: drives the
//! [`RangeSync`](tally_sync::RangeSync) planner and sends blocks to the chain
//! thread in order.

use super::inbound::report;
use crate::{
    chain::Chain,
    driver::{BatchOutcome, ChainMsg},
    import::ImportError,
    metrics::add,
};
use std::{
    collections::HashSet,
    sync::{atomic::Ordering, mpsc::SyncSender},
    time::{Duration, Instant},
};
use tally_network::{Misbehaviour, Network, NetworkError, PeerId, SyncRequest, SyncResponse};
use tally_primitives::{Block, B256};
use tally_state::ChainDb;
use tally_sync::{RangeSync, SyncConfig};
use tokio::{sync::mpsc, task::JoinSet};

/// How much one import run may hold: blocks weigh one plus their
/// transactions (~6,000 ten-transfer blocks). A run is one write
/// transaction: larger runs commit less often, rewrite each page of the
/// randomly keyed indexes (history, transaction index) fewer times and
/// write fewer tree nodes; this keeps a run of full blocks to seconds of work.
const RUN_WEIGHT: u64 = 65_536;
/// How often connected peers are asked for their head, so a node that
/// missed gossip (or started late) learns it is behind.
const STATUS_INTERVAL: Duration = Duration::from_secs(2);

pub(crate) enum SyncInput {
    Block { from: PeerId, block: Box<Block> },
    PeerUp(PeerId),
    PeerDown(PeerId),
}

enum Done {
    /// A branch fetched back from a block whose parent we lacked, lowest first.
    Fork {
        peer: PeerId,
        /// The hash the walk started from.
        asked: B256,
        result: Result<Vec<Block>, RangeError>,
    },
    Status {
        peer: PeerId,
        result: Result<SyncResponse, NetworkError>,
    },
    Range {
        peer: PeerId,
        start: u64,
        result: Result<Vec<Block>, RangeError>,
    },
}

/// A run of blocks handed to the chain thread.
struct Importing {
    /// Who sent which blocks: (peer, first, count).
    parts: Vec<(PeerId, u64, u64)>,
    outcome: tokio::task::JoinHandle<BatchOutcome>,
}

/// Waits for the run being imported; never finishes when there is none.
async fn imported(slot: &mut Option<Importing>) -> Option<BatchOutcome> {
    match slot {
        Some(run) => (&mut run.outcome).await.ok(),
        None => std::future::pending().await,
    }
}

enum RangeError {
    /// Timeout, disconnect, a refusal: ask someone else.
    Failed(String),
    /// Bytes that are not blocks, or the wrong kind of answer: the peer's fault.
    Malformed(String),
}

struct Syncer<N: Network> {
    chain: Chain,
    chain_tx: SyncSender<ChainMsg>,
    net: N,
    plan: RangeSync<PeerId, Block>,
    peers: HashSet<PeerId>,
    genesis: [u8; 32],
    jobs: JoinSet<Done>,
    /// The run being imported on the chain thread, if any; downloads go on
    /// meanwhile.
    importing: Option<Importing>,
    /// The head when the log last said how sync goes.
    last_log: (Instant, u64),
    /// Branches being fetched, by the hash they were asked from.
    forks: HashSet<B256>,
}

pub(crate) async fn run<N: Network>(
    chain: Chain,
    chain_tx: SyncSender<ChainMsg>,
    net: N,
    mut rx: mpsc::Receiver<SyncInput>,
) {
    let head = chain.head.read().number;
    let genesis = match chain.db.header_by_number(0) {
        Ok(Some(g)) => g.hash.0,
        _ => {
            tracing::error!("sync disabled: the genesis block is unreadable");
            return;
        }
    };
    let mut s = Syncer {
        chain,
        chain_tx,
        net,
        plan: RangeSync::new(head, SyncConfig::default()),
        peers: HashSet::new(),
        genesis,
        jobs: JoinSet::new(),
        importing: None,
        last_log: (Instant::now(), head),
        forks: HashSet::new(),
    };
    let mut status_tick = tokio::time::interval(STATUS_INTERVAL);
    loop {
        tokio::select! {
            input = rx.recv() => match input {
                Some(input) => s.on_input(input).await,
                None => return,
            },
            Some(done) = s.jobs.join_next(), if !s.jobs.is_empty() => {
                if let Ok(done) = done {
                    s.on_done(done).await;
                }
            }
            outcome = imported(&mut s.importing) => {
                if let Some(run) = s.importing.take() {
                    s.on_run_imported(run.parts, outcome).await;
                }
            }
            _ = status_tick.tick() => {
                let peers: Vec<PeerId> = s.peers.iter().copied().collect();
                for peer in peers {
                    s.ask_status(peer);
                }
            }
        }
        s.step().await;
    }
}

impl<N: Network> Syncer<N> {
    fn head(&self) -> u64 {
        self.chain.head.read().number
    }

    fn ask_status(&mut self, peer: PeerId) {
        let net = self.net.clone();
        self.jobs.spawn(async move {
            let result = net.request(peer, SyncRequest::Status).await;
            Done::Status { peer, result }
        });
    }

    async fn on_input(&mut self, input: SyncInput) {
        match input {
            SyncInput::PeerUp(peer) => {
                self.peers.insert(peer);
                self.ask_status(peer);
            }
            SyncInput::PeerDown(peer) => {
                self.peers.remove(&peer);
                self.plan.remove_peer(&peer);
            }
            SyncInput::Block { from, block } => {
                let number = block.header.number;
                let head = self.head();
                // A block at or below our height, or right above it, may
                // extend the head or a side branch: the chain thread
                // decides. A run being imported will move the head; sync
                // fetches this block if the run does not reach it.
                if number <= head + 1 && self.importing.is_none() {
                    let outcome = self.import(vec![*block]).await;
                    if let Some((_, e)) = &outcome.error {
                        self.on_bad_import(from, e).await;
                    }
                    return;
                }
                // A gap: the publisher is ahead of us; sync up to it.
                if self.peers.contains(&from) {
                    self.plan.peer_head(from, number);
                } else {
                    for peer in self.peers.clone() {
                        self.ask_status(peer);
                    }
                }
            }
        }
    }

    /// Fetches `peer`'s blocks from `parent` (at `number`) back to a block
    /// this node keeps, and imports them as a branch.
    fn fetch_fork(&mut self, peer: PeerId, parent: B256, number: u64) {
        if !self.forks.insert(parent) {
            return;
        }
        let net = self.net.clone();
        let db = self.chain.db.clone();
        let seal_work = self.chain.seal_work;
        self.jobs.spawn(async move {
            let result = fetch_branch(&net, peer, &db, seal_work, parent, number).await;
            Done::Fork {
                peer,
                asked: parent,
                result,
            }
        });
    }

    async fn on_done(&mut self, done: Done) {
        match done {
            Done::Fork {
                peer,
                asked,
                result,
            } => match result {
                Ok(blocks) if blocks.is_empty() => {
                    self.forks.remove(&asked);
                    tracing::debug!(%peer, "a branch lighter than our head: not fetched");
                }
                Ok(blocks) => {
                    self.forks.remove(&asked);
                    let outcome = self.import(blocks).await;
                    if let Some((_, e)) = &outcome.error {
                        if !matches!(e, ImportError::UnknownParent { .. }) {
                            self.on_bad_import(peer, e).await;
                        }
                    }
                }
                Err(RangeError::Failed(reason)) => {
                    tracing::debug!(%peer, "fetching a branch failed: {reason}");
                    self.forks.clear();
                }
                Err(RangeError::Malformed(reason)) => {
                    tracing::warn!(%peer, "malformed branch: {reason}");
                    self.forks.clear();
                    report(&self.net, peer, Misbehaviour::InvalidResponse).await;
                }
            },
            Done::Status { peer, result } => match result {
                Ok(SyncResponse::Status {
                    genesis,
                    head_number,
                    head_hash,
                    head_weight,
                }) => {
                    if genesis != self.genesis {
                        report(&self.net, peer, Misbehaviour::InvalidResponse).await;
                    } else if self.peers.contains(&peer) {
                        let theirs = u128::from_be_bytes(head_weight);
                        let head = self.chain.head.read().clone();
                        let ours = self.chain.db.weight(&head.hash).ok().flatten().unwrap_or(0);
                        // A longer but lighter chain is not worth syncing
                        // (0: a peer that does not say).
                        if theirs > ours || (theirs == 0 && head_number > head.number) {
                            self.plan.peer_head(peer, head_number);
                        }
                        // A heavier head we do not keep, at or below our
                        // height: the peer is on another branch.
                        let hash = B256::from(head_hash);
                        let kept = matches!(self.chain.db.weight(&hash), Ok(Some(_)));
                        if !kept
                            && theirs > ours
                            && head_number <= head.number
                            && self.importing.is_none()
                        {
                            self.fetch_fork(peer, hash, head_number);
                        }
                    }
                }
                // A busy peer says so: not a fault.
                Ok(SyncResponse::Error(e)) => {
                    tracing::debug!(%peer, "status request not served: {e}")
                }
                Ok(_) => report(&self.net, peer, Misbehaviour::InvalidResponse).await,
                Err(e) => tracing::debug!(%peer, "status request failed: {e}"),
            },
            Done::Range {
                peer,
                start,
                result,
            } => match result {
                Ok(blocks) => {
                    if let Err(fault) = self.plan.on_response(&peer, start, blocks) {
                        tracing::warn!(%peer, "bad sync response: {fault}");
                        report(&self.net, peer, Misbehaviour::InvalidResponse).await;
                    }
                }
                Err(RangeError::Failed(reason)) => {
                    tracing::debug!(%peer, start, "range request failed: {reason}");
                    self.plan.on_failure(&peer, start);
                }
                Err(RangeError::Malformed(reason)) => {
                    tracing::warn!(%peer, start, "malformed sync response: {reason}");
                    self.plan.on_failure(&peer, start);
                    report(&self.net, peer, Misbehaviour::MalformedMessage).await;
                }
            },
        }
    }

    /// Sends the requests the planner wants and imports what is ready.
    async fn step(&mut self) {
        self.plan.on_imported(self.head());
        for request in self.plan.requests() {
            let net = self.net.clone();
            let (peer, start) = (request.peer, request.start);
            let count = u32::try_from(request.count).unwrap_or(u32::MAX);
            self.jobs.spawn(async move {
                let result = match net
                    .request(peer, SyncRequest::BlocksByRange { start, count })
                    .await
                {
                    Ok(SyncResponse::Blocks(raw)) => {
                        decode_blocks(&raw).map_err(RangeError::Malformed)
                    }
                    Ok(SyncResponse::Error(e)) => Err(RangeError::Failed(e)),
                    Ok(_) => Err(RangeError::Malformed(
                        "a range request answered with something else".into(),
                    )),
                    Err(e) => Err(RangeError::Failed(e.to_string())),
                };
                Done::Range {
                    peer,
                    start,
                    result,
                }
            });
        }
        if self.importing.is_none() {
            let parts = self
                .plan
                .next_run(RUN_WEIGHT, |b| 1 + b.transactions.len() as u64);
            if !parts.is_empty() {
                let meta = parts
                    .iter()
                    .map(|(peer, b)| (*peer, b[0].header.number, b.len() as u64))
                    .collect();
                let last_peer = parts.last().map(|(peer, _)| *peer);
                let blocks: Vec<Block> = parts.into_iter().flat_map(|(_, b)| b).collect();
                let (chain, chain_tx, net) =
                    (self.chain.clone(), self.chain_tx.clone(), self.net.clone());
                self.importing = Some(Importing {
                    parts: meta,
                    outcome: tokio::spawn(async move {
                        let certificate = match (last_peer, blocks.last()) {
                            (Some(peer), Some(last)) if chain.is_bft() => {
                                fetch_certificate(&net, peer, last.header.number).await
                            }
                            _ => None,
                        };
                        import_on_chain(chain, chain_tx, blocks, certificate).await
                    }),
                });
            }
        }
        self.publish_progress();
    }

    async fn import(&self, blocks: Vec<Block>) -> BatchOutcome {
        import_on_chain(self.chain.clone(), self.chain_tx.clone(), blocks, None).await
    }

    /// A run finished importing: the planner learns the new head; after a
    /// refused block, its sender is penalised and what followed is fetched
    /// again.
    async fn on_run_imported(
        &mut self,
        parts: Vec<(PeerId, u64, u64)>,
        outcome: Option<BatchOutcome>,
    ) {
        let head = self.head();
        self.plan.on_imported(head);
        let Some((number, e)) = outcome.and_then(|o| o.error) else {
            // The chain thread is gone (shutdown) or the run went in whole.
            return;
        };
        for &(peer, first, count) in &parts {
            if first > number {
                self.plan.retry(first, count);
            } else if number < first + count {
                // Only an invalid block makes its sender untrusted for that
                // height; otherwise the blocks are simply asked for again.
                if e.is_invalid_block() {
                    self.plan
                        .on_import_failed(&peer, number, first + count - number);
                } else {
                    self.plan.retry(number, first + count - number);
                }
                self.on_bad_import(peer, &e).await;
            }
        }
    }

    async fn on_bad_import(&mut self, peer: PeerId, e: &ImportError) {
        if let ImportError::UnknownParent { number, parent, .. } = e {
            // The peer is on another branch: fetch back to where we meet.
            self.fetch_fork(peer, *parent, number.saturating_sub(1));
            return;
        }
        if e.is_invalid_block() {
            tracing::warn!(%peer, "refused an invalid block: {e}");
            report(&self.net, peer, Misbehaviour::InvalidBlock).await;
        } else if let ImportError::Node(_) = e {
            // Our own fault (disk, shutdown): not the peer's.
            tracing::error!("importing a peer's block: {e}");
        } else {
            // Not proof of anything: a fork or a race with another import.
            tracing::debug!(%peer, "block not on our head: {e}");
        }
    }

    fn publish_progress(&mut self) {
        let progress = self.plan.progress();
        self.chain
            .metrics
            .sync_highest
            .store(progress.highest, Ordering::Relaxed);
        self.chain.net.sync.send_if_modified(|p| {
            let changed = *p != progress;
            *p = progress;
            changed
        });
        let (at, from) = self.last_log;
        if progress.is_syncing() && at.elapsed() >= Duration::from_secs(5) {
            let rate =
                (progress.current - from.min(progress.current)) as f64 / at.elapsed().as_secs_f64();
            tracing::info!(
                current = progress.current,
                highest = progress.highest,
                blocks_per_s = rate as u64,
                "syncing"
            );
            self.last_log = (Instant::now(), progress.current);
        }
    }
}

/// BFT: the commit certificate of block `number`, from `peer`. `None` when
/// the peer has none (yet) or answers wrong: the block then waits.
async fn fetch_certificate<N: Network>(
    net: &N,
    peer: PeerId,
    number: u64,
) -> Option<tally_primitives::CommitCertificate> {
    match net.request(peer, SyncRequest::Certificate { number }).await {
        Ok(SyncResponse::Certificate(Some(raw))) => alloy_rlp::decode_exact(&raw).ok(),
        _ => None,
    }
}

/// Hands `blocks` to the chain thread and waits for the outcome.
async fn import_on_chain(
    chain: Chain,
    chain_tx: SyncSender<ChainMsg>,
    blocks: Vec<Block>,
    certificate: Option<tally_primitives::CommitCertificate>,
) -> BatchOutcome {
    let started = Instant::now();
    let outcome = tokio::task::spawn_blocking(move || {
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        chain_tx
            .send(ChainMsg::ImportBatch {
                blocks,
                certificate,
                reply,
            })
            .ok()?;
        answer.recv().ok()
    })
    .await
    .ok()
    .flatten();
    let outcome = outcome.unwrap_or(BatchOutcome {
        imported: 0,
        error: None,
    });
    add(&chain.metrics.import_ns, started.elapsed());
    chain
        .metrics
        .blocks_imported
        .fetch_add(outcome.imported as u64, Ordering::Relaxed);
    outcome
}

fn decode_blocks(raw: &[Vec<u8>]) -> Result<Vec<Block>, String> {
    raw.iter()
        .enumerate()
        .map(|(i, bytes)| {
            alloy_rlp::decode_exact(bytes)
                .map_err(|e| format!("block {i} of the answer does not decode: {e}"))
        })
        .collect()
}

/// Most blocks fetched back along another branch: deeper forks than this
/// are below any engine's finality here.
const MAX_FORK_BLOCKS: u64 = 1024;
/// Headers asked for at once while walking back.
const FORK_STEP: u64 = 64;

fn ask_failed(e: Result<SyncResponse, NetworkError>, what: &str) -> RangeError {
    match e {
        Ok(SyncResponse::Error(e)) => RangeError::Failed(e),
        Ok(_) => RangeError::Malformed(format!("a {what} request answered with something else")),
        Err(e) => RangeError::Failed(e.to_string()),
    }
}

/// `peer`'s chain from the block `want` (at `number`) back to the first
/// block whose parent this node keeps, lowest first; empty when that branch
/// would not outweigh our head. Headers come first: each must link to the
/// next and prove its work on its own (`seal_work`), and only a branch
/// that claims at least our head's weight has its bodies downloaded.
async fn fetch_branch<N: Network>(
    net: &N,
    peer: PeerId,
    db: &ChainDb,
    seal_work: tally_consensus::SealWork,
    mut want: B256,
    mut number: u64,
) -> Result<Vec<Block>, RangeError> {
    let weight = |h: &B256| db.weight(h).ok().flatten();
    // Headers, highest first.
    let mut headers: Vec<tally_primitives::Header> = Vec::new();
    let mut work: u128 = 0;
    let base = loop {
        if let Some(w) = weight(&want) {
            break w;
        }
        if headers.len() as u64 >= MAX_FORK_BLOCKS {
            return Err(RangeError::Failed(format!(
                "the branch is more than {MAX_FORK_BLOCKS} blocks deep"
            )));
        }
        let start = number.saturating_sub(FORK_STEP - 1);
        let count = (number - start + 1) as u32;
        let raw = match net
            .request(peer, SyncRequest::HeadersByRange { start, count })
            .await
        {
            Ok(SyncResponse::Headers(raw)) => raw,
            other => return Err(ask_failed(other, "headers")),
        };
        let mut found = false;
        for bytes in raw.iter().rev() {
            let header: tally_primitives::Header = alloy_rlp::decode_exact(bytes)
                .map_err(|e| RangeError::Malformed(format!("a header does not decode: {e}")))?;
            if header.number > number {
                continue;
            }
            if header.hash() != want {
                // The peer moved to another branch meanwhile.
                return Err(RangeError::Failed(format!(
                    "the peer's block {} is not the one asked for",
                    header.number
                )));
            }
            let proved = seal_work(&header).map_err(|e| {
                RangeError::Malformed(format!("a header of the branch it announced: {e}"))
            })?;
            work = work.saturating_add(proved);
            want = header.parent_hash;
            number = header.number.saturating_sub(1);
            let at_genesis = header.number == 0;
            headers.push(header);
            found = true;
            if weight(&want).is_some() {
                break;
            }
            if at_genesis {
                return Err(RangeError::Malformed(
                    "a branch from another genesis".into(),
                ));
            }
        }
        if !found {
            // It announced (or built on) this branch and cannot serve it.
            return Err(RangeError::Malformed(format!(
                "the peer does not serve block {number} of the branch it announced"
            )));
        }
    };
    let ours = db.head().ok().and_then(|h| weight(&h.hash)).unwrap_or(0);
    if base.saturating_add(work) < ours {
        // Lighter than our head: not worth the bodies (yet).
        return Ok(Vec::new());
    }
    // Bodies, lowest first, each matching the header checked above.
    headers.reverse();
    let mut blocks = Vec::with_capacity(headers.len());
    while blocks.len() < headers.len() {
        let first = headers[blocks.len()].number;
        let left = (headers.len() - blocks.len()) as u32;
        let raw = match net
            .request(
                peer,
                SyncRequest::BlocksByRange {
                    start: first,
                    count: left,
                },
            )
            .await
        {
            Ok(SyncResponse::Blocks(raw)) => raw,
            other => return Err(ask_failed(other, "blocks")),
        };
        if raw.is_empty() {
            return Err(RangeError::Malformed(format!(
                "the peer does not serve block {first} of the branch it announced"
            )));
        }
        for block in decode_blocks(&raw).map_err(RangeError::Malformed)? {
            let Some(expected) = headers.get(blocks.len()) else {
                break;
            };
            if block.header != *expected {
                return Err(RangeError::Failed(format!(
                    "the peer's block {} changed since its header was fetched",
                    expected.number
                )));
            }
            blocks.push(block);
        }
    }
    Ok(blocks)
}
