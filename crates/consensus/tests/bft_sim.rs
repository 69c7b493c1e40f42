//! Deterministic simulations of BFT networks: `BftMachine`s joined by an
//! in-process network with random delay, loss, reordering and partitions,
//! a manual clock that fires timeouts, values (block hashes) invented and
//! judged by the simulation, and crashed, restarted and Byzantine nodes.
//! Every run checks safety (never two decisions at one height) and that
//! every decision's certificate verifies.

use rand::{rngs::StdRng, Rng, SeedableRng};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashSet};
use tally_consensus::bft::{
    sign_vote, validator_key, verify_certificate, verify_evidence, BftConfig, BftMachine,
    ConsensusMessage, Input, MessageError, Output, TimeoutStep, ValidatorSet,
};
use tally_crypto::node_key::NodeKey;
use tally_primitives::{bft::VoteKind, BftValidator, Evidence, B256};

const CHAIN: u64 = 42;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    Honest,
    /// Sends a second, different prevote beside each of its prevotes.
    Equivocator,
    /// Proposes blocks every other node judges invalid.
    BadProposer,
}

struct Node {
    key: NodeKey,
    machine: BftMachine,
    role: Role,
    crashed: bool,
    decisions: BTreeMap<u64, B256>,
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Deliver {
        to: usize,
        bytes: Vec<u8>,
    },
    Timer {
        node: usize,
        height: u64,
        round: u32,
        step: u8,
    },
}

struct Sim {
    rng: StdRng,
    now: u64,
    seq: u64,
    events: BinaryHeap<Reverse<(u64, u64, Event)>>,
    nodes: Vec<Node>,
    set: ValidatorSet,
    config: BftConfig,
    /// Loss in percent, and the delay range of a delivery.
    drop_pct: u32,
    max_delay: u64,
    /// Nodes on either side of a partition cannot talk.
    partition: Option<Vec<usize>>,
    invalid: HashSet<B256>,
    decided: BTreeMap<u64, B256>,
    /// Rounds of each decision, by height.
    decided_round: BTreeMap<u64, u32>,
    evidence: Vec<Evidence>,
}

fn step_code(step: TimeoutStep) -> u8 {
    match step {
        TimeoutStep::Propose => 0,
        TimeoutStep::Prevote => 1,
        TimeoutStep::Precommit => 2,
        TimeoutStep::Rebroadcast => 3,
    }
}

fn step_of(code: u8) -> TimeoutStep {
    match code {
        0 => TimeoutStep::Propose,
        1 => TimeoutStep::Prevote,
        2 => TimeoutStep::Precommit,
        _ => TimeoutStep::Rebroadcast,
    }
}

impl Sim {
    fn new(seed: u64, n: usize, roles: &[(usize, Role)]) -> Sim {
        let keys: Vec<_> = (0..n)
            .map(|i| NodeKey::from_bytes(&[i as u8 + 1; 32]))
            .collect();
        let list: Vec<_> = keys
            .iter()
            .map(|k| BftValidator {
                key: validator_key(k),
                power: 1,
            })
            .collect();
        let set = ValidatorSet::new(&list).unwrap();
        let config = BftConfig {
            chain_id: CHAIN,
            timeout_ms: 300,
            timeout_delta_ms: 150,
        };
        let nodes = keys
            .into_iter()
            .enumerate()
            .map(|(i, key)| Node {
                machine: BftMachine::new(config, Some(key.clone())),
                key,
                role: roles
                    .iter()
                    .find(|(j, _)| *j == i)
                    .map_or(Role::Honest, |(_, r)| *r),
                crashed: false,
                decisions: BTreeMap::new(),
            })
            .collect();
        Sim {
            rng: StdRng::seed_from_u64(seed),
            now: 0,
            seq: 0,
            events: BinaryHeap::new(),
            nodes,
            set,
            config,
            drop_pct: 0,
            max_delay: 50,
            partition: None,
            invalid: HashSet::new(),
            decided: BTreeMap::new(),
            decided_round: BTreeMap::new(),
            evidence: Vec::new(),
        }
    }

    fn start(&mut self) {
        for i in 0..self.nodes.len() {
            let out = self.nodes[i].machine.start_height(1, self.set.clone());
            self.apply(i, out);
        }
    }

    fn push(&mut self, at: u64, event: Event) {
        self.seq += 1;
        self.events.push(Reverse((at, self.seq, event)));
    }

    fn can_talk(&self, a: usize, b: usize) -> bool {
        match &self.partition {
            Some(side) => side.contains(&a) == side.contains(&b),
            None => true,
        }
    }

    fn send(&mut self, from: usize, message: &ConsensusMessage) {
        let bytes = message.encode();
        for to in 0..self.nodes.len() {
            if to == from || !self.can_talk(from, to) {
                continue;
            }
            if self.rng.gen_range(0..100) < self.drop_pct {
                continue;
            }
            let at = self.now + self.rng.gen_range(1..=self.max_delay);
            self.push(
                at,
                Event::Deliver {
                    to,
                    bytes: bytes.clone(),
                },
            );
        }
    }

    fn apply(&mut self, i: usize, outputs: Vec<Output>) {
        let mut work: std::collections::VecDeque<Output> = outputs.into();
        while let Some(output) = work.pop_front() {
            let more = match output {
                Output::Broadcast(m) | Output::Rebroadcast(m) => {
                    self.send(i, &m);
                    if self.nodes[i].role == Role::Equivocator {
                        if let ConsensusMessage::Vote(v) = &m {
                            if v.kind == VoteKind::Prevote {
                                let other = if v.value.is_zero() {
                                    B256::repeat_byte(0xee)
                                } else {
                                    B256::ZERO
                                };
                                let alt = sign_vote(
                                    &self.nodes[i].key,
                                    CHAIN,
                                    VoteKind::Prevote,
                                    v.height,
                                    v.round,
                                    other,
                                );
                                self.send(i, &ConsensusMessage::Vote(alt));
                            }
                        }
                    }
                    Vec::new()
                }
                Output::GetValue { height, round } => {
                    let block_hash = B256::from(self.rng.gen::<[u8; 32]>());
                    if self.nodes[i].role == Role::BadProposer {
                        self.invalid.insert(block_hash);
                    }
                    self.handle(
                        i,
                        Input::Proposed {
                            height,
                            round,
                            block_hash,
                        },
                    )
                }
                Output::NeedValidity {
                    height,
                    round,
                    block_hash,
                    ..
                } => {
                    let valid = !self.invalid.contains(&block_hash);
                    self.handle(
                        i,
                        Input::ProposalValidity {
                            height,
                            round,
                            block_hash,
                            valid,
                        },
                    )
                }
                Output::ScheduleTimeout {
                    height,
                    round,
                    step,
                    after_ms,
                } => {
                    self.push(
                        self.now + after_ms,
                        Event::Timer {
                            node: i,
                            height,
                            round,
                            step: step_code(step),
                        },
                    );
                    Vec::new()
                }
                Output::Decided {
                    height,
                    round,
                    block_hash,
                    certificate,
                } => {
                    assert_eq!(certificate.height, height);
                    assert_eq!(certificate.block_hash, block_hash);
                    verify_certificate(&certificate, CHAIN, &self.set)
                        .unwrap_or_else(|e| panic!("node {i} decided with a bad certificate: {e}"));
                    assert!(
                        !self.invalid.contains(&block_hash),
                        "node {i} decided an invalid block at height {height}"
                    );
                    let first = *self.decided.entry(height).or_insert(block_hash);
                    assert_eq!(first, block_hash, "fork: two decisions at height {height}");
                    self.decided_round.entry(height).or_insert(round);
                    self.nodes[i].decisions.insert(height, block_hash);
                    self.nodes[i]
                        .machine
                        .start_height(height + 1, self.set.clone())
                }
                Output::Evidence(ev) => {
                    verify_evidence(&ev, CHAIN, &self.set)
                        .unwrap_or_else(|e| panic!("node {i} produced bad evidence: {e}"));
                    self.evidence.push(ev);
                    Vec::new()
                }
            };
            work.extend(more);
        }
    }

    fn handle(&mut self, i: usize, input: Input) -> Vec<Output> {
        let honest_message = matches!(input, Input::Message(_));
        match self.nodes[i].machine.handle(input) {
            Ok(out) => out,
            Err(MessageError::TooFarAhead { height, .. }) => self.sync(i, height),
            Err(e) => {
                // Honest peers never send refused messages; the equivocator's
                // are validly signed too.
                assert!(!honest_message, "node {i} refused a message: {e}");
                assert!(!e.is_misbehaviour());
                Vec::new()
            }
        }
    }

    /// Block sync, as the node does it when peers are ahead: import the
    /// decided blocks below `seen` and start the height after them.
    fn sync(&mut self, i: usize, seen: u64) -> Vec<Output> {
        let mut height = self.nodes[i].machine.height();
        let start = height;
        while height + 1 < seen {
            let Some(hash) = self.decided.get(&height).copied() else {
                break;
            };
            self.nodes[i].decisions.insert(height, hash);
            height += 1;
        }
        if height == start {
            return Vec::new();
        }
        self.nodes[i].machine.start_height(height, self.set.clone())
    }

    /// Runs events until `until` (simulated ms).
    fn run_until(&mut self, until: u64) {
        while let Some(Reverse((at, _, _))) = self.events.peek() {
            if *at > until {
                break;
            }
            let Some(Reverse((at, _, event))) = self.events.pop() else {
                break;
            };
            self.now = at;
            match event {
                Event::Deliver { to, bytes } => {
                    if self.nodes[to].crashed {
                        continue;
                    }
                    let message = ConsensusMessage::decode(&bytes).expect("decodes");
                    let out = self.handle(to, Input::Message(message));
                    self.apply(to, out);
                }
                Event::Timer {
                    node,
                    height,
                    round,
                    step,
                } => {
                    if self.nodes[node].crashed {
                        continue;
                    }
                    let out = self.handle(
                        node,
                        Input::TimeoutElapsed {
                            height,
                            round,
                            step: step_of(step),
                        },
                    );
                    self.apply(node, out);
                }
            }
        }
        self.now = until;
    }

    /// Runs until every live honest node decided `height` (or `limit` ms).
    fn run_to_height(&mut self, height: u64, limit: u64) -> bool {
        let end = self.now + limit;
        while self.now < end {
            let next = self.now + 100;
            self.run_until(next);
            if self.live().all(|n| n.decisions.contains_key(&height)) {
                return true;
            }
        }
        false
    }

    fn live(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(|n| !n.crashed)
    }

    fn crash(&mut self, i: usize) {
        self.nodes[i].crashed = true;
    }

    /// Restarts a crashed node: a new machine fed its signed records (the
    /// write-ahead log) at the height it had reached.
    fn recover(&mut self, i: usize) {
        let records = self.nodes[i].machine.signed_records();
        let height = self.nodes[i].machine.height();
        let mut machine = BftMachine::new(self.config, Some(self.nodes[i].key.clone()));
        machine.restore(records);
        self.nodes[i].machine = machine;
        self.nodes[i].crashed = false;
        let out = self.nodes[i].machine.start_height(height, self.set.clone());
        self.apply(i, out);
    }
}

const HEIGHTS: u64 = 6;

#[test]
fn all_honest_decide_every_height_and_agree() {
    for n in [4, 7] {
        let seeds = if n == 4 { 0..12 } else { 100..104 };
        for seed in seeds {
            let mut sim = Sim::new(seed, n, &[]);
            sim.drop_pct = if seed % 2 == 0 { 0 } else { 10 };
            sim.max_delay = 20 + seed % 5 * 30;
            sim.start();
            assert!(
                sim.run_to_height(HEIGHTS, 120_000),
                "n={n} seed={seed}: stuck at {:?}",
                sim.nodes
                    .iter()
                    .map(|n| n.machine.height())
                    .collect::<Vec<_>>()
            );
            for node in sim.live() {
                for (h, hash) in &node.decisions {
                    assert_eq!(sim.decided[h], *hash);
                }
            }
        }
    }
}

#[test]
fn progress_continues_with_f_crashed() {
    for (n, seed) in [(4, 1), (4, 2), (4, 3), (7, 4), (7, 5)] {
        let mut sim = Sim::new(seed, n, &[]);
        sim.drop_pct = 5;
        let f = (n - 1) / 3;
        for i in 0..f {
            sim.crash(n - 1 - i);
        }
        sim.start();
        assert!(sim.run_to_height(HEIGHTS, 300_000), "n={n} seed={seed}");
    }
}

#[test]
fn f_plus_one_crashed_halts_safely_then_recovers() {
    for (n, seed) in [(4, 7), (4, 8), (7, 9)] {
        let mut sim = Sim::new(seed, n, &[]);
        sim.start();
        assert!(sim.run_to_height(2, 60_000), "n={n} seed={seed}");
        let f = (n - 1) / 3;
        for i in 0..=f {
            sim.crash(i);
        }
        let before = sim.decided.len();
        let stuck_at = sim.decided.keys().max().copied().unwrap_or(0) + 2;
        assert!(
            !sim.run_to_height(stuck_at, 20_000),
            "decided without a quorum"
        );
        // At most the height in flight when the crash hit may complete.
        assert!(sim.decided.len() <= before + 1);
        let halted = sim.decided.len();
        sim.run_until(sim.now + 20_000);
        assert_eq!(sim.decided.len(), halted, "progress without a quorum");
        for i in 0..=f {
            sim.recover(i);
        }
        let target = sim.decided.keys().max().copied().unwrap_or(0) + 3;
        assert!(
            sim.run_to_height(target, 300_000),
            "n={n} seed={seed}: no recovery"
        );
    }
}

#[test]
fn healed_partition_resumes_progress() {
    for (n, seed) in [(4, 11), (4, 12), (7, 13)] {
        let mut sim = Sim::new(seed, n, &[]);
        sim.start();
        assert!(sim.run_to_height(1, 60_000));
        // Split into halves: neither side holds a quorum.
        sim.partition = Some((0..n / 2).collect());
        sim.run_until(sim.now + 15_000);
        let during = sim.decided.len();
        sim.run_until(sim.now + 15_000);
        assert!(
            sim.decided.len() <= during + 1,
            "progress across a partition"
        );
        sim.partition = None;
        let target = sim.decided.keys().max().copied().unwrap_or(0) + 3;
        assert!(
            sim.run_to_height(target, 300_000),
            "n={n} seed={seed}: no progress after healing"
        );
    }
}

#[test]
fn equivocating_validator_is_caught_and_safety_holds() {
    // Loss only with 4 validators: with 7 and loss, an equivocator can hide
    // a lock (some honest nodes count its prevote for the block, others its
    // nil prevote first, and the vote keeper never counts a second vote), so
    // a re-proposal can stall until polka certificates are exchanged, which
    // this machine does not do yet. Safety is checked on every run anyway.
    for (n, seed, drop_pct) in [(4, 21, 5), (4, 22, 0), (7, 23, 0), (7, 24, 0)] {
        let mut sim = Sim::new(seed, n, &[(0, Role::Equivocator)]);
        sim.drop_pct = drop_pct;
        sim.start();
        assert!(
            sim.run_to_height(HEIGHTS, 300_000),
            "n={n} seed={seed}: {:?}",
            sim.nodes
                .iter()
                .map(|n| (n.machine.height(), n.machine.round()))
                .collect::<Vec<_>>()
        );
        let culprit = validator_key(&sim.nodes[0].key);
        assert!(!sim.evidence.is_empty(), "no evidence produced");
        assert!(sim.evidence.iter().all(|e| e.validator == culprit));
    }
}

#[test]
fn invalid_proposals_are_rejected_and_the_next_round_decides() {
    for (n, seed) in [(4, 31), (7, 32)] {
        let mut sim = Sim::new(seed, n, &[(0, Role::BadProposer)]);
        sim.start();
        assert!(sim.run_to_height(12, 300_000), "n={n} seed={seed}");
        let bad = validator_key(&sim.nodes[0].key);
        let mut skipped = 0;
        for (&h, &r) in &sim.decided_round {
            if sim.set.proposer(h, 0).key.0 == bad {
                assert!(r > 0, "height {h} decided the bad proposer's round 0");
                skipped += 1;
            }
        }
        assert!(skipped > 0, "the bad proposer never had a turn");
    }
}

#[test]
fn equivocation_under_loss_never_forks() {
    for seed in [23, 25] {
        let mut sim = Sim::new(seed, 7, &[(0, Role::Equivocator)]);
        sim.drop_pct = 5;
        sim.start();
        // Liveness is not asserted here (see above); every decision made is
        // checked for agreement and a valid certificate as it happens.
        sim.run_to_height(HEIGHTS, 30_000);
        assert!(!sim.evidence.is_empty());
    }
}
