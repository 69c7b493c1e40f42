//! Tally's chain database layout on top of `redb`.
//!
//! This crate knows *where* and *how* things are stored, not what they mean:
//! the tables and their versioned schema ([`schema`]), fixed-width big-endian
//! key encodings so that ranges sort by address, slot and block number
//! ([`keys`]), value encodings ([`codec`]), opening a database file with its
//! schema check ([`Store`]), and typed helpers to write and read blocks inside
//! one redb transaction ([`blocks`]).
//!
//! `tally-state` builds the world state on top: plain state, per-key history,
//! per-block changesets and the Merkle commitment all live in tables declared
//! here, and a whole imported block is written in a single redb write
//! transaction with immediate durability, so a crash leaves either the whole
//! block or none of it.

pub mod blocks;
pub mod codec;
pub mod consensus;
pub mod error;
pub mod keys;
pub mod schema;
pub mod store;
pub mod tree;

pub use error::StorageError;
pub use store::Store;

/// Re-exported so that users of the tables need not pin redb themselves.
pub use redb;
