//! Views of the state layer in the shapes the executor and the pool ask for.

use tally_executor::{StateSource, StateSourceError};
use tally_primitives::{Account, Address, Bytes, B256, U256};
use tally_state::{ChainDb, PendingState, StateReader, StateSnapshot};
use tally_txpool::{AccountReader, PoolError};

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

/// The pool validates against the latest state; on a consortium chain
/// also against the roles and minimum gas price governance keeps there.
pub(crate) struct PoolState {
    pub snapshot: std::sync::Arc<StateSnapshot>,
    pub consortium: bool,
}

/// A state snapshot as the executor reads it, without block hashes (the
/// system contracts' views need none).
struct SnapshotSource<'a>(&'a StateSnapshot);

impl StateSource for SnapshotSource<'_> {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateSourceError> {
        self.0.account(address).map_err(err)
    }
    fn storage(&self, address: &Address, slot: &U256) -> Result<U256, StateSourceError> {
        self.0.storage(address, slot).map_err(err)
    }
    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateSourceError> {
        self.0.code(code_hash).map_err(err)
    }
    fn block_hash(&self, _number: u64) -> Result<Option<B256>, StateSourceError> {
        Ok(None)
    }
}

impl AccountReader for PoolState {
    fn nonce_and_balance(&self, address: &Address) -> Result<(u64, U256), String> {
        let account = self.snapshot.account(address).map_err(|e| e.to_string())?;
        Ok(account
            .map(|a| (a.nonce, a.balance))
            .unwrap_or((0, U256::ZERO)))
    }

    fn check_admission(
        &self,
        sender: &Address,
        is_create: bool,
        fee_cap: u128,
    ) -> Result<(), PoolError> {
        if !self.consortium {
            return Ok(());
        }
        let state = SnapshotSource(&self.snapshot);
        tally_executor::check_sender(&state, *sender, is_create)
            .map_err(|e| PoolError::NotPermitted(e.to_string()))?;
        let min = tally_executor::min_gas_price(&state).map_err(|e| PoolError::State {
            address: *sender,
            reason: e.to_string(),
        })?;
        if fee_cap < u128::from(min) {
            return Err(PoolError::Underpriced { fee_cap, min });
        }
        Ok(())
    }
}
