//! A dev chain with an authority: the header's seal is the ed25519
//! signature of the chain spec's authority key over the seal hash (what
//! `tally-consensus`'s dev engine signs and checks).

use ed25519_dalek::{Signature, VerifyingKey};
use tally_primitives::{ChainSpec, EngineSpec};

use super::{engine_name, Evidence};
use crate::{check::Block, VerifyError};

/// Length of an authority seal: one ed25519 signature.
const SEAL_LEN: usize = 64;

pub(super) fn check(spec: &ChainSpec, block: &Block) -> Result<Evidence, VerifyError> {
    let key = match &spec.engine {
        EngineSpec::Dev {
            authority: Some(key),
            ..
        } => *key,
        EngineSpec::Dev {
            authority: None, ..
        } => {
            return Err(VerifyError::NoAuthority {
                spec: spec.name.clone(),
            })
        }
        other => {
            return Err(VerifyError::EngineMismatch {
                finality: "dev-authority",
                spec: spec.name.clone(),
                engine: engine_name(other),
            })
        }
    };
    let public = VerifyingKey::from_bytes(&key.0).map_err(|_| VerifyError::AuthorityKey { key })?;
    let seal = &block.header.seal;
    let bytes: [u8; SEAL_LEN] = seal
        .as_ref()
        .try_into()
        .map_err(|_| VerifyError::AuthoritySealLength { len: seal.len() })?;
    // Strict verification, as the node's: one valid signature per key and
    // message, no small-order keys.
    public
        .verify_strict(
            block.header.seal_hash().as_slice(),
            &Signature::from_bytes(&bytes),
        )
        .map_err(|_| VerifyError::AuthoritySeal { key })?;
    Ok(Evidence {
        line: format!(
            "block {} is final: its seal is the signature of the dev authority {key} named in the chain spec",
            block.header.number
        ),
        anchored: true,
        later: Vec::new(),
        unproven: None,
    })
}
