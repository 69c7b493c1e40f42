//! Catching up with peers: which block ranges to ask whom for, and in what
//! order to import what comes back.
//!
//! [`RangeSync`] is a plain state machine with no IO, so it is tested on its
//! own and the node's network task drives it:
//!
//! 1. The node tells it each peer's head ([`RangeSync::peer_head`]), learned
//!    from status requests and gossip.
//! 2. [`RangeSync::requests`] hands out ranges of consecutive blocks above
//!    the local head, spread over the peers that have them, a few in flight
//!    per peer (parallel download), never more than
//!    [`SyncConfig::max_ahead`] blocks beyond the head (bounded memory).
//! 3. Responses arrive in any order ([`RangeSync::on_response`]); a response
//!    that does not answer the request is refused (the node penalises the
//!    peer) and its range is asked again elsewhere. A short response (the
//!    peer capped it by size) has its remainder asked again.
//! 4. [`RangeSync::next_ready`] gives the downloaded blocks strictly in
//!    order, starting right above the head (sequential import);
//!    [`RangeSync::next_run`] joins consecutive ranges into one run, which
//!    the node imports in one write transaction. The node
//!    imports them exactly as gossiped blocks are imported and reports the
//!    new head ([`RangeSync::on_imported`]) or the failure
//!    ([`RangeSync::on_import_failed`]).
//!
//! Resuming after a restart needs no state here: the planner starts from
//! the head the database holds.

use std::collections::BTreeMap;

use tally_primitives::Block;

/// Anything with a block number (blocks in the node, plain numbers in tests).
pub trait Numbered {
    fn number(&self) -> u64;
}

impl Numbered for Block {
    fn number(&self) -> u64 {
        self.header.number
    }
}

/// How hard to pull.
#[derive(Clone, Debug)]
pub struct SyncConfig {
    /// Blocks per request.
    pub range_size: u64,
    /// Requests outstanding to one peer at a time.
    pub max_in_flight_per_peer: usize,
    /// Never ask for blocks more than this far above the head: downloaded
    /// but unimported blocks are held in memory.
    pub max_ahead: u64,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            range_size: 128,
            max_in_flight_per_peer: 3,
            // Peers cap each answer at 4 MiB, so this bounds memory to
            // (max_ahead / range_size) = 128 answers (512 MiB at worst,
            // ~25 MiB for ten-transfer blocks); it also lets downloads run
            // a whole import run ahead of the head.
            max_ahead: 16_384,
        }
    }
}

/// Ask `peer` for `count` blocks from number `start`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request<P> {
    pub peer: P,
    pub start: u64,
    pub count: u64,
}

/// Where a sync stands, as `eth_syncing` reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// The head when this catch-up began.
    pub starting: u64,
    /// The local head.
    pub current: u64,
    /// The highest head any peer announced.
    pub highest: u64,
}

impl Progress {
    /// Behind a peer: the node is catching up.
    pub fn is_syncing(&self) -> bool {
        self.highest > self.current
    }
}

/// Why a response was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResponseFault {
    /// No request for this range is outstanding to this peer.
    NotRequested { start: u64 },
    /// More blocks than asked for.
    TooMany { requested: u64, got: u64 },
    /// Blocks out of sequence.
    WrongNumber { expected: u64, got: u64 },
}

impl std::fmt::Display for ResponseFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResponseFault::NotRequested { start } => {
                write!(f, "unrequested blocks from {start}")
            }
            ResponseFault::TooMany { requested, got } => {
                write!(f, "{got} blocks where {requested} were requested")
            }
            ResponseFault::WrongNumber { expected, got } => {
                write!(f, "block {got} where block {expected} was expected")
            }
        }
    }
}

#[derive(Clone, Debug)]
struct PeerInfo {
    head: u64,
    in_flight: usize,
}

/// The range-sync planner; `P` names a peer.
#[derive(Debug)]
pub struct RangeSync<P, B> {
    config: SyncConfig,
    head: u64,
    starting: u64,
    peers: BTreeMap<P, PeerInfo>,
    /// Outstanding requests by first block number.
    in_flight: BTreeMap<u64, (P, u64)>,
    /// Downloaded, waiting for the blocks below them.
    ready: BTreeMap<u64, (P, Vec<B>)>,
    /// Ranges to ask (again): start → count.
    gaps: BTreeMap<u64, u64>,
    /// First block number never handed out.
    next: u64,
}

impl<P: Clone + Ord, B: Numbered> RangeSync<P, B> {
    /// Starts from the local head.
    pub fn new(head: u64, config: SyncConfig) -> Self {
        Self {
            config: SyncConfig {
                range_size: config.range_size.max(1),
                max_in_flight_per_peer: config.max_in_flight_per_peer.max(1),
                max_ahead: config.max_ahead.max(1),
            },
            head,
            starting: head,
            peers: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            ready: BTreeMap::new(),
            gaps: BTreeMap::new(),
            next: head + 1,
        }
    }

    pub fn progress(&self) -> Progress {
        Progress {
            starting: self.starting,
            current: self.head,
            highest: self.highest(),
        }
    }

    fn highest(&self) -> u64 {
        self.peers
            .values()
            .map(|p| p.head)
            .max()
            .unwrap_or(0)
            .max(self.head)
    }

    /// A peer announced its head (status answer or gossip).
    pub fn peer_head(&mut self, peer: P, head: u64) {
        if !self.progress().is_syncing() {
            self.starting = self.head;
        }
        self.peers
            .entry(peer)
            .and_modify(|p| p.head = head)
            .or_insert(PeerInfo { head, in_flight: 0 });
    }

    /// A peer went away: what it owed is asked of others.
    pub fn remove_peer(&mut self, peer: &P) {
        if self.peers.remove(peer).is_none() {
            return;
        }
        let owed: Vec<u64> = self
            .in_flight
            .iter()
            .filter(|(_, (p, _))| p == peer)
            .map(|(start, _)| *start)
            .collect();
        for start in owed {
            if let Some((_, count)) = self.in_flight.remove(&start) {
                self.requeue(start, count);
            }
        }
    }

    /// Number of peers known.
    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    fn requeue(&mut self, start: u64, count: u64) {
        let end = start + count; // exclusive
        let start = start.max(self.head + 1);
        if start < end {
            self.gaps.insert(start, end - start);
        }
    }

    /// The peer with the fewest requests outstanding that has block `start`.
    fn pick_peer(&self, start: u64) -> Option<P> {
        self.peers
            .iter()
            .filter(|(_, p)| p.head >= start && p.in_flight < self.config.max_in_flight_per_peer)
            .min_by_key(|(_, p)| p.in_flight)
            .map(|(id, _)| id.clone())
    }

    /// The next range to ask for: an earlier gap first, then fresh blocks.
    fn next_range(&self) -> Option<(u64, u64, bool)> {
        if let Some((&start, &count)) = self.gaps.first_key_value() {
            return Some((start, count, true));
        }
        let highest = self.highest();
        if self.next > highest {
            return None;
        }
        Some((
            self.next,
            self.config.range_size.min(highest - self.next + 1),
            false,
        ))
    }

    /// Requests to send now. Call after every change.
    pub fn requests(&mut self) -> Vec<Request<P>> {
        let mut out = Vec::new();
        while let Some((start, count, from_gap)) = self.next_range() {
            if start > self.head + self.config.max_ahead {
                break;
            }
            let Some(peer) = self.pick_peer(start) else {
                break;
            };
            let Some(info) = self.peers.get_mut(&peer) else {
                break;
            };
            let count = count.min(info.head - start + 1);
            info.in_flight += 1;
            if from_gap {
                let whole = self.gaps.remove(&start).unwrap_or(count);
                if whole > count {
                    self.gaps.insert(start + count, whole - count);
                }
            } else {
                self.next = start + count;
            }
            self.in_flight.insert(start, (peer.clone(), count));
            out.push(Request { peer, start, count });
        }
        out
    }

    fn take_in_flight(&mut self, peer: &P, start: u64) -> Option<u64> {
        match self.in_flight.get(&start) {
            Some((p, _)) if p == peer => {}
            _ => return None,
        }
        let (_, count) = self.in_flight.remove(&start)?;
        if let Some(info) = self.peers.get_mut(peer) {
            info.in_flight = info.in_flight.saturating_sub(1);
        }
        Some(count)
    }

    /// Blocks arrived for the request `(peer, start)`.
    pub fn on_response(
        &mut self,
        peer: &P,
        start: u64,
        blocks: Vec<B>,
    ) -> Result<(), ResponseFault> {
        let Some(count) = self.take_in_flight(peer, start) else {
            return Err(ResponseFault::NotRequested { start });
        };
        let got = blocks.len() as u64;
        if got > count {
            self.requeue(start, count);
            return Err(ResponseFault::TooMany {
                requested: count,
                got,
            });
        }
        for (i, block) in blocks.iter().enumerate() {
            let expected = start + i as u64;
            if block.number() != expected {
                self.requeue(start, count);
                return Err(ResponseFault::WrongNumber {
                    expected,
                    got: block.number(),
                });
            }
        }
        if got < count {
            // The peer capped the answer by size, or lacks the rest.
            self.requeue(start + got, count - got);
            if got == 0 {
                if let Some(info) = self.peers.get_mut(peer) {
                    info.head = info.head.min(start.saturating_sub(1));
                }
            }
        }
        if got > 0 {
            self.ready.insert(start, (peer.clone(), blocks));
        }
        Ok(())
    }

    /// The request `(peer, start)` failed (timeout, disconnect, error answer).
    pub fn on_failure(&mut self, peer: &P, start: u64) {
        if let Some(count) = self.take_in_flight(peer, start) {
            self.requeue(start, count);
        }
    }

    /// The next run of blocks that follows the head, with the peer that sent it.
    pub fn next_ready(&mut self) -> Option<(P, Vec<B>)> {
        self.take_ready(self.head + 1)
    }

    /// Consecutive downloaded blocks right above the head, from one or
    /// more ranges, to import as one run: as many as fit in `max_weight`
    /// (each block weighs `weight(block)`, and the first block is always
    /// taken). Each part names the peer that sent it. A range cut short
    /// leaves its remainder ready for the next run.
    pub fn next_run(&mut self, max_weight: u64, weight: impl Fn(&B) -> u64) -> Vec<(P, Vec<B>)> {
        let mut run: Vec<(P, Vec<B>)> = Vec::new();
        let mut at = self.head + 1;
        let mut total = 0u64;
        while total < max_weight {
            let Some((peer, mut blocks)) = self.take_ready(at) else {
                break;
            };
            let mut keep = 0;
            while keep < blocks.len() && (total < max_weight || run.is_empty() && keep == 0) {
                total = total.saturating_add(weight(&blocks[keep]).max(1));
                keep += 1;
            }
            if keep < blocks.len() {
                let rest = blocks.split_off(keep);
                self.give_back(peer.clone(), rest);
            }
            at += blocks.len() as u64;
            run.push((peer, blocks));
        }
        run
    }

    /// Downloaded blocks put back to wait for their turn: the rest of a
    /// range a run cut short, or blocks a stopped import did not try.
    pub fn give_back(&mut self, peer: P, blocks: Vec<B>) {
        if let Some(first) = blocks.first() {
            self.ready.insert(first.number(), (peer, blocks));
        }
    }

    /// Blocks taken for import but not tried (an earlier block of their
    /// run was refused) are asked for again.
    pub fn retry(&mut self, start: u64, count: u64) {
        self.requeue(start, count);
    }

    /// The ready range that covers block `at`, its blocks below `at`
    /// dropped (they arrived meanwhile by gossip).
    fn take_ready(&mut self, at: u64) -> Option<(P, Vec<B>)> {
        loop {
            let (&start, _) = self.ready.first_key_value()?;
            if start > at {
                return None;
            }
            let (peer, mut blocks) = self.ready.remove(&start)?;
            let stale = (at - start) as usize;
            if stale >= blocks.len() {
                continue;
            }
            blocks.drain(..stale);
            return Some((peer, blocks));
        }
    }

    /// The local head moved to `head` (synced or gossiped blocks imported).
    pub fn on_imported(&mut self, head: u64) {
        if head <= self.head {
            return;
        }
        self.head = head;
        self.next = self.next.max(head + 1);
        let stale: Vec<u64> = self.gaps.range(..=head).map(|(s, _)| *s).collect();
        for start in stale {
            if let Some(count) = self.gaps.remove(&start) {
                self.requeue(start, count);
            }
        }
    }

    /// Importing `peer`'s blocks from `start` (`count` of them) failed: ask
    /// others for them, and never this peer again for that height.
    pub fn on_import_failed(&mut self, peer: &P, start: u64, count: u64) {
        if let Some(info) = self.peers.get_mut(peer) {
            info.head = info.head.min(start.saturating_sub(1));
        }
        self.requeue(start, count);
        // Later batches from the same peer build on the refused block.
        let theirs: Vec<u64> = self
            .ready
            .iter()
            .filter(|(_, (p, _))| p == peer)
            .map(|(s, _)| *s)
            .collect();
        for s in theirs {
            if let Some((_, blocks)) = self.ready.remove(&s) {
                self.requeue(s, blocks.len() as u64);
            }
        }
    }

    /// Blocks downloaded and not yet imported (memory held).
    pub fn buffered(&self) -> usize {
        self.ready.values().map(|(_, b)| b.len()).sum()
    }
}

#[cfg(test)]
mod tests;
