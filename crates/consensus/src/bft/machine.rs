//! [`BftMachine`]: Tendermint for one node, as a pure state machine.
//!
//! Malachite's driver runs the round state machine of the Tendermint paper
//! (propose, prevote, precommit, locking, valid round) and keeps the votes;
//! this wrapper gives it Tally's messages. It checks every received
//! message's signature and membership before the driver sees it, asks the
//! node to build or judge blocks, signs what the driver wants to send (never
//! two different things in one slot, see [`BftMachine::restore`]), and
//! assembles the commit certificate of a decision from the precommits the
//! vote keeper holds. The node owns the network, the clock (it runs the
//! [`Output::ScheduleTimeout`]s and feeds back [`Input::TimeoutElapsed`])
//! and storage (it persists each [`Output::Broadcast`] before sending it).
//!
//! Two additions to the paper's algorithm keep a lossy network live: every
//! validator re-sends its messages of the current round on a rebroadcast
//! timeout, and a node that sees messages of the height it just decided
//! re-sends that height's proposal and precommits, so a straggler that
//! missed them can decide too.

use super::context::{BlockHash, Height, Proposal, TallyContext, ValidatorKey, Vote};
use super::message::{ConsensusMessage, ProposalMsg, VoteMsg};
use super::sign::{
    sign_proposal, sign_vote, validator_key, verify_proposal, verify_vote, SignatureError,
};
use super::validators::ValidatorSet;
use malachitebft_core_driver::{Driver, Input as DriverInput, Output as DriverOutput};
use malachitebft_core_types::{
    NilOrVal, Round, SignedMessage, ThresholdParams, Timeout, TimeoutKind, Validity, VoteType,
};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use tally_crypto::node_key::NodeKey;
use tally_primitives::{
    bft::{CommitSignature, SignedVoteRecord, VoteKind},
    BftSpec, CommitCertificate, Evidence, B256,
};

/// Messages for the next height kept until it starts.
pub const MAX_FUTURE_MESSAGES: usize = 4096;
/// Rounds ahead of ours a message may be for (an honest validator only
/// moves on with others, so a far-ahead round is spam for the vote keeper).
pub const MAX_ROUNDS_AHEAD: u32 = 64;
/// Proposals kept at one height awaiting the node's verdict.
const MAX_AWAITING: usize = 256;

/// What the machine needs to know besides the validator sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BftConfig {
    pub chain_id: u64,
    /// Timeout of round 0 (propose, prevote and precommit alike).
    pub timeout_ms: u64,
    /// Added to every timeout for each round.
    pub timeout_delta_ms: u64,
}

impl BftConfig {
    pub fn from_spec(chain_id: u64, spec: &BftSpec) -> BftConfig {
        BftConfig {
            chain_id,
            timeout_ms: spec.timeout_ms,
            timeout_delta_ms: spec.timeout_delta_ms,
        }
    }

    /// Timeout of `step` in `round`: base + delta × round (the rebroadcast
    /// timeout is twice that).
    pub fn timeout(&self, step: TimeoutStep, round: u32) -> u64 {
        let base = self
            .timeout_ms
            .saturating_add(self.timeout_delta_ms.saturating_mul(u64::from(round)));
        match step {
            TimeoutStep::Rebroadcast => base.saturating_mul(2),
            _ => base,
        }
    }
}

/// Which timeout fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimeoutStep {
    Propose,
    Prevote,
    Precommit,
    /// Re-send this node's messages of the round.
    Rebroadcast,
}

/// What the node tells the machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A message from a peer (already decoded).
    Message(ConsensusMessage),
    /// The block asked for by [`Output::GetValue`] is built.
    Proposed {
        height: u64,
        round: u32,
        block_hash: B256,
    },
    /// The node executed a proposed block ([`Output::NeedValidity`]).
    ProposalValidity {
        height: u64,
        round: u32,
        block_hash: B256,
        valid: bool,
    },
    /// A timeout from [`Output::ScheduleTimeout`] fired.
    TimeoutElapsed {
        height: u64,
        round: u32,
        step: TimeoutStep,
    },
}

/// What the machine asks of the node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// A message this node just signed: persist it (it is one of
    /// [`BftMachine::signed_records`]), then send it to all validators.
    Broadcast(ConsensusMessage),
    /// Send again a message already persisted or signed by others.
    Rebroadcast(ConsensusMessage),
    /// This node proposes: build a block at `height` and answer
    /// [`Input::Proposed`].
    GetValue { height: u64, round: u32 },
    /// Fetch and execute this proposed block, then answer
    /// [`Input::ProposalValidity`].
    NeedValidity {
        height: u64,
        round: u32,
        block_hash: B256,
        proposer: B256,
    },
    /// Feed back [`Input::TimeoutElapsed`] after `after_ms`.
    ScheduleTimeout {
        height: u64,
        round: u32,
        step: TimeoutStep,
        after_ms: u64,
    },
    /// The block is committed; the certificate goes into the next block.
    /// The node imports it, then calls [`BftMachine::start_height`].
    Decided {
        height: u64,
        round: u32,
        block_hash: B256,
        certificate: CommitCertificate,
    },
    /// A validator equivocated: both of its signed votes.
    Evidence(Evidence),
}

/// Why a message from a peer is refused (the peer sent something wrong).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum MessageError {
    #[error("message for height {height} is too far ahead of this node's height {current}")]
    TooFarAhead { height: u64, current: u64 },
    #[error("message for round {round} at height {height} is more than {MAX_ROUNDS_AHEAD} rounds ahead of round {current}")]
    RoundTooFarAhead {
        height: u64,
        round: u32,
        current: u32,
    },
    #[error("proposal at height {height} round {round} is for the zero block hash")]
    ZeroBlockHash { height: u64, round: u32 },
    #[error("{0}")]
    Signature(#[from] SignatureError),
    #[error("next-height buffer is full ({MAX_FUTURE_MESSAGES} messages)")]
    FutureBufferFull,
}

impl MessageError {
    /// Whether only a faulty or malicious peer sends such a message (the
    /// node may penalise it). A message too far ahead or a full buffer
    /// says only that this node is behind: it should sync, not punish.
    pub fn is_misbehaviour(&self) -> bool {
        match self {
            MessageError::Signature(_)
            | MessageError::ZeroBlockHash { .. }
            | MessageError::RoundTooFarAhead { .. } => true,
            MessageError::TooFarAhead { .. } | MessageError::FutureBufferFull => false,
        }
    }
}

/// A signing slot: the machine signs at most one message in each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Slot {
    height: u64,
    round: u32,
    /// 0 proposal, else [`VoteKind::code`].
    kind: u8,
}

fn slot_of(message: &ConsensusMessage) -> Slot {
    match message {
        ConsensusMessage::Proposal(p) => Slot {
            height: p.height,
            round: p.round,
            kind: 0,
        },
        ConsensusMessage::Vote(v) => Slot {
            height: v.height,
            round: v.round,
            kind: v.kind.code(),
        },
    }
}

/// The proposal and precommits of the last decided height, re-sent to
/// stragglers still voting on it.
#[derive(Clone, Debug)]
struct Decision {
    height: u64,
    proposal: Option<ProposalMsg>,
    precommits: Vec<VoteMsg>,
}

/// Tendermint for one node (see the module docs).
pub struct BftMachine {
    config: BftConfig,
    key: Option<NodeKey>,
    /// Our validator key; zero (never a valid key) on a follower.
    me: B256,
    driver: Option<Driver<TallyContext>>,
    set: Option<ValidatorSet>,
    height: u64,
    decided: bool,
    /// Everything this node signed at heights not yet left behind.
    records: BTreeMap<Slot, ConsensusMessage>,
    /// The node's verdicts on blocks proposed at this height.
    validity: HashMap<B256, bool>,
    awaiting: Vec<ProposalMsg>,
    /// Proposals handed to the driver, for re-sending a decision.
    proposals: HashMap<(u32, B256), ProposalMsg>,
    future: Vec<ConsensusMessage>,
    last_decision: Option<Decision>,
    straggler_seen: bool,
    evidence_seen: HashSet<B256>,
}

impl std::fmt::Debug for BftMachine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BftMachine")
            .field("me", &self.me)
            .field("height", &self.height)
            .field("round", &self.round())
            .field("decided", &self.decided)
            .finish_non_exhaustive()
    }
}

impl BftMachine {
    /// A machine that signs with `key`, or a follower (`None`) that only
    /// checks and counts messages.
    pub fn new(config: BftConfig, key: Option<NodeKey>) -> BftMachine {
        let me = key.as_ref().map_or(B256::ZERO, validator_key);
        BftMachine {
            config,
            key,
            me,
            driver: None,
            set: None,
            height: 0,
            decided: false,
            records: BTreeMap::new(),
            validity: HashMap::new(),
            awaiting: Vec::new(),
            proposals: HashMap::new(),
            future: Vec::new(),
            last_decision: None,
            straggler_seen: false,
            evidence_seen: HashSet::new(),
        }
    }

    /// The height being agreed on (0 before the first [`Self::start_height`]).
    pub fn height(&self) -> u64 {
        self.height
    }

    /// The current round, `None` before the first height starts.
    pub fn round(&self) -> Option<u32> {
        self.driver.as_ref().and_then(|d| d.round().as_u32())
    }

    /// The validator set of the current height.
    pub fn validators(&self) -> Option<&ValidatorSet> {
        self.set.as_ref()
    }

    /// Whether this node signs at the current height.
    pub fn is_validator(&self) -> bool {
        self.key.is_some() && self.set.as_ref().is_some_and(|s| s.get(&self.me).is_some())
    }

    /// Everything this node signed at the current height and above: what
    /// the node's write-ahead log must hold (each also came out as an
    /// [`Output::Broadcast`]).
    pub fn signed_records(&self) -> Vec<ConsensusMessage> {
        self.records.values().cloned().collect()
    }

    /// Feeds back the records persisted before a restart. From now on, when
    /// the driver wants to sign in a slot already recorded, the recorded
    /// message is re-sent instead and nothing new is signed, so a restart
    /// can never make this node equivocate. Records not signed by this
    /// node's key are ignored.
    pub fn restore(&mut self, records: Vec<ConsensusMessage>) {
        for record in records {
            if record.signer() == self.me && self.key.is_some() {
                self.records.entry(slot_of(&record)).or_insert(record);
            }
        }
    }

    /// Starts agreeing on `height` with its validator set (after the node
    /// imported the block decided at `height - 1`, or at start-up).
    pub fn start_height(&mut self, height: u64, set: ValidatorSet) -> Vec<Output> {
        self.height = height;
        self.decided = false;
        self.validity.clear();
        self.awaiting.clear();
        self.proposals.clear();
        self.evidence_seen.clear();
        self.straggler_seen = false;
        self.records.retain(|slot, _| slot.height >= height);
        let address = ValidatorKey(self.me);
        match &mut self.driver {
            Some(driver) => driver.move_to_height(Height(height), set.clone()),
            None => {
                self.driver = Some(Driver::new(
                    TallyContext,
                    Height(height),
                    set.clone(),
                    address,
                    ThresholdParams::default(),
                ))
            }
        }
        let proposer = set.proposer(height, 0).key;
        self.set = Some(set);
        let mut out = Vec::new();
        // Later rounds get theirs when the driver enters them.
        if self.is_validator() {
            out.push(self.schedule(0, TimeoutStep::Rebroadcast));
        }
        self.drive(
            DriverInput::NewRound(Height(height), Round::ZERO, proposer),
            &mut out,
        );
        // Replay what arrived early; whoever sent a bad one is unknown by now.
        let future = std::mem::take(&mut self.future);
        for message in future {
            if message.height() == height {
                if let Ok(more) = self.on_message(message) {
                    out.extend(more);
                }
            } else if message.height() > height {
                self.future.push(message);
            }
        }
        out
    }

    /// Handles one input. An `Err` means a peer's message was wrong (the
    /// node may penalise that peer); inputs that are merely stale are
    /// ignored with `Ok(vec![])`.
    pub fn handle(&mut self, input: Input) -> Result<Vec<Output>, MessageError> {
        if self.driver.is_none() {
            if let Input::Message(message) = input {
                return self.buffer(message).map(|()| Vec::new());
            }
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        match input {
            Input::Message(message) => return self.on_message(message),
            Input::Proposed {
                height,
                round,
                block_hash,
            } => {
                if height == self.height && self.is_validator() && !block_hash.is_zero() {
                    self.validity.insert(block_hash, true);
                    self.drive(
                        DriverInput::ProposeValue(Round::new(round), BlockHash(block_hash)),
                        &mut out,
                    );
                }
            }
            Input::ProposalValidity {
                height,
                block_hash,
                valid,
                ..
            } => {
                if height == self.height {
                    self.validity.insert(block_hash, valid);
                    let (ready, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.awaiting)
                        .into_iter()
                        .partition(|p| p.block_hash == block_hash);
                    self.awaiting = rest;
                    for p in ready {
                        self.feed_proposal(p, valid, &mut out);
                    }
                }
            }
            Input::TimeoutElapsed {
                height,
                round,
                step,
            } => {
                if height == self.height {
                    self.on_timeout(round, step, &mut out);
                }
            }
        }
        Ok(out)
    }

    fn current_round(&self) -> u32 {
        self.round().unwrap_or(0)
    }

    fn buffer(&mut self, message: ConsensusMessage) -> Result<(), MessageError> {
        if self.future.len() >= MAX_FUTURE_MESSAGES {
            return Err(MessageError::FutureBufferFull);
        }
        if !self.future.contains(&message) {
            self.future.push(message);
        }
        Ok(())
    }

    fn on_message(&mut self, message: ConsensusMessage) -> Result<Vec<Output>, MessageError> {
        let height = message.height();
        if height > self.height {
            if height == self.height + 1 {
                self.buffer(message)?;
                return Ok(Vec::new());
            }
            return Err(MessageError::TooFarAhead {
                height,
                current: self.height,
            });
        }
        if height < self.height {
            if height + 1 == self.height {
                self.straggler_seen = true;
            }
            return Ok(Vec::new());
        }
        let current = self.current_round();
        if message.round() > current.saturating_add(MAX_ROUNDS_AHEAD) {
            return Err(MessageError::RoundTooFarAhead {
                height,
                round: message.round(),
                current,
            });
        }
        let Some(set) = &self.set else {
            return Ok(Vec::new());
        };
        let chain_id = self.config.chain_id;
        let mut out = Vec::new();
        match message {
            ConsensusMessage::Vote(v) => {
                let signed = to_signed_vote(&v);
                // A vote the keeper counted already (rebroadcasts bring many)
                // changes nothing: skip the signature check.
                if self
                    .driver
                    .as_ref()
                    .is_some_and(|d| d.votes().has_vote(&signed))
                {
                    return Ok(out);
                }
                verify_vote(chain_id, &v, set)?;
                self.drive(DriverInput::Vote(signed), &mut out);
            }
            ConsensusMessage::Proposal(p) => {
                if p.block_hash.is_zero() {
                    return Err(MessageError::ZeroBlockHash {
                        height,
                        round: p.round,
                    });
                }
                verify_proposal(chain_id, &p, set)?;
                match self.validity.get(&p.block_hash) {
                    Some(&valid) => self.feed_proposal(p, valid, &mut out),
                    None => {
                        if !self.awaiting.contains(&p) && self.awaiting.len() < MAX_AWAITING {
                            out.push(Output::NeedValidity {
                                height,
                                round: p.round,
                                block_hash: p.block_hash,
                                proposer: p.proposer,
                            });
                            self.awaiting.push(p);
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    fn feed_proposal(&mut self, p: ProposalMsg, valid: bool, out: &mut Vec<Output>) {
        if self.proposals.len() < MAX_AWAITING {
            self.proposals.insert((p.round, p.block_hash), p.clone());
        }
        self.drive(
            DriverInput::Proposal(to_signed_proposal(&p), Validity::from_bool(valid)),
            out,
        );
    }

    fn on_timeout(&mut self, round: u32, step: TimeoutStep, out: &mut Vec<Output>) {
        let kind =
            match step {
                TimeoutStep::Propose => TimeoutKind::Propose,
                TimeoutStep::Prevote => TimeoutKind::Prevote,
                TimeoutStep::Precommit => TimeoutKind::Precommit,
                TimeoutStep::Rebroadcast => {
                    let current = self.current_round();
                    if round != current {
                        return; // the new round has a timer of its own
                    }
                    let height = self.height;
                    // This round's messages, and from earlier rounds those that
                    // can still matter: proposals and votes for a block (a peer
                    // that missed a polka cannot accept its re-proposal, one
                    // that missed a commit's precommits cannot decide).
                    out.extend(
                        self.records
                            .range(Slot::proposal(height, 0)..=Slot::proposal(height, u32::MAX))
                            .filter(|(slot, m)| {
                                slot.round == round
                                    || match m {
                                        ConsensusMessage::Proposal(_) => true,
                                        ConsensusMessage::Vote(v) => !v.value.is_zero(),
                                    }
                            })
                            .map(|(_, m)| Output::Rebroadcast(m.clone())),
                    );
                    if std::mem::take(&mut self.straggler_seen) {
                        if let Some(d) = self
                            .last_decision
                            .as_ref()
                            .filter(|d| d.height + 1 == height)
                        {
                            out.extend(d.proposal.iter().map(|p| {
                                Output::Rebroadcast(ConsensusMessage::Proposal(p.clone()))
                            }));
                            out.extend(
                                d.precommits.iter().map(|v| {
                                    Output::Rebroadcast(ConsensusMessage::Vote(v.clone()))
                                }),
                            );
                        }
                    }
                    out.push(self.schedule(round, TimeoutStep::Rebroadcast));
                    return;
                }
            };
        self.drive(
            DriverInput::TimeoutElapsed(Timeout::new(Round::new(round), kind)),
            out,
        );
    }

    fn schedule(&self, round: u32, step: TimeoutStep) -> Output {
        Output::ScheduleTimeout {
            height: self.height,
            round,
            step,
            after_ms: self.config.timeout(step, round),
        }
    }

    /// Runs the driver on `first` and on every input its outputs lead to
    /// (our own proposals and votes go back in, as Malachite's consensus
    /// layer does), turning its outputs into ours.
    fn drive(&mut self, first: DriverInput<TallyContext>, out: &mut Vec<Output>) {
        let mut queue = VecDeque::from([first]);
        while let Some(input) = queue.pop_front() {
            let Some(driver) = self.driver.as_mut() else {
                return;
            };
            // The driver's errors are about inputs for another height or
            // from outside the set, which the checks above already refuse.
            let Ok(outputs) = driver.process(input) else {
                continue;
            };
            for output in outputs {
                self.lift(output, &mut queue, out);
            }
        }
        self.collect_evidence(out);
    }

    fn lift(
        &mut self,
        output: DriverOutput<TallyContext>,
        queue: &mut VecDeque<DriverInput<TallyContext>>,
        out: &mut Vec<Output>,
    ) {
        match output {
            DriverOutput::NewRound(height, round) => {
                let Some(set) = &self.set else { return };
                let proposer = set.proposer(height.0, round.as_u32().unwrap_or(0)).key;
                queue.push_back(DriverInput::NewRound(height, round, proposer));
                if self.is_validator() {
                    out.push(self.schedule(round.as_u32().unwrap_or(0), TimeoutStep::Rebroadcast));
                }
            }
            DriverOutput::Propose(p) => {
                if !self.is_validator() {
                    return;
                }
                let round = p.round.as_u32().unwrap_or(0);
                let message = self.sign_once(Slot::proposal(p.height.0, round), |key, chain| {
                    ConsensusMessage::Proposal(sign_proposal(
                        key,
                        chain,
                        p.height.0,
                        round,
                        p.pol_round.as_u32(),
                        p.value.0,
                    ))
                });
                if let Some((ConsensusMessage::Proposal(signed), fresh)) = message {
                    out.push(if fresh {
                        Output::Broadcast(ConsensusMessage::Proposal(signed.clone()))
                    } else {
                        Output::Rebroadcast(ConsensusMessage::Proposal(signed.clone()))
                    });
                    self.validity.insert(signed.block_hash, true);
                    self.proposals
                        .insert((signed.round, signed.block_hash), signed.clone());
                    queue.push_back(DriverInput::Proposal(
                        to_signed_proposal(&signed),
                        Validity::Valid,
                    ));
                }
            }
            DriverOutput::Vote(v) => {
                if !self.is_validator() {
                    return;
                }
                let kind = match v.kind {
                    VoteType::Prevote => VoteKind::Prevote,
                    VoteType::Precommit => VoteKind::Precommit,
                };
                let round = v.round.as_u32().unwrap_or(0);
                let value = match v.value {
                    NilOrVal::Nil => B256::ZERO,
                    NilOrVal::Val(hash) => hash.0,
                };
                let slot = Slot {
                    height: v.height.0,
                    round,
                    kind: kind.code(),
                };
                let message = self.sign_once(slot, |key, chain| {
                    ConsensusMessage::Vote(sign_vote(key, chain, kind, v.height.0, round, value))
                });
                if let Some((ConsensusMessage::Vote(signed), fresh)) = message {
                    let m = ConsensusMessage::Vote(signed.clone());
                    out.push(if fresh {
                        Output::Broadcast(m)
                    } else {
                        Output::Rebroadcast(m)
                    });
                    queue.push_back(DriverInput::Vote(to_signed_vote(&signed)));
                }
            }
            DriverOutput::Decide(round, proposal) => self.decide(round, proposal, out),
            DriverOutput::ScheduleTimeout(timeout) => {
                let step = match timeout.kind {
                    TimeoutKind::Propose => TimeoutStep::Propose,
                    TimeoutKind::Prevote => TimeoutStep::Prevote,
                    TimeoutKind::Precommit => TimeoutStep::Precommit,
                    _ => return,
                };
                out.push(self.schedule(timeout.round.as_u32().unwrap_or(0), step));
            }
            DriverOutput::GetValue(height, round, _) => {
                if !self.is_validator() {
                    return;
                }
                let r = round.as_u32().unwrap_or(0);
                // After a restart, re-propose what we proposed before
                // rather than ask for a new block.
                match self.records.get(&Slot::proposal(height.0, r)) {
                    Some(ConsensusMessage::Proposal(p)) => {
                        queue.push_back(DriverInput::ProposeValue(round, BlockHash(p.block_hash)))
                    }
                    _ => out.push(Output::GetValue {
                        height: height.0,
                        round: r,
                    }),
                }
            }
        }
    }

    /// The message for `slot`: the recorded one if this node already
    /// signed there (whatever the driver wants now), else a fresh
    /// signature, recorded. `bool` = freshly signed.
    fn sign_once(
        &mut self,
        slot: Slot,
        sign: impl FnOnce(&NodeKey, u64) -> ConsensusMessage,
    ) -> Option<(ConsensusMessage, bool)> {
        if let Some(recorded) = self.records.get(&slot) {
            return Some((recorded.clone(), false));
        }
        let key = self.key.as_ref()?;
        let message = sign(key, self.config.chain_id);
        self.records.insert(slot, message.clone());
        Some((message, true))
    }

    /// `_at` is the round the driver was in; the decision belongs to the
    /// proposal's round, whose precommits committed it (paper L49).
    fn decide(&mut self, _at: Round, proposal: Proposal, out: &mut Vec<Output>) {
        let Some(driver) = &self.driver else { return };
        let round = proposal.round;
        let r = round.as_u32().unwrap_or(0);
        let mut precommits: Vec<VoteMsg> = driver
            .votes()
            .per_round(round)
            .map(|per_round| per_round.precommits_for_value(&proposal.value))
            .unwrap_or_default()
            .iter()
            .map(|v| VoteMsg {
                kind: VoteKind::Precommit,
                height: v.message.height.0,
                round: r,
                value: proposal.value.0,
                validator: v.message.validator.0,
                signature: v.signature,
            })
            .collect();
        precommits.sort_by_key(|v| v.validator);
        precommits.dedup_by_key(|v| v.validator);
        let certificate = CommitCertificate {
            height: self.height,
            round: r,
            block_hash: proposal.value.0,
            signatures: precommits
                .iter()
                .map(|v| CommitSignature {
                    validator: v.validator,
                    signature: v.signature,
                })
                .collect(),
        };
        self.decided = true;
        self.last_decision = Some(Decision {
            height: self.height,
            proposal: self
                .proposals
                .values()
                .find(|p| p.block_hash == proposal.value.0 && p.proposer == proposal.proposer.0)
                .cloned(),
            precommits,
        });
        out.push(Output::Decided {
            height: self.height,
            round: r,
            block_hash: proposal.value.0,
            certificate,
        });
    }

    fn collect_evidence(&mut self, out: &mut Vec<Output>) {
        let Some(driver) = self.driver.as_mut() else {
            return;
        };
        // Double proposals are not in our evidence format (its records
        // carry no proof-of-lock round), so they are dropped here.
        let _ = driver.take_proposal_evidence();
        let evidence = driver.take_vote_evidence();
        for (address, pairs) in evidence.iter() {
            for (first, second) in pairs {
                let kind = match first.message.kind {
                    VoteType::Prevote => VoteKind::Prevote,
                    VoteType::Precommit => VoteKind::Precommit,
                };
                let record = |v: &SignedMessage<TallyContext, Vote>| SignedVoteRecord {
                    value: match v.message.value {
                        NilOrVal::Nil => B256::ZERO,
                        NilOrVal::Val(hash) => hash.0,
                    },
                    signature: v.signature,
                };
                let ev = Evidence {
                    validator: address.0,
                    height: first.message.height.0,
                    round: first.message.round.as_u32().unwrap_or(0),
                    kind: kind.code(),
                    first: record(first),
                    second: record(second),
                }
                .canonical();
                if self.evidence_seen.insert(ev.hash()) {
                    out.push(Output::Evidence(ev));
                }
            }
        }
    }
}

impl Slot {
    fn proposal(height: u64, round: u32) -> Slot {
        Slot {
            height,
            round,
            kind: 0,
        }
    }
}

fn to_signed_vote(v: &VoteMsg) -> SignedMessage<TallyContext, Vote> {
    SignedMessage::new(
        Vote {
            kind: match v.kind {
                VoteKind::Prevote => VoteType::Prevote,
                VoteKind::Precommit => VoteType::Precommit,
            },
            height: Height(v.height),
            round: Round::new(v.round),
            value: if v.value.is_zero() {
                NilOrVal::Nil
            } else {
                NilOrVal::Val(BlockHash(v.value))
            },
            validator: ValidatorKey(v.validator),
        },
        v.signature,
    )
}

fn to_signed_proposal(p: &ProposalMsg) -> SignedMessage<TallyContext, Proposal> {
    SignedMessage::new(
        Proposal {
            height: Height(p.height),
            round: Round::new(p.round),
            value: BlockHash(p.block_hash),
            pol_round: p.pol_round.map_or(Round::Nil, Round::new),
            proposer: ValidatorKey(p.proposer),
        },
        p.signature,
    )
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
