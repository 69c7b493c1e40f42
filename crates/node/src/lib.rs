//! The Tally node: wires storage, state, execution, the pool, the consensus
//! engine, the RPC server and the block explorer ([`tally_explorer`], over
//! the same backend as RPC) together, and runs the engine's effects.
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
//!
//! Where things are: [`chain`](crate) holds the shared handles and the
//! bookkeeping after commits and reorgs; `producer` builds block templates;
//! `mining` runs the engine's sealer on threads; `import` verifies and
//! executes blocks from outside; `reorg` switches branches atomically;
//! `driver` is the chain thread that owns the engine and the block tree
//! ([`tally_chain::BlockTree`]); `net` talks to peers; `backend` answers RPC;
//! `sql_index` keeps the SQL index ([`tally_sql`]) in step with the chain on
//! its own thread, woken by each new block.

mod adapters;
mod admin;
mod backend;
mod chain;
mod config;
mod driver;
mod error;
mod fault;
mod import;
mod metrics;
mod mining;
mod net;
mod net_state;
mod node;
mod producer;
mod reorg;
mod sql_index;
mod view;

pub use config::{node_key_in, MiningOptions, NetworkOptions, NodeConfig, RpcLimits};
pub use driver::{BftWire, Imported};
pub use error::NodeError;
pub use import::ImportError;
pub use metrics::{Metrics, MetricsSnapshot};
pub use mining::WorkPackage;
pub use node::Node;
pub use tally_sync::Progress as SyncProgress;
