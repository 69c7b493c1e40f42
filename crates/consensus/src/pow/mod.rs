//! Proof of work, Bitcoin's way on Tally's headers.
//!
//! The pure rules (compact targets, work, the difficulty rule, the plain
//! PoW hash) live in `tally_verify::pow`, shared with the offline proof
//! checker; [`target`] and [`asert`] re-export them, and [`hash`] keeps
//! the miner's fast nonce search.
//!
//! A block's seal is an 8-byte nonce; the block is valid when
//! SHA-256d(seal hash ‖ nonce) ([`hash::pow_hash`]), read as a big-endian
//! number, is at or below the target its `bits` encode ([`target`],
//! Bitcoin's compact form). The seal hash covers `bits`, so the work
//! cannot be reused under another target.
//!
//! The difficulty rule ([`asert`]) is absolute ASERT anchored at genesis:
//! each block's target follows from its parent's timestamp and height
//! alone. Fork choice follows the most cumulative work ([`target::work`]),
//! block rewards halve on Bitcoin's schedule ([`reward`]), and
//! [`PowEngine`] ties it to the [`crate::Engine`] contract: it mines on
//! every new head, and its [`PowSealer`] runs the nonce search
//! ([`hash::search`]) on the node's miner threads. [`hashrate::measure`]
//! times that search against a plain SHA-256d loop.
//!
//! Design record: docs/adr/0005-pow-difficulty.md.

pub mod asert;
mod engine;
pub mod error;
pub mod hash;
pub mod hashrate;
pub mod reward;
pub mod target;

pub use asert::{next_bits, next_target};
pub use engine::{validate_spec, verify_seal, MinerSettings, PowEngine, PowSealer};
pub use error::PowError;
pub use hash::{pow_hash, SEAL_LEN};
pub use hashrate::{measure, HashRates};
pub use reward::block_reward;
pub use target::{bits_from_target, target_from_bits, work, POW_LIMIT, POW_LIMIT_BITS};
