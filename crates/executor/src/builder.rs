//! Executing the transactions of a block.

use crate::{
    overlay::{Overlay, StateSource},
    tx_env::tx_env,
    ExecError, SPEC,
};
use alloy_consensus::{Transaction, TxEnvelope};
use alloy_primitives::{Address, Bytes, B256, U256};
use revm::{
    context::{BlockEnv as RevmBlockEnv, CfgEnv, Context, Journal, TxEnv},
    handler::MainnetEvm,
    ExecuteCommitEvm, MainBuilder,
};
use tally_primitives::{Receipt, StateChanges};

/// What the EVM needs to know about the block being built or imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockEnv {
    pub chain_id: u64,
    pub number: u64,
    pub timestamp: u64,
    pub beneficiary: Address,
    pub gas_limit: u64,
    pub base_fee: u64,
    /// The PREVRANDAO value; Tally uses the parent block's hash.
    pub prevrandao: B256,
    /// Credited after the block's transactions (the engine's block reward),
    /// as part of the block's state changes.
    pub rewards: Vec<(Address, U256)>,
}

pub(crate) type Evm<'a, S> =
    MainnetEvm<Context<RevmBlockEnv, TxEnv, CfgEnv, Overlay<'a, S>, Journal<Overlay<'a, S>>, ()>>;

pub(crate) fn revm_block_env(env: &BlockEnv) -> RevmBlockEnv {
    RevmBlockEnv {
        number: U256::from(env.number),
        beneficiary: env.beneficiary,
        timestamp: U256::from(env.timestamp),
        gas_limit: env.gas_limit,
        basefee: env.base_fee,
        prevrandao: Some(env.prevrandao),
        ..Default::default()
    }
}

pub(crate) fn new_evm<'a, S: StateSource + ?Sized>(
    state: &'a S,
    env: &BlockEnv,
    configure: impl FnOnce(&mut CfgEnv),
) -> Evm<'a, S> {
    let mut cfg = CfgEnv::new_with_spec(SPEC);
    cfg.chain_id = env.chain_id;
    configure(&mut cfg);
    let ctx: Context<RevmBlockEnv, TxEnv, CfgEnv, Overlay<'a, S>, Journal<Overlay<'a, S>>, ()> =
        Context::new(Overlay::new(state), SPEC);
    ctx.with_block(revm_block_env(env))
        .with_cfg(cfg)
        .build_mainnet()
}

/// The outcome of one executed transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxOutcome {
    pub receipt: Receipt,
    /// Return data, or revert data when the transaction reverted.
    pub output: Bytes,
    pub created: Option<Address>,
}

/// Everything a block's execution produced.
#[derive(Clone, Debug, Default)]
pub struct BlockOutcome {
    pub receipts: Vec<Receipt>,
    pub changes: StateChanges,
    pub gas_used: u64,
}

/// Executes transactions one by one on top of a state, accumulating receipts
/// and state changes for one block.
pub struct BlockBuilder<'a, S: StateSource + ?Sized> {
    evm: Evm<'a, S>,
    env: BlockEnv,
    receipts: Vec<Receipt>,
    gas_used: u64,
}

impl<'a, S: StateSource + ?Sized> BlockBuilder<'a, S> {
    pub fn new(state: &'a S, env: BlockEnv) -> Self {
        let evm = new_evm(state, &env, |_| {});
        BlockBuilder {
            evm,
            env,
            receipts: Vec::new(),
            gas_used: 0,
        }
    }

    pub fn gas_left(&self) -> u64 {
        self.env.gas_limit.saturating_sub(self.gas_used)
    }

    pub fn tx_count(&self) -> usize {
        self.receipts.len()
    }

    /// Executes `tx` signed by `sender`. An invalid transaction (bad nonce,
    /// too little balance, over the block's remaining gas) leaves the block
    /// untouched and returns an error; a reverted one is included with a
    /// failed receipt.
    pub fn execute(&mut self, tx: &TxEnvelope, sender: Address) -> Result<TxOutcome, ExecError> {
        let index = self.receipts.len();
        let left = self.gas_left();
        if tx.gas_limit() > left {
            return Err(ExecError::BlockGasExceeded {
                index,
                gas: tx.gas_limit(),
                left,
            });
        }
        let result = self
            .evm
            .transact_commit(tx_env(tx, sender))
            .map_err(|e| crate::exec_error(index, e))?;
        let gas = result.tx_gas_used();
        self.gas_used += gas;
        let created = result.created_address();
        let success = result.is_success();
        let output = match &result {
            revm::context::result::ExecutionResult::Success { output, .. } => output.data().clone(),
            revm::context::result::ExecutionResult::Revert { output, .. } => output.clone(),
            revm::context::result::ExecutionResult::Halt { .. } => Bytes::new(),
        };
        let receipt = Receipt {
            tx_type: tx.tx_type() as u8,
            success,
            gas_used: gas,
            cumulative_gas_used: self.gas_used,
            logs: if success {
                result.into_logs()
            } else {
                Vec::new()
            },
        };
        self.receipts.push(receipt.clone());
        Ok(TxOutcome {
            receipt,
            output,
            created,
        })
    }

    /// Credits the block's rewards and returns what the block produced.
    pub fn finish(self) -> Result<BlockOutcome, ExecError> {
        let mut overlay = self.evm.ctx.journaled_state.database;
        for (address, amount) in &self.env.rewards {
            overlay
                .credit(*address, *amount)
                .map_err(|e| ExecError::Evm(format!("crediting the block reward: {e}")))?;
        }
        Ok(BlockOutcome {
            receipts: self.receipts,
            changes: overlay.into_changes(),
            gas_used: self.gas_used,
        })
    }
}

/// Executes an imported block's transactions; any invalid transaction makes
/// the block invalid.
pub fn execute_block<S: StateSource + ?Sized>(
    state: &S,
    env: BlockEnv,
    txs: &[TxEnvelope],
    senders: &[Address],
) -> Result<BlockOutcome, ExecError> {
    if txs.len() != senders.len() {
        return Err(ExecError::Evm(format!(
            "{} transactions but {} senders",
            txs.len(),
            senders.len()
        )));
    }
    let mut builder = BlockBuilder::new(state, env);
    for (tx, sender) in txs.iter().zip(senders) {
        builder.execute(tx, *sender)?;
    }
    builder.finish()
}
