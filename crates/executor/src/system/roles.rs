//! The roles contract ([`ITallyRoles`]): each account's role mask, the
//! chain's "permissioned" flag, and the check every transaction passes on a
//! permissioned chain.
//!
//! Admins grant and revoke directly; governance does the same by vote (it
//! writes these slots when its proposal takes effect).

use super::{
    abi::ITallyRoles::{self, ITallyRolesCalls},
    revert,
    store::{addr_word, slot, Store},
    CallCtx, ReadSlots, Slots, SysError, ROLES,
};
use crate::{StateSource, StateSourceError};
use alloy_primitives::{Address, U256};
use alloy_sol_types::{SolCall, SolEvent, SolInterface};
use tally_primitives::Role;

/// Every role bit.
pub(crate) const ALL_ROLES: u8 = 0x0f;

/// What a member's account may do unless the chain spec says otherwise.
pub const MEMBER_DEFAULT_ROLES: u8 = 1 | 2 | 4;

fn role_slot(account: Address) -> U256 {
    slot("roles", &[addr_word(account)])
}

/// Hashed once: every transaction's admission reads it, twice.
fn permissioned_slot() -> U256 {
    static SLOT: std::sync::LazyLock<U256> = std::sync::LazyLock::new(|| slot("permissioned", &[]));
    *SLOT
}

pub(crate) fn mask_of(s: &mut Store<'_>, account: Address) -> Result<u8, SysError> {
    let v = s.get(role_slot(account))?;
    // Only this module writes the slot, always within ALL_ROLES.
    Ok(u8::try_from(v).unwrap_or(0) & ALL_ROLES)
}

pub(crate) fn set_mask(s: &mut Store<'_>, account: Address, mask: u8) -> Result<(), SysError> {
    s.set(role_slot(account), U256::from(mask & ALL_ROLES))
}

pub(crate) fn set_permissioned(s: &mut Store<'_>, on: bool) -> Result<(), SysError> {
    s.set(permissioned_slot(), U256::from(on as u8))
}

fn is_permissioned(s: &mut Store<'_>) -> Result<bool, SysError> {
    Ok(!s.get(permissioned_slot())?.is_zero())
}

/// Checks a role mask given to grant or revoke.
pub(crate) fn check_mask(mask: u8) -> Result<(), SysError> {
    if mask == 0 || mask & !ALL_ROLES != 0 {
        return revert(format!(
            "role mask {mask:#04x} is not valid: use bits 1 admin, 2 deployer, 4 transactor, 8 auditor"
        ));
    }
    Ok(())
}

pub(crate) fn call(
    slots: &mut dyn Slots,
    ctx: &CallCtx,
    input: &[u8],
) -> Result<Vec<u8>, SysError> {
    let Ok(call) = ITallyRolesCalls::abi_decode(input) else {
        return revert("unknown ITallyRoles function or malformed arguments");
    };
    let mut s = Store::new(slots, ROLES);
    match call {
        ITallyRolesCalls::rolesOf(c) => Ok(ITallyRoles::rolesOfCall::abi_encode_returns(&mask_of(
            &mut s, c.account,
        )?)),
        ITallyRolesCalls::hasRole(c) => {
            let mask = mask_of(&mut s, c.account)?;
            let has = c.role != 0 && mask & c.role == c.role;
            Ok(ITallyRoles::hasRoleCall::abi_encode_returns(&has))
        }
        ITallyRolesCalls::permissioned(_) => Ok(ITallyRoles::permissionedCall::abi_encode_returns(
            &is_permissioned(&mut s)?,
        )),
        ITallyRolesCalls::grantRole(c) => {
            change(&mut s, ctx, c.account, c.mask, true)?;
            Ok(Vec::new())
        }
        ITallyRolesCalls::revokeRole(c) => {
            change(&mut s, ctx, c.account, c.mask, false)?;
            Ok(Vec::new())
        }
    }
}

fn change(
    s: &mut Store<'_>,
    ctx: &CallCtx,
    account: Address,
    mask: u8,
    grant: bool,
) -> Result<(), SysError> {
    if ctx.is_static {
        return revert("grantRole and revokeRole change state: not allowed in a static call");
    }
    if mask_of(s, ctx.caller)? & Role::Admin.bit() == 0 {
        return revert(format!(
            "account {} is not an admin: only admins may grant or revoke roles",
            ctx.caller
        ));
    }
    check_mask(mask)?;
    let old = mask_of(s, account)?;
    let new = if grant { old | mask } else { old & !mask };
    set_mask(s, account, new)?;
    let log = if grant {
        ITallyRoles::RoleGranted {
            account,
            mask,
            by: ctx.caller,
        }
        .encode_log_data()
    } else {
        ITallyRoles::RoleRevoked {
            account,
            mask,
            by: ctx.caller,
        }
        .encode_log_data()
    };
    s.emit(log.topics().to_vec(), log.data.to_vec())
}

/// Why an account may not send a transaction.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum PermissionError {
    #[error("account {account} lacks the {} role: it may not {} on this chain", role.name(), action(*role))]
    Denied { account: Address, role: Role },
    #[error("reading the roles contract failed: {0}")]
    State(String),
}

fn action(role: Role) -> &'static str {
    match role {
        Role::Deployer => "deploy contracts",
        Role::Admin => "grant roles",
        Role::Transactor | Role::Auditor => "send transactions",
    }
}

/// The rule of a permissioned chain: creating a contract needs the deployer
/// (or admin) role, any other transaction the transactor (or admin) role.
pub(crate) fn check(
    slots: &mut dyn Slots,
    sender: Address,
    is_create: bool,
) -> Result<(), PermissionError> {
    let state = |e: SysError| match e {
        SysError::State(m) | SysError::Revert(m) => PermissionError::State(m),
        SysError::OutOfGas => PermissionError::State("out of gas".into()),
    };
    let mut s = Store::new(slots, ROLES);
    if !is_permissioned(&mut s).map_err(state)? {
        return Ok(());
    }
    let mask = mask_of(&mut s, sender).map_err(state)?;
    let role = if is_create {
        Role::Deployer
    } else {
        Role::Transactor
    };
    if mask & (role.bit() | Role::Admin.bit()) == 0 {
        return Err(PermissionError::Denied {
            account: sender,
            role,
        });
    }
    Ok(())
}

/// The governance's minimum gas price on a permissioned chain (0
/// elsewhere): a block may not hold a transaction whose fee cap is below
/// it, whichever node proposed the block.
pub(crate) fn min_fee_cap(slots: &mut dyn Slots) -> Result<u64, PermissionError> {
    let state = |e: SysError| match e {
        SysError::State(m) | SysError::Revert(m) => PermissionError::State(m),
        SysError::OutOfGas => PermissionError::State("out of gas".into()),
    };
    if !is_permissioned(&mut Store::new(slots, ROLES)).map_err(state)? {
        return Ok(0);
    }
    let mut s = Store::new(slots, super::GOVERNANCE);
    super::governance::state::param(&mut s, super::governance::state::PARAM_MIN_GAS_PRICE)
        .map_err(state)
}

/// Whether `sender` may send a transaction (a creation when `is_create`)
/// on top of `state`; the pool asks before admitting one.
pub fn check_sender<S: StateSource + ?Sized>(
    state: &S,
    sender: Address,
    is_create: bool,
) -> Result<(), PermissionError> {
    check(&mut ReadSlots(state), sender, is_create)
}

/// The role bits of `account` ([`Role::bit`]).
pub fn role_mask<S: StateSource + ?Sized>(
    state: &S,
    account: Address,
) -> Result<u8, StateSourceError> {
    mask_of(&mut Store::new(&mut ReadSlots(state), ROLES), account).map_err(super::read_error)
}

/// Whether the chain enforces roles (true on BFT consortium chains).
pub fn permissioned<S: StateSource + ?Sized>(state: &S) -> Result<bool, StateSourceError> {
    is_permissioned(&mut Store::new(&mut ReadSlots(state), ROLES)).map_err(super::read_error)
}
