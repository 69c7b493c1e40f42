//! An in-process simulated network for deterministic multi-node tests.
//!
//! [`SimNetwork`] is a hub shared by every simulated node. A node
//! [`join`](SimNetwork::join)s with a [`PeerId`] and gets a [`SimHandle`]
//! (which implements [`Network`], like the libp2p
//! [`NetworkHandle`](crate::NetworkHandle)) and a bounded receiver of
//! [`NetworkEvent`]s, so node code runs unchanged over it.
//!
//! # Model
//!
//! - Every pair of members is *linked* unless a [`partition`](SimNetwork::partition)
//!   puts them in different groups, one of them banned the other through
//!   [`report_peer`](Network::report_peer) or blocked it through
//!   [`block_peer`](Network::block_peer), or one of them cut the link with
//!   [`remove_peer`](Network::remove_peer). Links appear and vanish with
//!   `PeerConnected` / `PeerDisconnected` events on both sides, as the real
//!   service reports connections.
//! - The operator's controls act per node, the partition on the whole hub:
//!   [`heal`](SimNetwork::heal) ends the partition but lifts no node's
//!   blocks, and [`unblock_peer`](Network::unblock_peer) does not cross a
//!   partition. The simulator has no discovery, so a link cut by
//!   `remove_peer` stays down until either side
//!   [`add_peer`](Network::add_peer)s the other (by `/p2p/<peer id>`; the
//!   simulator has no other addresses), unblocks it, or restarts. On the
//!   real network a removed peer may come back by itself.
//! - Gossip goes to every linked peer directly (the hub is a full mesh, so
//!   there is no multi-hop relaying); each copy gets its own delay and its own
//!   chance of being dropped, which also reorders messages.
//! - A sync request travels to the target as a `NetworkEvent::Request`, the
//!   target answers with [`respond`](Network::respond), and the answer travels
//!   back; each leg may be delayed or dropped. A lost leg makes the requester
//!   fail after the request timeout, and a link cut while waiting fails the
//!   request at once, as a closed connection does.
//! - Messages in flight when a link is cut or the target crashes are lost.
//!
//! # Determinism
//!
//! All randomness comes from one [`StdRng`] seeded by the caller. Every random
//! number is drawn under the hub's mutex when the call is made, and peers are
//! visited in `PeerId` order, so the same sequence of calls always meets the
//! same drops and delays. Delays are `tokio::time` sleeps: under a paused
//! clock (`#[tokio::test(start_paused = true)]`) a whole scenario runs in
//! virtual time. With zero delay messages are delivered synchronously, in
//! order. Determinism also needs a deterministic order of calls, which a
//! current-thread runtime (the `#[tokio::test]` default) gives.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use libp2p::{multiaddr::Protocol, Multiaddr, PeerId};
use rand::{rngs::StdRng, Rng, SeedableRng};
use tokio::sync::{mpsc, oneshot};

use crate::{
    peers::peer_of, Direction, GossipKind, Misbehaviour, Network, NetworkError, NetworkEvent,
    PeerInfo, RefuseReason, RequestId, SyncRequest, SyncResponse,
};

/// Penalty total at which a reporter cuts the reported peer, as the real
/// service's default ban threshold.
pub const BAN_THRESHOLD: u32 = 100;
/// Default capacity of each node's event channel.
pub const DEFAULT_EVENT_CAPACITY: usize = 4096;
/// Default time a requester waits for an answer.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// Faults injected into every message. Probabilities outside `[0, 1]` (or NaN)
/// are clamped; `max_delay < min_delay` means a fixed `min_delay`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Faults {
    /// Shortest delay of one message (one leg of a request).
    pub min_delay: Duration,
    /// Longest delay of one message.
    pub max_delay: Duration,
    /// Probability that one gossip copy is lost.
    pub drop_gossip: f64,
    /// Probability that one leg of a request (request or response) is lost.
    pub drop_requests: f64,
}

impl Faults {
    /// A moderately bad network: 1–30 ms delays, 10 % gossip loss, 5 % request loss.
    pub fn lossy() -> Self {
        Faults {
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(30),
            drop_gossip: 0.1,
            drop_requests: 0.05,
        }
    }
}

/// Counters kept by the hub.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Gossip copies put into a receiver's event channel.
    pub gossip_delivered: u64,
    /// Gossip copies lost to fault injection.
    pub gossip_dropped: u64,
    /// Gossip copies that did not fit in the receiver's full event channel.
    pub gossip_overflowed: u64,
    /// Gossip copies in flight when their link was cut or their target left.
    pub gossip_lost: u64,
    /// Responses handed back to their requester.
    pub requests_served: u64,
    /// Requests or responses lost to fault injection.
    pub requests_dropped: u64,
    /// Calls to `report_peer`.
    pub reports: u64,
    /// Non-gossip events that did not fit in a full event channel.
    pub events_dropped: u64,
}

/// The hub shared by all simulated nodes. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SimNetwork {
    hub: Arc<Mutex<Hub>>,
}

/// One node's view of the hub; implements [`Network`]. After the node
/// [`leave`](SimNetwork::leave)s (or joins again), every call fails with
/// [`NetworkError::ServiceStopped`].
#[derive(Debug, Clone)]
pub struct SimHandle {
    hub: Arc<Mutex<Hub>>,
    peer: PeerId,
    /// Which join of `peer` this handle belongs to, so a stale handle of a
    /// crashed node cannot act for its restarted successor.
    incarnation: u64,
}

#[derive(Debug)]
struct Member {
    events: mpsc::Sender<NetworkEvent>,
    incarnation: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Travelling to the target (or lost on the way).
    Sent,
    /// Delivered to the target, waiting for `respond`.
    AtTarget,
    /// Answered; the response travels back (or was lost).
    Answered,
}

/// Where a requester waits for its answer.
type Answer = oneshot::Receiver<Result<SyncResponse, NetworkError>>;

#[derive(Debug)]
struct Pending {
    requester: PeerId,
    target: PeerId,
    stage: Stage,
    reply: oneshot::Sender<Result<SyncResponse, NetworkError>>,
}

#[derive(Debug)]
struct Hub {
    rng: StdRng,
    faults: Faults,
    request_timeout: Duration,
    event_capacity: usize,
    next_incarnation: u64,
    next_request: u64,
    members: BTreeMap<PeerId, Member>,
    /// Current links, each stored once as `(smaller, larger)`.
    links: BTreeSet<(PeerId, PeerId)>,
    /// Partition group of each listed peer; `None` when healed.
    groups: Option<BTreeMap<PeerId, usize>>,
    /// `(reporter, reported)` pairs whose score reached the threshold.
    bans: BTreeSet<(PeerId, PeerId)>,
    /// `(blocker, blocked)` pairs, until the blocker unblocks.
    blocks: BTreeSet<(PeerId, PeerId)>,
    /// Links cut by `remove_peer`, stored as `(smaller, larger)`.
    removed: BTreeSet<(PeerId, PeerId)>,
    /// `(adder, added)` pairs from `add_peer`.
    statics: BTreeSet<(PeerId, PeerId)>,
    /// Which side of each current link opened it.
    dialers: BTreeMap<(PeerId, PeerId), PeerId>,
    scores: BTreeMap<(PeerId, PeerId), u32>,
    pending: BTreeMap<u64, Pending>,
    stats: SimStats,
    reports: Vec<(PeerId, PeerId, Misbehaviour)>,
}

/// Locks the hub even if a panic elsewhere poisoned the mutex: the hub never
/// panics while mutating, so its state is still consistent.
fn lock(hub: &Mutex<Hub>) -> MutexGuard<'_, Hub> {
    hub.lock().unwrap_or_else(PoisonError::into_inner)
}

fn ordered(a: PeerId, b: PeerId) -> (PeerId, PeerId) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

fn clamp_probability(p: f64) -> f64 {
    if p.is_nan() {
        0.0
    } else {
        p.clamp(0.0, 1.0)
    }
}

fn link_closed(peer: PeerId) -> NetworkError {
    NetworkError::Request {
        peer,
        reason: "connection closed while waiting for the response".into(),
    }
}

impl Hub {
    /// One drop decision and one delay; always two draws, so the sequence of
    /// draws does not depend on the fault settings' edge cases.
    fn draw(&mut self, drop_probability: f64) -> (bool, Duration) {
        let dropped = self.rng.gen::<f64>() < clamp_probability(drop_probability);
        let span = self.faults.max_delay.saturating_sub(self.faults.min_delay);
        let span = u64::try_from(span.as_nanos()).unwrap_or(u64::MAX);
        let offset = self.rng.gen_range(0..=span);
        let delay = self
            .faults
            .min_delay
            .saturating_add(Duration::from_nanos(offset));
        (dropped, delay)
    }

    fn is_current(&self, peer: &PeerId, incarnation: u64) -> bool {
        self.members
            .get(peer)
            .is_some_and(|m| m.incarnation == incarnation)
    }

    fn linked(&self, a: PeerId, b: PeerId) -> bool {
        self.links.contains(&ordered(a, b))
    }

    fn linked_peers(&self, peer: PeerId) -> Vec<PeerId> {
        self.members
            .keys()
            .copied()
            .filter(|other| self.linked(peer, *other))
            .collect()
    }

    fn should_link(&self, a: PeerId, b: PeerId) -> bool {
        let group = |p: &PeerId| {
            self.groups
                .as_ref()
                .map(|g| g.get(p).copied().unwrap_or(usize::MAX))
        };
        a != b
            && group(&a) == group(&b)
            && !self.bans.contains(&(a, b))
            && !self.bans.contains(&(b, a))
            && !self.blocks.contains(&(a, b))
            && !self.blocks.contains(&(b, a))
            && !self.removed.contains(&ordered(a, b))
    }

    /// Sends a non-gossip event; a full channel loses it (counted), a closed
    /// one means the node stopped reading, which is its business.
    fn emit(&mut self, to: PeerId, event: NetworkEvent) {
        if let Some(member) = self.members.get(&to) {
            if let Err(mpsc::error::TrySendError::Full(_)) = member.events.try_send(event) {
                self.stats.events_dropped += 1;
            }
        }
    }

    fn deliver_gossip(
        &mut self,
        from: PeerId,
        to: PeerId,
        incarnation: u64,
        kind: GossipKind,
        data: Vec<u8>,
    ) {
        if !self.is_current(&to, incarnation) || !self.linked(from, to) {
            self.stats.gossip_lost += 1;
            return;
        }
        let Some(member) = self.members.get(&to) else {
            return;
        };
        match member
            .events
            .try_send(NetworkEvent::Gossip { from, kind, data })
        {
            Ok(()) => self.stats.gossip_delivered += 1,
            Err(mpsc::error::TrySendError::Full(_)) => self.stats.gossip_overflowed += 1,
            Err(mpsc::error::TrySendError::Closed(_)) => self.stats.gossip_lost += 1,
        }
    }

    fn deliver_request(&mut self, id: u64, request: SyncRequest) {
        let Some(pending) = self.pending.get_mut(&id) else {
            return; // timed out or the link was cut meanwhile
        };
        pending.stage = Stage::AtTarget;
        let (from, target) = (pending.requester, pending.target);
        self.emit(
            target,
            NetworkEvent::Request {
                from,
                id: RequestId(id),
                request,
            },
        );
    }

    fn deliver_response(&mut self, id: u64, response: SyncResponse) {
        if let Some(pending) = self.pending.remove(&id) {
            if pending.reply.send(Ok(response)).is_ok() {
                self.stats.requests_served += 1;
            }
        }
    }

    /// Brings the links in line with membership, partition, bans, blocks and
    /// removals, and
    /// tells both sides of every change. Visits pairs in order for determinism.
    fn relink(&mut self) {
        let peers: Vec<PeerId> = self.members.keys().copied().collect();
        let mut wanted = BTreeSet::new();
        for (i, a) in peers.iter().enumerate() {
            for b in peers.iter().skip(i + 1) {
                if self.should_link(*a, *b) {
                    wanted.insert(ordered(*a, *b));
                }
            }
        }
        let cut: Vec<_> = self.links.difference(&wanted).copied().collect();
        let added: Vec<_> = wanted.difference(&self.links).copied().collect();
        self.links = wanted;
        for (a, b) in cut {
            self.dialers.remove(&(a, b));
            self.fail_requests_between(a, b);
            self.emit(a, NetworkEvent::PeerDisconnected(b));
            self.emit(b, NetworkEvent::PeerDisconnected(a));
        }
        for (a, b) in added {
            // The later joiner dialled, as a starting node dials its bootnodes.
            let incarnation = |p: &PeerId| self.members.get(p).map(|m| m.incarnation);
            let dialer = if incarnation(&a) >= incarnation(&b) {
                a
            } else {
                b
            };
            self.dialers.insert((a, b), dialer);
            self.emit(a, NetworkEvent::PeerConnected(b));
            self.emit(b, NetworkEvent::PeerConnected(a));
        }
    }

    fn fail_requests_between(&mut self, a: PeerId, b: PeerId) {
        let ids: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| ordered(p.requester, p.target) == (a, b))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Some(pending) = self.pending.remove(&id) {
                let error = if self.members.contains_key(&pending.requester) {
                    link_closed(pending.target)
                } else {
                    NetworkError::ServiceStopped
                };
                let _ = pending.reply.send(Err(error));
            }
        }
    }
}

/// Runs `f` on the hub after `delay`, on a tokio task. Without a tokio
/// runtime there is no timer, so this reports failure instead of panicking.
fn after(
    hub: &Arc<Mutex<Hub>>,
    delay: Duration,
    f: impl FnOnce(&mut Hub) + Send + 'static,
) -> bool {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return false;
    };
    let hub = Arc::clone(hub);
    runtime.spawn(async move {
        tokio::time::sleep(delay).await;
        f(&mut lock(&hub));
    });
    true
}

impl SimNetwork {
    /// A hub whose randomness all comes from `seed`.
    pub fn new(seed: u64, faults: Faults) -> Self {
        let hub = Hub {
            rng: StdRng::seed_from_u64(seed),
            faults,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            event_capacity: DEFAULT_EVENT_CAPACITY,
            next_incarnation: 0,
            next_request: 0,
            members: BTreeMap::new(),
            links: BTreeSet::new(),
            groups: None,
            bans: BTreeSet::new(),
            blocks: BTreeSet::new(),
            removed: BTreeSet::new(),
            statics: BTreeSet::new(),
            dialers: BTreeMap::new(),
            scores: BTreeMap::new(),
            pending: BTreeMap::new(),
            stats: SimStats::default(),
            reports: Vec::new(),
        };
        SimNetwork {
            hub: Arc::new(Mutex::new(hub)),
        }
    }

    /// Adds a node; it is linked to every member it is not partitioned from
    /// or banned by (`PeerConnected` on both sides). Joining with the id of a
    /// current member restarts it: the old handle stops working first.
    pub fn join(&self, peer: PeerId) -> (SimHandle, mpsc::Receiver<NetworkEvent>) {
        let mut hub = lock(&self.hub);
        if hub.members.contains_key(&peer) {
            Self::remove(&mut hub, &peer);
        }
        let (events, receiver) = mpsc::channel(hub.event_capacity.max(1));
        let incarnation = hub.next_incarnation;
        hub.next_incarnation += 1;
        hub.members.insert(
            peer,
            Member {
                events,
                incarnation,
            },
        );
        hub.relink();
        let handle = SimHandle {
            hub: Arc::clone(&self.hub),
            peer,
            incarnation,
        };
        (handle, receiver)
    }

    /// Removes a node, as a crash: its links drop (`PeerDisconnected` to the
    /// others), its requests fail, messages in flight to it are lost and its
    /// handle fails with [`NetworkError::ServiceStopped`]. Its bans, scores,
    /// blocks, static peers and removed links are forgotten, as a restarted
    /// node forgets them. Unknown peers are ignored.
    pub fn leave(&self, peer: &PeerId) {
        Self::remove(&mut lock(&self.hub), peer);
    }

    fn remove(hub: &mut Hub, peer: &PeerId) {
        if hub.members.remove(peer).is_none() {
            return;
        }
        hub.bans.retain(|(reporter, _)| reporter != peer);
        hub.blocks.retain(|(blocker, _)| blocker != peer);
        hub.statics.retain(|(adder, _)| adder != peer);
        hub.removed.retain(|(a, b)| a != peer && b != peer);
        hub.scores.retain(|(reporter, _), _| reporter != peer);
        hub.relink();
    }

    /// Cuts every link between different groups (`PeerDisconnected` on both
    /// sides). All peers not listed, including later joiners, form one more
    /// group. A peer listed twice belongs to its first group. Replaces any
    /// earlier partition.
    pub fn partition(&self, groups: &[Vec<PeerId>]) {
        let mut hub = lock(&self.hub);
        let mut assignment = BTreeMap::new();
        for (index, group) in groups.iter().enumerate() {
            for peer in group {
                assignment.entry(*peer).or_insert(index);
            }
        }
        hub.groups = Some(assignment);
        hub.relink();
    }

    /// Ends the partition: every pair not banned, blocked or removed is linked
    /// again (`PeerConnected`).
    pub fn heal(&self) {
        let mut hub = lock(&self.hub);
        hub.groups = None;
        hub.relink();
    }

    /// Changes the faults applied to messages sent from now on.
    pub fn set_faults(&self, faults: Faults) {
        lock(&self.hub).faults = faults;
    }

    /// Changes how long requests sent from now on wait for their answer
    /// (default [`DEFAULT_REQUEST_TIMEOUT`]).
    pub fn set_request_timeout(&self, timeout: Duration) {
        lock(&self.hub).request_timeout = timeout;
    }

    /// Changes the event channel capacity of nodes that join from now on
    /// (default [`DEFAULT_EVENT_CAPACITY`]; at least 1).
    pub fn set_event_capacity(&self, capacity: usize) {
        lock(&self.hub).event_capacity = capacity.max(1);
    }

    /// Whether `a` and `b` are currently linked.
    pub fn linked(&self, a: &PeerId, b: &PeerId) -> bool {
        lock(&self.hub).linked(*a, *b)
    }

    /// Current counters.
    pub fn stats(&self) -> SimStats {
        lock(&self.hub).stats
    }

    /// Every report so far, in order: `(reporter, reported, misbehaviour)`.
    pub fn reports(&self) -> Vec<(PeerId, PeerId, Misbehaviour)> {
        lock(&self.hub).reports.clone()
    }
}

impl SimHandle {
    /// The hub, if this handle's node is still the current member.
    fn hub(&self) -> Result<MutexGuard<'_, Hub>, NetworkError> {
        let hub = self.hub.lock().map_err(|_| NetworkError::ServiceStopped)?;
        if hub.is_current(&self.peer, self.incarnation) {
            Ok(hub)
        } else {
            Err(NetworkError::ServiceStopped)
        }
    }

    fn publish_now(&self, kind: GossipKind, data: Vec<u8>) -> Result<(), NetworkError> {
        let mut hub = self.hub()?;
        let targets = hub.linked_peers(self.peer);
        if targets.is_empty() {
            return Err(NetworkError::NoPeers { kind });
        }
        let drop_probability = hub.faults.drop_gossip;
        for target in targets {
            let (dropped, delay) = hub.draw(drop_probability);
            if dropped {
                hub.stats.gossip_dropped += 1;
                continue;
            }
            let Some(incarnation) = hub.members.get(&target).map(|m| m.incarnation) else {
                continue;
            };
            let from = self.peer;
            if delay.is_zero() {
                hub.deliver_gossip(from, target, incarnation, kind, data.clone());
            } else {
                let data = data.clone();
                let deliver =
                    move |hub: &mut Hub| hub.deliver_gossip(from, target, incarnation, kind, data);
                if !after(&self.hub, delay, deliver) {
                    return Err(NetworkError::Publish {
                        kind,
                        reason: "delayed delivery needs a tokio runtime".into(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Registers the request and sends it on its way; returns its id, the
    /// receiver of its answer and the timeout.
    fn send_request(
        &self,
        peer: PeerId,
        request: SyncRequest,
    ) -> Result<(u64, Answer, Duration), NetworkError> {
        let mut hub = self.hub()?;
        if !hub.linked(self.peer, peer) {
            return Err(NetworkError::Request {
                peer,
                reason: "not connected".into(),
            });
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(NetworkError::Request {
                peer,
                reason: "the simulated network needs a tokio runtime for its timers".into(),
            });
        }
        let id = hub.next_request;
        hub.next_request += 1;
        let (reply, answer) = oneshot::channel();
        hub.pending.insert(
            id,
            Pending {
                requester: self.peer,
                target: peer,
                stage: Stage::Sent,
                reply,
            },
        );
        let drop_probability = hub.faults.drop_requests;
        let (dropped, delay) = hub.draw(drop_probability);
        if dropped {
            // The entry stays so the requester waits out its timeout.
            hub.stats.requests_dropped += 1;
        } else if delay.is_zero() {
            hub.deliver_request(id, request);
        } else {
            // A runtime exists (checked above), so this cannot fail.
            after(&self.hub, delay, move |hub| {
                hub.deliver_request(id, request)
            });
        }
        Ok((id, answer, hub.request_timeout))
    }

    fn respond_now(&self, id: RequestId, response: SyncResponse) -> Result<(), NetworkError> {
        let mut hub = self.hub()?;
        match hub.pending.get_mut(&id.0) {
            Some(p) if p.target == self.peer && p.stage == Stage::AtTarget => {
                p.stage = Stage::Answered;
            }
            _ => return Err(NetworkError::UnknownRequest(id.0)),
        }
        let drop_probability = hub.faults.drop_requests;
        let (dropped, delay) = hub.draw(drop_probability);
        if dropped {
            hub.stats.requests_dropped += 1;
        } else if delay.is_zero() || tokio::runtime::Handle::try_current().is_err() {
            // Without a runtime the requester could not be waiting anyway.
            hub.deliver_response(id.0, response);
        } else {
            after(&self.hub, delay, move |hub| {
                hub.deliver_response(id.0, response)
            });
        }
        Ok(())
    }

    fn report_now(&self, peer: PeerId, misbehaviour: Misbehaviour) -> Result<(), NetworkError> {
        let mut hub = self.hub()?;
        let reporter = self.peer;
        hub.reports.push((reporter, peer, misbehaviour));
        hub.stats.reports += 1;
        let score = hub.scores.entry((reporter, peer)).or_insert(0);
        *score = score.saturating_add(misbehaviour.penalty());
        let score = *score;
        if score >= BAN_THRESHOLD && hub.bans.insert((reporter, peer)) {
            // As in the real service: the ban is announced first, then the
            // connection closes.
            hub.emit(
                reporter,
                NetworkEvent::Refused {
                    peer,
                    reason: RefuseReason::Misbehaved { score },
                },
            );
            hub.relink();
        }
        Ok(())
    }

    fn peer_infos_now(&self) -> Result<Vec<PeerInfo>, NetworkError> {
        let hub = self.hub()?;
        let me = self.peer;
        Ok(hub
            .linked_peers(me)
            .into_iter()
            .map(|peer| {
                let outbound = hub.dialers.get(&ordered(me, peer)) == Some(&me);
                PeerInfo {
                    peer_id: peer,
                    direction: if outbound {
                        Direction::Outbound
                    } else {
                        Direction::Inbound
                    },
                    // The hub has no sockets: a peer's only address is its id.
                    remote_addr: Multiaddr::empty().with(Protocol::P2p(peer)),
                    local_addr: None,
                    agent_version: None,
                    protocol_version: None,
                    listen_addrs: Vec::new(),
                    is_static: hub.statics.contains(&(me, peer)),
                }
            })
            .collect())
    }

    /// As the real service: refused at once when the address names no peer
    /// (the hub has no other addresses), names this node, or names a peer
    /// this node refuses; otherwise the peer is static and the link is up
    /// unless the other side, a partition or absence keeps it down.
    fn add_peer_now(&self, addr: Multiaddr) -> Result<(), NetworkError> {
        let mut hub = self.hub()?;
        let me = self.peer;
        let refused = |reason: String| NetworkError::Dial {
            addr: addr.clone(),
            reason,
        };
        let Some(peer) = peer_of(&addr) else {
            return Err(refused(
                "the simulated network dials by peer id only; end the address with /p2p/<peer id>"
                    .into(),
            ));
        };
        if peer == me {
            return Err(refused("that is this node's own peer id".into()));
        }
        let reason = if hub.blocks.contains(&(me, peer)) {
            Some(RefuseReason::Blocked)
        } else if hub.bans.contains(&(me, peer)) {
            Some(RefuseReason::Banned)
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(refused(format!("peer {peer} refused: {reason}")));
        }
        hub.statics.insert((me, peer));
        let pair = ordered(me, peer);
        let was_linked = hub.links.contains(&pair);
        hub.removed.remove(&pair);
        hub.relink();
        if !was_linked && hub.links.contains(&pair) {
            hub.dialers.insert(pair, me);
        }
        Ok(())
    }

    fn remove_peer_now(&self, peer: PeerId) -> Result<bool, NetworkError> {
        let mut hub = self.hub()?;
        let me = self.peer;
        let was_static = hub.statics.remove(&(me, peer));
        let was_linked = hub.linked(me, peer);
        if was_linked {
            hub.removed.insert(ordered(me, peer));
            hub.relink();
        }
        Ok(was_static || was_linked)
    }

    fn block_peer_now(&self, peer: PeerId) -> Result<(), NetworkError> {
        let mut hub = self.hub()?;
        if hub.blocks.insert((self.peer, peer)) {
            hub.relink();
        }
        Ok(())
    }

    /// The real service dials an unblocked peer, so a link this node had
    /// removed comes back too.
    fn unblock_peer_now(&self, peer: PeerId) -> Result<bool, NetworkError> {
        let mut hub = self.hub()?;
        let was_blocked = hub.blocks.remove(&(self.peer, peer));
        if was_blocked {
            hub.removed.remove(&ordered(self.peer, peer));
            hub.relink();
        }
        Ok(was_blocked)
    }

    fn blocked_peers_now(&self) -> Result<Vec<PeerId>, NetworkError> {
        let hub = self.hub()?;
        Ok(hub
            .blocks
            .iter()
            .filter(|(blocker, _)| *blocker == self.peer)
            .map(|(_, blocked)| *blocked)
            .collect())
    }
}

impl Network for SimHandle {
    fn local_peer_id(&self) -> PeerId {
        self.peer
    }

    async fn publish(&self, kind: GossipKind, data: Vec<u8>) -> Result<(), NetworkError> {
        self.publish_now(kind, data)
    }

    async fn request(
        &self,
        peer: PeerId,
        request: SyncRequest,
    ) -> Result<SyncResponse, NetworkError> {
        let (id, answer, timeout) = self.send_request(peer, request)?;
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(result)) => result,
            // The hub drops a pending request's sender only by answering it,
            // so this means the hub itself is gone.
            Ok(Err(_)) => Err(NetworkError::ServiceStopped),
            Err(_) => {
                lock(&self.hub).pending.remove(&id);
                Err(NetworkError::Request {
                    peer,
                    reason: format!("no response within {timeout:?}"),
                })
            }
        }
    }

    async fn respond(&self, id: RequestId, response: SyncResponse) -> Result<(), NetworkError> {
        self.respond_now(id, response)
    }

    async fn report_peer(
        &self,
        peer: PeerId,
        misbehaviour: Misbehaviour,
    ) -> Result<(), NetworkError> {
        self.report_now(peer, misbehaviour)
    }

    async fn peers(&self) -> Result<Vec<PeerId>, NetworkError> {
        let hub = self.hub()?;
        Ok(hub.linked_peers(self.peer))
    }

    async fn peer_infos(&self) -> Result<Vec<PeerInfo>, NetworkError> {
        self.peer_infos_now()
    }

    async fn add_peer(&self, addr: Multiaddr) -> Result<(), NetworkError> {
        self.add_peer_now(addr)
    }

    async fn remove_peer(&self, peer: PeerId) -> Result<bool, NetworkError> {
        self.remove_peer_now(peer)
    }

    async fn block_peer(&self, peer: PeerId) -> Result<(), NetworkError> {
        self.block_peer_now(peer)
    }

    async fn unblock_peer(&self, peer: PeerId) -> Result<bool, NetworkError> {
        self.unblock_peer_now(peer)
    }

    async fn blocked_peers(&self) -> Result<Vec<PeerId>, NetworkError> {
        self.blocked_peers_now()
    }

    async fn listen_addrs(&self) -> Result<Vec<Multiaddr>, NetworkError> {
        // Fails like every other call once the node has left.
        drop(self.hub()?);
        Ok(Vec::new())
    }
}
