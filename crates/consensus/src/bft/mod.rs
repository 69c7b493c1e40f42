//! The BFT engine of consortium chains: Tendermint over a known validator
//! set, through Malachite's formally specified core.
//!
//! - [`validators`]: a height's [`ValidatorSet`] and weighted proposer
//!   selection.
//! - [`sign`]: signing and checking proposals, votes, commit certificates
//!   (batch-verified) and equivocation evidence.
//! - [`message`]: the [`ConsensusMessage`] wire format.
//! - [`machine`]: [`BftMachine`], the pure per-node consensus state machine
//!   the node's BFT task drives (messages and timeouts in; broadcasts,
//!   block requests, timers, decisions and evidence out).
//! - [`engine`]: [`BftEngine`], the [`crate::Engine`] that checks imported
//!   blocks: the parent's commit certificate in `extra_data` and the
//!   proposer's seal.
//! - [`context`]: Tally's types as Malachite's `Context`.

pub mod context;
pub mod engine;
pub mod machine;
pub mod message;
pub mod sign;
pub mod validators;

pub use engine::{seal, verify_block_certificate, BftEngine};
pub use machine::{BftConfig, BftMachine, Input, MessageError, Output, TimeoutStep};
pub use message::{ConsensusMessage, DecodeError, ProposalMsg, VoteMsg};
pub use sign::{
    sign_proposal, sign_vote, validator_key, verify_certificate, verify_evidence, verify_proposal,
    verify_vote, CertError, EvidenceError, SignatureError,
};
pub use validators::{ValidatorSet, ValidatorSetError};
