//! The Tally node: wires storage, state, execution, the pool, the consensus
//! engine and the RPC server together, and runs the engine's effects.
//!
//! Data flow: a signed transaction arrives over RPC → [`tally_txpool`]
//! (decoded, sender recovered once, validated) → the chain thread is told
//! transactions are pending → the engine answers with "build a block" → the
//! chain thread takes the best transactions, executes them with
//! [`tally_executor`], computes the roots, lets the engine seal the header,
//! commits the block in one write transaction ([`tally_state::ChainDb`]),
//! prunes the pool and publishes the block to RPC subscribers.
//!
//! Only the chain thread writes to the database, so blocks commit in order
//! without locks; readers (RPC) use snapshots and never block it.

mod adapters;
mod backend;
mod chain;
mod config;
mod driver;
mod import;
mod metrics;
mod net;
mod node;

pub use config::{node_key_in, NetworkOptions, NodeConfig};
pub use import::ImportError;
pub use metrics::{Metrics, MetricsSnapshot};
pub use node::{Node, NodeError};
pub use tally_sync::Progress as SyncProgress;
