//! Proofs anyone can check offline: the `tally-proof/1` format and its
//! checker, with no IO, so the CLI, a light client and a browser (WASM)
//! share one implementation.
//!
//! A proof carries a claim (a transaction, a receipt, an account, storage
//! slots, a notarized document, a product's history), the header of the
//! block it is proven at (exact RLP), and that block's finality evidence
//! (the dev authority's signature, a BFT commit certificate with the
//! validator-set history, or PoW descendants). Checking needs only the
//! chain spec: every hash is recomputed from bytes in the proof.
//!
//! [`check`] runs in three steps: the envelope (format, chain id, chain
//! spec hash) and the header's bytes; the claim against the header's roots
//! (`claim`: Merkle paths to the transactions and receipts roots, compact jmt
//! proofs to the state root through [`state`], the system contracts'
//! commitments from [`records`]); and the header's finality (`finality`:
//! [`bft`] certificates, [`pow`] seals and the difficulty rule, the dev
//! authority's signature). The result, [`Verified`], says in plain words
//! what was proven and what had to be trusted. The format and its limits
//! are documented in `docs/proofs.md`.
//!
//! [`state`], [`bft`] and [`pow`] are the pure rules the node itself
//! uses (`tally-state` and `tally-consensus` call them), so the checker
//! and the chain cannot drift apart.

pub mod bft;
mod check;
mod claim;
mod error;
mod finality;
pub mod format;
pub mod pow;
pub mod records;
pub mod state;
pub mod text;
pub mod validator_list;

pub use check::{check, CheckOptions, Verified};
pub use error::VerifyError;
pub use format::*;
