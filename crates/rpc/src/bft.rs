//! BFT consortium chains: `tally_getCommitCertificate`, the validator sets
//! (`tally_getValidators`, `tally_getValidatorSetChanges`), a header's
//! exact bytes (`tally_getRawHeader`, any engine), recorded
//! equivocation evidence, and the governance and roles system contracts
//! (`tally_getProposals`, `tally_getProposal`, `tally_getMembers`,
//! `tally_getRoles`, `tally_getChainParams`).
//!
//! On a chain whose engine is not BFT every one of these answers error
//! -32000 "this chain does not run BFT consensus ..." (the [`Backend`]
//! defaults), rather than an empty answer that could be mistaken for "no
//! validators".

use std::sync::Arc;

use alloy_primitives::{Address, Bytes, U64};
use jsonrpsee::core::RpcResult;
use jsonrpsee::proc_macros::rpc;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tally_primitives::{bft::quorum, BftMember, BftValidator, CommitCertificate, Role, B256};

use crate::backend::{Backend, BackendError};
use crate::error::invalid_params;

/// The validators that sign one block (`tally_getValidators`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidatorSetInfo {
    /// The block these validators sign.
    pub height: u64,
    pub validators: Vec<BftValidator>,
    pub total_power: u64,
    /// Voting power a commit certificate needs: more than two thirds.
    pub quorum: u64,
}

impl ValidatorSetInfo {
    pub fn new(height: u64, validators: Vec<BftValidator>) -> ValidatorSetInfo {
        let total_power = validators
            .iter()
            .fold(0u64, |sum, v| sum.saturating_add(v.power));
        ValidatorSetInfo {
            height,
            validators,
            total_power,
            quorum: quorum(total_power),
        }
    }
}

/// From `height` on, blocks are signed by `validators` (until the next
/// change) (`tally_getValidatorSetChanges`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidatorSetChange {
    pub height: u64,
    pub validators: Vec<BftValidator>,
}

/// A member institution (`tally_getMembers`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberInfo {
    pub name: String,
    pub account: Address,
    pub node_key: B256,
}

impl From<BftMember> for MemberInfo {
    fn from(m: BftMember) -> Self {
        MemberInfo {
            name: m.name,
            account: m.account,
            node_key: m.node_key,
        }
    }
}

/// An account's roles (`tally_getRoles`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolesInfo {
    pub address: Address,
    /// Role bits: 1 admin, 2 deployer, 4 transactor, 8 auditor.
    pub mask: u8,
    pub roles: Vec<String>,
}

/// Governance-controlled chain parameters (`tally_getChainParams`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainParamsInfo {
    pub gas_limit: u64,
    pub block_time_ms: u64,
    /// Smallest gas price the pool admits, wei.
    pub min_gas_price: u64,
    /// Yes votes a proposal needs with today's members.
    pub votes_needed: u64,
}

/// BFT and governance reads.
#[rpc(server, namespace = "tally")]
pub trait BftApi {
    /// The commit certificate of block `number`; `null` when the node has
    /// none (above the head, genesis, or not kept).
    #[method(name = "getCommitCertificate")]
    fn commit_certificate(&self, number: U64) -> RpcResult<Option<CommitCertificate>>;

    /// The validators that sign block `number` (up to head + 1).
    #[method(name = "getValidators")]
    fn validators(&self, number: U64) -> RpcResult<ValidatorSetInfo>;

    /// The genesis set (height 1) and every height at which an executed
    /// governance proposal changed the set, ascending.
    #[method(name = "getValidatorSetChanges")]
    fn validator_set_changes(&self) -> RpcResult<Vec<ValidatorSetChange>>;

    /// Equivocation evidence recorded on chain, oldest first.
    #[method(name = "getEvidence")]
    fn evidence(&self) -> RpcResult<Value>;

    /// Every governance proposal, oldest first.
    #[method(name = "getProposals")]
    fn proposals(&self) -> RpcResult<Value>;

    /// One proposal; `null` when there is none with that id.
    #[method(name = "getProposal")]
    fn proposal(&self, id: U64) -> RpcResult<Value>;

    #[method(name = "getMembers")]
    fn members(&self) -> RpcResult<Vec<MemberInfo>>;

    #[method(name = "getRoles")]
    fn roles(&self, address: Address) -> RpcResult<RolesInfo>;

    #[method(name = "getChainParams")]
    fn chain_params(&self) -> RpcResult<ChainParamsInfo>;

    /// The RLP of canonical block `number`'s header (its hash is the
    /// keccak of these bytes); `null` above the head. Any engine: offline
    /// checks (`tally export-block`) need the exact bytes.
    #[method(name = "getRawHeader")]
    fn raw_header(&self, number: U64) -> RpcResult<Option<Bytes>>;
}

/// Handlers for the BFT methods.
#[derive(Clone)]
pub struct BftRpc {
    pub(crate) backend: Arc<dyn Backend>,
}

impl BftApiServer for BftRpc {
    fn commit_certificate(&self, number: U64) -> RpcResult<Option<CommitCertificate>> {
        let number = number.to::<u64>();
        if number == 0 || number > self.backend.head().number {
            // Still ask, so a non-BFT chain says so rather than `null`.
            self.backend.bft_certificate(self.backend.head().number)?;
            return Ok(None);
        }
        Ok(self.backend.bft_certificate(number)?)
    }

    fn validators(&self, number: U64) -> RpcResult<ValidatorSetInfo> {
        let number = number.to::<u64>();
        let head = self.backend.head().number;
        if number == 0 {
            return Err(invalid_params(
                "block 0 (genesis) is not signed by validators; ask for block 1 or above",
            ));
        }
        if number > head.saturating_add(1) {
            return Err(invalid_params(format!(
                "block {number} is above the next block {}: its validator set is not known yet",
                head + 1
            )));
        }
        let validators = self.backend.bft_validators(number)?;
        Ok(ValidatorSetInfo::new(number, validators))
    }

    fn validator_set_changes(&self) -> RpcResult<Vec<ValidatorSetChange>> {
        Ok(self.backend.bft_validator_set_changes()?)
    }

    fn evidence(&self) -> RpcResult<Value> {
        Ok(self.backend.bft_evidence()?)
    }

    fn proposals(&self) -> RpcResult<Value> {
        Ok(self.backend.governance_proposals()?)
    }

    fn proposal(&self, id: U64) -> RpcResult<Value> {
        Ok(self.backend.governance_proposal(id.to::<u64>())?)
    }

    fn members(&self) -> RpcResult<Vec<MemberInfo>> {
        Ok(self
            .backend
            .governance_members()?
            .into_iter()
            .map(MemberInfo::from)
            .collect())
    }

    fn roles(&self, address: Address) -> RpcResult<RolesInfo> {
        let mask = self.backend.role_mask(address)?;
        Ok(RolesInfo {
            address,
            mask,
            roles: Role::names(mask).into_iter().map(String::from).collect(),
        })
    }

    fn chain_params(&self) -> RpcResult<ChainParamsInfo> {
        Ok(self.backend.chain_params()?)
    }

    fn raw_header(&self, number: U64) -> RpcResult<Option<Bytes>> {
        let header = self.backend.header_by_number(number.to::<u64>())?;
        Ok(header.map(|h| alloy_rlp::encode(&h.header).into()))
    }
}

impl BackendError {
    /// What the BFT defaults answer: the chain runs another engine.
    pub fn not_bft(engine: &str) -> Self {
        BackendError::Unavailable(format!(
            "this chain does not run BFT consensus (its engine is {engine}): validators, \
             commit certificates, governance and roles exist on BFT consortium chains only"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_info_counts_power_and_quorum() {
        let v = |b, power| BftValidator {
            key: B256::repeat_byte(b),
            power,
        };
        let info = ValidatorSetInfo::new(5, vec![v(1, 1), v(2, 1), v(3, 1), v(4, 1)]);
        assert_eq!((info.total_power, info.quorum), (4, 3));
        let json = serde_json::to_value(&info).unwrap();
        assert_eq!(json["totalPower"], 4);
        assert_eq!(json["validators"][0]["power"], 1);
    }
}
