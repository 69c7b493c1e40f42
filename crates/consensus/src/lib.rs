//! Consensus engines: who produces the next block, what makes a header's
//! seal valid, which chain to follow, and when a block is final.
//!
//! Engines are pure state machines: the node feeds them [`Event`]s (time,
//! pending transactions, new heads, peer messages) and carries out the
//! [`Effect`]s they return (build a block, broadcast, finalize, wake me at T).
//! They own no sockets, timers or files, so whole networks of them run in
//! deterministic simulations with a manual clock.
//!
//! Engines: [`dev::DevEngine`] (one node seals at once or every block time).
//! PoW, PoS, DPoS and BFT engines implement the same [`Engine`] trait.

pub mod dev;

use tally_primitives::{Header, B256};

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
    /// A block became the canonical head.
    NewHead {
        number: u64,
        hash: B256,
        timestamp: u64,
        now: Millis,
    },
    /// A consensus message from a peer.
    PeerMessage { from: Vec<u8>, payload: Vec<u8> },
}

/// Something the engine wants the node to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Build a block on `parent` with this timestamp (seconds), seal it with
    /// [`Engine::seal`] and import it.
    BuildBlock { parent: B256, timestamp: u64 },
    /// Send a consensus message to all peers.
    Broadcast(Vec<u8>),
    /// The block is final: it can never be unwound.
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
    #[error("block {number} has an invalid seal: {reason}")]
    BadSeal { number: u64, reason: String },
}

/// The contract every consensus engine meets.
pub trait Engine: Send {
    /// Short name: "dev", "pow", "pos", "dpos", "bft".
    fn name(&self) -> &'static str;

    /// Checks the engine's rules for `header` on top of `parent`.
    fn verify_seal(&self, parent: &Header, header: &Header) -> Result<(), SealError>;

    /// Fills in the seal of a block this node produced.
    fn seal(&mut self, header: Header) -> Result<Header, SealError>;

    /// Fork-choice weight of `header` given its parent's weight.
    fn weight(&self, parent_weight: Weight, header: &Header) -> Weight;

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
