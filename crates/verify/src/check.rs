//! The checker's entry point: the envelope (format, chain, spec), the
//! header, then the claim against the header's roots and the header's
//! finality.

use alloy_primitives::{keccak256, B256};
use serde::Serialize;
use tally_primitives::{ChainSpec, Header};

use crate::{claim, finality, Proof, VerifyError, FORMAT};

/// What the user brings besides the proof and the chain spec.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckOptions {
    /// A block hash the user trusts (from a block explorer, a node they
    /// run, a colleague): the proof's block, or a block built on it in the
    /// proof, must have it.
    pub checkpoint: Option<B256>,
    /// SHA-256 of the file the user holds, for notary proofs: it must be
    /// the proven document.
    pub document: Option<B256>,
}

/// What a proof proved, in plain words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verified {
    pub block_number: u64,
    pub block_hash: B256,
    /// The block's timestamp, unix seconds.
    pub timestamp: u64,
    /// What the claim proves, one statement a line.
    pub claim: Vec<String>,
    /// Why the block is part of the chain, or why nothing shows it.
    pub finality: String,
    /// What the user must trust for the rest to hold.
    pub trusted_root: String,
    /// Whether the block is tied to the trusted root: a seal or certificate
    /// the chain spec's keys made, or the user's checkpoint. `false`: the
    /// claim holds for this header, but nothing shows the header is the
    /// chain's (no seal, proof of work, or a BFT certificate by a set that
    /// validator-set changes in the proof name, whose lists are not
    /// proven; each without a checkpoint).
    pub anchored: bool,
}

impl Verified {
    /// The report as a user reads it: what the claim proves, then the
    /// block's finality, then what had to be trusted.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.claim
            .iter()
            .map(String::as_str)
            .chain([self.finality.as_str(), self.trusted_root.as_str()])
    }
}

/// A decoded header and the hash of its exact bytes.
pub(crate) struct Block {
    pub header: Header,
    pub hash: B256,
}

/// Decodes a header from its exact RLP: the bytes must be the canonical
/// encoding, so the hash of the bytes is the hash of the header.
pub(crate) fn decode_header(bytes: &[u8], what: impl Fn() -> String) -> Result<Block, VerifyError> {
    let header: Header = alloy_rlp::decode_exact(bytes).map_err(|e| VerifyError::HeaderRlp {
        what: what(),
        reason: e.to_string(),
    })?;
    if alloy_rlp::encode(&header) != bytes {
        return Err(VerifyError::HeaderNotCanonical { what: what() });
    }
    Ok(Block {
        header,
        hash: keccak256(bytes),
    })
}

/// Checks `proof` against the chain spec the user trusts. Never panics;
/// every failure names what did not hold.
pub fn check(
    proof: &Proof,
    spec: &ChainSpec,
    opts: &CheckOptions,
) -> Result<Verified, VerifyError> {
    if proof.format != FORMAT {
        return Err(VerifyError::Format {
            found: proof.format.clone(),
            expected: FORMAT,
        });
    }
    if proof.chain_id != spec.chain_id {
        return Err(VerifyError::ChainId {
            proof: proof.chain_id,
            spec: spec.chain_id,
        });
    }
    let spec_hash = spec.hash();
    if proof.spec_hash != spec_hash {
        return Err(VerifyError::SpecHash {
            proof: proof.spec_hash,
            spec: spec_hash,
        });
    }
    let block = decode_header(&proof.header, || "the proof's header".into())?;
    let claim = claim::check(&proof.claim, &block, opts.document)?;
    let settled = finality::check(&proof.finality, spec, spec_hash, &block, opts.checkpoint)?;
    Ok(Verified {
        block_number: block.header.number,
        block_hash: block.hash,
        timestamp: block.header.timestamp,
        claim,
        finality: settled.line,
        trusted_root: settled.trusted,
        anchored: settled.anchored,
    })
}
