//! Client subcommands: they talk to a node over JSON-RPC (`--rpc URL`),
//! Tally's or any other Ethereum node's.
//!
//! - `rpc`: the blocking JSON-RPC client and its errors.
//! - `parse`: user input (amounts, addresses, hex, blocks).
//! - `wallet`: keystore directory, passwords, and signer options.
//! - `abi`: contract artifacts, argument encoding, revert decoding.
//! - `tx::send`: the sign-and-send pipeline `tx` and `contract` share.

mod abi;
pub mod account;
pub mod block;
pub mod contract;
pub mod key;
mod parse;
mod rpc;
pub mod status;
pub mod tx;
mod wallet;
