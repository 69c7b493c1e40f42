//! Tally's keys and signatures.
//!
//! - Accounts are secp256k1 keys, signed and recovered with the C
//!   libsecp256k1 (through the `secp256k1` crate), which is several times
//!   faster than pure-Rust recovery: sender recovery is on the hot path of
//!   every transaction the node accepts.
//! - [`recover_senders`] recovers a batch in parallel with `rayon`.

pub mod secp;

pub use secp::{
    address_of, recover, recover_sender, recover_senders, secret_key, sign_hash, sign_transaction,
    CryptoError, SecretKey,
};
