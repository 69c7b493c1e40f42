//! Views of the state layer in the shapes the executor and the pool ask for.

use tally_executor::{StateSource, StateSourceError};
use tally_primitives::{Account, Address, Bytes, B256, U256};
use tally_state::{ChainDb, PendingState, StateReader, StateSnapshot};
use tally_txpool::AccountReader;

/// State after some block, plus the chain's block hashes for BLOCKHASH.
pub(crate) struct ExecState<'a> {
    pub snapshot: &'a StateSnapshot,
    pub db: &'a ChainDb,
}

fn err(e: impl std::fmt::Display) -> StateSourceError {
    StateSourceError(e.to_string())
}

impl StateSource for ExecState<'_> {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateSourceError> {
        self.snapshot.account(address).map_err(err)
    }
    fn storage(&self, address: &Address, slot: &U256) -> Result<U256, StateSourceError> {
        self.snapshot.storage(address, slot).map_err(err)
    }
    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateSourceError> {
        self.snapshot.code(code_hash).map_err(err)
    }
    fn block_hash(&self, number: u64) -> Result<Option<B256>, StateSourceError> {
        if number > self.snapshot.number() {
            return Ok(None);
        }
        Ok(self
            .db
            .header_by_number(number)
            .map_err(err)?
            .map(|h| h.hash))
    }
}

/// The state inside a run of blocks being imported (see
/// [`tally_state::BlockBatch`]), block hashes included.
pub(crate) struct PendingExec<'a, 'b>(pub &'a PendingState<'b>);

impl StateSource for PendingExec<'_, '_> {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateSourceError> {
        self.0.account(address).map_err(err)
    }
    fn storage(&self, address: &Address, slot: &U256) -> Result<U256, StateSourceError> {
        self.0.storage(address, slot).map_err(err)
    }
    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateSourceError> {
        self.0.code(code_hash).map_err(err)
    }
    fn block_hash(&self, number: u64) -> Result<Option<B256>, StateSourceError> {
        self.0.block_hash(number).map_err(err)
    }
}

/// The pool validates against the latest state.
pub(crate) struct PoolState(pub std::sync::Arc<StateSnapshot>);

impl AccountReader for PoolState {
    fn nonce_and_balance(&self, address: &Address) -> Result<(u64, U256), String> {
        let account = self.0.account(address).map_err(|e| e.to_string())?;
        Ok(account
            .map(|a| (a.nonce, a.balance))
            .unwrap_or((0, U256::ZERO)))
    }
}
