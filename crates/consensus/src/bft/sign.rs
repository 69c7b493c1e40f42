//! Signing and checking what validators sign: proposals, votes, commit
//! certificates (batch-verified) and equivocation evidence.

use super::message::{ProposalMsg, VoteMsg};
use super::validators::ValidatorSet;
use alloy_primitives::B512;
use tally_crypto::node_key::{self, NodeKey, NodePublicKey, NodeSignature};
use tally_primitives::{
    bft::{proposal_sign_bytes, vote_sign_bytes, VoteKind},
    CommitCertificate, Evidence, B256,
};
use tally_verify::bft::ValidatorLookup;

/// The public key of `key` as a validator address.
pub fn validator_key(key: &NodeKey) -> B256 {
    B256::from(key.public().to_bytes())
}

fn sign(key: &NodeKey, bytes: &[u8]) -> B512 {
    B512::from(key.sign(bytes).to_bytes())
}

fn check(public: &NodePublicKey, bytes: &[u8], signature: &B512) -> bool {
    node_key::verify(public, bytes, &NodeSignature::from_bytes(&signature.0)).is_ok()
}

pub fn sign_proposal(
    key: &NodeKey,
    chain_id: u64,
    height: u64,
    round: u32,
    pol_round: Option<u32>,
    block_hash: B256,
) -> ProposalMsg {
    let bytes = proposal_sign_bytes(chain_id, height, round, pol_round, block_hash);
    ProposalMsg {
        height,
        round,
        pol_round,
        block_hash,
        proposer: validator_key(key),
        signature: sign(key, &bytes),
    }
}

pub fn sign_vote(
    key: &NodeKey,
    chain_id: u64,
    kind: VoteKind,
    height: u64,
    round: u32,
    value: B256,
) -> VoteMsg {
    let bytes = vote_sign_bytes(chain_id, kind, height, round, value);
    VoteMsg {
        kind,
        height,
        round,
        value,
        validator: validator_key(key),
        signature: sign(key, &bytes),
    }
}

/// Why a proposal or vote is refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SignatureError {
    #[error("{signer} is not a validator at height {height}")]
    NotAValidator { signer: B256, height: u64 },
    #[error("{signer} proposed at height {height} round {round}, whose proposer is {expected}")]
    WrongProposer {
        signer: B256,
        expected: B256,
        height: u64,
        round: u32,
    },
    #[error("bad signature by {signer} on its {what} at height {height} round {round}")]
    BadSignature {
        signer: B256,
        what: &'static str,
        height: u64,
        round: u32,
    },
}

/// Checks that the proposal comes from the proposer of its round and that
/// the proposer signed it.
pub fn verify_proposal(
    chain_id: u64,
    p: &ProposalMsg,
    set: &ValidatorSet,
) -> Result<(), SignatureError> {
    let validator = set.get(&p.proposer).ok_or(SignatureError::NotAValidator {
        signer: p.proposer,
        height: p.height,
    })?;
    let expected = set.proposer(p.height, p.round).key.0;
    if expected != p.proposer {
        return Err(SignatureError::WrongProposer {
            signer: p.proposer,
            expected,
            height: p.height,
            round: p.round,
        });
    }
    let bytes = proposal_sign_bytes(chain_id, p.height, p.round, p.pol_round, p.block_hash);
    if !check(&validator.public, &bytes, &p.signature) {
        return Err(SignatureError::BadSignature {
            signer: p.proposer,
            what: "proposal",
            height: p.height,
            round: p.round,
        });
    }
    Ok(())
}

/// Checks that the vote comes from a validator of `set` that signed it.
pub fn verify_vote(chain_id: u64, v: &VoteMsg, set: &ValidatorSet) -> Result<(), SignatureError> {
    let validator = set.get(&v.validator).ok_or(SignatureError::NotAValidator {
        signer: v.validator,
        height: v.height,
    })?;
    let bytes = vote_sign_bytes(chain_id, v.kind, v.height, v.round, v.value);
    if !check(&validator.public, &bytes, &v.signature) {
        return Err(SignatureError::BadSignature {
            signer: v.validator,
            what: match v.kind {
                VoteKind::Prevote => "prevote",
                VoteKind::Precommit => "precommit",
            },
            height: v.height,
            round: v.round,
        });
    }
    Ok(())
}

/// Why a commit certificate does not prove its block committed: the
/// shared check's reason ([`tally_verify::bft::CertError`]), or a
/// validator list that is not a set.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum CertError {
    #[error(transparent)]
    Cert(#[from] tally_verify::bft::CertError),
    #[error("validator set: {0}")]
    Validators(#[from] super::validators::ValidatorSetError),
}

/// The engine's validator set as the shared certificate check sees it.
impl ValidatorLookup for ValidatorSet {
    fn total_power(&self) -> u64 {
        ValidatorSet::total_power(self)
    }

    fn lookup(&self, key: &B256) -> Option<(NodePublicKey, u64)> {
        self.get(key).map(|v| (v.public, v.power))
    }
}

/// Checks that validators of `set` holding more than two thirds of its
/// power precommitted the certificate's block, with one batch
/// verification of their signatures: the check the offline proof checker
/// runs too ([`tally_verify::bft::verify_certificate`]).
pub fn verify_certificate(
    cert: &CommitCertificate,
    chain_id: u64,
    set: &ValidatorSet,
) -> Result<(), CertError> {
    tally_verify::bft::verify_certificate(cert, chain_id, set)
        .map(|_| ())
        .map_err(CertError::from)
}

/// Why evidence does not prove an equivocation.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum EvidenceError {
    #[error("evidence names {0}, not a validator")]
    UnknownValidator(B256),
    #[error("evidence has vote kind {0}, neither 1 (prevote) nor 2 (precommit)")]
    BadKind(u8),
    #[error("evidence against {0} holds the same value twice: no equivocation")]
    SameValue(B256),
    #[error("evidence against {validator}: its {which} signature does not verify")]
    BadSignature {
        validator: B256,
        which: &'static str,
    },
}

/// Checks that `ev` holds two valid signatures by one validator on two
/// different votes of one kind at one height and round.
pub fn verify_evidence(
    ev: &Evidence,
    chain_id: u64,
    set: &ValidatorSet,
) -> Result<(), EvidenceError> {
    let validator = set
        .get(&ev.validator)
        .ok_or(EvidenceError::UnknownValidator(ev.validator))?;
    let kind = VoteKind::from_code(ev.kind).ok_or(EvidenceError::BadKind(ev.kind))?;
    if ev.first.value == ev.second.value {
        return Err(EvidenceError::SameValue(ev.validator));
    }
    for (which, record) in [("first", &ev.first), ("second", &ev.second)] {
        let bytes = vote_sign_bytes(chain_id, kind, ev.height, ev.round, record.value);
        if !check(&validator.public, &bytes, &record.signature) {
            return Err(EvidenceError::BadSignature {
                validator: ev.validator,
                which,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "sign_tests.rs"]
mod tests;
