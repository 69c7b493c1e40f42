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
//! [`records`] holds the storage layout and commitments of the notary and
//! traceability system contracts, which the executor writes and the
//! checker recomputes.

pub mod format;
pub mod records;

pub use format::*;
