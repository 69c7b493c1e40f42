//! A notarized document: its path to the batch root, the notary's record
//! of the batch, and the state of its revocation slot.

use alloy_primitives::{B256, U256};

use crate::{
    check::Block,
    records::{
        notary::{batch_slot, record_commitment, revocation_commitment, revocation_slot},
        NOTARY,
    },
    state,
    text::utc,
    NotaryClaim, VerifyError,
};

pub(super) fn check(
    c: &NotaryClaim,
    block: &Block,
    file: Option<B256>,
) -> Result<Vec<String>, VerifyError> {
    if let Some(file) = file {
        if file != c.document {
            return Err(VerifyError::DocumentMismatch {
                claimed: c.document,
                file,
            });
        }
    }
    if !c.path.verify(&c.root, &c.document) {
        return Err(VerifyError::DocumentPath {
            document: c.document,
            root: c.root,
        });
    }
    let r = &c.record;
    // The record commits to the count, which fixes the path's shape: with
    // it the document's position is proven too.
    if c.path.leaf_count != r.count {
        return Err(VerifyError::BatchCount {
            path_count: c.path.leaf_count,
            record_count: r.count,
        });
    }
    let root = block.header.state_root;
    let stamp = record_commitment(r.submitter, r.timestamp, r.block_number, r.count, &r.label);
    state::verify_slot(
        &c.record_proof,
        &root,
        &NOTARY,
        &batch_slot(c.root),
        &U256::from_be_bytes(stamp.0),
    )
    .map_err(|source| VerifyError::StateProof {
        what: format!("the notary's record of batch {}", c.root),
        root,
        source,
    })?;
    let revoked = c.revocation.as_ref().map_or(U256::ZERO, |v| {
        U256::from_be_bytes(
            revocation_commitment(v.block_number, v.timestamp, v.replacement, &v.reason).0,
        )
    });
    state::verify_slot(
        &c.revocation_proof,
        &root,
        &NOTARY,
        &revocation_slot(r.submitter, c.document),
        &revoked,
    )
    .map_err(|source| VerifyError::StateProof {
        what: format!(
            "the notary's revocation slot of document {} by {}",
            c.document, r.submitter
        ),
        root,
        source,
    })?;

    let stamped = format!(
        "document {} was stamped by {} in block {} at {} with label {:?}",
        c.document,
        r.submitter,
        r.block_number,
        utc(r.timestamp),
        r.label
    );
    let batch = format!(
        "it is document {} of the {} in batch {}",
        c.path.index.saturating_add(1),
        r.count,
        c.root
    );
    let n = block.header.number;
    Ok(match &c.revocation {
        None => vec![format!("{stamped}; not revoked as of block {n}"), batch],
        Some(v) => {
            let what = if v.replacement.is_zero() {
                "REVOKED".to_string()
            } else {
                format!("SUPERSEDED by document {}", v.replacement)
            };
            vec![
                stamped,
                format!(
                    "{what} by its submitter in block {} at {}: {:?} (as of block {n})",
                    v.block_number,
                    utc(v.timestamp),
                    v.reason
                ),
                batch,
            ]
        }
    })
}
