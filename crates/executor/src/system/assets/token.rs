//! The ERC-20 face of each asset ([`ITallyAsset`]), at its token address:
//! what wallets, ethers and cast call. Transfers go through the ledger, so
//! the asset's policy refuses them with a reason.

use super::{ledger, state::field, token_id, writing};
use crate::system::{
    abi::ITallyAsset::{self, ITallyAssetCalls as Calls},
    revert,
    store::Store,
    CallCtx, Slots, SysError,
};
use alloy_primitives::U256;
use alloy_sol_types::{SolCall, SolInterface};

pub(crate) fn call(
    slots: &mut dyn Slots,
    ctx: &CallCtx,
    input: &[u8],
) -> Result<Vec<u8>, SysError> {
    // The asset's own state is in its token account's storage.
    let mut s = Store::new(slots, ctx.address);
    let s = &mut s;
    let id = token_id(&ctx.address).unwrap_or(0);
    let Some(a) = ledger::load_id(s, id)? else {
        return revert(format!(
            "no asset at {}: it has not been issued",
            ctx.address
        ));
    };
    let Ok(call) = Calls::abi_decode(input) else {
        return revert("unknown ERC-20 function or malformed arguments");
    };
    use ITallyAsset as T;
    let me = ctx.caller;
    match call {
        Calls::name(_) => Ok(T::nameCall::abi_encode_returns(
            &s.get_string(field("name", id))?,
        )),
        Calls::symbol(_) => Ok(T::symbolCall::abi_encode_returns(
            &s.get_string(field("symbol", id))?,
        )),
        Calls::decimals(_) => {
            let d = u8::try_from(s.get_u64(field("decimals", id))?).unwrap_or(u8::MAX);
            Ok(T::decimalsCall::abi_encode_returns(&d))
        }
        Calls::totalSupply(_) => Ok(T::totalSupplyCall::abi_encode_returns(
            &ledger::total_supply(s, id)?,
        )),
        Calls::balanceOf(c) => Ok(T::balanceOfCall::abi_encode_returns(&ledger::balance(
            s, id, c.account,
        )?)),
        Calls::allowance(c) => Ok(T::allowanceCall::abi_encode_returns(
            &s.get(super::state::allowance_slot(id, c.owner, c.spender))?,
        )),
        Calls::transfer(c) => {
            writing(ctx)?;
            ledger::transfer(s, &a, me, c.to, c.value)?;
            Ok(T::transferCall::abi_encode_returns(&true))
        }
        Calls::approve(c) => {
            writing(ctx)?;
            if c.spender.is_zero() {
                return revert("cannot approve the zero address");
            }
            s.set(super::state::allowance_slot(id, me, c.spender), c.value)?;
            let log = T::Approval {
                owner: me,
                spender: c.spender,
                value: c.value,
            };
            emit_at_token(s, &a, &log)?;
            Ok(T::approveCall::abi_encode_returns(&true))
        }
        Calls::transferFrom(c) => {
            writing(ctx)?;
            let slot = super::state::allowance_slot(id, c.from, me);
            let allowed = s.get(slot)?;
            if allowed != U256::MAX {
                let Some(left) = allowed.checked_sub(c.value) else {
                    return revert(format!(
                        "insufficient allowance: {me} may move {allowed} of {}'s tokens, not {}",
                        c.from, c.value
                    ));
                };
                s.set(slot, left)?;
            }
            ledger::transfer(s, &a, c.from, c.to, c.value)?;
            Ok(T::transferFromCall::abi_encode_returns(&true))
        }
        Calls::issuer(_) => Ok(T::issuerCall::abi_encode_returns(&a.issuer)),
        Calls::regulator(_) => Ok(T::regulatorCall::abi_encode_returns(&ledger::regulator(
            s, &a,
        )?)),
        Calls::cap(_) => Ok(T::capCall::abi_encode_returns(&s.get(field("cap", id))?)),
        Calls::paused(_) => Ok(T::pausedCall::abi_encode_returns(
            &a.flags.has(super::state::flag::PAUSED),
        )),
        Calls::balanceOfAt(c) => Ok(T::balanceOfAtCall::abi_encode_returns(&ledger::balance_at(
            s,
            &a,
            c.account,
            c.snapshotId,
        )?)),
        Calls::totalSupplyAt(c) => Ok(T::totalSupplyAtCall::abi_encode_returns(
            &ledger::supply_at(s, &a, c.snapshotId)?,
        )),
    }
}

fn emit_at_token<E: alloy_sol_types::SolEvent>(
    s: &mut Store<'_>,
    a: &ledger::Asset,
    event: &E,
) -> Result<(), SysError> {
    let log = event.encode_log_data();
    s.slots
        .emit(a.token, log.topics().to_vec(), log.data.to_vec().into())
}
