//! The assets contract ([`ITallyAssets`]): native assets anyone may issue,
//! each also an ERC-20 token at its own address ([`token`]), under a policy
//! its issuer and regulator set (allowlist, freezes, pause, purpose-bound
//! money, a maximum holding) and with regulator clawback.
//!
//! Every movement goes through [`ledger`], so settlement and ballots see
//! the same balances, rules and snapshots.

pub(crate) mod ledger;
pub(crate) mod state;
pub(crate) mod token;
mod views;

pub use state::Meta;
pub use views::{asset, assets, flags_of, holders, AccountFlags};

use super::{
    abi::ITallyAssets::{self, ITallyAssetsCalls as Calls},
    revert,
    store::{Store, MAX_STRING},
    CallCtx, Slots, SysError, ASSETS,
};
use alloy_primitives::Address;
use alloy_sol_types::{SolCall, SolEvent, SolInterface};
use ledger::Asset;
use state::{account_flag, field, flag, Flags};

/// The first twelve bytes of every token address: "a55e7" then zeros.
const TOKEN_PREFIX: [u8; 12] = [0xa5, 0x5e, 0x70, 0, 0, 0, 0, 0, 0, 0, 0, 0];

/// The token address of asset number `id`.
pub fn token_address(id: u64) -> Address {
    let mut bytes = [0u8; 20];
    bytes[..12].copy_from_slice(&TOKEN_PREFIX);
    bytes[12..].copy_from_slice(&id.to_be_bytes());
    Address::from(bytes)
}

/// The asset number a token address stands for (issued or not).
pub fn token_id(address: &Address) -> Option<u64> {
    let bytes = address.as_slice();
    if bytes[..12] != TOKEN_PREFIX {
        return None;
    }
    let mut id = [0u8; 8];
    id.copy_from_slice(&bytes[12..]);
    Some(u64::from_be_bytes(id)).filter(|id| *id != 0)
}

/// Longest name or symbol, bytes.
const MAX_NAME: usize = 64;

pub(crate) fn call(
    slots: &mut dyn Slots,
    ctx: &CallCtx,
    input: &[u8],
) -> Result<Vec<u8>, SysError> {
    let Ok(call) = Calls::abi_decode(input) else {
        return revert("unknown ITallyAssets function or malformed arguments");
    };
    let mut s = Store::new(slots, ASSETS);
    let s = &mut s;
    use ITallyAssets as A;
    match call {
        Calls::issue(c) => {
            writing(ctx)?;
            let token = issue(s, ctx, c)?;
            Ok(A::issueCall::abi_encode_returns(&token))
        }
        Calls::mint(c) => {
            writing(ctx)?;
            let a = ledger::load(s, c.token)?;
            issuer_only(s, ctx, &a, "mint")?;
            if c.amount.is_zero() {
                return revert("mint amount must be above zero");
            }
            let cap = state::at(s, a.id).get(field("cap", a.id))?;
            let supply = ledger::total_supply(s, a.id)?;
            if supply.checked_add(c.amount).is_none_or(|n| n > cap) {
                let sym = ledger::symbol(s, &a);
                return revert(format!(
                    "minting {} {sym} would exceed the cap of {cap} (supply is {supply})",
                    c.amount
                ));
            }
            // A mint is a movement from nowhere: the recipient's side of
            // the rules applies, and the pause.
            ledger::check_leg(s, &a, a.issuer, c.to)?;
            ledger::change_supply(s, &a, true, c.amount)?;
            ledger::credit(s, &a, c.to, c.amount)?;
            ledger::emit_transfer(s, &a, Address::ZERO, c.to, c.amount)?;
            emit(
                s,
                &A::Minted {
                    token: a.token,
                    to: c.to,
                    amount: c.amount,
                },
            )?;
            Ok(Vec::new())
        }
        Calls::burn(c) => {
            writing(ctx)?;
            let a = ledger::load(s, c.token)?;
            issuer_only(s, ctx, &a, "burn")?;
            if a.flags.has(flag::PAUSED) {
                let sym = ledger::symbol(s, &a);
                return revert(format!("{sym} is paused: no burning until it resumes"));
            }
            ledger::debit(s, &a, a.issuer, c.amount)?;
            ledger::change_supply(s, &a, false, c.amount)?;
            ledger::emit_transfer(s, &a, a.issuer, Address::ZERO, c.amount)?;
            emit(
                s,
                &A::Burned {
                    token: a.token,
                    from: a.issuer,
                    amount: c.amount,
                },
            )?;
            Ok(Vec::new())
        }
        Calls::setPolicy(c) => {
            writing(ctx)?;
            let a = ledger::load(s, c.token)?;
            manager_only(s, ctx, &a, "change the policy")?;
            set_policy(s, &a, &c.policy)?;
            emit(
                s,
                &A::PolicyChanged {
                    token: a.token,
                    by: ctx.caller,
                    allowlist: c.policy.allowlist,
                    maxHolding: c.policy.maxHolding,
                    purpose: c.policy.purpose,
                },
            )?;
            Ok(Vec::new())
        }
        Calls::setRegulator(c) => {
            writing(ctx)?;
            let a = ledger::load(s, c.token)?;
            issuer_only(s, ctx, &a, "change the regulator")?;
            state::at(s, a.id).set(
                field("regulator", a.id),
                super::store::addr_word(c.regulator),
            )?;
            emit(
                s,
                &A::RegulatorChanged {
                    token: a.token,
                    regulator: c.regulator,
                    by: ctx.caller,
                },
            )?;
            Ok(Vec::new())
        }
        Calls::setAllowed(c) => {
            set_account_bit(s, ctx, c.token, c.account, account_flag::ALLOWED, c.allowed)?;
            let token = c.token;
            emit(
                s,
                &A::AllowlistChanged {
                    token,
                    account: c.account,
                    allowed: c.allowed,
                    by: ctx.caller,
                },
            )?;
            Ok(Vec::new())
        }
        Calls::setFrozen(c) => {
            set_account_bit(s, ctx, c.token, c.account, account_flag::FROZEN, c.frozen)?;
            let token = c.token;
            emit(
                s,
                &A::FreezeChanged {
                    token,
                    account: c.account,
                    frozen: c.frozen,
                    by: ctx.caller,
                },
            )?;
            Ok(Vec::new())
        }
        Calls::setTagged(c) => {
            set_account_bit(s, ctx, c.token, c.account, account_flag::TAGGED, c.tagged)?;
            let token = c.token;
            emit(
                s,
                &A::TagChanged {
                    token,
                    account: c.account,
                    tagged: c.tagged,
                    by: ctx.caller,
                },
            )?;
            Ok(Vec::new())
        }
        Calls::setPaused(c) => {
            writing(ctx)?;
            let mut a = ledger::load(s, c.token)?;
            manager_only(s, ctx, &a, "pause or resume it")?;
            a.flags = a.flags.with(flag::PAUSED, c.paused);
            state::set_flags(s, a.id, a.flags)?;
            emit(
                s,
                &A::PauseChanged {
                    token: a.token,
                    paused: c.paused,
                    by: ctx.caller,
                },
            )?;
            Ok(Vec::new())
        }
        Calls::clawback(c) => {
            writing(ctx)?;
            let a = ledger::load(s, c.token)?;
            let regulator = ledger::regulator(s, &a)?;
            if regulator.is_zero() || ctx.caller != regulator {
                let sym = ledger::symbol(s, &a);
                return revert(format!(
                    "only {sym}'s regulator may claw back, and {} is not",
                    ctx.caller
                ));
            }
            if c.reason.trim().is_empty() {
                return revert("a clawback needs a reason for the record");
            }
            if c.reason.len() > MAX_STRING {
                return revert(format!("reason is longer than {MAX_STRING} bytes"));
            }
            // Whatever the policy: a frozen or paused account is exactly
            // what a regulator takes back from.
            ledger::debit(s, &a, c.from, c.amount)?;
            ledger::credit(s, &a, a.issuer, c.amount)?;
            ledger::emit_transfer(s, &a, c.from, a.issuer, c.amount)?;
            emit(
                s,
                &A::Clawback {
                    token: a.token,
                    from: c.from,
                    to: a.issuer,
                    amount: c.amount,
                    reason: c.reason,
                },
            )?;
            Ok(Vec::new())
        }
        Calls::assetCount(_) => Ok(A::assetCountCall::abi_encode_returns(&state::count(s)?)),
        Calls::tokenOf(c) => {
            if c.id == 0 || c.id > state::count(s)? {
                return revert(format!("no asset number {}", c.id));
            }
            Ok(A::tokenOfCall::abi_encode_returns(&token_address(c.id)))
        }
        Calls::getAsset(c) => {
            let a = ledger::load(s, c.token)?;
            let m = state::read_meta(s, a.id)?;
            Ok(A::getAssetCall::abi_encode_returns(&views::to_abi(&m)))
        }
        Calls::holders(c) => {
            let a = ledger::load(s, c.token)?;
            let list = ledger::holders(s, a.id, c.start, c.count.min(1000))?;
            Ok(A::holdersCall::abi_encode_returns(&A::holdersReturn {
                accounts: list.iter().map(|(a, _)| *a).collect(),
                balances: list.iter().map(|(_, b)| *b).collect(),
            }))
        }
        Calls::flagsOf(c) => {
            let a = ledger::load(s, c.token)?;
            let bits = state::account_flags(s, a.id, c.account)?;
            Ok(A::flagsOfCall::abi_encode_returns(&A::flagsOfReturn {
                allowed: bits & account_flag::ALLOWED != 0,
                frozen: bits & account_flag::FROZEN != 0,
                tagged: bits & account_flag::TAGGED != 0,
            }))
        }
    }
}

pub(crate) fn emit<E: SolEvent>(s: &mut Store<'_>, event: &E) -> Result<(), SysError> {
    let log = event.encode_log_data();
    s.emit(log.topics().to_vec(), log.data.to_vec())
}

pub(crate) fn writing(ctx: &CallCtx) -> Result<(), SysError> {
    if ctx.is_static {
        return revert("this call changes state: not allowed in a static call");
    }
    Ok(())
}

fn issuer_only(s: &mut Store<'_>, ctx: &CallCtx, a: &Asset, what: &str) -> Result<(), SysError> {
    if ctx.caller != a.issuer {
        let sym = ledger::symbol(s, a);
        return revert(format!(
            "only {sym}'s issuer {} may {what}, not {}",
            a.issuer, ctx.caller
        ));
    }
    Ok(())
}

/// The issuer or the regulator.
fn manager_only(s: &mut Store<'_>, ctx: &CallCtx, a: &Asset, what: &str) -> Result<(), SysError> {
    let regulator = ledger::regulator(s, a)?;
    if ctx.caller != a.issuer && (regulator.is_zero() || ctx.caller != regulator) {
        let sym = ledger::symbol(s, a);
        return revert(format!(
            "only {sym}'s issuer or regulator may {what}, not {}",
            ctx.caller
        ));
    }
    Ok(())
}

fn set_account_bit(
    s: &mut Store<'_>,
    ctx: &CallCtx,
    token: Address,
    account: Address,
    bit: u8,
    on: bool,
) -> Result<(), SysError> {
    writing(ctx)?;
    let mut a = ledger::load(s, token)?;
    let what = match bit {
        account_flag::ALLOWED => "change the allowlist",
        account_flag::FROZEN => "freeze or unfreeze accounts",
        _ => "tag accounts",
    };
    manager_only(s, ctx, &a, what)?;
    let bits = state::account_flags(s, a.id, account)?;
    let bits = if on { bits | bit } else { bits & !bit };
    if on && !a.flags.has(flag::ACCOUNT_FLAGS) {
        a.flags = a.flags.with(flag::ACCOUNT_FLAGS, true);
        state::set_flags(s, a.id, a.flags)?;
    }
    state::set_account_flags(s, a.id, account, bits)
}

fn issue(
    s: &mut Store<'_>,
    ctx: &CallCtx,
    c: ITallyAssets::issueCall,
) -> Result<Address, SysError> {
    for (what, v) in [("name", &c.name), ("symbol", &c.symbol)] {
        if v.trim().is_empty() {
            return revert(format!("an asset needs a {what}"));
        }
        if v.len() > MAX_NAME {
            return revert(format!("{what} is longer than {MAX_NAME} bytes"));
        }
    }
    if c.decimals > 36 {
        return revert(format!("decimals {} is above 36", c.decimals));
    }
    if c.cap.is_zero() {
        return revert("cap must be above zero");
    }
    let id = state::count(s)? + 1;
    state::set_count(s, id)?;
    let token = token_address(id);
    s.slots.ensure_account(token)?;
    {
        let t = &mut state::at(s, id);
        t.set_string(field("name", id), &c.name)?;
        t.set_string(field("symbol", id), &c.symbol)?;
        t.set_u64(field("decimals", id), u64::from(c.decimals))?;
        t.set(field("cap", id), c.cap)?;
        t.set(field("regulator", id), super::store::addr_word(c.regulator))?;
        t.set_u64(field("block", id), ctx.block)?;
    }
    let flags = Flags {
        issuer: ctx.caller,
        ..Flags::default()
    };
    state::set_flags(s, id, flags)?;
    let a = Asset {
        id,
        token,
        flags,
        issuer: ctx.caller,
    };
    set_policy(s, &a, &c.policy)?;
    emit(
        s,
        &ITallyAssets::AssetIssued {
            token,
            issuer: ctx.caller,
            id,
            name: c.name,
            symbol: c.symbol,
            decimals: c.decimals,
            cap: c.cap,
            regulator: c.regulator,
        },
    )?;
    Ok(token)
}

fn set_policy(s: &mut Store<'_>, a: &Asset, p: &ITallyAssets::Policy) -> Result<(), SysError> {
    if p.purpose.len() > MAX_NAME {
        return revert(format!("purpose is longer than {MAX_NAME} bytes"));
    }
    let flags = state::flags(s, a.id)?
        .with(flag::ALLOWLIST, p.allowlist)
        .with(flag::PURPOSE, !p.purpose.is_empty())
        .with(flag::MAX_HOLDING, !p.maxHolding.is_zero());
    state::set_flags(s, a.id, flags)?;
    let t = &mut state::at(s, a.id);
    t.set(field("max", a.id), p.maxHolding)?;
    t.set_string(field("purpose", a.id), &p.purpose)?;
    Ok(())
}
