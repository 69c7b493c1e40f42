//! BFT: the block's commit certificate, checked against the validator set
//! of its height. The set is rebuilt from the chain spec's validators
//! through the proof's changes; each change is preceded by a certified
//! header of the block before it, checked against the set before it.
//!
//! Each change's new list is proven from the governance contract's
//! storage at the certified header's state root ([`validator_list`]): the
//! certificate shows that block committed, its state root what the
//! contract held after it, which is the set of the next height. The block
//! is then anchored in the chain spec alone.
//!
//! A change without those storage proofs (older proofs) has its list taken
//! as given. Certified headers are public, so anyone could attach a real
//! one to a change listing keys of their own and sign a block of their own
//! making: such a proof is not anchored (only a checkpoint anchors it), and
//! the report names the changes taken on trust.

use alloy_primitives::B256;
use tally_primitives::{BftValidator, ChainSpec, CommitCertificate, EngineSpec};

use super::{engine_name, plural, Evidence};
use crate::{
    bft::{quorum, verify_block_certificate, Validators},
    check::{decode_header, Block},
    validator_list, ValidatorSetChange, VerifyError,
};

pub(super) fn check(
    spec: &ChainSpec,
    block: &Block,
    certificate: &CommitCertificate,
    changes: &[ValidatorSetChange],
) -> Result<Evidence, VerifyError> {
    let EngineSpec::Bft(bft) = &spec.engine else {
        return Err(VerifyError::EngineMismatch {
            finality: "BFT",
            spec: spec.name.clone(),
            engine: engine_name(&spec.engine),
        });
    };
    let chain_id = spec.chain_id;
    let number = block.header.number;
    let mut set = Validators::new(&bft.validators).map_err(VerifyError::SpecValidators)?;
    let mut last = 1u64;
    let mut applied = 0usize;
    let mut unproven_at = Vec::new();
    for (i, change) in changes.iter().enumerate() {
        let height = change.height;
        if height == 1 && i == 0 {
            // The genesis set, restated: it must be the spec's.
            if sorted(&change.validators) != sorted(&bft.validators) {
                return Err(VerifyError::GenesisSetDiffers);
            }
            continue;
        }
        if height <= last || height > number {
            return Err(VerifyError::ChangeOrder {
                height,
                last,
                number,
            });
        }
        let parent_number = height - 1;
        let parent = change
            .certified_parent
            .as_ref()
            .ok_or(VerifyError::ChangeNoParent {
                height,
                parent: parent_number,
            })?;
        let what = || format!("validator-set change at height {height}: the certified header");
        let parent_block = decode_header(&parent.header, what)?;
        if parent_block.header.number != parent_number {
            return Err(VerifyError::ChangeParentNumber {
                height,
                found: parent_block.header.number,
                expected: parent_number,
            });
        }
        verify_block_certificate(
            chain_id,
            parent_number,
            parent_block.hash,
            &parent.certificate,
            &set,
        )
        .map_err(|source| VerifyError::Certificate {
            what: format!(
                "validator-set change at height {height}: block {parent_number}'s certificate"
            ),
            source,
        })?;
        set = Validators::new(&change.validators)
            .map_err(|source| VerifyError::ChangeValidators { height, source })?;
        if change.list_proof.is_empty() {
            unproven_at.push(height);
        } else {
            validator_list::verify_list(
                &change.list_proof,
                &parent_block.header.state_root,
                &change.validators,
            )
            .map_err(|source| VerifyError::ChangeList {
                height,
                parent: parent_number,
                source,
            })?;
        }
        last = height;
        applied += 1;
    }
    let signed = verify_block_certificate(chain_id, number, block.hash, certificate, &set)
        .map_err(|source| VerifyError::Certificate {
            what: format!("block {number}'s certificate"),
            source,
        })?;
    let total = set.total_power();
    let signed = format!(
        "signed by validators holding {signed} of {total} power (more than two thirds: {} \
         needed)",
        quorum(total)
    );
    let through = plural(applied, "change", "changes");
    if unproven_at.is_empty() {
        let how = if applied == 0 {
            String::new()
        } else {
            ", each list proven from the governance contract's storage at the certified block \
             before it"
                .to_string()
        };
        return Ok(Evidence {
            line: format!(
                "block {number} is final: {signed}, validator set rebuilt from the chain spec \
                 through {through}{how}"
            ),
            anchored: true,
            later: Vec::new(),
            unproven: None,
        });
    }
    let (lists, are, those) = if unproven_at.len() == 1 {
        ("list", "is", "that list is the one")
    } else {
        ("lists", "are", "those lists are the ones")
    };
    let unproven = format!(
        "the validator {lists} of {} (at {})",
        plural(unproven_at.len(), "governance change", "governance changes"),
        heights(&unproven_at)
    );
    Ok(Evidence {
        line: format!(
            "block {number} is {signed} of a validator set rebuilt from the chain spec through \
             {through}, but {unproven} {are} taken as given in the proof, not proven: the block \
             is final only if {those} governance installed"
        ),
        anchored: false,
        later: Vec::new(),
        unproven: Some(unproven),
    })
}

/// "height 5", "heights 5 and 9", "heights 5, 9 and 14".
fn heights(list: &[u64]) -> String {
    match list {
        [one] => format!("height {one}"),
        [init @ .., last] => {
            let init: Vec<_> = init.iter().map(u64::to_string).collect();
            format!("heights {} and {last}", init.join(", "))
        }
        [] => "no height".into(),
    }
}

fn sorted(list: &[BftValidator]) -> Vec<(B256, u64)> {
    let mut v: Vec<_> = list.iter().map(|v| (v.key, v.power)).collect();
    v.sort();
    v
}
