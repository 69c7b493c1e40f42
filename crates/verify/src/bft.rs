//! Commit certificates of BFT chains: that validators holding more than
//! two thirds of a set's power precommitted a block (ADR 0007).
//!
//! Pure and shared: the consensus engine checks imported blocks with
//! [`verify_certificate`] over its own validator set (through
//! [`ValidatorLookup`]); the proof checker over a [`Validators`] it rebuilds
//! from the chain spec.

use alloy_primitives::B256;
use ed25519_dalek::{Signature, VerifyingKey};
use std::collections::BTreeSet;
use tally_primitives::{BftValidator, CommitCertificate};

/// Total power above which vote arithmetic (power × 3) could overflow.
pub const MAX_TOTAL_POWER: u64 = u64::MAX / 4;

/// Why a list of validators is not a usable set.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ValidatorsError {
    #[error("the validator set is empty")]
    Empty,
    #[error("validator {0} has power 0")]
    ZeroPower(B256),
    #[error("validator {0} is listed twice")]
    Duplicate(B256),
    #[error("validator {key} is not an ed25519 public key: {reason}")]
    BadKey { key: B256, reason: String },
    #[error("total validator power exceeds {MAX_TOTAL_POWER}")]
    PowerOverflow,
}

/// Why a commit certificate does not prove its block committed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum CertError {
    #[error(
        "certificate for height {height} is signed by {validator}, not a validator of that height"
    )]
    UnknownValidator { height: u64, validator: B256 },
    #[error("certificate for height {height} lists validator {validator} twice")]
    DuplicateSigner { height: u64, validator: B256 },
    #[error("certificate for height {height} carries power {power} of {total}, below the quorum {quorum} (more than two thirds)")]
    InsufficientPower {
        height: u64,
        power: u64,
        quorum: u64,
        total: u64,
    },
    #[error("certificate for height {height} carries a bad precommit signature by {validator}")]
    BadSignature { height: u64, validator: B256 },
    #[error("certificate is for height {found} block {found_hash}, expected height {expected} block {expected_hash}")]
    WrongBlock {
        found: u64,
        found_hash: B256,
        expected: u64,
        expected_hash: B256,
    },
}

/// A validator set as a certificate check sees it: each key's parsed
/// public key and power, and the total.
pub trait ValidatorLookup {
    fn total_power(&self) -> u64;
    fn lookup(&self, key: &B256) -> Option<(VerifyingKey, u64)>;
}

/// A validated validator set, sorted by key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validators {
    list: Vec<(B256, VerifyingKey, u64)>,
    total: u64,
}

impl Validators {
    /// Checks the list: non-empty, no zero power, no duplicate, every key
    /// a usable ed25519 key, total power at most [`MAX_TOTAL_POWER`].
    pub fn new(list: &[BftValidator]) -> Result<Validators, ValidatorsError> {
        if list.is_empty() {
            return Err(ValidatorsError::Empty);
        }
        let mut out = Vec::with_capacity(list.len());
        let mut total: u64 = 0;
        for v in list {
            if v.power == 0 {
                return Err(ValidatorsError::ZeroPower(v.key));
            }
            let public =
                VerifyingKey::from_bytes(&v.key.0).map_err(|e| ValidatorsError::BadKey {
                    key: v.key,
                    reason: e.to_string(),
                })?;
            // The weak (small-order) keys strict verification refuses could never sign.
            if public.is_weak() {
                return Err(ValidatorsError::BadKey {
                    key: v.key,
                    reason: "a weak (small-order) key".into(),
                });
            }
            total = total
                .checked_add(v.power)
                .filter(|t| *t <= MAX_TOTAL_POWER)
                .ok_or(ValidatorsError::PowerOverflow)?;
            out.push((v.key, public, v.power));
        }
        out.sort_by_key(|(k, _, _)| *k);
        if let Some(w) = out.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(ValidatorsError::Duplicate(w[0].0));
        }
        Ok(Validators { list: out, total })
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn total_power(&self) -> u64 {
        self.total
    }

    pub fn power_of(&self, key: &B256) -> Option<u64> {
        self.lookup(key).map(|(_, p)| p)
    }

    /// Each validator's key, parsed public key and power, by key.
    pub fn iter(&self) -> impl Iterator<Item = (B256, VerifyingKey, u64)> + '_ {
        self.list.iter().copied()
    }
}

impl ValidatorLookup for Validators {
    fn total_power(&self) -> u64 {
        self.total
    }

    fn lookup(&self, key: &B256) -> Option<(VerifyingKey, u64)> {
        self.list
            .binary_search_by(|(k, _, _)| k.cmp(key))
            .ok()
            .and_then(|i| self.list.get(i))
            .map(|(_, public, power)| (*public, *power))
    }
}

/// Power a certificate must reach: more than two thirds of `total`
/// (`tally_primitives::bft::quorum`, computed without overflow).
pub fn quorum(total: u64) -> u64 {
    let q = u128::from(total) * 2 / 3 + 1;
    u64::try_from(q).unwrap_or(u64::MAX)
}

/// Checks that distinct validators of `set` holding more than two thirds
/// of its power precommitted the certificate's block, with one batch
/// verification of their signatures; the power that signed.
pub fn verify_certificate<S: ValidatorLookup + ?Sized>(
    cert: &CommitCertificate,
    chain_id: u64,
    set: &S,
) -> Result<u64, CertError> {
    let height = cert.height;
    let mut seen = BTreeSet::new();
    let mut power: u128 = 0;
    let mut keys = Vec::with_capacity(cert.signatures.len());
    for s in &cert.signatures {
        let (public, p) = set
            .lookup(&s.validator)
            .ok_or(CertError::UnknownValidator {
                height,
                validator: s.validator,
            })?;
        if !seen.insert(s.validator) {
            return Err(CertError::DuplicateSigner {
                height,
                validator: s.validator,
            });
        }
        power += u128::from(p);
        keys.push(public);
    }
    let total = set.total_power();
    let quorum = quorum(total);
    let power = u64::try_from(power).unwrap_or(u64::MAX);
    if power < quorum {
        return Err(CertError::InsufficientPower {
            height,
            power,
            quorum,
            total,
        });
    }
    let bytes = cert.sign_bytes(chain_id);
    let signatures: Vec<Signature> = cert
        .signatures
        .iter()
        .map(|s| Signature::from_bytes(&s.signature.0))
        .collect();
    let messages = vec![bytes.as_slice(); keys.len()];
    if ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok() {
        return Ok(power);
    }
    // The batch says only that one is bad: find it to name it.
    let bad = keys
        .iter()
        .zip(&signatures)
        .zip(&cert.signatures)
        .find(|((k, sig), _)| k.verify_strict(&bytes, sig).is_err())
        .map_or(B256::ZERO, |(_, s)| s.validator);
    Err(CertError::BadSignature {
        height,
        validator: bad,
    })
}

/// [`verify_certificate`] for block `number` with hash `block_hash`: the
/// certificate must name exactly that block.
pub fn verify_block_certificate<S: ValidatorLookup + ?Sized>(
    chain_id: u64,
    number: u64,
    block_hash: B256,
    cert: &CommitCertificate,
    set: &S,
) -> Result<u64, CertError> {
    if cert.height != number || cert.block_hash != block_hash {
        return Err(CertError::WrongBlock {
            found: cert.height,
            found_hash: cert.block_hash,
            expected: number,
            expected_hash: block_hash,
        });
    }
    verify_certificate(cert, chain_id, set)
}

#[cfg(test)]
#[path = "bft_tests.rs"]
mod tests;
