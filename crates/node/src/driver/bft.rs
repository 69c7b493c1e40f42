//! BFT on the chain thread: drives the Tendermint [`BftMachine`] with the
//! node's clock, network, block builder, executor and storage (ADR 0007).
//!
//! - Messages arrive from the consensus gossip topic as a [`Wire`]: a
//!   signed consensus message and, with a proposal, its block.
//! - Every message this node signs is written to the write-ahead log
//!   (durably) before it is sent, and fed back to the machine after a
//!   restart, so a validator never signs two values in one slot.
//! - A proposer builds its block no earlier than `block_time` after the
//!   previous commit; validators execute a proposed block before voting.
//! - On a decision the certificate is stored, then the block committed,
//!   final at once; the next height starts (or waits for transactions when
//!   the chain makes no empty blocks).
//! - Blocks from sync are imported only with a certificate: the next
//!   block's `last_commit`, or one the sync task fetched for the last
//!   block of its run.

use super::{ChainThread, Imported};
use crate::{
    import::{now_ms, ImportError},
    producer::Template,
};
use alloy_rlp::{RlpDecodable, RlpEncodable};
use std::{
    collections::{BTreeSet, HashMap},
    sync::atomic::Ordering::Relaxed,
};
use tally_consensus::{
    bft::{
        self, BftConfig, BftMachine, ConsensusMessage, Input, MessageError, Output, TimeoutStep,
        ValidatorSet,
    },
    Millis,
};
use tally_crypto::node_key::NodeKey;
use tally_network::{Misbehaviour, PeerId};
use tally_primitives::{
    bft::BftExtra, BftSpec, Block, Bytes, CommitCertificate, Evidence, Header, B256,
};

/// What travels on the consensus topic (public so that tests and tools
/// can speak it).
#[derive(Debug, RlpEncodable, RlpDecodable)]
pub struct Wire {
    /// An encoded [`ConsensusMessage`].
    pub message: Bytes,
    /// The proposed block, with a proposal (empty otherwise).
    pub block: Vec<Block>,
    /// When it was sent (ms): gossip drops a message it has seen, so a
    /// message re-sent for a peer that missed it must differ in bytes.
    pub sent_at: u64,
}

/// Proposed blocks held for the height being decided.
const MAX_BLOCKS: usize = 64;
/// Evidence waiting to go into a block.
const MAX_EVIDENCE: usize = 64;

/// The chain thread's BFT state.
pub(crate) struct BftState {
    machine: BftMachine,
    spec: BftSpec,
    key: Option<NodeKey>,
    /// (when, height, round, step) of every pending timeout.
    timers: BTreeSet<(Millis, u64, u32, TimeoutStep)>,
    /// Blocks proposed at the current height, by hash.
    blocks: HashMap<B256, Block>,
    /// Proposals the machine asked us to judge before their block arrived.
    awaiting_block: Vec<(u64, u32, B256)>,
    /// Blocks of this height executed and found valid, sealed: this
    /// node's own proposal, and others' it judged. The decided one commits
    /// without executing again.
    executed: HashMap<B256, (Template, Header)>,
    /// A block to build: (height, round, not before).
    build: Option<(u64, u32, Millis)>,
    /// The chain makes no empty blocks and the pool is empty: the next
    /// height starts when transactions (or peers' messages for it) come.
    idle: bool,
    /// When the next height starts: a block time after the last one
    /// started (Tendermint's commit timeout), or at once when a peer's
    /// message shows the others have started it.
    start_at: Option<Millis>,
    /// When the current height started.
    height_started_at: Millis,
    /// Equivocation seen, not yet in a block.
    evidence: Vec<Evidence>,
    started: bool,
    /// A decision is being committed: head changes are its own.
    deciding: bool,
    /// The node keys allowed to connect, as last given to the network.
    allowed: Option<BTreeSet<B256>>,
}

impl BftState {
    pub fn new(chain_id: u64, spec: BftSpec, key: Option<NodeKey>) -> BftState {
        let config = BftConfig::from_spec(chain_id, &spec);
        BftState {
            machine: BftMachine::new(config, key.clone()),
            spec,
            key,
            timers: BTreeSet::new(),
            blocks: HashMap::new(),
            awaiting_block: Vec::new(),
            executed: HashMap::new(),
            build: None,
            idle: false,
            evidence: Vec::new(),
            started: false,
            deciding: false,
            start_at: None,
            height_started_at: 0,
            allowed: None,
        }
    }

    /// When the next height may start: a block time after the current one
    /// started, and not in the past.
    fn next_start(&self) -> Millis {
        self.height_started_at
            .saturating_add(self.spec.block_time_ms)
            .max(now_ms())
    }

    /// The earliest time something is due.
    pub fn next_deadline(&self) -> Option<Millis> {
        [
            self.timers.first().map(|t| t.0),
            self.build.map(|b| b.2),
            self.start_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

impl ChainThread {
    fn bft(&mut self) -> &mut BftState {
        self.bft.as_mut().expect("called on a BFT chain only")
    }

    /// Starts consensus at the height after the head, restoring what this
    /// validator signed before a restart.
    pub(super) fn bft_start(&mut self) {
        let head = self.chain.head.read().number;
        match self.chain.db.wal_from(head + 1) {
            Ok(raw) => {
                let records = match raw
                    .iter()
                    .map(|r| ConsensusMessage::decode(r))
                    .collect::<Result<Vec<_>, _>>()
                {
                    Ok(records) => records,
                    Err(e) => {
                        // A record it cannot read is something it may have
                        // signed: signing again could equivocate.
                        tracing::error!(
                            "the consensus write-ahead log holds a damaged record ({e}); not \
                             starting consensus: this validator could sign twice"
                        );
                        return;
                    }
                };
                if !records.is_empty() {
                    tracing::info!(
                        messages = records.len(),
                        "restored what this validator signed before the restart"
                    );
                }
                self.bft().machine.restore(records);
            }
            Err(e) => {
                // Without the log the node could sign twice: it must not sign.
                tracing::error!("cannot read the consensus write-ahead log: {e}; not starting");
                return;
            }
        }
        self.bft().started = true;
        self.bft_refresh_block_time();
        self.bft_refresh_allowlist();
        self.bft_start_height();
    }

    /// The validators that sign block `parent_number + 1`.
    fn bft_validators(&self, parent_number: u64) -> Vec<tally_primitives::BftValidator> {
        crate::view::bft_validators_after(&self.chain.db, parent_number).unwrap_or_else(|| {
            self.bft
                .as_ref()
                .map(|b| b.spec.validators.clone())
                .unwrap_or_default()
        })
    }

    fn bft_validator_set(&self, parent_number: u64) -> Option<ValidatorSet> {
        let list = self.bft_validators(parent_number);
        match ValidatorSet::new(&list) {
            Ok(set) => Some(set),
            Err(e) => {
                tracing::error!(height = parent_number + 1, "no usable validator set: {e}");
                None
            }
        }
    }

    /// Moves the machine to the height after the head.
    fn bft_start_height(&mut self) {
        let head = self.chain.head.read().number;
        let height = head + 1;
        let Some(set) = self.bft_validator_set(head) else {
            return;
        };
        let state = self.bft();
        state.timers.retain(|t| t.1 >= height);
        state.blocks.retain(|_, b| b.header.number >= height);
        state.awaiting_block.retain(|a| a.0 >= height);
        state.executed.clear();
        state.build = None;
        state.idle = false;
        state.start_at = None;
        state.height_started_at = now_ms();
        let outputs = state.machine.start_height(height, set);
        self.bft_apply(outputs);
    }

    /// The head moved (a decision here, or blocks from sync).
    pub(super) fn bft_on_new_head(&mut self) {
        let Some(state) = self.bft.as_ref() else {
            return;
        };
        if !state.started || state.deciding {
            return;
        }
        let head = self.chain.head.read().number;
        if state.machine.height() <= head {
            self.bft_start_height();
        }
    }

    pub(super) fn bft_on_txs(&mut self) {
        let Some(state) = self.bft.as_mut() else {
            return;
        };
        if state.idle && state.started {
            // Transactions arrived: the next height starts a block time
            // after the last one did.
            state.idle = false;
            state.start_at = Some(state.next_start());
        }
    }

    /// Fires due timers and block builds.
    pub(super) fn bft_tick(&mut self) {
        let now = now_ms();
        if self.bft().start_at.is_some_and(|at| at <= now) {
            self.bft_start_height();
        }
        loop {
            let state = self.bft();
            let Some(&first) = state.timers.first() else {
                break;
            };
            if first.0 > now {
                break;
            }
            state.timers.pop_first();
            let (_, height, round, step) = first;
            let outputs = state
                .machine
                .handle(Input::TimeoutElapsed {
                    height,
                    round,
                    step,
                })
                .unwrap_or_default();
            if step == TimeoutStep::Precommit || (step == TimeoutStep::Propose && round > 0) {
                // A round that ends without a decision: say why the chain waits.
                let peers = self.chain.metrics.peers.load(Relaxed);
                let validators = self.bft().machine.validators().map_or(0, |v| v.len());
                tracing::warn!(
                    height,
                    round,
                    ?step,
                    peers,
                    validators,
                    "no decision in this round: fewer than 2/3 of the voting power agreed in \
                     time (validators down, partitioned or slow); the chain waits and never \
                     forks, and goes on once a quorum is back"
                );
            } else if step == TimeoutStep::Rebroadcast {
                let state = self.bft();
                let waited = now.saturating_sub(state.height_started_at);
                let patience = 3 * (state.spec.block_time_ms + state.spec.timeout_ms);
                if waited > patience {
                    let peers = self.chain.metrics.peers.load(Relaxed);
                    tracing::warn!(
                        height,
                        round,
                        waited_s = waited / 1000,
                        peers,
                        "the chain is halted: votes from more than 2/3 of the voting power are \
                         needed and fewer are reachable (validators down or partitioned); it \
                         never forks and resumes by itself once they are back"
                    );
                }
            } else {
                tracing::debug!(height, round, ?step, "consensus timeout");
            }
            self.bft_apply(outputs);
        }
        if let Some((height, round, at)) = self.bft().build {
            if at <= now {
                self.bft().build = None;
                self.bft_build(height, round);
            }
        }
    }

    /// A consensus gossip message from `from`.
    pub(super) fn bft_on_message(&mut self, from: PeerId, data: &[u8]) {
        let Some(state) = self.bft.as_mut() else {
            return;
        };
        let Ok(wire) = alloy_rlp::decode_exact::<Wire>(data) else {
            self.penalise(from, Misbehaviour::MalformedMessage);
            return;
        };
        let message = match ConsensusMessage::decode(&wire.message) {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(%from, "undecodable consensus message: {e}");
                self.penalise(from, Misbehaviour::MalformedMessage);
                return;
            }
        };
        let next = self.chain.head.read().number + 1;
        let waiting = state.idle || state.start_at.is_some();
        if waiting && message.height() == next && state.machine.height() < next {
            // Others started the next height: so do we.
            self.bft_start_height();
        }
        let chain_id = self.chain.spec.chain_id;
        let state = self.bft();
        if let (ConsensusMessage::Proposal(p), Some(block)) = (&message, wire.block.first()) {
            let current = state.machine.height();
            if block.header.hash() != p.block_hash || block.header.number != p.height {
                self.penalise(from, Misbehaviour::InvalidConsensusMessage);
                return;
            }
            // Only a block its round's proposer signed is kept (checked
            // against this height's set; the next height's is rarely
            // different, and the proposer re-sends), so nobody else can
            // fill the slots the real proposal needs.
            let signed = state
                .machine
                .validators()
                .is_some_and(|set| bft::verify_proposal(chain_id, p, set).is_ok());
            if signed
                && (current..=current + 1).contains(&p.height)
                && state.blocks.len() < MAX_BLOCKS
            {
                state.blocks.insert(p.block_hash, block.clone());
            }
        }
        match self.bft().machine.handle(Input::Message(message)) {
            Ok(outputs) => self.bft_apply(outputs),
            // A bad signature or a proposal of nothing is proof of a fault;
            // a message rounds or heights ahead may come from an honest
            // node that is ahead of us, and is only dropped.
            Err(e @ (MessageError::Signature(_) | MessageError::ZeroBlockHash { .. })) => {
                tracing::warn!(%from, "refused a consensus message: {e}");
                self.penalise(from, Misbehaviour::InvalidConsensusMessage);
            }
            Err(e) => {
                // Ahead of us (we may be behind: sync catches up) or a full
                // buffer: dropped, not the sender's fault.
                tracing::trace!(%from, "consensus message dropped: {e}");
            }
        }
        // Blocks that arrived for proposals judged before them.
        let ready: Vec<_> = {
            let state = self.bft();
            let (ready, waiting) = std::mem::take(&mut state.awaiting_block)
                .into_iter()
                .partition(|(_, _, hash)| state.blocks.contains_key(hash));
            state.awaiting_block = waiting;
            ready
        };
        for (height, round, hash) in ready {
            self.bft_judge(height, round, hash);
        }
    }

    fn penalise(&self, peer: PeerId, m: Misbehaviour) {
        if let Some(tx) = self.chain.net.penalties.get() {
            let _ = tx.try_send((peer, m));
        }
    }

    fn bft_apply(&mut self, outputs: Vec<Output>) {
        let mut queue: std::collections::VecDeque<Output> = outputs.into();
        while let Some(output) = queue.pop_front() {
            let more = match output {
                Output::Broadcast(message) => {
                    self.bft_broadcast(message, true);
                    Vec::new()
                }
                Output::Rebroadcast(message) => {
                    self.bft_broadcast(message, false);
                    Vec::new()
                }
                Output::GetValue { height, round } => {
                    // The block time was waited before the height started.
                    self.bft().build = Some((height, round, now_ms()));
                    Vec::new()
                }
                Output::NeedValidity {
                    height,
                    round,
                    block_hash,
                    ..
                } => {
                    if self.bft().blocks.contains_key(&block_hash) {
                        self.bft_judge(height, round, block_hash);
                    } else {
                        self.bft().awaiting_block.push((height, round, block_hash));
                    }
                    Vec::new()
                }
                Output::ScheduleTimeout {
                    height,
                    round,
                    step,
                    after_ms,
                } => {
                    let at = now_ms().saturating_add(after_ms);
                    self.bft().timers.insert((at, height, round, step));
                    Vec::new()
                }
                Output::Decided {
                    height,
                    round,
                    block_hash,
                    certificate,
                } => {
                    self.bft_decided(height, round, block_hash, certificate);
                    Vec::new()
                }
                Output::Evidence(ev) => {
                    tracing::warn!(
                        validator = %ev.validator,
                        height = ev.height,
                        round = ev.round,
                        "a validator signed two different votes: evidence recorded"
                    );
                    let state = self.bft();
                    if state.evidence.len() < MAX_EVIDENCE && !state.evidence.contains(&ev) {
                        state.evidence.push(ev);
                    }
                    Vec::new()
                }
            };
            queue.extend(more);
        }
    }

    /// Sends a message; one this node signed goes to the write-ahead log
    /// first, and is not sent if it cannot be written.
    fn bft_broadcast(&mut self, message: ConsensusMessage, own: bool) {
        let encoded = message.encode();
        if own {
            let kind = match &message {
                ConsensusMessage::Proposal(_) => 0,
                ConsensusMessage::Vote(v) => v.kind.code(),
            };
            if let Err(e) = self
                .chain
                .db
                .wal_put(message.height(), message.round(), kind, &encoded)
            {
                tracing::error!(
                    "cannot write the consensus write-ahead log: {e}; message not sent"
                );
                return;
            }
        }
        let block = match &message {
            ConsensusMessage::Proposal(p) => self.bft().blocks.get(&p.block_hash).cloned(),
            ConsensusMessage::Vote(_) => None,
        };
        let wire = Wire {
            message: encoded.into(),
            block: block.into_iter().collect(),
            sent_at: now_ms(),
        };
        if let Some(tx) = self.chain.net.consensus_out.get() {
            if tx.try_send(alloy_rlp::encode(&wire)).is_err() {
                self.chain.metrics.net_dropped.fetch_add(1, Relaxed);
            }
        }
    }

    /// Builds, seals and proposes this node's block.
    fn bft_build(&mut self, height: u64, round: u32) {
        let head = self.chain.head.read().clone();
        let state = self.bft.as_ref().expect("bft");
        if height != head.number + 1 || state.machine.height() != height {
            return;
        }
        if !state.spec.create_empty_blocks && self.chain.pool.pending_count() == 0 {
            // Wait for transactions; the round's timeout moves others on.
            self.bft().build = Some((height, round, now_ms() + 50));
            return;
        }
        let Some(key) = state.key.clone() else {
            return;
        };
        let last_commit = if head.number == 0 {
            Vec::new()
        } else {
            match self.bft_certificate(head.number) {
                Some(c) => vec![c],
                None => {
                    tracing::warn!(
                        height,
                        "cannot propose: the previous block's certificate is missing"
                    );
                    return;
                }
            }
        };
        let extra = BftExtra {
            round,
            last_commit,
            evidence: state.evidence.clone(),
        };
        let timestamp = (now_ms() / 1000).max(head.timestamp);
        let template = match self.chain.build_template(
            self.engine.as_ref(),
            &self.view(),
            &head,
            timestamp,
            extra.encode(),
        ) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(height, round, "building a proposal failed: {e}");
                return;
            }
        };
        let mut sealed = template.header.clone();
        sealed.seal = bft::seal(&key, &sealed);
        let hash = sealed.hash();
        let block = Block {
            header: sealed.clone(),
            transactions: template.transactions.clone(),
        };
        let state = self.bft();
        state.blocks.insert(hash, block);
        state.executed.insert(hash, (template, sealed));
        let outputs = state
            .machine
            .handle(Input::Proposed {
                height,
                round,
                block_hash: hash,
            })
            .unwrap_or_default();
        self.bft_apply(outputs);
    }

    /// Executes a proposed block and tells the machine whether it is valid.
    fn bft_judge(&mut self, height: u64, round: u32, hash: B256) {
        let head = self.chain.head.read().clone();
        let valid = match self.bft().blocks.get(&hash).cloned() {
            Some(_) if self.bft().executed.contains_key(&hash) => true,
            Some(block) if block.header.parent_hash == head.hash => {
                let sealed = block.header.clone();
                let executed =
                    self.chain
                        .execute_proposal(self.engine.as_ref(), &self.view(), &head, block);
                match executed {
                    Ok(template) => {
                        self.bft().executed.insert(hash, (template, sealed));
                        true
                    }
                    Err(e) => {
                        tracing::warn!(height, round, %hash, "proposed block is refused: {e}");
                        false
                    }
                }
            }
            _ => false,
        };
        let outputs = self
            .bft()
            .machine
            .handle(Input::ProposalValidity {
                height,
                round,
                block_hash: hash,
                valid,
            })
            .unwrap_or_default();
        self.bft_apply(outputs);
    }

    fn bft_certificate(&self, number: u64) -> Option<CommitCertificate> {
        let raw = self.chain.db.certificate(number).ok().flatten()?;
        alloy_rlp::decode_exact(&raw).ok()
    }

    /// Commits a decided block with its certificate.
    fn bft_decided(&mut self, height: u64, round: u32, hash: B256, cert: CommitCertificate) {
        self.bft().deciding = true;
        let committed = self.bft_commit(height, hash, &cert);
        self.bft().deciding = false;
        if !committed {
            return;
        }
        let included = BftExtra::decode(&self.tree.head().header.extra_data)
            .map(|e| e.evidence)
            .unwrap_or_default();
        let state = self.bft();
        state.evidence.retain(|e| !included.contains(e));
        tracing::info!(height, round, %hash, "committed");
        let _ = self.chain.db.wal_prune(height);
        self.after_bft_commit();
    }

    fn bft_commit(&mut self, height: u64, hash: B256, cert: &CommitCertificate) -> bool {
        // The certificate first: a crash between the two leaves a
        // certificate for a block not yet stored, never a block without one.
        if let Err(e) = self
            .chain
            .db
            .put_certificate(height, &alloy_rlp::encode(cert))
        {
            tracing::error!(height, "cannot store the commit certificate: {e}");
            return false;
        }
        let executed = self.bft().executed.remove(&hash);
        let committed = match executed {
            Some((template, sealed)) => {
                let weight = self.engine.weight(self.tree.head().weight, &sealed);
                match self.chain.commit_template(template, sealed, weight) {
                    Ok(block) => {
                        self.extend_tree(std::slice::from_ref(&block), &[weight]);
                        self.on_new_head();
                        true
                    }
                    Err(e) => {
                        tracing::error!(height, "committing the decided block failed: {e}");
                        false
                    }
                }
            }
            None => match self.bft().blocks.get(&hash).cloned() {
                Some(block) => match self.import_one(block) {
                    Ok(Imported::Canonical(_)) | Ok(Imported::Known) => true,
                    Ok(Imported::Side) => false,
                    Err(e) => {
                        tracing::error!(height, "importing the decided block failed: {e}");
                        false
                    }
                },
                None => {
                    // Decided without the block in hand: sync fetches it
                    // from a peer, with this certificate.
                    tracing::warn!(height, %hash, "decided a block this node has not received");
                    false
                }
            },
        };
        if committed {
            self.finalize(height, Some(hash));
        }
        committed
    }

    /// After a commit: governance's block time and allowlist apply; the
    /// next height starts a block time after this one did, or when
    /// transactions come.
    fn after_bft_commit(&mut self) {
        // The commit already moved `safe` and told the engine (on_new_head).
        self.bft_refresh_block_time();
        self.bft_refresh_allowlist();
        let empty = self.chain.pool.pending_count() == 0;
        let state = self.bft();
        state.timers.clear();
        state.build = None;
        if !state.spec.create_empty_blocks && empty {
            state.idle = true;
            return;
        }
        state.start_at = Some(state.next_start());
    }

    /// Governance may add or remove members and validators: their nodes'
    /// keys are the network's allowlist from the next block on.
    fn bft_refresh_allowlist(&mut self) {
        let head = self.chain.head.read().number;
        let Ok(snapshot) = self.chain.db.state_at(head) else {
            return;
        };
        let state = crate::adapters::ExecState {
            snapshot: &snapshot,
            db: &self.chain.db,
        };
        let (Ok(members), Ok(validators)) = (
            tally_executor::system::members(&state),
            tally_executor::system::validators(&state),
        ) else {
            return;
        };
        let Some(spec) = self.bft.as_ref().map(|b| &b.spec) else {
            return;
        };
        // Keys the chain spec allows besides its members and validators
        // (observers) stay allowed.
        let mut keys: BTreeSet<B256> = self
            .chain
            .spec
            .members
            .iter()
            .filter(|k| {
                !spec.members.iter().any(|m| m.node_key == **k)
                    && !spec.validators.iter().any(|v| v.key == **k)
            })
            .copied()
            .collect();
        keys.extend(members.iter().map(|m| m.node_key));
        keys.extend(validators.iter().map(|v| v.key));
        // The network starts with the chain spec's allowlist: nothing to
        // tell it until governance changes the members.
        let from_spec: BTreeSet<B256> = self.chain.spec.members.iter().copied().collect();
        let state = self.bft();
        if state.allowed.as_ref() == Some(&keys) {
            return;
        }
        if state.allowed.is_none() && keys == from_spec {
            state.allowed = Some(keys);
            return;
        }
        // Without a network yet, the next commit tells it.
        let Some(control) = self.chain.net.control.get().cloned() else {
            return;
        };
        self.bft().allowed = Some(keys.clone());
        let peers: Vec<PeerId> = keys
            .iter()
            .filter_map(|k| tally_network::peer_id_from_ed25519_public(k.0).ok())
            .collect();
        tracing::info!(
            members = peers.len(),
            "the consortium's members changed: new allowlist"
        );
        // The network runs on the async runtime; the chain thread does not wait.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = control.set_allowlist(peers).await;
            });
        } else {
            std::thread::spawn(move || {
                futures::executor::block_on(async {
                    let _ = control.set_allowlist(peers).await;
                })
            });
        }
    }

    /// Governance may change the block time: the one in the state after
    /// the head applies to the next block.
    fn bft_refresh_block_time(&mut self) {
        let head = self.chain.head.read().number;
        if let Some(params) = self.chain.governance_params(head) {
            if params.block_time_ms >= 100 {
                self.bft().spec.block_time_ms = params.block_time_ms;
            }
        }
    }

    /// Imports blocks from sync: each must be certified, by the next
    /// block's `last_commit` or (the last) by `tip`.
    pub(super) fn bft_import_batch(
        &mut self,
        blocks: Vec<Block>,
        tip: Option<CommitCertificate>,
    ) -> super::BatchOutcome {
        let mut outcome = super::BatchOutcome {
            imported: 0,
            error: None,
        };
        let certs: Vec<Option<CommitCertificate>> = (0..blocks.len())
            .map(|i| match blocks.get(i + 1) {
                Some(next) => BftExtra::decode(&next.header.extra_data)
                    .ok()
                    .and_then(|e| e.last_commit().cloned()),
                None => tip.clone(),
            })
            .collect();
        for (block, cert) in blocks.into_iter().zip(certs) {
            let number = block.header.number;
            let hash = block.header.hash();
            if self.known(&hash) {
                continue;
            }
            let Some(cert) = cert else {
                outcome.error = Some((number, ImportError::Uncertified { number }));
                break;
            };
            let set = self.bft_validators(number.saturating_sub(1));
            let chain_id = self.chain.spec.chain_id;
            if let Err(e) = bft::verify_block_certificate(chain_id, &block.header, &cert, &set) {
                outcome.error = Some((
                    number,
                    ImportError::BadCertificate {
                        number,
                        reason: e.to_string(),
                    },
                ));
                break;
            }
            if let Err(e) = self
                .chain
                .db
                .put_certificate(number, &alloy_rlp::encode(&cert))
            {
                outcome.error = Some((number, crate::error::NodeError::from(e).into()));
                break;
            }
            match self.import_one(block) {
                Ok(Imported::Known) => {}
                Ok(Imported::Canonical(_)) => {
                    outcome.imported += 1;
                    self.finalize(number, Some(hash));
                }
                Ok(Imported::Side) => {}
                Err(e) => {
                    outcome.error = Some((number, e));
                    break;
                }
            }
        }
        outcome
    }
}
