//! Client subcommands: they talk to a node over JSON-RPC.

pub mod account;
pub mod block;
pub mod contract;
pub mod key;
pub mod status;
pub mod tx;
