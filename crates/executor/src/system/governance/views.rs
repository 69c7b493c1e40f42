//! Reads of the governance state for the node and RPC, over any
//! [`StateSource`], and the serialisable views they return.

use super::state::{self, evidence_field as ef, field, pslot};
use crate::{
    system::{abi::ITallyGovernance, read_error, store::Store, ReadSlots, SysError, GOVERNANCE},
    StateSource, StateSourceError,
};
use alloy_primitives::{Address, B256, U256};
use serde::{Deserialize, Serialize};
use tally_primitives::{BftMember, BftValidator};

/// Chain parameters that governance changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainParams {
    pub gas_limit: u64,
    pub block_time_ms: u64,
    /// Smallest gas price the pool admits, wei.
    pub min_gas_price: u64,
}

/// Where a proposal stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProposalStatus {
    /// Collecting votes.
    Pending,
    /// Enough yes votes; takes effect at its effective height.
    Passed,
    /// Enough no votes that it can no longer pass.
    Rejected,
    /// Applied at the end of block `effective_height - 1`.
    Executed,
    /// Still pending when its effective height came.
    Expired,
    /// Passed, but could no longer be applied when its height came (an
    /// earlier change made it moot, e.g. the validator was already removed).
    Failed,
}

impl ProposalStatus {
    pub fn code(self) -> u8 {
        match self {
            ProposalStatus::Pending => 1,
            ProposalStatus::Passed => 2,
            ProposalStatus::Rejected => 3,
            ProposalStatus::Executed => 4,
            ProposalStatus::Expired => 5,
            ProposalStatus::Failed => 6,
        }
    }

    pub fn from_code(code: u8) -> Option<ProposalStatus> {
        Some(match code {
            1 => ProposalStatus::Pending,
            2 => ProposalStatus::Passed,
            3 => ProposalStatus::Rejected,
            4 => ProposalStatus::Executed,
            5 => ProposalStatus::Expired,
            6 => ProposalStatus::Failed,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ProposalStatus::Pending => "pending",
            ProposalStatus::Passed => "passed",
            ProposalStatus::Rejected => "rejected",
            ProposalStatus::Executed => "executed",
            ProposalStatus::Expired => "expired",
            ProposalStatus::Failed => "failed",
        }
    }
}

/// What a proposal changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ProposalAction {
    AddValidator {
        key: B256,
        power: u64,
    },
    RemoveValidator {
        key: B256,
    },
    AddMember {
        name: String,
        account: Address,
        node_key: B256,
    },
    RemoveMember {
        account: Address,
    },
    /// `param`: 1 block gas limit, 2 block time (ms), 3 minimum gas price.
    SetParam {
        param: u8,
        value: u64,
    },
    GrantRole {
        account: Address,
        mask: u8,
    },
    RevokeRole {
        account: Address,
        mask: u8,
    },
}

impl ProposalAction {
    /// The kind number of the Solidity interface.
    pub fn kind(&self) -> u8 {
        match self {
            ProposalAction::AddValidator { .. } => 1,
            ProposalAction::RemoveValidator { .. } => 2,
            ProposalAction::AddMember { .. } => 3,
            ProposalAction::RemoveMember { .. } => 4,
            ProposalAction::SetParam { .. } => 5,
            ProposalAction::GrantRole { .. } => 6,
            ProposalAction::RevokeRole { .. } => 7,
        }
    }
}

/// A governance proposal as RPC shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProposalView {
    pub id: u64,
    pub proposer: Address,
    pub status: ProposalStatus,
    pub yes: u64,
    pub no: u64,
    pub effective_height: u64,
    pub created_block: u64,
    /// The block at whose end it was applied (or failed), when it was.
    pub executed_block: Option<u64>,
    pub memo: String,
    pub action: ProposalAction,
}

/// Recorded equivocation evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvidenceView {
    pub index: u64,
    pub validator: B256,
    pub height: u64,
    pub round: u32,
    /// 1 prevote, 2 precommit.
    pub kind: u8,
    pub first_value: B256,
    pub second_value: B256,
    pub hash: B256,
}

pub(crate) fn read_params(s: &mut Store<'_>) -> Result<ChainParams, SysError> {
    Ok(ChainParams {
        gas_limit: state::param(s, state::PARAM_GAS_LIMIT)?,
        block_time_ms: state::param(s, state::PARAM_BLOCK_TIME_MS)?,
        min_gas_price: state::param(s, state::PARAM_MIN_GAS_PRICE)?,
    })
}

pub(crate) fn read_proposal(s: &mut Store<'_>, id: u64) -> Result<Option<ProposalView>, SysError> {
    if id == 0 || id > state::proposal_count(s)? {
        return Ok(None);
    }
    let executed = s.get_u64(pslot(id, field::EXECUTED))?;
    let status = state::status(s, id)?;
    Ok(Some(ProposalView {
        id,
        proposer: s.get_addr(pslot(id, field::PROPOSER))?,
        status,
        yes: s.get_u64(pslot(id, field::YES))?,
        no: s.get_u64(pslot(id, field::NO))?,
        effective_height: s.get_u64(pslot(id, field::EFFECTIVE))?,
        created_block: s.get_u64(pslot(id, field::CREATED))?,
        executed_block: matches!(status, ProposalStatus::Executed | ProposalStatus::Failed)
            .then_some(executed),
        memo: s.get_string(pslot(id, field::MEMO))?,
        action: state::read_action(s, id)?,
    }))
}

pub(crate) fn to_abi(p: &ProposalView) -> ITallyGovernance::Proposal {
    let mut out = ITallyGovernance::Proposal {
        kind: p.action.kind(),
        proposer: p.proposer,
        status: p.status.code(),
        yes: p.yes,
        no: p.no,
        effectiveHeight: p.effective_height,
        createdBlock: p.created_block,
        executedBlock: p.executed_block.unwrap_or(0),
        memo: p.memo.clone(),
        key: B256::ZERO,
        account: Address::ZERO,
        name: String::new(),
        param: 0,
        value: U256::ZERO,
    };
    match &p.action {
        ProposalAction::AddValidator { key, power } => {
            out.key = *key;
            out.value = U256::from(*power);
        }
        ProposalAction::RemoveValidator { key } => out.key = *key,
        ProposalAction::AddMember {
            name,
            account,
            node_key,
        } => {
            out.name = name.clone();
            out.account = *account;
            out.key = *node_key;
        }
        ProposalAction::RemoveMember { account } => out.account = *account,
        ProposalAction::SetParam { param, value } => {
            out.param = *param;
            out.value = U256::from(*value);
        }
        ProposalAction::GrantRole { account, mask }
        | ProposalAction::RevokeRole { account, mask } => {
            out.account = *account;
            out.value = U256::from(*mask);
        }
    }
    out
}

pub(crate) fn read_evidence(s: &mut Store<'_>, i: u64) -> Result<EvidenceView, SysError> {
    let round = s.get_u64(state::eslot(i, ef::ROUND))?;
    let kind = s.get_u64(state::eslot(i, ef::KIND))?;
    Ok(EvidenceView {
        index: i,
        validator: s.get_b256(state::eslot(i, ef::VALIDATOR))?,
        height: s.get_u64(state::eslot(i, ef::HEIGHT))?,
        round: u32::try_from(round).unwrap_or(u32::MAX),
        kind: u8::try_from(kind).unwrap_or(u8::MAX),
        first_value: s.get_b256(state::eslot(i, ef::FIRST))?,
        second_value: s.get_b256(state::eslot(i, ef::SECOND))?,
        hash: s.get_b256(state::eslot(i, ef::HASH))?,
    })
}

fn read<S: StateSource + ?Sized, T>(
    state: &S,
    f: impl FnOnce(&mut Store<'_>) -> Result<T, SysError>,
) -> Result<T, StateSourceError> {
    let mut slots = ReadSlots(state);
    f(&mut Store::new(&mut slots, GOVERNANCE)).map_err(read_error)
}

/// The validator set for the block after `state`.
pub fn validators<S: StateSource + ?Sized>(
    state: &S,
) -> Result<Vec<BftValidator>, StateSourceError> {
    read(state, state::all_validators)
}

/// The member institutions.
pub fn members<S: StateSource + ?Sized>(state: &S) -> Result<Vec<BftMember>, StateSourceError> {
    read(state, state::all_members)
}

/// The minimum gas price alone (one storage read: the pool asks for every
/// transaction).
pub fn min_gas_price<S: StateSource + ?Sized>(state: &S) -> Result<u64, StateSourceError> {
    read(state, |s| state::param(s, state::PARAM_MIN_GAS_PRICE))
}

/// Gas limit, block time and minimum gas price for the block after `state`.
pub fn params<S: StateSource + ?Sized>(state: &S) -> Result<ChainParams, StateSourceError> {
    read(state, read_params)
}

/// Yes votes a proposal needs with the current members.
pub fn votes_needed<S: StateSource + ?Sized>(state: &S) -> Result<u64, StateSourceError> {
    read(state, state::votes_needed)
}

/// Every proposal, oldest first.
pub fn proposals<S: StateSource + ?Sized>(
    state: &S,
) -> Result<Vec<ProposalView>, StateSourceError> {
    read(state, |s| {
        let n = state::proposal_count(s)?;
        let mut out = Vec::new();
        for id in 1..=n {
            out.extend(read_proposal(s, id)?);
        }
        Ok(out)
    })
}

pub fn proposal<S: StateSource + ?Sized>(
    state: &S,
    id: u64,
) -> Result<Option<ProposalView>, StateSourceError> {
    read(state, |s| read_proposal(s, id))
}

/// Every recorded evidence, oldest first.
pub fn evidence<S: StateSource + ?Sized>(state: &S) -> Result<Vec<EvidenceView>, StateSourceError> {
    read(state, |s| {
        let n = state::evidence_count(s)?;
        (0..n).map(|i| read_evidence(s, i)).collect()
    })
}
