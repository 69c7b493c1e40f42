//! Governance storage: the validator set, members, chain parameters,
//! proposals and evidence, and the changes a passed proposal makes.

use super::super::{
    revert,
    roles::{self, MEMBER_DEFAULT_ROLES},
    store::{addr_word, slot, Store, MAX_STRING},
    SysError, ROLES,
};
use super::{ProposalAction, ProposalStatus};
use alloy_primitives::{Address, B256, U256};
use tally_primitives::{BftMember, BftValidator};
use tally_verify::validator_list;

fn u(n: u64) -> U256 {
    U256::from(n)
}

// ---- validators ----
// Slots shared with the offline checker, which proves a validator-set
// change's list from them (`tally_verify::validator_list`).

pub(crate) fn validator_count(s: &mut Store<'_>) -> Result<u64, SysError> {
    s.get_u64(validator_list::count_slot())
}

/// 1 + the validator's index, or 0 when `key` is not a validator.
fn validator_index(s: &mut Store<'_>, key: B256) -> Result<u64, SysError> {
    s.get_u64(slot("validator.index", &[key.into()]))
}

pub(crate) fn validator_at(s: &mut Store<'_>, i: u64) -> Result<BftValidator, SysError> {
    Ok(BftValidator {
        key: s.get_b256(validator_list::key_slot(i))?,
        power: s.get_u64(validator_list::power_slot(i))?,
    })
}

fn write_validator(s: &mut Store<'_>, i: u64, v: &BftValidator) -> Result<(), SysError> {
    s.set(validator_list::key_slot(i), v.key.into())?;
    s.set_u64(validator_list::power_slot(i), v.power)?;
    s.set_u64(slot("validator.index", &[v.key.into()]), i + 1)
}

pub(crate) fn add_validator(s: &mut Store<'_>, v: &BftValidator) -> Result<(), SysError> {
    let n = validator_count(s)?;
    write_validator(s, n, v)?;
    s.set_u64(validator_list::count_slot(), n + 1)
}

/// Removes by moving the last validator into the hole: the order is
/// storage order, the same on every node.
fn remove_validator(s: &mut Store<'_>, key: B256) -> Result<(), SysError> {
    let n = validator_count(s)?;
    let idx = validator_index(s, key)?;
    if idx == 0 || n == 0 {
        return revert(format!("{key} is not a validator"));
    }
    let last = n - 1;
    if idx - 1 != last {
        let moved = validator_at(s, last)?;
        write_validator(s, idx - 1, &moved)?;
    }
    s.set(validator_list::key_slot(last), U256::ZERO)?;
    s.set(validator_list::power_slot(last), U256::ZERO)?;
    s.set(slot("validator.index", &[key.into()]), U256::ZERO)?;
    s.set_u64(validator_list::count_slot(), last)
}

pub(crate) fn all_validators(s: &mut Store<'_>) -> Result<Vec<BftValidator>, SysError> {
    (0..validator_count(s)?)
        .map(|i| validator_at(s, i))
        .collect()
}

// ---- members ----

pub(crate) fn member_count(s: &mut Store<'_>) -> Result<u64, SysError> {
    s.get_u64(slot("members.len", &[]))
}

/// 1 + the member's index, or 0 when `account` is not a member's.
pub(crate) fn member_index(s: &mut Store<'_>, account: Address) -> Result<u64, SysError> {
    s.get_u64(slot("member.index", &[addr_word(account)]))
}

pub(crate) fn member_at(s: &mut Store<'_>, i: u64) -> Result<BftMember, SysError> {
    Ok(BftMember {
        name: s.get_string(slot("member.name", &[u(i)]))?,
        account: s.get_addr(slot("member.account", &[u(i)]))?,
        node_key: s.get_b256(slot("member.nodeKey", &[u(i)]))?,
    })
}

fn write_member(s: &mut Store<'_>, i: u64, m: &BftMember) -> Result<(), SysError> {
    s.set_string(slot("member.name", &[u(i)]), &m.name)?;
    s.set(slot("member.account", &[u(i)]), addr_word(m.account))?;
    s.set(slot("member.nodeKey", &[u(i)]), m.node_key.into())?;
    s.set_u64(slot("member.index", &[addr_word(m.account)]), i + 1)
}

pub(crate) fn add_member(s: &mut Store<'_>, m: &BftMember) -> Result<(), SysError> {
    let n = member_count(s)?;
    write_member(s, n, m)?;
    s.set_u64(slot("members.len", &[]), n + 1)
}

fn remove_member(s: &mut Store<'_>, account: Address) -> Result<(), SysError> {
    let n = member_count(s)?;
    let idx = member_index(s, account)?;
    if idx == 0 || n == 0 {
        return revert(format!("{account} is not a member's account"));
    }
    let last = n - 1;
    if idx - 1 != last {
        let moved = member_at(s, last)?;
        write_member(s, idx - 1, &moved)?;
    }
    s.set_string(slot("member.name", &[u(last)]), "")?;
    s.set(slot("member.account", &[u(last)]), U256::ZERO)?;
    s.set(slot("member.nodeKey", &[u(last)]), U256::ZERO)?;
    s.set(slot("member.index", &[addr_word(account)]), U256::ZERO)?;
    s.set_u64(slot("members.len", &[]), last)
}

pub(crate) fn all_members(s: &mut Store<'_>) -> Result<Vec<BftMember>, SysError> {
    (0..member_count(s)?).map(|i| member_at(s, i)).collect()
}

// ---- parameters and threshold ----

pub(crate) const PARAM_GAS_LIMIT: u8 = 1;
pub(crate) const PARAM_BLOCK_TIME_MS: u8 = 2;
pub(crate) const PARAM_MIN_GAS_PRICE: u8 = 3;

pub(crate) fn param(s: &mut Store<'_>, p: u8) -> Result<u64, SysError> {
    s.get_u64(slot("param", &[U256::from(p)]))
}

pub(crate) fn set_param(s: &mut Store<'_>, p: u8, value: u64) -> Result<(), SysError> {
    s.set_u64(slot("param", &[U256::from(p)]), value)
}

pub(crate) fn set_threshold_pct(s: &mut Store<'_>, pct: u8) -> Result<(), SysError> {
    s.set(slot("thresholdPct", &[]), U256::from(pct))
}

/// Yes votes that pass a proposal: the threshold share of today's members,
/// rounded up, at least one.
pub(crate) fn votes_needed(s: &mut Store<'_>) -> Result<u64, SysError> {
    let pct = s.get_u64(slot("thresholdPct", &[]))?;
    let members = member_count(s)?;
    Ok((pct.saturating_mul(members)).div_ceil(100).max(1))
}

// ---- proposals ----

pub(crate) mod field {
    pub const KIND: u64 = 0;
    pub const PROPOSER: u64 = 1;
    pub const STATUS: u64 = 2;
    pub const YES: u64 = 3;
    pub const NO: u64 = 4;
    pub const EFFECTIVE: u64 = 5;
    pub const CREATED: u64 = 6;
    pub const EXECUTED: u64 = 7;
    pub const MEMO: u64 = 8;
    pub const KEY: u64 = 9;
    pub const ACCOUNT: u64 = 10;
    pub const NAME: u64 = 11;
    pub const PARAM: u64 = 12;
    pub const VALUE: u64 = 13;
}

pub(crate) fn pslot(id: u64, f: u64) -> U256 {
    slot("proposal", &[u(id), u(f)])
}

pub(crate) fn proposal_count(s: &mut Store<'_>) -> Result<u64, SysError> {
    s.get_u64(slot("proposals.len", &[]))
}

pub(crate) fn set_proposal_count(s: &mut Store<'_>, n: u64) -> Result<(), SysError> {
    s.set_u64(slot("proposals.len", &[]), n)
}

pub(crate) fn status(s: &mut Store<'_>, id: u64) -> Result<ProposalStatus, SysError> {
    let code = s.get_u64(pslot(id, field::STATUS))?;
    u8::try_from(code)
        .ok()
        .and_then(ProposalStatus::from_code)
        .ok_or_else(|| SysError::State(format!("proposal {id} has unknown status {code}")))
}

pub(crate) fn set_status(s: &mut Store<'_>, id: u64, st: ProposalStatus) -> Result<(), SysError> {
    s.set_u64(pslot(id, field::STATUS), st.code().into())
}

/// The vote `account` cast on `id`: 0 none, 1 yes, 2 no.
pub(crate) fn vote_slot(id: u64, account: Address) -> U256 {
    slot("vote", &[u(id), addr_word(account)])
}

/// Proposals that take effect (or expire) at `height`.
pub(crate) fn due(s: &mut Store<'_>, height: u64) -> Result<Vec<u64>, SysError> {
    let n = s.get_u64(slot("due.len", &[u(height)]))?;
    (0..n)
        .map(|i| s.get_u64(slot("due", &[u(height), u(i)])))
        .collect()
}

pub(crate) fn push_due(s: &mut Store<'_>, height: u64, id: u64) -> Result<(), SysError> {
    let n = s.get_u64(slot("due.len", &[u(height)]))?;
    s.set_u64(slot("due", &[u(height), u(n)]), id)?;
    s.set_u64(slot("due.len", &[u(height)]), n + 1)
}

pub(crate) fn write_action(s: &mut Store<'_>, id: u64, a: &ProposalAction) -> Result<(), SysError> {
    s.set_u64(pslot(id, field::KIND), a.kind().into())?;
    match a {
        ProposalAction::AddValidator { key, power } => {
            s.set(pslot(id, field::KEY), (*key).into())?;
            s.set_u64(pslot(id, field::VALUE), *power)
        }
        ProposalAction::RemoveValidator { key } => s.set(pslot(id, field::KEY), (*key).into()),
        ProposalAction::AddMember {
            name,
            account,
            node_key,
        } => {
            s.set_string(pslot(id, field::NAME), name)?;
            s.set(pslot(id, field::ACCOUNT), addr_word(*account))?;
            s.set(pslot(id, field::KEY), (*node_key).into())
        }
        ProposalAction::RemoveMember { account } => {
            s.set(pslot(id, field::ACCOUNT), addr_word(*account))
        }
        ProposalAction::SetParam { param, value } => {
            s.set_u64(pslot(id, field::PARAM), (*param).into())?;
            s.set_u64(pslot(id, field::VALUE), *value)
        }
        ProposalAction::GrantRole { account, mask }
        | ProposalAction::RevokeRole { account, mask } => {
            s.set(pslot(id, field::ACCOUNT), addr_word(*account))?;
            s.set_u64(pslot(id, field::VALUE), (*mask).into())
        }
    }
}

pub(crate) fn read_action(s: &mut Store<'_>, id: u64) -> Result<ProposalAction, SysError> {
    let kind = s.get_u64(pslot(id, field::KIND))?;
    let small = |v: u64| {
        u8::try_from(v)
            .map_err(|_| SysError::State(format!("proposal {id} holds {v} where a u8 belongs")))
    };
    Ok(match kind {
        1 => ProposalAction::AddValidator {
            key: s.get_b256(pslot(id, field::KEY))?,
            power: s.get_u64(pslot(id, field::VALUE))?,
        },
        2 => ProposalAction::RemoveValidator {
            key: s.get_b256(pslot(id, field::KEY))?,
        },
        3 => ProposalAction::AddMember {
            name: s.get_string(pslot(id, field::NAME))?,
            account: s.get_addr(pslot(id, field::ACCOUNT))?,
            node_key: s.get_b256(pslot(id, field::KEY))?,
        },
        4 => ProposalAction::RemoveMember {
            account: s.get_addr(pslot(id, field::ACCOUNT))?,
        },
        5 => ProposalAction::SetParam {
            param: small(s.get_u64(pslot(id, field::PARAM))?)?,
            value: s.get_u64(pslot(id, field::VALUE))?,
        },
        6 => ProposalAction::GrantRole {
            account: s.get_addr(pslot(id, field::ACCOUNT))?,
            mask: small(s.get_u64(pslot(id, field::VALUE))?)?,
        },
        7 => ProposalAction::RevokeRole {
            account: s.get_addr(pslot(id, field::ACCOUNT))?,
            mask: small(s.get_u64(pslot(id, field::VALUE))?)?,
        },
        other => {
            return Err(SysError::State(format!(
                "proposal {id} has unknown kind {other}"
            )))
        }
    })
}

/// Whether `a` can be applied to the current state; checked when it is
/// proposed and again when it takes effect (an earlier proposal may have
/// made it moot).
pub(crate) fn validate(s: &mut Store<'_>, a: &ProposalAction) -> Result<(), SysError> {
    match a {
        ProposalAction::AddValidator { key, power } => {
            if key.is_zero() || *power == 0 {
                return revert("a validator needs a non-zero key and a power above 0");
            }
            if validator_index(s, *key)? != 0 {
                return revert(format!("{key} is already a validator"));
            }
        }
        ProposalAction::RemoveValidator { key } => {
            if validator_index(s, *key)? == 0 {
                return revert(format!("{key} is not a validator"));
            }
            if validator_count(s)? <= 1 {
                return revert("cannot remove the last validator");
            }
        }
        ProposalAction::AddMember {
            name,
            account,
            node_key,
        } => {
            if account.is_zero() || node_key.is_zero() || name.is_empty() {
                return revert("a member needs a name, an account and a node key");
            }
            if name.len() > MAX_STRING {
                return revert(format!("member name is longer than {MAX_STRING} bytes"));
            }
            if member_index(s, *account)? != 0 {
                return revert(format!("{account} is already a member's account"));
            }
        }
        ProposalAction::RemoveMember { account } => {
            if member_index(s, *account)? == 0 {
                return revert(format!("{account} is not a member's account"));
            }
            if member_count(s)? <= 1 {
                return revert("cannot remove the last member");
            }
        }
        ProposalAction::SetParam { param, value } => match *param {
            PARAM_GAS_LIMIT if *value < 21_000 => {
                return revert(format!("gas limit {value} is below 21000"))
            }
            PARAM_BLOCK_TIME_MS if *value < 100 => {
                return revert(format!("block time {value} ms is below the 100 ms minimum"))
            }
            PARAM_GAS_LIMIT | PARAM_BLOCK_TIME_MS | PARAM_MIN_GAS_PRICE => {}
            other => {
                return revert(format!(
                    "unknown parameter {other}: 1 gas limit, 2 block time ms, 3 min gas price"
                ))
            }
        },
        ProposalAction::GrantRole { mask, .. } | ProposalAction::RevokeRole { mask, .. } => {
            roles::check_mask(*mask)?
        }
    }
    Ok(())
}

pub(crate) fn apply(s: &mut Store<'_>, a: &ProposalAction) -> Result<(), SysError> {
    match a {
        ProposalAction::AddValidator { key, power } => add_validator(
            s,
            &BftValidator {
                key: *key,
                power: *power,
            },
        ),
        ProposalAction::RemoveValidator { key } => remove_validator(s, *key),
        ProposalAction::AddMember {
            name,
            account,
            node_key,
        } => {
            add_member(
                s,
                &BftMember {
                    name: name.clone(),
                    account: *account,
                    node_key: *node_key,
                },
            )?;
            // A new member's account may act as the genesis members' may,
            // unless it already holds roles.
            let mut r = s.other(ROLES);
            if roles::mask_of(&mut r, *account)? == 0 {
                roles::set_mask(&mut r, *account, MEMBER_DEFAULT_ROLES)?;
            }
            Ok(())
        }
        ProposalAction::RemoveMember { account } => remove_member(s, *account),
        ProposalAction::SetParam { param, value } => set_param(s, *param, *value),
        ProposalAction::GrantRole { account, mask } => {
            let mut r = s.other(ROLES);
            let old = roles::mask_of(&mut r, *account)?;
            roles::set_mask(&mut r, *account, old | mask)
        }
        ProposalAction::RevokeRole { account, mask } => {
            let mut r = s.other(ROLES);
            let old = roles::mask_of(&mut r, *account)?;
            roles::set_mask(&mut r, *account, old & !mask)
        }
    }
}

// ---- evidence ----

pub(crate) mod evidence_field {
    pub const VALIDATOR: u64 = 0;
    pub const HEIGHT: u64 = 1;
    pub const ROUND: u64 = 2;
    pub const KIND: u64 = 3;
    pub const FIRST: u64 = 4;
    pub const SECOND: u64 = 5;
    pub const HASH: u64 = 6;
}

pub(crate) fn eslot(i: u64, f: u64) -> U256 {
    slot("evidence", &[u(i), u(f)])
}

pub(crate) fn evidence_count(s: &mut Store<'_>) -> Result<u64, SysError> {
    s.get_u64(slot("evidence.len", &[]))
}

pub(crate) fn set_evidence_count(s: &mut Store<'_>, n: u64) -> Result<(), SysError> {
    s.set_u64(slot("evidence.len", &[]), n)
}

pub(crate) fn evidence_seen_slot(hash: B256) -> U256 {
    slot("evidence.seen", &[hash.into()])
}
