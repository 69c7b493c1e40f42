//! Tally's keys and signatures.
//!
//! - Accounts are secp256k1 keys, signed and recovered with the C
//!   libsecp256k1 (through the `secp256k1` crate), which is several times
//!   faster than pure-Rust recovery: sender recovery is on the hot path of
//!   every transaction the node accepts.
//! - [`recover_senders`] recovers a batch in parallel with `rayon`.
//! - [`mnemonic`] derives account keys from BIP-39 phrases (the dev chain's
//!   funded accounts come from [`TEST_MNEMONIC`]).
//! - [`keystore`] reads and writes password-encrypted keystore v3 files, the
//!   format geth, Foundry and MetaMask share.
//! - [`node_key`] holds a node's ed25519 identity key, which signs network
//!   and consensus messages (distinct from any account key).

pub mod keystore;
pub mod mnemonic;
pub mod node_key;
pub mod secp;

pub use mnemonic::{derive_key, dev_accounts, TEST_MNEMONIC};

pub use secp::{
    address_of, recover, recover_sender, recover_senders, secret_key, sign_hash, sign_transaction,
    CryptoError, SecretKey,
};
