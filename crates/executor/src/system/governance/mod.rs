//! The governance contract ([`ITallyGovernance`]): members propose and vote
//! on changes to the validator set, the members, the chain parameters and
//! account roles; the executor applies passed proposals at their effective
//! height and records equivocation evidence from block headers.
//!
//! Timing: a proposal names an `effectiveHeight` E above the next block.
//! At the end of block E - 1 the executor takes every proposal due at E:
//! a passed one is applied (so the state after block E - 1 holds the new
//! set for block E), one still pending expires. Build and import run the
//! same code, so every node switches at the same height.

pub(crate) mod state;
pub(crate) mod views;

pub use views::{
    evidence, members, params, proposal, proposals, validators, votes_needed, ChainParams,
    EvidenceView, ProposalAction, ProposalStatus, ProposalView,
};

use super::{
    abi::ITallyGovernance::{self, ITallyGovernanceCalls as Calls},
    revert,
    roles::{self, MEMBER_DEFAULT_ROLES},
    store::{addr_word, Store, MAX_STRING},
    CallCtx, Slots, SysError, GOVERNANCE, ROLES,
};
use alloy_primitives::{Address, U256};
use alloy_sol_types::{SolCall, SolEvent, SolInterface};
use state::{evidence_field as ef, field};
use tally_primitives::{BftSpec, Evidence};

pub(crate) fn call(
    slots: &mut dyn Slots,
    ctx: &CallCtx,
    input: &[u8],
) -> Result<Vec<u8>, SysError> {
    let Ok(call) = Calls::abi_decode(input) else {
        return revert("unknown ITallyGovernance function or malformed arguments");
    };
    let mut s = Store::new(slots, GOVERNANCE);
    let s = &mut s;
    use ITallyGovernance as G;
    match call {
        Calls::proposeAddValidator(c) => {
            let a = ProposalAction::AddValidator {
                key: c.key,
                power: c.power,
            };
            let id = propose(s, ctx, a, c.effectiveHeight, &c.memo)?;
            Ok(G::proposeAddValidatorCall::abi_encode_returns(&id))
        }
        Calls::proposeRemoveValidator(c) => {
            let a = ProposalAction::RemoveValidator { key: c.key };
            let id = propose(s, ctx, a, c.effectiveHeight, &c.memo)?;
            Ok(G::proposeRemoveValidatorCall::abi_encode_returns(&id))
        }
        Calls::proposeAddMember(c) => {
            let a = ProposalAction::AddMember {
                name: c.name,
                account: c.account,
                node_key: c.nodeKey,
            };
            let id = propose(s, ctx, a, c.effectiveHeight, &c.memo)?;
            Ok(G::proposeAddMemberCall::abi_encode_returns(&id))
        }
        Calls::proposeRemoveMember(c) => {
            let a = ProposalAction::RemoveMember { account: c.account };
            let id = propose(s, ctx, a, c.effectiveHeight, &c.memo)?;
            Ok(G::proposeRemoveMemberCall::abi_encode_returns(&id))
        }
        Calls::proposeSetParam(c) => {
            let Ok(value) = u64::try_from(c.value) else {
                return revert(format!("parameter value {} does not fit 64 bits", c.value));
            };
            let a = ProposalAction::SetParam {
                param: c.param,
                value,
            };
            let id = propose(s, ctx, a, c.effectiveHeight, &c.memo)?;
            Ok(G::proposeSetParamCall::abi_encode_returns(&id))
        }
        Calls::proposeGrantRole(c) => {
            let a = ProposalAction::GrantRole {
                account: c.account,
                mask: c.mask,
            };
            let id = propose(s, ctx, a, c.effectiveHeight, &c.memo)?;
            Ok(G::proposeGrantRoleCall::abi_encode_returns(&id))
        }
        Calls::proposeRevokeRole(c) => {
            let a = ProposalAction::RevokeRole {
                account: c.account,
                mask: c.mask,
            };
            let id = propose(s, ctx, a, c.effectiveHeight, &c.memo)?;
            Ok(G::proposeRevokeRoleCall::abi_encode_returns(&id))
        }
        Calls::vote(c) => {
            vote(s, ctx, c.id, c.support)?;
            Ok(Vec::new())
        }
        Calls::proposalCount(_) => Ok(G::proposalCountCall::abi_encode_returns(
            &state::proposal_count(s)?,
        )),
        Calls::getProposal(c) => {
            let Some(p) = views::read_proposal(s, c.id)? else {
                return revert(format!("no proposal {}", c.id));
            };
            Ok(G::getProposalCall::abi_encode_returns(&views::to_abi(&p)))
        }
        Calls::validators(_) => {
            let vs = state::all_validators(s)?;
            Ok(G::validatorsCall::abi_encode_returns(
                &G::validatorsReturn {
                    keys: vs.iter().map(|v| v.key).collect(),
                    powers: vs.iter().map(|v| v.power).collect(),
                },
            ))
        }
        Calls::members(_) => {
            let ms = state::all_members(s)?;
            Ok(G::membersCall::abi_encode_returns(&G::membersReturn {
                names: ms.iter().map(|m| m.name.clone()).collect(),
                accounts: ms.iter().map(|m| m.account).collect(),
                nodeKeys: ms.iter().map(|m| m.node_key).collect(),
            }))
        }
        Calls::params(_) => {
            let p = views::read_params(s)?;
            Ok(G::paramsCall::abi_encode_returns(&G::paramsReturn {
                gasLimit: p.gas_limit,
                blockTimeMs: p.block_time_ms,
                minGasPrice: p.min_gas_price,
            }))
        }
        Calls::threshold(_) => Ok(G::thresholdCall::abi_encode_returns(&state::votes_needed(
            s,
        )?)),
        Calls::evidenceCount(_) => Ok(G::evidenceCountCall::abi_encode_returns(
            &state::evidence_count(s)?,
        )),
        Calls::getEvidence(c) => {
            if c.index >= state::evidence_count(s)? {
                return revert(format!("no evidence {}", c.index));
            }
            let e = views::read_evidence(s, c.index)?;
            Ok(G::getEvidenceCall::abi_encode_returns(
                &G::getEvidenceReturn {
                    validator: e.validator,
                    height: e.height,
                    round: e.round,
                    kind: e.kind,
                    firstValue: e.first_value,
                    secondValue: e.second_value,
                    hash: e.hash,
                },
            ))
        }
    }
}

fn emit<E: SolEvent>(s: &mut Store<'_>, event: &E) -> Result<(), SysError> {
    let log = event.encode_log_data();
    s.emit(log.topics().to_vec(), log.data.to_vec())
}

fn require_member(s: &mut Store<'_>, ctx: &CallCtx) -> Result<(), SysError> {
    if ctx.is_static {
        return revert("proposing and voting change state: not allowed in a static call");
    }
    if state::member_index(s, ctx.caller)? == 0 {
        return revert(format!(
            "not a member: {} is not a member's account, only members may propose and vote",
            ctx.caller
        ));
    }
    Ok(())
}

fn propose(
    s: &mut Store<'_>,
    ctx: &CallCtx,
    action: ProposalAction,
    effective: u64,
    memo: &str,
) -> Result<u64, SysError> {
    require_member(s, ctx)?;
    let earliest = ctx.block.saturating_add(2);
    if effective < earliest {
        return revert(format!(
            "effectiveHeight {effective} is too early: this is block {}, so it must be at least {earliest}",
            ctx.block
        ));
    }
    if memo.len() > MAX_STRING {
        return revert(format!("memo is longer than {MAX_STRING} bytes"));
    }
    state::validate(s, &action)?;
    let id = state::proposal_count(s)? + 1;
    state::set_proposal_count(s, id)?;
    state::write_action(s, id, &action)?;
    s.set(pslot(id, field::PROPOSER), addr_word(ctx.caller))?;
    state::set_status(s, id, ProposalStatus::Pending)?;
    s.set_u64(pslot(id, field::EFFECTIVE), effective)?;
    s.set_u64(pslot(id, field::CREATED), ctx.block)?;
    if !memo.is_empty() {
        s.set_string(pslot(id, field::MEMO), memo)?;
    }
    state::push_due(s, effective, id)?;
    emit(
        s,
        &ITallyGovernance::Proposed {
            id,
            proposer: ctx.caller,
            kind: action.kind(),
            effectiveHeight: effective,
        },
    )?;
    // The proposer's own vote counts as yes.
    cast(s, id, ctx.caller, true)?;
    Ok(id)
}

use state::pslot;

fn vote(s: &mut Store<'_>, ctx: &CallCtx, id: u64, support: bool) -> Result<(), SysError> {
    require_member(s, ctx)?;
    if id == 0 || id > state::proposal_count(s)? {
        return revert(format!("no proposal {id}"));
    }
    let status = state::status(s, id)?;
    if status != ProposalStatus::Pending {
        return revert(format!(
            "proposal {id} is {}: only pending proposals take votes",
            status.name()
        ));
    }
    if !s.get(state::vote_slot(id, ctx.caller))?.is_zero() {
        return revert(format!("{} already voted on proposal {id}", ctx.caller));
    }
    cast(s, id, ctx.caller, support)
}

/// Records a vote and settles the proposal when the vote decides it.
fn cast(s: &mut Store<'_>, id: u64, voter: Address, support: bool) -> Result<(), SysError> {
    s.set_u64(state::vote_slot(id, voter), if support { 1 } else { 2 })?;
    let f = if support { field::YES } else { field::NO };
    let count = s.get_u64(pslot(id, f))? + 1;
    s.set_u64(pslot(id, f), count)?;
    emit(s, &ITallyGovernance::Voted { id, voter, support })?;
    let yes = s.get_u64(pslot(id, field::YES))?;
    let no = s.get_u64(pslot(id, field::NO))?;
    let needed = state::votes_needed(s)?;
    let members = state::member_count(s)?;
    if yes >= needed {
        state::set_status(s, id, ProposalStatus::Passed)?;
        emit(s, &ITallyGovernance::Passed { id })?;
    } else if members.saturating_sub(no) < needed {
        state::set_status(s, id, ProposalStatus::Rejected)?;
        emit(s, &ITallyGovernance::Rejected { id })?;
    }
    Ok(())
}

/// Records new evidence at the start of a block, once per evidence hash.
pub(crate) fn record_evidence(slots: &mut dyn Slots, list: &[Evidence]) -> Result<(), SysError> {
    let mut s = Store::new(slots, GOVERNANCE);
    for e in list {
        let hash = e.hash();
        let seen = state::evidence_seen_slot(hash);
        if !s.get(seen)?.is_zero() {
            continue;
        }
        s.set(seen, U256::from(1))?;
        let i = state::evidence_count(&mut s)?;
        s.set(state::eslot(i, ef::VALIDATOR), e.validator.into())?;
        s.set_u64(state::eslot(i, ef::HEIGHT), e.height)?;
        s.set_u64(state::eslot(i, ef::ROUND), e.round.into())?;
        s.set_u64(state::eslot(i, ef::KIND), e.kind.into())?;
        s.set(state::eslot(i, ef::FIRST), e.first.value.into())?;
        s.set(state::eslot(i, ef::SECOND), e.second.value.into())?;
        s.set(state::eslot(i, ef::HASH), hash.into())?;
        state::set_evidence_count(&mut s, i + 1)?;
        emit(
            &mut s,
            &ITallyGovernance::EvidenceRecorded {
                validator: e.validator,
                height: e.height,
                round: e.round,
                kind: e.kind,
            },
        )?;
    }
    Ok(())
}

/// At the end of block `number`: applies the passed proposals due at
/// `number + 1` and expires the ones still pending.
pub(crate) fn end_block(slots: &mut dyn Slots, number: u64) -> Result<(), SysError> {
    let mut s = Store::new(slots, GOVERNANCE);
    let height = number.saturating_add(1);
    for id in state::due(&mut s, height)? {
        match state::status(&mut s, id)? {
            ProposalStatus::Passed => {
                let action = state::read_action(&mut s, id)?;
                // A proposal applied earlier in this loop (or at an earlier
                // height) may have made this one impossible.
                let outcome = match state::validate(&mut s, &action) {
                    Ok(()) => state::apply(&mut s, &action).map(|()| ProposalStatus::Executed),
                    Err(SysError::Revert(_)) => Ok(ProposalStatus::Failed),
                    Err(e) => Err(e),
                };
                let outcome = match outcome {
                    Err(SysError::Revert(_)) => ProposalStatus::Failed,
                    other => other?,
                };
                state::set_status(&mut s, id, outcome)?;
                s.set_u64(pslot(id, field::EXECUTED), number)?;
                if outcome == ProposalStatus::Executed {
                    emit(&mut s, &ITallyGovernance::Executed { id, height })?;
                }
            }
            ProposalStatus::Pending => {
                state::set_status(&mut s, id, ProposalStatus::Expired)?;
                emit(&mut s, &ITallyGovernance::Expired { id })?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Writes the genesis state of both contracts for a BFT chain.
pub(crate) fn write_genesis(
    slots: &mut dyn Slots,
    bft: &BftSpec,
    gas_limit: u64,
) -> Result<(), SysError> {
    let mut s = Store::new(slots, GOVERNANCE);
    for v in &bft.validators {
        state::add_validator(&mut s, v)?;
    }
    for m in &bft.members {
        state::add_member(&mut s, m)?;
    }
    state::set_param(&mut s, state::PARAM_GAS_LIMIT, gas_limit)?;
    state::set_param(&mut s, state::PARAM_BLOCK_TIME_MS, bft.block_time_ms)?;
    state::set_param(&mut s, state::PARAM_MIN_GAS_PRICE, bft.min_gas_price)?;
    state::set_threshold_pct(&mut s, bft.governance_threshold_pct)?;
    let mut r = s.other(ROLES);
    roles::set_permissioned(&mut r, true)?;
    for m in &bft.members {
        if !bft.roles.contains_key(&m.account) {
            roles::set_mask(&mut r, m.account, MEMBER_DEFAULT_ROLES)?;
        }
    }
    for (account, list) in &bft.roles {
        let mask = list.iter().fold(0u8, |m, r| m | r.bit());
        roles::set_mask(&mut r, *account, mask)?;
    }
    Ok(())
}
