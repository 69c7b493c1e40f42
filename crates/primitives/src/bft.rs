//! The data of BFT consortium chains that every part of Tally shares: the
//! chain spec's validators, members and roles; the bytes a validator signs;
//! commit certificates, equivocation evidence and the header extra that
//! carries them (ADR 0007).
//!
//! A block's certificate never changes its hash: the certificate of block
//! `h` travels in the `extra_data` of block `h + 1` ([`BftExtra::last_commit`],
//! Tendermint's LastCommit), so every node has the same hashes whichever
//! 2f+1 signatures it collected. Signature checks live in `tally-consensus`;
//! this module has no crypto and no IO.

use alloy_primitives::{Address, Bytes, B256, B512};
use alloy_rlp::{RlpDecodable, RlpEncodable};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Parameters of a BFT (Tendermint) consortium chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BftSpec {
    /// Time between blocks, milliseconds (at least 100).
    #[serde(default = "BftSpec::default_block_time_ms")]
    pub block_time_ms: u64,
    /// `false`: the chain waits for transactions instead of committing
    /// empty blocks.
    #[serde(default = "default_true")]
    pub create_empty_blocks: bool,
    /// Base of the round timeouts (propose, prevote, precommit), grown by
    /// `timeout_delta_ms` for every failed round.
    #[serde(default = "BftSpec::default_timeout_ms")]
    pub timeout_ms: u64,
    #[serde(default = "BftSpec::default_timeout_delta_ms")]
    pub timeout_delta_ms: u64,
    /// The validators that sign blocks at height 1; governance changes them.
    pub validators: Vec<BftValidator>,
    /// The institutions that run the chain: they propose and vote on
    /// governance proposals with their accounts, and their nodes may connect.
    pub members: Vec<BftMember>,
    /// Roles of accounts at genesis (members' accounts are admins unless
    /// listed here). An account without a role may only read.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub roles: BTreeMap<Address, Vec<Role>>,
    /// Share of members whose yes votes pass a proposal, as a percentage,
    /// rounded up to whole members (67: two thirds of members).
    #[serde(default = "BftSpec::default_threshold")]
    pub governance_threshold_pct: u8,
    /// Smallest gas price the pool admits, in wei (governance changes it).
    #[serde(default)]
    pub min_gas_price: u64,
}

fn default_true() -> bool {
    true
}

impl BftSpec {
    fn default_block_time_ms() -> u64 {
        1000
    }
    fn default_timeout_ms() -> u64 {
        1000
    }
    fn default_timeout_delta_ms() -> u64 {
        500
    }
    fn default_threshold() -> u8 {
        67
    }

    /// Checks what a spec must hold before any node can run it.
    pub fn validate(&self) -> Result<(), String> {
        if self.block_time_ms < 100 {
            return Err(format!(
                "bft block_time_ms {} is below the 100 ms minimum",
                self.block_time_ms
            ));
        }
        if self.validators.is_empty() {
            return Err("bft chain spec has no validators".into());
        }
        let mut keys = std::collections::BTreeSet::new();
        for v in &self.validators {
            if v.power == 0 {
                return Err(format!("bft validator {} has power 0", v.key));
            }
            if !keys.insert(v.key) {
                return Err(format!("bft validator {} is listed twice", v.key));
            }
        }
        if self.members.is_empty() {
            return Err("bft chain spec has no members".into());
        }
        let mut accounts = std::collections::BTreeSet::new();
        for m in &self.members {
            if !accounts.insert(m.account) {
                return Err(format!("bft member account {} is listed twice", m.account));
            }
        }
        if !(1..=100).contains(&self.governance_threshold_pct) {
            return Err(format!(
                "governance_threshold_pct {} is not between 1 and 100",
                self.governance_threshold_pct
            ));
        }
        Ok(())
    }
}

/// A validator: its ed25519 key (the node key of the node that signs) and
/// its voting power.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BftValidator {
    pub key: B256,
    #[serde(default = "one")]
    pub power: u64,
}

fn one() -> u64 {
    1
}

/// A member institution: its name, the account it votes with and its
/// node's key (member nodes may connect to one another).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BftMember {
    pub name: String,
    pub account: Address,
    pub node_key: B256,
}

/// What an account may do on a consortium chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Grants and revokes roles directly, and everything a deployer and a
    /// transactor may do.
    Admin,
    /// Deploys contracts.
    Deployer,
    /// Sends transactions.
    Transactor,
    /// Reads everything; sends nothing.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Deployer, Role::Transactor, Role::Auditor];

    /// The role's bit in a role mask (as the roles system contract stores it).
    pub fn bit(self) -> u8 {
        match self {
            Role::Admin => 1,
            Role::Deployer => 2,
            Role::Transactor => 4,
            Role::Auditor => 8,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Deployer => "deployer",
            Role::Transactor => "transactor",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == s)
    }

    /// The names of the roles in `mask`.
    pub fn names(mask: u8) -> Vec<&'static str> {
        Role::ALL
            .into_iter()
            .filter(|r| mask & r.bit() != 0)
            .map(Role::name)
            .collect()
    }
}

/// The two kinds of vote of a Tendermint round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VoteKind {
    Prevote,
    Precommit,
}

impl VoteKind {
    pub fn code(self) -> u8 {
        match self {
            VoteKind::Prevote => 1,
            VoteKind::Precommit => 2,
        }
    }
    pub fn from_code(code: u8) -> Option<VoteKind> {
        match code {
            1 => Some(VoteKind::Prevote),
            2 => Some(VoteKind::Precommit),
            _ => None,
        }
    }
}

#[derive(RlpEncodable)]
struct VoteSignBytes<'a> {
    domain: &'a [u8],
    chain_id: u64,
    kind: u8,
    height: u64,
    round: u32,
    value: B256,
}

/// The bytes a validator signs for a vote. `value` is the block hash voted
/// for, or [`B256::ZERO`] for nil. The chain id keeps a vote of one chain
/// from counting on another.
pub fn vote_sign_bytes(
    chain_id: u64,
    kind: VoteKind,
    height: u64,
    round: u32,
    value: B256,
) -> Vec<u8> {
    alloy_rlp::encode(VoteSignBytes {
        domain: b"tally-bft-vote",
        chain_id,
        kind: kind.code(),
        height,
        round,
        value,
    })
}

#[derive(RlpEncodable)]
struct ProposalSignBytes<'a> {
    domain: &'a [u8],
    chain_id: u64,
    height: u64,
    round: u32,
    /// `u32::MAX` for no proof-of-lock round.
    pol_round: u32,
    value: B256,
}

/// The bytes a proposer signs for a proposal of block `value` at
/// `height`/`round`; `pol_round` is the round of the lock it re-proposes
/// (`None`: a fresh block).
pub fn proposal_sign_bytes(
    chain_id: u64,
    height: u64,
    round: u32,
    pol_round: Option<u32>,
    value: B256,
) -> Vec<u8> {
    alloy_rlp::encode(ProposalSignBytes {
        domain: b"tally-bft-proposal",
        chain_id,
        height,
        round,
        pol_round: pol_round.unwrap_or(u32::MAX),
        value,
    })
}

/// One validator's precommit signature in a [`CommitCertificate`].
#[derive(Clone, Debug, PartialEq, Eq, RlpEncodable, RlpDecodable, Serialize, Deserialize)]
pub struct CommitSignature {
    pub validator: B256,
    pub signature: B512,
}

/// Precommits of validators holding more than two thirds of the voting
/// power for `block_hash` at `height` and `round`: the proof that the block
/// is committed, checkable by anyone who knows the validator set.
#[derive(Clone, Debug, PartialEq, Eq, RlpEncodable, RlpDecodable, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitCertificate {
    pub height: u64,
    pub round: u32,
    pub block_hash: B256,
    pub signatures: Vec<CommitSignature>,
}

impl CommitCertificate {
    /// The bytes each signature in this certificate signs.
    pub fn sign_bytes(&self, chain_id: u64) -> Vec<u8> {
        vote_sign_bytes(
            chain_id,
            VoteKind::Precommit,
            self.height,
            self.round,
            self.block_hash,
        )
    }

    pub fn hash(&self) -> B256 {
        alloy_primitives::keccak256(alloy_rlp::encode(self))
    }
}

/// A vote as it was signed: enough to check the signature again.
#[derive(Clone, Debug, PartialEq, Eq, RlpEncodable, RlpDecodable, Serialize, Deserialize)]
pub struct SignedVoteRecord {
    /// The block hash voted for; zero for nil.
    pub value: B256,
    pub signature: B512,
}

/// Proof that a validator signed two different votes of one kind at one
/// height and round (equivocation).
#[derive(Clone, Debug, PartialEq, Eq, RlpEncodable, RlpDecodable, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    pub validator: B256,
    pub height: u64,
    pub round: u32,
    /// [`VoteKind::code`].
    pub kind: u8,
    pub first: SignedVoteRecord,
    pub second: SignedVoteRecord,
}

impl Evidence {
    /// The same proof with its two votes in a fixed order (lower value
    /// first), so nodes that saw them in different orders hold the same
    /// evidence with the same hash, and it is recorded once.
    pub fn canonical(mut self) -> Evidence {
        if self.second.value < self.first.value {
            std::mem::swap(&mut self.first, &mut self.second);
        }
        self
    }

    /// Whether the votes are in [`Evidence::canonical`] order.
    pub fn is_canonical(&self) -> bool {
        self.first.value <= self.second.value
    }

    pub fn hash(&self) -> B256 {
        alloy_primitives::keccak256(alloy_rlp::encode(self))
    }
}

/// What a BFT block header carries in `extra_data` (every block but genesis).
#[derive(Clone, Debug, Default, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct BftExtra {
    /// The round in which this block was first proposed: its proposer is the
    /// proposer of that round.
    pub round: u32,
    /// The certificate of the parent block; empty for block 1 (genesis has
    /// none), exactly one otherwise.
    pub last_commit: Vec<CommitCertificate>,
    /// Equivocation evidence the proposer includes; recorded on chain.
    pub evidence: Vec<Evidence>,
}

impl BftExtra {
    pub fn encode(&self) -> Bytes {
        alloy_rlp::encode(self).into()
    }

    pub fn decode(bytes: &[u8]) -> Result<BftExtra, String> {
        let mut buf = bytes;
        let extra = <BftExtra as alloy_rlp::Decodable>::decode(&mut buf)
            .map_err(|e| format!("bft header extra is not valid RLP: {e}"))?;
        if !buf.is_empty() {
            return Err("bft header extra has trailing bytes".into());
        }
        if extra.last_commit.len() > 1 {
            return Err("bft header extra carries more than one last commit".into());
        }
        Ok(extra)
    }

    pub fn last_commit(&self) -> Option<&CommitCertificate> {
        self.last_commit.first()
    }
}

/// Voting power above which a set of signatures commits: more than two
/// thirds of `total`.
pub fn quorum(total: u64) -> u64 {
    total * 2 / 3 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_round_trips() {
        let extra = BftExtra {
            round: 2,
            last_commit: vec![CommitCertificate {
                height: 7,
                round: 0,
                block_hash: B256::repeat_byte(3),
                signatures: vec![CommitSignature {
                    validator: B256::repeat_byte(1),
                    signature: B512::repeat_byte(2),
                }],
            }],
            evidence: vec![],
        };
        assert_eq!(BftExtra::decode(&extra.encode()).unwrap(), extra);
        assert!(BftExtra::decode(&[0xff, 0x00]).is_err());
    }

    #[test]
    fn sign_bytes_differ_by_kind_chain_and_value() {
        let a = vote_sign_bytes(1, VoteKind::Prevote, 5, 0, B256::ZERO);
        assert_ne!(a, vote_sign_bytes(1, VoteKind::Precommit, 5, 0, B256::ZERO));
        assert_ne!(a, vote_sign_bytes(2, VoteKind::Prevote, 5, 0, B256::ZERO));
        assert_ne!(
            a,
            vote_sign_bytes(1, VoteKind::Prevote, 5, 0, B256::repeat_byte(1))
        );
    }

    #[test]
    fn quorum_is_more_than_two_thirds() {
        assert_eq!(quorum(4), 3);
        assert_eq!(quorum(3), 3);
        assert_eq!(quorum(7), 5);
        assert_eq!(quorum(100), 67);
    }
}
