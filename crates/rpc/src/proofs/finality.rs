//! The finality evidence of a block, by engine: nothing on an unsealed dev
//! chain, the authority's seal (already in the header) on an authority
//! chain, the commit certificate and the validator-set history on BFT
//! (each change's list with storage proofs from the governance contract),
//! and the headers built on the block (up to the chain's finality depth)
//! on PoW.

use alloy_primitives::Bytes;
use jsonrpsee::core::RpcResult;
use tally_primitives::{ChainSpec, CommitCertificate, EngineSpec};
use tally_verify::{validator_list, CertifiedHeader, Finality, ValidatorSetChange};

use crate::backend::Backend;
use crate::error::{rpc_err, SERVER_ERROR};

pub(super) fn evidence(
    backend: &dyn Backend,
    spec: &ChainSpec,
    number: u64,
) -> RpcResult<Finality> {
    Ok(match &spec.engine {
        EngineSpec::Dev {
            authority: None, ..
        } => Finality::None,
        EngineSpec::Dev {
            authority: Some(_), ..
        } => Finality::Authority,
        EngineSpec::Bft(_) => bft(backend, number)?,
        EngineSpec::Pow(pow) => {
            let head = backend.head().number;
            let last = head.min(number.saturating_add(pow.finality_depth));
            let mut descendants = Vec::new();
            for n in number + 1..=last {
                descendants.push(header_rlp(backend, n)?);
            }
            Finality::Pow { descendants }
        }
    })
}

fn header_rlp(backend: &dyn Backend, number: u64) -> RpcResult<Bytes> {
    let header = backend
        .header_by_number(number)?
        .ok_or_else(|| rpc_err(SERVER_ERROR, format!("the node has no block {number}")))?;
    Ok(Bytes::from(alloy_rlp::encode(&header.header)))
}

fn certificate(backend: &dyn Backend, number: u64) -> RpcResult<CommitCertificate> {
    backend.bft_certificate(number)?.ok_or_else(|| {
        rpc_err(
            SERVER_ERROR,
            format!(
                "the node has no commit certificate for block {number} yet; \
                 prove a committed block (the default, finalized, is one)"
            ),
        )
    })
}

fn bft(backend: &dyn Backend, number: u64) -> RpcResult<Finality> {
    let mut validator_set_changes = Vec::new();
    for change in backend.bft_validator_set_changes()? {
        if change.height > number {
            break;
        }
        // The set at height 1 is the chain spec's, which the checker has:
        // restating it would only add size.
        let h = change.height;
        if h <= 1 {
            continue;
        }
        let list_proof = list_proof(backend, h - 1, change.validators.len())?;
        validator_set_changes.push(ValidatorSetChange {
            height: h,
            validators: change.validators,
            certified_parent: Some(CertifiedHeader {
                header: header_rlp(backend, h - 1)?,
                certificate: certificate(backend, h - 1)?,
            }),
            list_proof,
        });
    }
    Ok(Finality::Bft {
        certificate: certificate(backend, number)?,
        validator_set_changes,
    })
}

/// Storage proofs that the governance contract held a list of `n`
/// validators after block `parent` (`tally_verify::validator_list`).
fn list_proof(backend: &dyn Backend, parent: u64, n: usize) -> RpcResult<Vec<Bytes>> {
    let slots: Vec<_> = validator_list::list_slots(n)
        .into_iter()
        .map(alloy_primitives::B256::from)
        .collect();
    let proof = backend.state_proof(validator_list::GOVERNANCE, &slots, parent)?;
    Ok(proof.slots.into_iter().map(|s| s.proof).collect())
}
