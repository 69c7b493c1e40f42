//! The settlement contract ([`ITallySettlement`]): delivery versus payment.
//!
//! An instruction swaps two legs between two parties who both signed its
//! EIP-712 digest ([`digest`]). `settle` moves both legs or neither;
//! `settleBatch` checks every instruction, nets each (asset, account)'s
//! movements ([`netting`]) and applies every net debit before any credit,
//! so a batch needs only that each account covers its net debit, whatever
//! the order of its instructions.
//!
//! Assets move through the assets contract's [`ledger`], so their policy
//! (pause, freezes, allowlist, purpose, maximum holding) applies to every
//! leg; the coin moves with [`Slots::transfer_coin`]. A refusal anywhere
//! reverts the call, and the journal undoes the movements already made.

mod auth;
mod netting;

pub use auth::digest;

use super::{
    abi::ITallySettlement::{self, ITallySettlementCalls as Calls, Instruction},
    assets::{emit, ledger, ledger::Asset},
    read_at, revert,
    store::{slot, Store},
    CallCtx, Slots, SysError, ASSETS, SETTLEMENT,
};
use crate::{StateSource, StateSourceError};
use alloy_primitives::{Address, Bytes, B256, U256};
use alloy_sol_types::{SolCall, SolInterface};
use netting::{Leg, Net};
use std::collections::HashMap;

/// The most instructions one `settleBatch` takes.
pub const MAX_BATCH: usize = 2_000;

fn settled_slot(id: B256) -> U256 {
    slot("settled", &[U256::from_be_bytes(id.0)])
}

/// The block instruction `id` settled in, 0 if it has not.
pub(crate) fn settled_block(s: &mut Store<'_>, id: B256) -> Result<u64, SysError> {
    s.get_u64(settled_slot(id))
}

pub(crate) fn call(
    slots: &mut dyn Slots,
    ctx: &CallCtx,
    input: &[u8],
) -> Result<Vec<u8>, SysError> {
    let Ok(call) = Calls::abi_decode(input) else {
        return revert("unknown ITallySettlement function or malformed arguments");
    };
    let mut s = Store::new(slots, SETTLEMENT);
    let s = &mut s;
    use ITallySettlement as T;
    match call {
        Calls::settle(c) => {
            writing(ctx, "settle")?;
            let id = settle(s, ctx, &c.instruction, &c.signatureA, &c.signatureB)?;
            Ok(T::settleCall::abi_encode_returns(&id))
        }
        Calls::settleBatch(c) => {
            writing(ctx, "settleBatch")?;
            let moves = settle_batch(s, ctx, &c.instructions, &c.signaturesA, &c.signaturesB)?;
            Ok(T::settleBatchCall::abi_encode_returns(&moves))
        }
        Calls::digestOf(c) => Ok(T::digestOfCall::abi_encode_returns(&digest(
            ctx.chain_id,
            &c.instruction,
        ))),
        Calls::settledAt(c) => Ok(T::settledAtCall::abi_encode_returns(&settled_block(
            s, c.id,
        )?)),
    }
}

fn writing(ctx: &CallCtx, what: &str) -> Result<(), SysError> {
    if ctx.is_static {
        return revert(format!("{what} moves assets: not allowed in a static call"));
    }
    Ok(())
}

/// The two legs of an instruction: A pays `amountA` of `assetA` to B, B
/// pays `amountB` of `assetB` to A.
fn legs_of(ins: &Instruction) -> [(&'static str, Leg); 2] {
    [
        (
            "A",
            Leg {
                asset: ins.assetA,
                from: ins.partyA,
                to: ins.partyB,
                amount: ins.amountA,
            },
        ),
        (
            "B",
            Leg {
                asset: ins.assetB,
                from: ins.partyB,
                to: ins.partyA,
                amount: ins.amountB,
            },
        ),
    ]
}

/// Prefixes a revert reason with where it happened.
fn within(place: impl std::fmt::Display) -> impl FnOnce(SysError) -> SysError {
    move |e| match e {
        SysError::Revert(m) => SysError::Revert(format!("{place}: {m}")),
        other => other,
    }
}

/// The asset of a leg (`None` for the coin), after the policy's checks of
/// the leg's parties.
fn checked_asset(
    s: &mut Store<'_>,
    cache: &mut HashMap<Address, Asset>,
    flags: &mut ledger::FlagCache,
    leg: &Leg,
) -> Result<Option<Asset>, SysError> {
    if leg.asset.is_zero() {
        return Ok(None);
    }
    let a = match cache.get(&leg.asset) {
        Some(a) => a.clone(),
        None => {
            let a = ledger::load(&mut s.other(ASSETS), leg.asset)?;
            cache.insert(leg.asset, a.clone());
            a
        }
    };
    ledger::check_leg_with(&mut s.other(ASSETS), &a, leg.from, leg.to, flags)?;
    Ok(Some(a))
}

fn settle(
    s: &mut Store<'_>,
    ctx: &CallCtx,
    ins: &Instruction,
    sig_a: &Bytes,
    sig_b: &Bytes,
) -> Result<B256, SysError> {
    let id = auth::check(s, ctx, ins, sig_a, sig_b)?;
    let legs = legs_of(ins);
    // Both legs pass the policies before either moves.
    let mut cache = HashMap::new();
    let mut flags = ledger::FlagCache::new();
    let mut assets = Vec::with_capacity(2);
    for (side, leg) in &legs {
        let a = checked_asset(s, &mut cache, &mut flags, leg)
            .map_err(within(format_args!("instruction {id}, leg {side}")))?;
        assets.push(a);
    }
    for ((side, leg), a) in legs.iter().zip(&assets) {
        move_leg(s, leg, a.as_ref())
            .map_err(within(format_args!("instruction {id}, leg {side}")))?;
    }
    record(s, ctx, id, ins)?;
    Ok(id)
}

fn move_leg(s: &mut Store<'_>, leg: &Leg, asset: Option<&Asset>) -> Result<(), SysError> {
    match asset {
        None => s.slots.transfer_coin(leg.from, leg.to, leg.amount),
        Some(a) => {
            let mut assets = s.other(ASSETS);
            ledger::debit(&mut assets, a, leg.from, leg.amount)?;
            ledger::credit(&mut assets, a, leg.to, leg.amount)?;
            ledger::emit_transfer(&mut assets, a, leg.from, leg.to, leg.amount)
        }
    }
}

/// Marks the instruction settled in this block and says so.
fn record(s: &mut Store<'_>, ctx: &CallCtx, id: B256, ins: &Instruction) -> Result<(), SysError> {
    s.set_u64(settled_slot(id), ctx.block)?;
    emit(
        s,
        &ITallySettlement::Settled {
            id,
            partyA: ins.partyA,
            partyB: ins.partyB,
            submitter: ctx.caller,
        },
    )
}

fn settle_batch(
    s: &mut Store<'_>,
    ctx: &CallCtx,
    instructions: &[Instruction],
    sigs_a: &[Bytes],
    sigs_b: &[Bytes],
) -> Result<u64, SysError> {
    let n = instructions.len();
    if n == 0 {
        return revert("settleBatch got no instructions: a batch needs at least one");
    }
    if n > MAX_BATCH {
        return revert(format!(
            "a batch holds at most {MAX_BATCH} instructions, this one has {n}: split it"
        ));
    }
    if sigs_a.len() != n || sigs_b.len() != n {
        return revert(format!(
            "{n} instructions need {n} signaturesA and {n} signaturesB, got {} and {}",
            sigs_a.len(),
            sigs_b.len()
        ));
    }

    let mut ids = Vec::with_capacity(n);
    let mut seen: HashMap<B256, usize> = HashMap::with_capacity(n);
    for (i, ins) in instructions.iter().enumerate() {
        let id = auth::check(s, ctx, ins, &sigs_a[i], &sigs_b[i])
            .map_err(within(format_args!("batch instruction {i}")))?;
        if let Some(first) = seen.insert(id, i) {
            return revert(format!(
                "batch instructions {first} and {i} are the same instruction {id}: it settles once"
            ));
        }
        ids.push(id);
    }

    // Every leg passes its asset's policy; amounts are checked net.
    let mut cache = HashMap::new();
    let mut flags = ledger::FlagCache::new();
    let mut legs = Vec::with_capacity(2 * n);
    for (i, ins) in instructions.iter().enumerate() {
        for (side, leg) in legs_of(ins) {
            checked_asset(s, &mut cache, &mut flags, &leg)
                .map_err(within(format_args!("batch instruction {i}, leg {side}")))?;
            legs.push(leg);
        }
    }
    let nets = match netting::net(&legs) {
        Ok(nets) => nets,
        Err(e) => return revert(format!("batch: {e}")),
    };

    // All debits before any credit: only net positions must be covered.
    // The coin passes through this contract's own balance.
    let mut moves: u64 = 0;
    for want_debit in [true, false] {
        for (&(asset, account), net) in &nets {
            let (amount, is_debit) = match *net {
                Net::Debit(x) => (x, true),
                Net::Credit(x) => (x, false),
            };
            if is_debit != want_debit {
                continue;
            }
            let kind = if is_debit { "debit" } else { "credit" };
            apply_net(s, &cache, asset, account, amount, is_debit)
                .map_err(within(format_args!("batch net {kind} of {account}")))?;
            moves += 1;
        }
    }

    for ins in instructions {
        for (_, leg) in legs_of(ins) {
            if let Some(a) = cache.get(&leg.asset) {
                ledger::emit_transfer(&mut s.other(ASSETS), a, leg.from, leg.to, leg.amount)?;
            }
        }
    }
    for (ins, id) in instructions.iter().zip(ids) {
        record(s, ctx, id, ins)?;
    }
    emit(
        s,
        &ITallySettlement::BatchSettled {
            instructions: n as u64,
            netMovements: moves,
            submitter: ctx.caller,
        },
    )?;
    Ok(moves)
}

fn apply_net(
    s: &mut Store<'_>,
    cache: &HashMap<Address, Asset>,
    asset: Address,
    account: Address,
    amount: U256,
    is_debit: bool,
) -> Result<(), SysError> {
    if asset.is_zero() {
        let (from, to) = if is_debit {
            (account, SETTLEMENT)
        } else {
            (SETTLEMENT, account)
        };
        return s.slots.transfer_coin(from, to, amount);
    }
    let Some(a) = cache.get(&asset) else {
        return Err(SysError::State(format!(
            "settlement batch nets asset {asset} that no leg loaded"
        )));
    };
    let mut assets = s.other(ASSETS);
    if is_debit {
        ledger::debit(&mut assets, a, account, amount)
    } else {
        ledger::credit(&mut assets, a, account, amount)
    }
}

/// The block instruction `id` settled in, or `None` if it has not.
pub fn settled_at<S: StateSource + ?Sized>(
    state: &S,
    id: B256,
) -> Result<Option<u64>, StateSourceError> {
    read_at(state, SETTLEMENT, |s| settled_block(s, id)).map(|b| (b != 0).then_some(b))
}
