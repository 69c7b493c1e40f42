//! The chain thread: owns the consensus engine and the block tree, feeds
//! the engine events and carries out its effects. It is the only writer
//! of blocks: it builds templates and commits them once sealed (the miner
//! seals on threads of its own), imports peers' blocks, keeps side
//! branches and reorgs to the heaviest tip. Block building is CPU-bound
//! and runs here, off the async runtime that serves RPC.

use crate::{
    chain::Chain,
    error::NodeError,
    import::{now_ms, ImportError},
    mining::{Miner, WorkPackage},
    producer::Template,
    reorg::Refused,
    view::View,
};
use std::{
    collections::{HashSet, VecDeque},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        mpsc::{Receiver, RecvTimeoutError, SyncSender},
        Arc,
    },
    thread::JoinHandle,
    time::Duration,
};
use tally_chain::{BlockTree, Inserted, TreeError};
use tally_consensus::{Effect, Engine, Event, Millis, SealError, Weight};
use tally_primitives::{Block, CommitCertificate, Header, SealedBlock, B256};
use tally_rpc::NewBlock;

mod bft;
pub(crate) use bft::BftState;
pub use bft::Wire as BftWire;

pub(crate) enum ChainMsg {
    /// New transactions entered the pool.
    TxsPending,
    /// A block from outside to verify and import (or keep on a side branch).
    Import {
        block: Box<Block>,
        reply: SyncSender<Result<Imported, ImportError>>,
    },
    /// Consecutive blocks from sync (or gossip) to import in order.
    ImportBatch {
        blocks: Vec<Block>,
        /// BFT: the certificate of the last block (the others' travel in
        /// the header after them).
        certificate: Option<CommitCertificate>,
        reply: SyncSender<BatchOutcome>,
    },
    /// A message on the consensus gossip topic.
    Consensus {
        from: tally_network::PeerId,
        data: Vec<u8>,
    },
    /// The miner found a seal for the current template.
    Sealed(Box<Header>),
    /// Pause (`false`) or resume (`true`) mining.
    SetMining(bool),
    /// An external miner's nonce for the work package with this seal hash.
    SubmitWork {
        seal_hash: B256,
        nonce: u64,
        reply: SyncSender<Result<bool, String>>,
    },
    Shutdown,
}

/// What became of a block from outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Imported {
    /// The node already had it.
    Known,
    /// It extends the canonical chain (or made it switch branches).
    Canonical(Box<SealedBlock>),
    /// Kept on a side branch, lighter than the canonical chain.
    Side,
}

/// What became of an [`ChainMsg::ImportBatch`].
#[derive(Debug)]
pub(crate) struct BatchOutcome {
    /// Blocks imported or kept (blocks already held are skipped, not counted).
    pub imported: usize,
    /// The first block that was refused, and why; the rest were not tried.
    pub error: Option<(u64, ImportError)>,
}

/// How long a failed block build waits before the engine is asked again.
const RETRY_MS: Millis = 200;

/// Blocks found invalid are remembered (by hash) up to this many, so a
/// peer cannot make the node check them again.
const BAD_BLOCKS: usize = 4096;

pub(crate) fn spawn(
    chain: Chain,
    engine: Box<dyn Engine>,
    tree: BlockTree,
    bft: Option<BftState>,
    chain_tx: SyncSender<ChainMsg>,
    rx: Receiver<ChainMsg>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("tally-chain".into())
        .spawn(move || {
            let miner = Miner::new(chain.mining.clone());
            let mut thread = ChainThread {
                chain,
                engine,
                tree,
                bad: VecDeque::new(),
                bad_set: HashSet::new(),
                miner,
                template: None,
                chain_tx,
                queue: VecDeque::new(),
                retry: None,
                bft,
            };
            thread.run(rx)
        })
}

/// Loads the block tree: the final block as root, the canonical blocks
/// above it, then the side blocks kept on disk that still attach.
pub(crate) fn load_tree(chain: &Chain, finalized: u64) -> Result<BlockTree, NodeError> {
    let db = &chain.db;
    let head = db.head()?;
    let header = |n: u64| {
        db.header_by_number(n)?
            .ok_or_else(|| NodeError::Chain(format!("canonical block {n} is missing")))
    };
    let weight = |h: &B256| -> Result<Weight, NodeError> {
        Ok(Weight(db.weight(h)?.ok_or_else(|| {
            NodeError::Chain(format!("the fork-choice weight of block {h} is missing"))
        })?))
    };
    let root = header(finalized)?;
    let mut tree = BlockTree::new(root.clone(), weight(&root.hash)?);
    for n in finalized + 1..=head.number {
        let h = header(n)?;
        let w = weight(&h.hash)?;
        tree.insert(h, w)
            .map_err(|e| NodeError::Chain(format!("loading the block tree: {e}")))?;
    }
    tree.set_head(head.hash)
        .map_err(|e| NodeError::Chain(e.to_string()))?;
    let mut side = db.side_headers()?;
    side.sort_by_key(|h| h.number);
    let mut stale = Vec::new();
    for h in side {
        let hash = h.hash;
        match db.weight(&hash)? {
            Some(w) if tree.insert(h, Weight(w)).is_ok() => {}
            _ => stale.push(hash),
        }
    }
    chain.drop_side_blocks(&stale)?;
    Ok(tree)
}

struct ChainThread {
    chain: Chain,
    engine: Box<dyn Engine>,
    tree: BlockTree,
    bad: VecDeque<B256>,
    bad_set: HashSet<B256>,
    miner: Miner,
    /// The block being sealed, if any.
    template: Option<Template>,
    chain_tx: SyncSender<ChainMsg>,
    queue: VecDeque<Effect>,
    /// A failed build to ask the engine for again, and when.
    retry: Option<(B256, Millis)>,
    /// BFT chains: the Tendermint machine and what it waits on.
    bft: Option<BftState>,
}

impl ChainThread {
    fn head_event(&self) -> Event {
        let head = self.chain.head.read().clone();
        Event::NewHead {
            number: head.number,
            hash: head.hash,
            timestamp: head.timestamp,
            now: now_ms(),
        }
    }

    fn pending_event(&self) -> Event {
        Event::PendingTransactions {
            count: self.chain.pool.pending_count(),
            now: now_ms(),
        }
    }

    fn tell(&mut self, event: Event) {
        let effects = self.engine.handle(event);
        self.queue.extend(effects);
    }

    fn run(&mut self, rx: Receiver<ChainMsg>) {
        self.tell(self.head_event());
        self.tell(Event::Tick { now: now_ms() });
        self.tell(self.pending_event());
        if self.bft.is_some() {
            self.bft_start();
        }
        let mut wake: Option<Millis> = None;
        loop {
            while let Some(effect) = self.queue.pop_front() {
                match effect {
                    Effect::BuildBlock { parent, timestamp } => self.build(parent, timestamp),
                    Effect::Finalize { number, hash } => self.finalize(number, Some(hash)),
                    Effect::WakeAt(at) => wake = Some(wake.map_or(at, |w| w.min(at))),
                    // No engine gossips yet; BFT will, through the network tasks.
                    Effect::Broadcast(_) => {}
                }
            }
            // Timers fire even while messages keep the channel busy.
            let now = now_ms();
            if self.chain.fault.reason().is_some() {
                // The database cannot be written: build nothing more.
                self.retry = None;
                wake = None;
            }
            if let Some((parent, _)) = self.retry.filter(|(_, at)| now >= *at) {
                self.retry = None;
                self.tell(Event::BuildFailed { parent, now });
                continue;
            }
            if wake.is_some_and(|w| now >= w) {
                wake = None;
                self.tell(Event::Tick { now });
                continue;
            }
            let bft_due = self.bft.as_ref().and_then(|b| b.next_deadline());
            if bft_due.is_some_and(|at| now >= at) {
                self.bft_tick();
                continue;
            }
            let next = [wake, self.retry.map(|(_, at)| at), bft_due]
                .into_iter()
                .flatten()
                .min();
            let timeout = next.map_or(Duration::from_secs(1), |at| {
                Duration::from_millis(at.saturating_sub(now))
            });
            match rx.recv_timeout(timeout) {
                Ok(ChainMsg::TxsPending) => {
                    self.chain.txs_wake.taken();
                    // Coalesce a burst of notifications into one event.
                    loop {
                        match rx.try_recv() {
                            // The work below covers it too.
                            Ok(ChainMsg::TxsPending) => self.chain.txs_wake.taken(),
                            Ok(ChainMsg::Shutdown) => return,
                            Ok(msg) => self.on_msg(msg),
                            Err(_) => break,
                        }
                    }
                    self.tell(self.pending_event());
                    self.bft_on_txs();
                }
                Ok(ChainMsg::Shutdown) | Err(RecvTimeoutError::Disconnected) => return,
                Ok(msg) => self.on_msg(msg),
                // The timers are checked at the top of the loop.
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
    }

    fn on_msg(&mut self, msg: ChainMsg) {
        match msg {
            ChainMsg::Import { block, .. } if self.bft.is_some() => {
                // Gossiped BFT blocks carry no certificate of their own:
                // committed blocks come through consensus or sync.
                tracing::debug!(number = block.header.number, "ignored a gossiped BFT block");
            }
            ChainMsg::ImportBatch {
                blocks,
                certificate,
                reply,
            } if self.bft.is_some() => {
                let outcome = self.bft_import_batch(blocks, certificate);
                let _ = reply.send(outcome);
            }
            ChainMsg::Consensus { from, data } => self.bft_on_message(from, &data),
            ChainMsg::Import { block, reply } => {
                let result = self.import_one(*block);
                // The caller may have given up waiting; the block is imported regardless.
                let _ = reply.send(result);
            }
            ChainMsg::ImportBatch { blocks, reply, .. } => {
                let outcome = self.import_batch(blocks);
                let _ = reply.send(outcome);
            }
            ChainMsg::Sealed(header) => self.on_sealed(*header),
            ChainMsg::SetMining(on) => {
                self.chain.mining.active.store(on, Ordering::Relaxed);
                if on {
                    // The engine asks for a block on the head again.
                    let head = self.chain.head.read().hash;
                    self.tell(Event::BuildFailed {
                        parent: head,
                        now: now_ms(),
                    });
                } else {
                    self.miner.cancel();
                    self.template = None;
                    *self.chain.mining.work.lock() = None;
                }
            }
            ChainMsg::SubmitWork {
                seal_hash,
                nonce,
                reply,
            } => {
                let _ = reply.send(self.submit_work(seal_hash, nonce));
            }
            ChainMsg::TxsPending | ChainMsg::Shutdown => {}
        }
    }

    fn view<'a>(&'a self) -> View<'a> {
        View {
            tree: &self.tree,
            db: &self.chain.db,
            recent: &[],
        }
    }

    // ---- producing ----

    fn build(&mut self, parent: B256, timestamp: u64) {
        let head = self.chain.head.read().clone();
        let failed = |this: &mut Self, e: String| {
            tracing::error!("block production failed: {e}");
            // Retried shortly, not at once: do not spin on a persistent
            // fault (e.g. a full disk), and keep importing meanwhile.
            this.retry = Some((parent, now_ms() + RETRY_MS));
        };
        if head.hash != parent {
            // The head moved since the engine asked; it will ask again.
            return;
        }
        let Some(sealer) = self.engine.sealer() else {
            return failed(self, "this node has no sealer".into());
        };
        let template = match self.chain.build_template(
            self.engine.as_ref(),
            &self.view(),
            &head,
            timestamp,
            Default::default(),
        ) {
            Ok(t) => t,
            Err(NodeError::Prepare(e @ SealError::TimestampInFuture { .. })) => {
                // Blocks came faster than timestamps may advance: wait.
                tracing::debug!("block production waits: {e}");
                self.retry = Some((parent, now_ms() + RETRY_MS));
                return;
            }
            Err(e) if self.chain.fault.check(&e) => return,
            Err(e) => return failed(self, e.to_string()),
        };
        if !sealer.is_instant() && !self.chain.mining.active.load(Ordering::Relaxed) {
            // Paused: resuming asks the engine again.
            return;
        }
        if sealer.is_instant() {
            let stop = AtomicBool::new(false);
            let hashes = AtomicU64::new(0);
            match sealer.seal(&template.header, 0, 1, &stop, &hashes) {
                Ok(Some(sealed)) => self.commit_sealed(template, sealed),
                Ok(None) => failed(self, "the sealer gave up".into()),
                Err(e) => failed(self, format!("engine could not seal: {e}")),
            }
            return;
        }
        // Offered to external miners and searched by our own threads.
        *self.chain.mining.work.lock() =
            sealer.target(&template.header).map(|target| WorkPackage {
                seal_hash: template.header.seal_hash(),
                target,
                number: template.header.number,
                bits: template.header.bits,
            });
        let chain_tx = self.chain_tx.clone();
        let found = Arc::new(move |sealed: Header| {
            // The chain thread is gone only at shutdown.
            let _ = chain_tx.send(ChainMsg::Sealed(Box::new(sealed)));
        });
        self.miner.start(template.header.clone(), sealer, found);
        self.template = Some(template);
    }

    fn on_sealed(&mut self, header: Header) {
        let Some(template) = self.template.take() else {
            return;
        };
        // A seal for an older template (the head moved meanwhile).
        if template.header.seal_hash() != header.seal_hash() {
            self.template = Some(template);
            return;
        }
        self.commit_sealed(template, header);
    }

    fn submit_work(&mut self, seal_hash: B256, nonce: u64) -> Result<bool, String> {
        let Some(template) = &self.template else {
            return Ok(false);
        };
        if template.header.seal_hash() != seal_hash {
            // Stale work: geth answers false too.
            return Ok(false);
        }
        let Some(sealer) = self.engine.sealer() else {
            return Err("this node does not mine".into());
        };
        match sealer.with_nonce(&template.header, nonce) {
            Ok(sealed) => {
                self.on_sealed(sealed);
                Ok(true)
            }
            Err(e) => {
                tracing::debug!("external miner's nonce refused: {e}");
                Ok(false)
            }
        }
    }

    fn commit_sealed(&mut self, template: Template, sealed: Header) {
        self.miner.cancel();
        *self.chain.mining.work.lock() = None;
        let head = self.chain.head.read().hash;
        if template.parent.hash != head {
            self.tell(Event::BuildFailed {
                parent: template.parent.hash,
                now: now_ms(),
            });
            return;
        }
        let parent_weight = self.tree.head().weight;
        let weight = self.engine.weight(parent_weight, &sealed);
        let parent = template.parent.hash;
        match self.chain.commit_template(template, sealed, weight) {
            Ok(block) => {
                self.chain
                    .metrics
                    .blocks_mined
                    .fetch_add(1, Ordering::Relaxed);
                self.extend_tree(std::slice::from_ref(&block), &[weight]);
                // Nobody listening (no network) is fine.
                let _ = self.chain.produced.send(Arc::new(block.block.clone()));
                self.tell(self.pending_event());
                self.on_new_head();
            }
            Err(e) => {
                if self.chain.fault.check(&e) {
                    // Logged once, plainly; the node is being shut down.
                    return;
                }
                tracing::error!("block production failed: {e}");
                self.retry = Some((parent, now_ms() + RETRY_MS));
            }
        }
    }

    // ---- importing ----

    fn is_bad(&self, hash: &B256) -> bool {
        self.bad_set.contains(hash)
    }

    fn mark_bad(&mut self, hashes: &[B256]) {
        for h in hashes {
            if self.bad_set.insert(*h) {
                self.bad.push_back(*h);
            }
        }
        while self.bad.len() > BAD_BLOCKS {
            if let Some(old) = self.bad.pop_front() {
                self.bad_set.remove(&old);
            }
        }
        self.chain
            .metrics
            .invalid_blocks
            .fetch_add(hashes.len() as u64, Ordering::Relaxed);
    }

    fn known(&self, hash: &B256) -> bool {
        self.tree.contains(hash) || matches!(self.chain.db.header_by_hash(*hash), Ok(Some(_)))
    }

    /// Imports one block from outside: on the head it is executed and
    /// committed; on another known block it is checked and kept on a side
    /// branch, and the node reorgs if that branch is now the heaviest.
    fn import_one(&mut self, block: Block) -> Result<Imported, ImportError> {
        let hash = block.header.hash();
        let number = block.header.number;
        if self.known(&hash) {
            return Ok(Imported::Known);
        }
        if self.is_bad(&hash) || self.is_bad(&block.header.parent_hash) {
            self.mark_bad(&[hash]);
            return Err(ImportError::BadAncestor { number, hash });
        }
        let head = self.tree.head().header.clone();
        if block.header.parent_hash == head.hash {
            let run = self
                .chain
                .import_block(self.engine.as_ref(), &self.tree, block)
                .inspect_err(|e| {
                    if e.is_invalid_block() {
                        self.mark_bad(&[hash]);
                    }
                })?;
            let imported = run.imported.first().map(|b| Box::new(b.block.clone()));
            self.extend_tree(&run.imported, &run.weights);
            self.on_new_head();
            return Ok(imported.map_or(Imported::Known, Imported::Canonical));
        }
        let Some(parent) = self.tree.get(&block.header.parent_hash).cloned() else {
            let final_number = self.tree.root().header.number;
            if number <= final_number {
                return Err(ImportError::BelowFinal {
                    number,
                    final_number,
                });
            }
            return Err(ImportError::UnknownParent {
                number,
                hash,
                parent: block.header.parent_hash,
            });
        };
        if let Err(e) =
            self.chain
                .check_header(self.engine.as_ref(), &self.view(), &parent.header, &block)
        {
            if e.is_invalid_block() {
                self.mark_bad(&[hash]);
            }
            return Err(e);
        }
        // Signatures now, off the reorg's path (and a block with a bad one
        // is refused before it is kept).
        let senders = match crate::import::recover(number, &block.transactions) {
            Ok(s) => s,
            Err(e) => {
                self.mark_bad(&[hash]);
                return Err(e);
            }
        };
        let weight = self.engine.weight(parent.weight, &block.header);
        let sealed = SealedBlock {
            header: block.header.seal_slow(),
            transactions: block.transactions,
            senders,
        };
        self.chain.store_side_block(&sealed, weight)?;
        let inserted = self.tree.insert(sealed.header.clone(), weight);
        self.chain
            .metrics
            .side_blocks
            .fetch_add(1, Ordering::Relaxed);
        match inserted {
            Ok(Inserted::Added { best: true }) => {
                self.adopt_best()?;
                match self.chain.db.block_by_hash(hash)? {
                    Some(b) if self.tree.head().header.hash == hash => {
                        Ok(Imported::Canonical(Box::new(b)))
                    }
                    _ => Ok(Imported::Side),
                }
            }
            Ok(_) => {
                tracing::debug!(number, %hash, "kept a block on a side branch");
                Ok(Imported::Side)
            }
            Err(TreeError::BelowFinal { final_number, .. }) => Err(ImportError::BelowFinal {
                number,
                final_number,
            }),
            Err(e) => Err(NodeError::Chain(e.to_string()).into()),
        }
    }

    /// Imports consecutive blocks: the part that extends the head in one
    /// run (sync's fast path), anything else block by block through the
    /// tree.
    fn import_batch(&mut self, blocks: Vec<Block>) -> BatchOutcome {
        let mut outcome = BatchOutcome {
            imported: 0,
            error: None,
        };
        let mut blocks: VecDeque<Block> = blocks.into();
        // Blocks already held (gossip got here first) are skipped.
        while blocks.front().is_some_and(|b| self.known(&b.header.hash())) {
            blocks.pop_front();
        }
        let head = self.tree.head().header.hash;
        if blocks.front().is_some_and(|b| b.header.parent_hash == head) {
            let started = std::time::Instant::now();
            let run = self.chain.import_blocks(
                self.engine.as_ref(),
                &self.tree,
                blocks.drain(..).collect(),
            );
            tracing::debug!(
                blocks = run.imported.len(),
                ms = started.elapsed().as_millis() as u64,
                "imported a run"
            );
            outcome.imported = run.imported.len();
            if !run.imported.is_empty() {
                self.extend_tree(&run.imported, &run.weights);
                self.on_new_head();
            }
            if let Some((number, e)) = run.error {
                if e.is_invalid_block() {
                    // The refused block is the one after the last imported.
                    self.chain
                        .metrics
                        .invalid_blocks
                        .fetch_add(1, Ordering::Relaxed);
                }
                outcome.error = Some((number, e));
            }
            return outcome;
        }
        for block in blocks {
            let number = block.header.number;
            match self.import_one(block) {
                Ok(Imported::Known) => {}
                Ok(_) => outcome.imported += 1,
                Err(e) => {
                    outcome.error = Some((number, e));
                    break;
                }
            }
        }
        outcome
    }

    /// Adds freshly committed canonical blocks to the tree and moves its head.
    fn extend_tree(&mut self, blocks: &[Arc<NewBlock>], weights: &[Weight]) {
        for (b, w) in blocks.iter().zip(weights) {
            if let Err(e) = self.tree.insert(b.block.header.clone(), *w) {
                tracing::error!("block tree out of step with the database: {e}");
            }
        }
        if let Some(last) = blocks.last() {
            let _ = self.tree.set_head(last.block.hash());
        }
    }

    /// Reorgs to the best tip while it is not the head. A branch with an
    /// invalid block is dropped and the next best tried.
    fn adopt_best(&mut self) -> Result<(), ImportError> {
        // The first invalid block met, reported even when the node then
        // settles on the next best branch.
        let mut refused: Option<ImportError> = None;
        loop {
            let head = self.tree.head().header.hash;
            let best = self.tree.best().header.hash;
            if best == head {
                return refused.map_or(Ok(()), Err);
            }
            let route = self
                .tree
                .route(&head, &best)
                .map_err(|e| NodeError::Chain(e.to_string()))?;
            let started = std::time::Instant::now();
            match self.chain.reorg(self.engine.as_ref(), &self.tree, &route) {
                Ok(done) => {
                    // The unwound blocks are side blocks now; the tree keeps
                    // them as they were.
                    self.miner.cancel();
                    self.template = None;
                    let _ = self.tree.set_head(best);
                    tracing::info!(
                        depth = route.unwind.len(),
                        applied = route.apply.len(),
                        ancestor = route.ancestor.number,
                        head = done.committed.last().map_or(0, |b| b.block.number()),
                        ms = started.elapsed().as_millis() as u64,
                        "switched to a heavier branch"
                    );
                    self.chain.after_reorg(&done.reverted, &done.committed)?;
                    // Peers behind us learn the new head; they fetch the
                    // rest of the branch from it.
                    if let Some(b) = done.committed.last() {
                        let _ = self.chain.produced.send(Arc::new(b.block.clone()));
                    }
                    self.on_new_head();
                    return refused.map_or(Ok(()), Err);
                }
                Err(Refused {
                    invalid: Some(bad),
                    error,
                }) => {
                    tracing::warn!("the heavier branch has an invalid block: {error}");
                    let removed = self.tree.remove_subtree(&bad);
                    self.mark_bad(&removed);
                    self.chain.drop_side_blocks(&removed)?;
                    if removed.is_empty() {
                        // Cannot happen (the head's own chain was executed
                        // already); never loop on it.
                        return Err(error);
                    }
                    refused.get_or_insert(error);
                }
                Err(Refused {
                    invalid: None,
                    error,
                }) => return Err(error),
            }
        }
    }

    // ---- head and finality ----

    fn finalize(&mut self, number: u64, hash: Option<B256>) {
        let current = *self.chain.finalized.read();
        if number <= current && current != 0 {
            return;
        }
        let head = self.tree.head().header.hash;
        let Some(entry) = self.tree.ancestor_at(&head, number) else {
            return;
        };
        let root = entry.header.hash;
        if hash.is_some_and(|h| h != root) {
            tracing::warn!(
                number,
                "engine finalized a block that is not canonical; ignored"
            );
            return;
        }
        match self.tree.finalize(&root) {
            Ok(dropped) => {
                if let Err(e) = self.chain.drop_side_blocks(&dropped) {
                    tracing::error!("dropping side blocks below the final block: {e}");
                }
            }
            Err(e) => tracing::error!("finalizing block {number}: {e}"),
        }
        let mut f = self.chain.finalized.write();
        *f = (*f).max(number);
    }

    /// After the head moved: finality by depth, the miner, the engine.
    fn on_new_head(&mut self) {
        let head = self.tree.head().header.clone();
        let final_number = head.number.saturating_sub(self.engine.finality_depth());
        let safe = head.number.saturating_sub(self.engine.safe_depth());
        {
            let mut s = self.chain.safe.write();
            *s = (*s).max(safe);
        }
        if self.engine.finality_depth() > 0 {
            self.finalize(final_number, None);
        }
        if self
            .template
            .as_ref()
            .is_some_and(|t| t.parent.hash != head.hash)
        {
            self.miner.cancel();
            self.template = None;
        }
        self.tell(self.head_event());
        self.bft_on_new_head();
    }
}
