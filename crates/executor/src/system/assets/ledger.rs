//! Balances and the rules every movement obeys: the one path that mint,
//! ERC-20 transfers, clawback and settlement all take, so a policy holds
//! whichever way tokens move.
//!
//! Each balance change also keeps the holder list (for regulators' views)
//! and the snapshots ballots weigh votes by: before the first change after
//! snapshot N, the old value is recorded under N (as OpenZeppelin's
//! ERC20Snapshot does), so a balance at any snapshot is the first record at
//! or after it, or else the current balance.

use super::{
    state::{self, account_flag, field, flag, Flags},
    token_address,
};
use crate::system::{
    revert,
    store::{addr_word, slot, Store},
    SysError,
};
use alloy_primitives::{Address, U256};
use alloy_sol_types::SolEvent;

/// What a movement needs to know about its asset, read once.
#[derive(Clone, Debug)]
pub(crate) struct Asset {
    pub id: u64,
    pub token: Address,
    pub flags: Flags,
    /// Never zero for an issued asset: it tells issued from not.
    pub issuer: Address,
}

/// The asset at `token`, or a revert naming the address.
pub(crate) fn load(s: &mut Store<'_>, token: Address) -> Result<Asset, SysError> {
    let Some(id) = super::token_id(&token) else {
        return revert(format!("{token} is not an asset's token address"));
    };
    load_id(s, id).and_then(|a| match a {
        Some(a) => Ok(a),
        None => revert(format!("no asset at {token}: it has not been issued")),
    })
}

pub(crate) fn load_id(s: &mut Store<'_>, id: u64) -> Result<Option<Asset>, SysError> {
    if id == 0 {
        return Ok(None);
    }
    // One word says whether the asset exists (its issuer is never zero)
    // and holds its policy bits and snapshot id.
    let flags = state::flags(s, id)?;
    if flags.issuer.is_zero() {
        return Ok(None);
    }
    Ok(Some(Asset {
        id,
        token: token_address(id),
        flags,
        issuer: flags.issuer,
    }))
}

/// The asset's regulator (`Address::ZERO` when none).
pub(crate) fn regulator(s: &mut Store<'_>, a: &Asset) -> Result<Address, SysError> {
    let mut at_token = state::at(s, a.id);
    let s = &mut at_token;
    s.get_addr(field("regulator", a.id))
}

/// The asset's symbol, for messages.
pub(crate) fn symbol(s: &mut Store<'_>, a: &Asset) -> String {
    let mut at_token = state::at(s, a.id);
    let s = &mut at_token;
    s.get_string(field("symbol", a.id))
        .unwrap_or_else(|_| format!("asset {}", a.id))
}

pub(crate) fn balance(s: &mut Store<'_>, id: u64, account: Address) -> Result<U256, SysError> {
    let mut at_token = state::at(s, id);
    let s = &mut at_token;
    s.get(state::balance_slot(id, account))
}

pub(crate) fn total_supply(s: &mut Store<'_>, id: u64) -> Result<U256, SysError> {
    let mut at_token = state::at(s, id);
    let s = &mut at_token;
    s.get(field("supply", id))
}

/// Whether a leg `from` → `to` may move at all, whatever the amount:
/// pause, freezes, allowlist and purpose. Amounts are checked by
/// [`debit`] and [`credit`].
pub(crate) fn check_leg(
    s: &mut Store<'_>,
    a: &Asset,
    from: Address,
    to: Address,
) -> Result<(), SysError> {
    check_leg_with(s, a, from, to, &mut FlagCache::new())
}

/// Accounts' policy flags already read, by (asset number, account): a
/// batch that checks many legs between the same accounts reads (and pays
/// for) each account's flags once.
pub(crate) type FlagCache = std::collections::HashMap<(u64, Address), u8>;

fn cached_flags(
    s: &mut Store<'_>,
    id: u64,
    account: Address,
    cache: &mut FlagCache,
) -> Result<u8, SysError> {
    if let Some(bits) = cache.get(&(id, account)) {
        return Ok(*bits);
    }
    let bits = state::account_flags(s, id, account)?;
    cache.insert((id, account), bits);
    Ok(bits)
}

/// [`check_leg`] with flags read through `cache`.
pub(crate) fn check_leg_with(
    s: &mut Store<'_>,
    a: &Asset,
    from: Address,
    to: Address,
    cache: &mut FlagCache,
) -> Result<(), SysError> {
    let mut at_token = state::at(s, a.id);
    let s = &mut at_token;
    if to.is_zero() {
        return revert("cannot transfer to the zero address");
    }
    if a.flags.has(flag::PAUSED) {
        let sym = symbol(s, a);
        return revert(format!(
            "{sym} is paused: no transfers until its issuer or regulator resumes it"
        ));
    }
    // No account of this asset was ever allowed, frozen or tagged: no
    // account flags to read.
    let (from_flags, to_flags) = if a.flags.has(flag::ACCOUNT_FLAGS) {
        (
            cached_flags(s, a.id, from, cache)?,
            cached_flags(s, a.id, to, cache)?,
        )
    } else {
        (0, 0)
    };
    for (who, bits) in [(from, from_flags), (to, to_flags)] {
        if bits & account_flag::FROZEN != 0 {
            let sym = symbol(s, a);
            return revert(format!("{who} is frozen for {sym}"));
        }
    }
    if a.flags.has(flag::ALLOWLIST) {
        let regulator = regulator(s, a)?;
        for (who, bits) in [(from, from_flags), (to, to_flags)] {
            let official = who == a.issuer || (!regulator.is_zero() && who == regulator);
            // The issuer and the regulator pass without being listed.
            if bits & account_flag::ALLOWED == 0 && !official {
                let sym = symbol(s, a);
                return revert(format!(
                    "{who} is not on {sym}'s allowlist: holders of {sym} must be approved by its issuer or regulator"
                ));
            }
        }
    }
    // Purpose-bound money: the issuer hands it out to anyone (a subsidy
    // to a farmer); holders may spend it only with tagged accounts
    // (suppliers) or return it to the issuer.
    if a.flags.has(flag::PURPOSE)
        && from != a.issuer
        && to != a.issuer
        && to_flags & account_flag::TAGGED == 0
    {
        let sym = symbol(s, a);
        let purpose = s.get_string(field("purpose", a.id))?;
        return revert(format!(
            "{sym} may only be paid to accounts tagged '{purpose}', and {to} is not"
        ));
    }
    Ok(())
}

/// Takes `amount` from `account`'s balance; reverts when it holds less.
pub(crate) fn debit(
    s: &mut Store<'_>,
    a: &Asset,
    account: Address,
    amount: U256,
) -> Result<(), SysError> {
    let mut at_token = state::at(s, a.id);
    let s = &mut at_token;
    let slot = state::balance_slot(a.id, account);
    let old = s.get(slot)?;
    let Some(new) = old.checked_sub(amount) else {
        let sym = symbol(s, a);
        return revert(format!(
            "insufficient {sym} balance: {account} holds {old}, needs {amount}"
        ));
    };
    record_snapshot(s, a, addr_word(account), old)?;
    s.set(slot, new)?;
    if new.is_zero() && !old.is_zero() {
        remove_holder(s, a.id, account)?;
    }
    Ok(())
}

/// Adds `amount` to `account`'s balance; reverts above the maximum
/// holding (the issuer is exempt).
pub(crate) fn credit(
    s: &mut Store<'_>,
    a: &Asset,
    account: Address,
    amount: U256,
) -> Result<(), SysError> {
    let mut at_token = state::at(s, a.id);
    let s = &mut at_token;
    let slot = state::balance_slot(a.id, account);
    let old = s.get(slot)?;
    let Some(new) = old.checked_add(amount) else {
        return revert(format!("{account}'s balance would overflow"));
    };
    if a.flags.has(flag::MAX_HOLDING) && account != a.issuer {
        let max = s.get(field("max", a.id))?;
        if new > max {
            let sym = symbol(s, a);
            return revert(format!(
                "{account} would hold {new} {sym}, above the maximum holding of {max}"
            ));
        }
    }
    record_snapshot(s, a, addr_word(account), old)?;
    s.set(slot, new)?;
    if old.is_zero() && !new.is_zero() {
        add_holder(s, a.id, account)?;
    }
    Ok(())
}

/// Changes the total supply by `delta` (mint: up, burn: down).
pub(crate) fn change_supply(
    s: &mut Store<'_>,
    a: &Asset,
    up: bool,
    amount: U256,
) -> Result<U256, SysError> {
    let mut at_token = state::at(s, a.id);
    let s = &mut at_token;
    let old = total_supply(s, a.id)?;
    let new = if up {
        old.checked_add(amount)
    } else {
        old.checked_sub(amount)
    };
    let Some(new) = new else {
        return revert(format!("total supply {old} cannot change by {amount}"));
    };
    record_snapshot(s, a, SUPPLY_SERIES, old)?;
    s.set(field("supply", a.id), new)?;
    Ok(new)
}

/// The ERC-20 `Transfer` event, from the token's own address.
pub(crate) fn emit_transfer(
    s: &mut Store<'_>,
    a: &Asset,
    from: Address,
    to: Address,
    value: U256,
) -> Result<(), SysError> {
    let log = crate::system::abi::ITallyAsset::Transfer { from, to, value }.encode_log_data();
    s.slots
        .emit(a.token, log.topics().to_vec(), log.data.to_vec().into())
}

/// A transfer under the policy: the leg's checks, the balances, the event.
pub(crate) fn transfer(
    s: &mut Store<'_>,
    a: &Asset,
    from: Address,
    to: Address,
    amount: U256,
) -> Result<(), SysError> {
    check_leg(s, a, from, to)?;
    debit(s, a, from, amount)?;
    credit(s, a, to, amount)?;
    emit_transfer(s, a, from, to, amount)
}

// --- holders ---------------------------------------------------------------

fn holder_slot(id: u64, index: u64) -> U256 {
    slot("holder", &[U256::from(id), U256::from(index)])
}

fn position_slot(id: u64, account: Address) -> U256 {
    slot("hpos", &[U256::from(id), addr_word(account)])
}

fn add_holder(s: &mut Store<'_>, id: u64, account: Address) -> Result<(), SysError> {
    let mut at_token = state::at(s, id);
    let s = &mut at_token;
    let n = s.get_u64(field("holders", id))? + 1;
    s.set(holder_slot(id, n), addr_word(account))?;
    s.set_u64(position_slot(id, account), n)?;
    s.set_u64(field("holders", id), n)
}

/// Removes by moving the last holder into the gap.
fn remove_holder(s: &mut Store<'_>, id: u64, account: Address) -> Result<(), SysError> {
    let mut at_token = state::at(s, id);
    let s = &mut at_token;
    let n = s.get_u64(field("holders", id))?;
    let at = s.get_u64(position_slot(id, account))?;
    if at == 0 || at > n {
        return Err(SysError::State(format!(
            "asset {id}: holder {account} has position {at} of {n}"
        )));
    }
    if at != n {
        let last = s.get_addr(holder_slot(id, n))?;
        s.set(holder_slot(id, at), addr_word(last))?;
        s.set_u64(position_slot(id, last), at)?;
    }
    s.set(holder_slot(id, n), U256::ZERO)?;
    s.set(position_slot(id, account), U256::ZERO)?;
    s.set_u64(field("holders", id), n - 1)
}

/// Holders `start..start+count` (0-based) with their balances.
pub(crate) fn holders(
    s: &mut Store<'_>,
    id: u64,
    start: u64,
    count: u64,
) -> Result<Vec<(Address, U256)>, SysError> {
    let mut at_token = state::at(s, id);
    let s = &mut at_token;
    let n = s.get_u64(field("holders", id))?;
    let end = start.saturating_add(count).min(n);
    let mut out = Vec::new();
    for i in start..end {
        let who = s.get_addr(holder_slot(id, i + 1))?;
        let bal = balance(s, id, who)?;
        out.push((who, bal));
    }
    Ok(out)
}

// --- snapshots -------------------------------------------------------------

/// The series key of the total supply (no account's word is all ones).
const SUPPLY_SERIES: U256 = U256::MAX;

fn series_len_slot(id: u64, series: U256) -> U256 {
    slot("snaps", &[U256::from(id), series])
}

fn series_entry_slot(id: u64, series: U256, i: u64) -> U256 {
    slot("snap", &[U256::from(id), series, U256::from(i)])
}

/// One recorded value: the snapshot id in the high 64 bits of the key
/// slot, the value in the slot after it.
fn read_entry(s: &mut Store<'_>, id: u64, series: U256, i: u64) -> Result<(u64, U256), SysError> {
    let mut at_token = state::at(s, id);
    let s = &mut at_token;
    let at = series_entry_slot(id, series, i);
    let snap = s.get_u64(at)?;
    let value = s.get(at.wrapping_add(U256::from(1)))?;
    Ok((snap, value))
}

fn record_snapshot(
    s: &mut Store<'_>,
    a: &Asset,
    series: U256,
    current: U256,
) -> Result<(), SysError> {
    let mut at_token = state::at(s, a.id);
    let s = &mut at_token;
    let snap = a.flags.snapshot;
    if snap == 0 {
        return Ok(());
    }
    let n = s.get_u64(series_len_slot(a.id, series))?;
    if n > 0 && read_entry(s, a.id, series, n)?.0 >= snap {
        return Ok(());
    }
    let at = series_entry_slot(a.id, series, n + 1);
    s.set_u64(at, snap)?;
    s.set(at.wrapping_add(U256::from(1)), current)?;
    s.set_u64(series_len_slot(a.id, series), n + 1)
}

/// Takes a snapshot of the asset's balances now; returns its id (from 1).
pub(crate) fn take_snapshot(s: &mut Store<'_>, a: &mut Asset, block: u64) -> Result<u64, SysError> {
    let mut at_token = state::at(s, a.id);
    let s = &mut at_token;
    let next = a.flags.snapshot + 1;
    a.flags.snapshot = next;
    state::set_flags(s, a.id, a.flags)?;
    s.set_u64(
        slot("snapblock", &[U256::from(a.id), U256::from(next)]),
        block,
    )?;
    Ok(next)
}

/// The block a snapshot was taken in (0: no such snapshot).
pub(crate) fn snapshot_block(s: &mut Store<'_>, id: u64, snap: u64) -> Result<u64, SysError> {
    let mut at_token = state::at(s, id);
    let s = &mut at_token;
    s.get_u64(slot("snapblock", &[U256::from(id), U256::from(snap)]))
}

fn value_at(
    s: &mut Store<'_>,
    a: &Asset,
    series: U256,
    snap: u64,
    current: U256,
) -> Result<U256, SysError> {
    let mut at_token = state::at(s, a.id);
    let s = &mut at_token;
    if snap == 0 || snap > a.flags.snapshot {
        return revert(format!(
            "no snapshot {snap} of asset {}: it has {}",
            a.id, a.flags.snapshot
        ));
    }
    // The first record at or after `snap`: ids only grow along a series.
    let n = s.get_u64(series_len_slot(a.id, series))?;
    let (mut lo, mut hi) = (1u64, n + 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if read_entry(s, a.id, series, mid)?.0 >= snap {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    if lo > n {
        Ok(current)
    } else {
        Ok(read_entry(s, a.id, series, lo)?.1)
    }
}

pub(crate) fn balance_at(
    s: &mut Store<'_>,
    a: &Asset,
    account: Address,
    snap: u64,
) -> Result<U256, SysError> {
    let current = balance(s, a.id, account)?;
    value_at(s, a, addr_word(account), snap, current)
}

pub(crate) fn supply_at(s: &mut Store<'_>, a: &Asset, snap: u64) -> Result<U256, SysError> {
    let current = total_supply(s, a.id)?;
    value_at(s, a, SUPPLY_SERIES, snap, current)
}
