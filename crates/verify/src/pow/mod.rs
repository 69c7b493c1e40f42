//! Proof of work as Tally's PoW chains define it: the pure rules a
//! checker needs, shared with the consensus engine (which keeps its fast
//! nonce search for mining).
//!
//! A block's seal is an 8-byte big-endian nonce; the block is valid when
//! SHA-256d(seal hash ‖ nonce) ([`pow_hash`]), read as a big-endian number,
//! is at or below the target its `bits` encode ([`target`], Bitcoin's
//! compact form), and its `bits` are what the difficulty rule ([`asert`],
//! absolute ASERT anchored at genesis) gives its parent.

pub mod asert;
pub mod hash;
pub mod target;

pub use asert::{initial_target, next_bits, next_target};
pub use hash::{meets_target, pow_hash, SEAL_LEN};
pub use target::{
    bits_from_target, target_from_bits, target_to_b256, work, BitsError, POW_LIMIT, POW_LIMIT_BITS,
};
