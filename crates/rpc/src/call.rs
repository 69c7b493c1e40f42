//! `eth_call` and `eth_estimateGas` on top of [`Backend::call`].
//!
//! Gas estimation is a binary search over calls with different gas limits,
//! as geth does: the backend only knows how to run one call.

use alloy_primitives::{Bytes, TxKind, U256};
use alloy_rpc_types_eth::TransactionRequest;
use jsonrpsee::types::ErrorObjectOwned;

use crate::backend::{Backend, BackendError, CallOutcome, CallRequest, CallStatus};
use crate::error::{invalid_params, revert_error, rpc_err, SERVER_ERROR};

/// Intrinsic cost of the cheapest transaction; no call can succeed below it.
const TX_BASE_GAS: u64 = 21_000;

/// Converts the client's transaction object into a backend call request.
pub fn call_request(req: TransactionRequest) -> Result<CallRequest, ErrorObjectOwned> {
    let input = req
        .input
        .try_into_unique_input()
        .map_err(|e| invalid_params(format!("{e}: send only one of `input` and `data`")))?
        .unwrap_or_default();
    let to = match req.to {
        Some(TxKind::Call(addr)) => Some(addr),
        Some(TxKind::Create) | None => None,
    };
    Ok(CallRequest {
        from: req.from,
        to,
        gas: req.gas,
        gas_price: req.gas_price,
        max_fee_per_gas: req.max_fee_per_gas,
        max_priority_fee_per_gas: req.max_priority_fee_per_gas,
        value: req.value,
        input,
        nonce: req.nonce,
        access_list: req.access_list,
    })
}

/// The `eth_call` answer for an outcome: the output, or the revert/halt
/// as an error (code 3 with the revert bytes for a revert).
pub fn call_result(outcome: CallOutcome) -> Result<Bytes, ErrorObjectOwned> {
    match outcome.status {
        CallStatus::Success => Ok(outcome.output),
        CallStatus::Revert => Err(revert_error(&outcome.output)),
        CallStatus::Halt { reason } => Err(rpc_err(SERVER_ERROR, reason)),
    }
}

/// The least gas limit with which `request` succeeds on the state after
/// block `number`, run as the next block would run it, searched between
/// 21,000 and the request's gas (or the block gas limit).
pub fn estimate_gas(
    backend: &dyn Backend,
    mut request: CallRequest,
    number: u64,
    block_gas_limit: u64,
) -> Result<u64, ErrorObjectOwned> {
    let mut hi = request.gas.unwrap_or(block_gas_limit);
    if hi < TX_BASE_GAS {
        return Err(invalid_params(format!(
            "gas limit {hi} is below the intrinsic transaction cost of {TX_BASE_GAS}"
        )));
    }
    // With a fee price, the sender can only pay for so much gas: search
    // below that instead of failing with "insufficient funds" (as geth).
    let fee_cap = request.gas_price.or(request.max_fee_per_gas).unwrap_or(0);
    if let (Some(from), true) = (request.from, fee_cap > 0) {
        let balance = backend
            .account(from, number)?
            .map_or(U256::ZERO, |a| a.balance);
        let value = request.value.unwrap_or_default();
        let allowance = balance.saturating_sub(value) / U256::from(fee_cap);
        if allowance < U256::from(TX_BASE_GAS) {
            return Err(rpc_err(
                SERVER_ERROR,
                format!(
                    "insufficient funds for gas * price + value: {from} has {balance} wei, \
                     needs {value} wei plus {TX_BASE_GAS} gas at {fee_cap} wei"
                ),
            ));
        }
        if allowance < U256::from(hi) {
            hi = allowance.saturating_to();
        }
    }
    request.gas = Some(hi);
    let first = backend.call_as_next_block(&request, number)?;
    match &first.status {
        CallStatus::Success => {}
        CallStatus::Revert => return Err(revert_error(&first.output)),
        CallStatus::Halt { reason } => {
            return Err(rpc_err(
                SERVER_ERROR,
                format!("gas required exceeds allowance ({hi}): {reason}"),
            ))
        }
    }
    // Gas used (after refunds) is a lower bound on the limit needed; the
    // limit can be higher because of refunds and the 63/64 rule.
    let mut lo = first.gas_used.max(TX_BASE_GAS).saturating_sub(1);

    let mut succeeds = |gas: u64| -> Result<bool, ErrorObjectOwned> {
        request.gas = Some(gas);
        match backend.call_as_next_block(&request, number) {
            Ok(outcome) => Ok(outcome.status == CallStatus::Success),
            // Executors reject limits below the intrinsic cost outright
            // ("intrinsic gas too low") instead of halting: that, too, means
            // "not enough gas" here.
            Err(BackendError::Execution { .. } | BackendError::InvalidParams(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    };

    // Most calls need little more than they use: try that first to cut the
    // search short (geth's optimistic guess).
    let optimistic = first.gas_used.saturating_add(2_300).saturating_mul(64) / 63;
    if optimistic > lo && optimistic < hi {
        if succeeds(optimistic)? {
            hi = optimistic;
        } else {
            lo = optimistic;
        }
    }
    while lo + 1 < hi {
        let mid = lo + (hi - lo) / 2;
        if succeeds(mid)? {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(hi)
}
