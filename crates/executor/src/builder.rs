//! Executing the transactions of a block.

use crate::{
    overlay::{Overlay, StateSource},
    system::{self, OverlaySlots, SystemPrecompiles},
    tx_env::tx_env,
    ExecError, SPEC,
};
use alloy_consensus::{Transaction, TxEnvelope};
use alloy_primitives::{Address, Bytes, B256, U256};
use revm::{
    context::{BlockEnv as RevmBlockEnv, CfgEnv, Context, Evm as RevmEvm, Journal, TxEnv},
    handler::{instructions::EthInstructions, EthFrame},
    interpreter::interpreter::EthInterpreter,
    ExecuteCommitEvm, MainBuilder,
};
use tally_primitives::{Evidence, Receipt, StateChanges};

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
    /// BFT chains: the equivocation evidence of the header's extra
    /// ([`tally_primitives::BftExtra::evidence`]), recorded in the
    /// governance contract before the block's transactions. Empty elsewhere.
    pub evidence: Vec<Evidence>,
}

type Ctx<'a, S> = Context<RevmBlockEnv, TxEnv, CfgEnv, Overlay<'a, S>, Journal<Overlay<'a, S>>, ()>;

/// revm's mainnet EVM with the system contracts beside the Ethereum
/// precompiles: every path (build, import, calls) runs them.
pub(crate) type Evm<'a, S> = RevmEvm<
    Ctx<'a, S>,
    (),
    EthInstructions<EthInterpreter, Ctx<'a, S>>,
    SystemPrecompiles,
    EthFrame<EthInterpreter>,
>;

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
        .with_precompiles(SystemPrecompiles::new(SPEC))
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
    /// Whether the block-start system work (evidence) has run; it runs
    /// before the first transaction or at `finish`, whichever comes first.
    started: bool,
}

impl<'a, S: StateSource + ?Sized> BlockBuilder<'a, S> {
    pub fn new(state: &'a S, env: BlockEnv) -> Self {
        let evm = new_evm(state, &env, |_| {});
        BlockBuilder {
            evm,
            env,
            receipts: Vec::new(),
            gas_used: 0,
            started: false,
        }
    }

    fn overlay(&mut self) -> &mut Overlay<'a, S> {
        &mut self.evm.ctx.journaled_state.database
    }

    /// The system contracts' work at the start of the block.
    fn start(&mut self) -> Result<(), ExecError> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        if self.env.evidence.is_empty() {
            return Ok(());
        }
        let evidence = std::mem::take(&mut self.env.evidence);
        let result =
            system::governance::record_evidence(&mut OverlaySlots(self.overlay()), &evidence);
        self.env.evidence = evidence;
        result.map_err(|e| system_error("recording evidence", e))
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
        self.start()?;
        let index = self.receipts.len();
        let left = self.gas_left();
        if tx.gas_limit() > left {
            return Err(ExecError::BlockGasExceeded {
                index,
                gas: tx.gas_limit(),
                left,
            });
        }
        system::roles::check(
            &mut OverlaySlots(self.overlay()),
            sender,
            tx.kind().is_create(),
        )
        .map_err(|e| match e {
            system::roles::PermissionError::Denied { account, role } => {
                ExecError::PermissionDenied {
                    index,
                    account,
                    role,
                }
            }
            system::roles::PermissionError::State(m) => ExecError::State(m),
        })?;
        let min = system::roles::min_fee_cap(&mut OverlaySlots(self.overlay())).map_err(|e| {
            ExecError::State(match e {
                system::roles::PermissionError::State(m) => m,
                other => other.to_string(),
            })
        })?;
        if tx.max_fee_per_gas() < u128::from(min) {
            return Err(ExecError::InvalidTransaction {
                index,
                reason: format!(
                    "transaction underpriced: max fee per gas {} is below the chain's minimum \
                     gas price {min}",
                    tx.max_fee_per_gas()
                ),
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

    /// Applies the governance decisions due at the next block, credits the
    /// block's rewards and returns what the block produced.
    pub fn finish(mut self) -> Result<BlockOutcome, ExecError> {
        self.start()?;
        let number = self.env.number;
        system::governance::end_block(&mut OverlaySlots(self.overlay()), number)
            .map_err(|e| system_error("applying governance proposals", e))?;
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

fn system_error(what: &str, e: system::SysError) -> ExecError {
    match e {
        system::SysError::State(m) => ExecError::State(format!("{what}: {m}")),
        other => ExecError::Evm(format!("{what}: {other:?}")),
    }
}
