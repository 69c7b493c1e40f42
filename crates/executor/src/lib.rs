//! Block execution on revm.
//!
//! The executor is the only crate that touches revm, so a revm upgrade
//! changes this crate alone. It reads state through [`StateSource`] (the node
//! passes a snapshot of the state layer), runs transactions with the latest
//! hard fork revm supports ([`SPEC`]), and returns receipts plus the block's
//! net [`StateChanges`] for the state layer to commit.
//!
//! - [`BlockBuilder`] executes transactions one at a time. A producer uses it
//!   to fill a block, skipping transactions that turn out invalid; an
//!   importer uses [`execute_block`], where any invalid transaction makes the
//!   whole block invalid.
//! - [`call`] runs a read-only call (`eth_call`, `eth_estimateGas`) and
//!   discards its state changes.
//!
//! - [`system`] holds the native system contracts (governance, roles, assets,
//!   settlement, ballots, notary, traceability) that
//!   every EVM path runs as stateful precompiles, their genesis state, the
//!   role check of permissioned chains, and reads for the node and RPC.
//!
//! Fees: the base fee is burned; the priority fee goes to the block's
//! beneficiary (revm's mainnet handler does both).

mod builder;
mod call;
mod overlay;
pub mod system;
mod tx_env;

pub use builder::{execute_block, BlockBuilder, BlockEnv, BlockOutcome, TxOutcome};
pub use call::{call, CallOutcome, CallRequest};
pub use overlay::{StateSource, StateSourceError};
pub use system::{
    check_sender, genesis_accounts, min_gas_price, roles::PermissionError, GOVERNANCE, ROLES,
};

/// The hard fork Tally executes: the latest one revm 43 supports fully.
pub const SPEC: revm::primitives::hardfork::SpecId = revm::primitives::hardfork::SpecId::OSAKA;

/// Why a transaction or block could not be executed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ExecError {
    /// The transaction is invalid against the current state (nonce, balance,
    /// gas, fee); the message is revm's.
    #[error("transaction {index} is invalid: {reason}")]
    InvalidTransaction { index: usize, reason: String },
    /// The transaction would take the block over its gas limit.
    #[error("transaction {index} needs {gas} gas but only {left} is left in the block")]
    BlockGasExceeded { index: usize, gas: u64, left: u64 },
    /// The sender lacks the role a permissioned chain requires for it.
    #[error("transaction {index} is not permitted: account {account} lacks the {} role: it may not {} on this chain", role.name(), if *role == tally_primitives::Role::Deployer { "deploy contracts" } else { "send transactions" })]
    PermissionDenied {
        index: usize,
        account: alloy_primitives::Address,
        role: tally_primitives::Role,
    },
    /// Reading state failed (disk, corruption).
    #[error("state read failed: {0}")]
    State(String),
    /// revm reported an internal failure.
    #[error("EVM failure: {0}")]
    Evm(String),
}

/// Maps revm's error for transaction `index` into [`ExecError`], wording the
/// cases wallets and libraries match on as geth does.
pub(crate) fn exec_error(
    index: usize,
    e: revm::context::result::EVMError<StateSourceError>,
) -> ExecError {
    use revm::context::result::{EVMError, InvalidTransaction};
    match e {
        EVMError::Transaction(t) => {
            let reason = match &t {
                InvalidTransaction::LackOfFundForMaxFee { .. } => {
                    format!("insufficient funds for gas * price + value: {t}")
                }
                _ => t.to_string(),
            };
            ExecError::InvalidTransaction { index, reason }
        }
        EVMError::Database(d) => ExecError::State(d.0),
        other => ExecError::Evm(other.to_string()),
    }
}
