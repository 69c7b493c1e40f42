//! Consensus engines: who produces the next block, what makes a header's
//! seal valid, which chain to follow, and when a block is final.
//!
//! Engines are pure state machines: the node feeds them [`Event`]s (time,
//! pending transactions, new heads, peer messages) and carries out the
//! [`Effect`]s they return (build a block, broadcast, finalize, wake me at T).
//! They own no sockets, timers or files, so whole networks of them run in
//! deterministic simulations with a manual clock.
//!
//! The contract (ADR 0002): an engine prepares the header fields it owns
//! ([`Engine::prepare`]), checks a header against a read-only [`ChainView`]
//! ([`Engine::verify_header`]), hands out a [`Sealer`] the node runs on
//! threads of its own (a PoW miner is cancelled by a new head), scores a
//! block for fork choice ([`Engine::weight`]), names the block rewards the
//! executor credits ([`Engine::rewards`]), and reacts to events.
//!
//! Engines: [`dev::DevEngine`] (one node seals at once or every block time),
//! [`pow::PowEngine`] (SHA-256d proof of work under an ASERT difficulty
//! rule, heaviest cumulative work wins) and [`bft::BftEngine`] (consortium
//! chains: each block carries its parent's commit certificate and the
//! proposer's signature; blocks are final when committed). PoS and DPoS
//! engines implement the same [`Engine`] trait.
//!
//! BFT agreement itself is [`bft::BftMachine`]: Tendermint through
//! Malachite's formally specified driver, a pure machine the node's BFT
//! task feeds peer messages, block verdicts and fired timeouts, carrying
//! out what it returns (broadcast, build a block, judge a block, set a
//! timer, commit with a certificate, record evidence).

pub mod bft;
pub mod dev;
pub mod pow;
mod spec;

pub use spec::{engine_for, seal_work, EngineError, LocalEngine, SealWork};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use tally_primitives::{Account, Address, Header, SealedHeader, B256, U256};

/// Milliseconds since the Unix epoch, as the node's clock says.
pub type Millis = u64;

/// Fork-choice weight of a chain tip: the node follows the heaviest tip it
/// knows. What the weight means is the engine's (cumulative work, consumed
/// coin-age, irreversible height, committed height).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Weight(pub u128);

/// Something that happened, told to the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The clock reached `now` (sent on start and when a requested wake-up fires).
    Tick { now: Millis },
    /// The pool now holds `count` executable transactions.
    PendingTransactions { count: usize, now: Millis },
    /// A block became the canonical head (by extension or by a reorg).
    NewHead {
        number: u64,
        hash: B256,
        timestamp: u64,
        now: Millis,
    },
    /// A block this node asked to build could not be built or sealed (the
    /// head moved, the miner was stopped): the engine may ask again.
    BuildFailed { parent: B256, now: Millis },
    /// A consensus message from a peer.
    PeerMessage { from: Vec<u8>, payload: Vec<u8> },
}

/// Something the engine wants the node to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Build a block on `parent` with this timestamp (seconds), seal it with
    /// the engine's [`Sealer`] off the chain thread, and import it. A new
    /// head cancels a seal still running.
    BuildBlock { parent: B256, timestamp: u64 },
    /// Send a consensus message to all peers.
    Broadcast(Vec<u8>),
    /// The block is final: it can never be unwound (`finalized` tag).
    Finalize { number: u64, hash: B256 },
    /// Send a [`Event::Tick`] at (or after) this time.
    WakeAt(Millis),
}

/// Why a header's seal (or the engine's view of a header) is invalid.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SealError {
    #[error("block {number} has parent number {parent}, expected {expected}")]
    BadNumber {
        number: u64,
        parent: u64,
        expected: u64,
    },
    #[error("block {number} has timestamp {timestamp}, before its parent's {parent}")]
    TimestampBeforeParent {
        number: u64,
        timestamp: u64,
        parent: u64,
    },
    #[error("block {number} has timestamp {timestamp}, not after the median time past {median} of its last blocks")]
    TimestampNotAfterMedian {
        number: u64,
        timestamp: u64,
        median: u64,
    },
    #[error("block {number} has timestamp {timestamp}, more than {limit} s ahead of this node's clock ({now})")]
    TimestampInFuture {
        number: u64,
        timestamp: u64,
        now: u64,
        limit: u64,
    },
    #[error("block {number} has difficulty bits {found:#010x}, expected {expected:#010x}")]
    WrongDifficulty {
        number: u64,
        found: u32,
        expected: u32,
    },
    #[error("block {number}: ancestor {hash} is not known to this node")]
    UnknownAncestor { number: u64, hash: B256 },
    #[error("block {number} has an invalid seal: {reason}")]
    BadSeal { number: u64, reason: String },
}

/// A read-only view of the chain an engine checks headers against: every
/// block the node keeps, canonical or on a side branch.
pub trait ChainView {
    /// The header with this hash, if the node keeps it.
    fn header(&self, hash: &B256) -> Option<SealedHeader>;

    /// The account after block `at`, for engines whose rules depend on
    /// stake. `None` when the account is empty or the block's state is not
    /// available (a side-branch block not executed yet).
    fn account(&self, _at: &B256, _address: &Address) -> Option<Account> {
        None
    }

    /// The BFT validators that sign the child of `parent` (after its
    /// governance changes), `None` when the node does not know them: the
    /// BFT engine then uses the chain spec's genesis validators.
    fn bft_validators(&self, _parent: &B256) -> Option<Vec<tally_primitives::BftValidator>> {
        None
    }
}

/// The timestamps of `parent` and up to `count - 1` of its ancestors,
/// newest first; fewer near genesis. Fails on a gap in the view.
pub fn ancestor_timestamps(
    chain: &dyn ChainView,
    parent: &SealedHeader,
    count: usize,
    number: u64,
) -> Result<Vec<u64>, SealError> {
    let mut out = Vec::with_capacity(count);
    out.push(parent.timestamp);
    let mut at = parent.header.clone();
    while out.len() < count && at.number > 0 {
        let prev = chain
            .header(&at.parent_hash)
            .ok_or(SealError::UnknownAncestor {
                number,
                hash: at.parent_hash,
            })?;
        out.push(prev.timestamp);
        at = prev.header;
    }
    Ok(out)
}

/// The median of the last (up to) 11 block timestamps up to `parent`,
/// as Bitcoin's median-time-past rule uses.
pub fn median_time_past(
    chain: &dyn ChainView,
    parent: &SealedHeader,
    number: u64,
) -> Result<u64, SealError> {
    let mut times = ancestor_timestamps(chain, parent, 11, number)?;
    times.sort_unstable();
    Ok(times[times.len() / 2])
}

/// Seals headers on threads the node runs (one for instant sealers, the
/// miner's threads for PoW). Pure CPU work: no IO, no threads of its own.
pub trait Sealer: Send + Sync {
    /// Whether [`Sealer::seal`] returns at once (a signature): the node then
    /// seals on the chain thread instead of starting the miner.
    fn is_instant(&self) -> bool;

    /// Searches worker `worker`'s share (of `workers`) of the seal space of
    /// `header` until it finds a valid seal (`Some`), `stop` is set or its
    /// share is exhausted (`None`). Adds each hash tried to `hashes`.
    fn seal(
        &self,
        header: &Header,
        worker: u32,
        workers: u32,
        stop: &AtomicBool,
        hashes: &AtomicU64,
    ) -> Result<Option<Header>, SealError>;

    /// For external miners (`eth_getWork`): the 32-byte target a seal's
    /// hash must be at or below, `None` for engines with no such target.
    fn target(&self, _header: &Header) -> Option<B256> {
        None
    }

    /// For external miners (`eth_submitWork`): `header` with the given
    /// 8-byte nonce as its seal, if that seal is valid.
    fn with_nonce(&self, header: &Header, _nonce: u64) -> Result<Header, SealError> {
        Err(SealError::BadSeal {
            number: header.number,
            reason: "this engine takes no external work".into(),
        })
    }
}

/// The contract every consensus engine meets.
pub trait Engine: Send {
    /// Short name: "dev", "pow", "pos", "dpos", "bft".
    fn name(&self) -> &'static str;

    /// Fills the header fields the engine owns (`bits`) for a block this
    /// node builds on `parent`, before it is executed.
    fn prepare(
        &self,
        _chain: &dyn ChainView,
        _parent: &SealedHeader,
        _header: &mut Header,
    ) -> Result<(), SealError> {
        Ok(())
    }

    /// Checks the engine's rules for `header` on top of `parent`: the
    /// parent link, timestamps against the chain and this node's clock
    /// `now`, the engine's fields and the seal. Cheap enough to run before
    /// a block's body is even fetched.
    fn verify_header(
        &self,
        chain: &dyn ChainView,
        parent: &SealedHeader,
        header: &Header,
        now: Millis,
    ) -> Result<(), SealError>;

    /// What seals the blocks this node builds; `None` on a node that may
    /// not build (a dev follower, a PoW node that does not mine).
    fn sealer(&self) -> Option<Arc<dyn Sealer>>;

    /// Fork-choice weight of `header` given its parent's weight.
    fn weight(&self, parent_weight: Weight, header: &Header) -> Weight;

    /// Amounts the block's execution credits after its transactions (a PoW
    /// block reward to the beneficiary). Fees are the executor's.
    fn rewards(&self, _header: &Header) -> Vec<(Address, U256)> {
        Vec::new()
    }

    /// How many blocks below the head are final: the node never unwinds
    /// them. `0` for engines whose head is final when made (dev, BFT).
    fn finality_depth(&self) -> u64 {
        0
    }

    /// How many blocks below the head the `safe` tag points (at most
    /// [`Engine::finality_depth`]).
    fn safe_depth(&self) -> u64 {
        0
    }

    /// Reacts to an event; pure apart from the engine's own state.
    fn handle(&mut self, event: Event) -> Vec<Effect>;
}

/// Rules every engine shares: numbers follow, time does not go back.
pub fn verify_parent_link(parent: &Header, header: &Header) -> Result<(), SealError> {
    let expected = parent.number.saturating_add(1);
    if header.number != expected {
        return Err(SealError::BadNumber {
            number: header.number,
            parent: parent.number,
            expected,
        });
    }
    if header.timestamp < parent.timestamp {
        return Err(SealError::TimestampBeforeParent {
            number: header.number,
            timestamp: header.timestamp,
            parent: parent.timestamp,
        });
    }
    Ok(())
}

/// A [`ChainView`] over a map of headers, for tests and simulations.
#[derive(Default, Debug, Clone)]
pub struct MapView(pub std::collections::HashMap<B256, SealedHeader>);

impl MapView {
    pub fn insert(&mut self, header: SealedHeader) {
        self.0.insert(header.hash, header);
    }
}

impl ChainView for MapView {
    fn header(&self, hash: &B256) -> Option<SealedHeader> {
        self.0.get(hash).cloned()
    }
}
