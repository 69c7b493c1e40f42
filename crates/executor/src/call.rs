//! Read-only calls: `eth_call` and the probes of `eth_estimateGas`.

use crate::{builder::new_evm, BlockEnv, ExecError, StateSource};
use alloy_eips::eip2930::AccessList;
use alloy_primitives::{Address, Bytes, TxKind, U256};
use revm::{
    context::{result::ExecutionResult, TxEnv},
    ExecuteEvm,
};

/// A call as `eth_call` describes it. Missing fields take the defaults geth uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallRequest {
    pub from: Option<Address>,
    /// `None` deploys `input` as init code.
    pub to: Option<Address>,
    pub gas: Option<u64>,
    pub gas_price: Option<u128>,
    pub max_fee_per_gas: Option<u128>,
    pub max_priority_fee_per_gas: Option<u128>,
    pub value: Option<U256>,
    pub input: Bytes,
    pub nonce: Option<u64>,
    pub access_list: Option<AccessList>,
}

/// The result of a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallOutcome {
    pub success: bool,
    /// True when it failed by `REVERT` (output holds the revert data), false
    /// when it halted (out of gas, invalid opcode...).
    pub reverted: bool,
    pub gas_used: u64,
    pub output: Bytes,
    /// Why it halted, when it did.
    pub halt_reason: Option<String>,
}

/// Runs `req` on top of `state` in block `env` and discards the changes.
/// Nonce checks are off and a call without a gas price pays no fees, as in
/// geth, so callers need no funded account.
pub fn call<S: StateSource + ?Sized>(
    state: &S,
    env: &BlockEnv,
    req: &CallRequest,
) -> Result<CallOutcome, ExecError> {
    let gas_price = req.gas_price.or(req.max_fee_per_gas).unwrap_or(0);
    let mut evm = new_evm(state, env, |cfg| {
        cfg.disable_nonce_check = true;
        // eth_call may come from any address, contracts included (EIP-3607 off).
        cfg.disable_eip3607 = true;
        cfg.disable_block_gas_limit = true;
        if gas_price == 0 {
            cfg.disable_base_fee = true;
        }
        // A call may ask for more gas than one transaction may use on chain.
        cfg.tx_gas_limit_cap = Some(u64::MAX);
    });
    let tx = TxEnv {
        tx_type: if req.max_fee_per_gas.is_some() { 2 } else { 0 },
        caller: req.from.unwrap_or_default(),
        gas_limit: req.gas.unwrap_or(env.gas_limit),
        gas_price,
        kind: req.to.map(TxKind::Call).unwrap_or(TxKind::Create),
        value: req.value.unwrap_or_default(),
        data: req.input.clone(),
        nonce: req.nonce.unwrap_or(0),
        chain_id: Some(env.chain_id),
        access_list: req.access_list.clone().unwrap_or_default(),
        gas_priority_fee: req.max_priority_fee_per_gas,
        ..Default::default()
    };
    let result = evm.transact(tx).map_err(|e| crate::exec_error(0, e))?;
    let gas_used = result.result.tx_gas_used();
    Ok(match result.result {
        ExecutionResult::Success { output, .. } => CallOutcome {
            success: true,
            reverted: false,
            gas_used,
            output: output.into_data(),
            halt_reason: None,
        },
        ExecutionResult::Revert { output, .. } => CallOutcome {
            success: false,
            reverted: true,
            gas_used,
            output,
            halt_reason: None,
        },
        ExecutionResult::Halt { reason, .. } => CallOutcome {
            success: false,
            reverted: false,
            gas_used,
            output: Bytes::new(),
            halt_reason: Some(format!("{reason:?}")),
        },
    })
}
