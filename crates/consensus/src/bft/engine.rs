//! [`BftEngine`]: the rules an imported BFT block meets.
//!
//! A block is valid on top of its parent when it carries (from block 2 on)
//! the parent's commit certificate signed by more than two thirds of the
//! parent's validators, and its seal is the signature of the proposer of
//! its `(number, round)` over its seal hash. Blocks are final when
//! committed, so fork choice is the committed height and nothing is ever
//! unwound.

use super::sign::{verify_certificate, verify_evidence, CertError};
use super::validators::ValidatorSet;
use crate::{
    verify_parent_link, ChainView, Effect, Engine, Event, Millis, SealError, Sealer, Weight,
};
use std::sync::Arc;
use tally_crypto::node_key::{self, NodeKey, NodeSignature};
use tally_primitives::{
    BftExtra, BftSpec, BftValidator, Bytes, CommitCertificate, Header, SealedHeader, B256,
};

/// How far (seconds) a block's timestamp may run ahead of this node's clock.
pub const MAX_FUTURE_SECS: u64 = 15;

/// Length of a BFT seal: the proposer's ed25519 signature.
pub const BFT_SEAL_LEN: usize = 64;

/// The proposer's seal of `header`: its signature over the seal hash.
pub fn seal(key: &NodeKey, header: &Header) -> Bytes {
    Bytes::copy_from_slice(&key.sign(header.seal_hash().as_slice()).to_bytes())
}

/// Checks that `cert` commits `header` (its number and hash) with the
/// signatures of more than two thirds of `validators`: what an offline
/// `tally verify-block` runs.
pub fn verify_block_certificate(
    chain_id: u64,
    header: &Header,
    cert: &CommitCertificate,
    validators: &[BftValidator],
) -> Result<(), CertError> {
    // Only key lookups are needed: no proposer schedule.
    let set = tally_verify::bft::Validators::new(validators)?;
    tally_verify::bft::verify_block_certificate(
        chain_id,
        header.number,
        header.hash(),
        cert,
        &set,
    )?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct BftEngine {
    chain_id: u64,
    genesis_validators: Vec<BftValidator>,
}

impl BftEngine {
    pub fn new(chain_id: u64, spec: &BftSpec) -> BftEngine {
        BftEngine {
            chain_id,
            genesis_validators: spec.validators.clone(),
        }
    }

    /// The validators that sign the child of `parent` (governance's, else
    /// the genesis set).
    fn validators_after(
        &self,
        chain: &dyn ChainView,
        parent: &B256,
        number: u64,
    ) -> Result<ValidatorSet, SealError> {
        let list = chain
            .bft_validators(parent)
            .unwrap_or_else(|| self.genesis_validators.clone());
        ValidatorSet::new(&list).map_err(|e| SealError::BadSeal {
            number,
            reason: format!("validator set: {e}"),
        })
    }
}

impl Engine for BftEngine {
    fn name(&self) -> &'static str {
        "bft"
    }

    fn verify_header(
        &self,
        chain: &dyn ChainView,
        parent: &SealedHeader,
        header: &Header,
        now: Millis,
    ) -> Result<(), SealError> {
        verify_parent_link(parent, header)?;
        let number = header.number;
        let bad = |reason: String| SealError::BadSeal { number, reason };
        if header.bits != 0 {
            return Err(SealError::WrongDifficulty {
                number,
                found: header.bits,
                expected: 0,
            });
        }
        let now_secs = now / 1000;
        if header.timestamp > now_secs.saturating_add(MAX_FUTURE_SECS) {
            return Err(SealError::TimestampInFuture {
                number,
                timestamp: header.timestamp,
                now: now_secs,
                limit: MAX_FUTURE_SECS,
            });
        }
        let extra = BftExtra::decode(&header.extra_data).map_err(bad)?;

        // The parent's certificate, checked against the parent's signers.
        match (number, extra.last_commit()) {
            (1, None) => {}
            (1, Some(_)) => {
                return Err(bad(
                    "block 1 carries a last commit, but genesis has none".into()
                ))
            }
            (_, None) => {
                return Err(bad(format!(
                    "carries no commit certificate for its parent {}",
                    parent.number
                )))
            }
            (_, Some(cert)) => {
                if cert.height != parent.number || cert.block_hash != parent.hash {
                    return Err(bad(format!(
                        "last commit certifies block {} {}, not its parent {} {}",
                        cert.height, cert.block_hash, parent.number, parent.hash
                    )));
                }
                let parent_set = self.validators_after(chain, &parent.parent_hash, number)?;
                verify_certificate(cert, self.chain_id, &parent_set)
                    .map_err(|e| bad(format!("parent's certificate: {e}")))?;
            }
        }

        let set = self.validators_after(chain, &parent.hash, number)?;
        let proposer = set.proposer(number, extra.round);
        let bytes: [u8; BFT_SEAL_LEN] = header.seal.as_ref().try_into().map_err(|_| {
            bad(format!(
                "expected a {BFT_SEAL_LEN}-byte proposer signature, found {} bytes",
                header.seal.len()
            ))
        })?;
        node_key::verify(
            &proposer.public,
            header.seal_hash().as_slice(),
            &NodeSignature::from_bytes(&bytes),
        )
        .map_err(|_| {
            bad(format!(
                "not signed by {}, the proposer of round {}",
                proposer.key, extra.round
            ))
        })?;

        for ev in &extra.evidence {
            if !ev.is_canonical() {
                // One double vote has one encoding, so it is recorded once.
                return Err(bad(
                    "carries evidence whose votes are not in canonical order".into(),
                ));
            }
            if ev.height > number {
                return Err(bad(format!(
                    "carries evidence from height {}, above its own",
                    ev.height
                )));
            }
            // Checked against this block's set: evidence is expected to be
            // recent, from validators still in office.
            verify_evidence(ev, self.chain_id, &set).map_err(|e| bad(format!("evidence: {e}")))?;
        }
        Ok(())
    }

    /// The node's BFT task builds and signs proposals itself ([`seal`]).
    fn sealer(&self) -> Option<Arc<dyn Sealer>> {
        None
    }

    /// The committed height: a longer certified chain wins, and there is
    /// only ever one.
    fn weight(&self, _parent_weight: Weight, header: &Header) -> Weight {
        Weight(u128::from(header.number))
    }

    fn handle(&mut self, event: Event) -> Vec<Effect> {
        match event {
            // A block becomes the head only once committed: it is final.
            Event::NewHead { number, hash, .. } => vec![Effect::Finalize { number, hash }],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
