//! Tally's Ethereum JSON-RPC server (HTTP and WebSocket on one port).
//!
//! The node implements [`Backend`] over its storage, state, executor and
//! transaction pool and calls [`start`]; this crate turns the backend's
//! coarse reads into the standard `eth_`/`net_`/`web3_` methods, shaped with
//! `alloy-rpc-types-eth` so ethers, viem, web3.py and Hardhat parse them,
//! plus `tally_nodeInfo`, geth's `admin_` peer methods with Tally's peer
//! blocks, and geth's mining methods (`eth_getWork` and friends).
//!
//! - [`backend`]: the trait the node implements, and its error type.
//! - `block_id`: tags / numbers / EIP-1898 objects → canonical numbers.
//! - `convert`: Tally blocks, transactions, receipts → RPC objects.
//! - `eth`, `misc`, `admin` (peers), `mining`: the method handlers; `call`
//!   (eth_call, estimateGas), `fees`, `logs` (bounded, bloom-skipping log
//!   scans), `filters` (polling filters), `pubsub` (WebSocket
//!   subscriptions).
//! - [`bft`]: BFT consortium reads (commit certificates, validator sets,
//!   governance, roles); non-BFT backends answer that the chain is not BFT.
//! - [`assets`]: native assets, shareholder ballots and settlement at any
//!   block, an asset's decoded history, and the system contracts' ABIs.
//! - [`sql`]: `tally_sql` and `GET /sql`, read-only SQL over the node's
//!   index of the ledger.
//! - `metrics_http`: `GET /metrics` and `GET /sql` beside JSON-RPC.
//! - `server`: binding, limits, CORS, start/stop.

mod admin;
pub mod api;
pub mod assets;
pub mod backend;
pub mod bft;
mod block_id;
mod call;
pub mod convert;
mod cors;
pub mod error;
mod eth;
mod fees;
mod filters;
mod logs;
mod metrics_http;
mod mining;
mod misc;
pub mod proofs;
mod pubsub;
mod request_id;
mod server;
pub mod sql;
mod ws_limit;

pub use api::{AdminNodeInfo, MiningStatus, NodeInfo};
pub use backend::{
    Backend, BackendError, CallOutcome, CallRequest, CallStatus, MiningInfo, NewBlock,
    NodeIdentity, PeerInfo, PeerNetwork, PendingTransaction, SyncProgress, Work,
};
pub use bft::{ChainParamsInfo, MemberInfo, RolesInfo, ValidatorSetChange, ValidatorSetInfo};
pub use error::RpcError;
// Public for the fuzz target of the id check (fuzz/fuzz_targets/rpc.rs).
pub use request_id::RequestIdLayer;
pub use server::{rpc_module, start, RpcConfig, RpcServerHandle};
