//! Proof of work: the block's seal and the seals of the blocks the proof
//! builds on it, each under the target the difficulty rule gives it.
//!
//! Work shows effort, not that these blocks are the canonical chain: a
//! private chain with as much work would pass too. Only a checkpoint
//! anchors them, and the confirmations say how costly a competing branch
//! would be.
//!
//! Timestamps steer the difficulty rule: a descendant's may not go back
//! before its parent's (as the node requires), and since timestamps in the
//! future ease the target of every block after them, the blocks are called
//! final only when none of them has a target easier than the chain spec's
//! `initial_bits` give.

use alloy_primitives::{Bytes, U256};
use tally_primitives::{ChainSpec, EngineSpec, Header, PowSpec};

use super::{engine_name, plural, Evidence};
use crate::{
    check::{decode_header, Block},
    pow::{
        initial_target, meets_target, next_bits, pow_hash, target_from_bits, target_to_b256, work,
        POW_LIMIT, SEAL_LEN,
    },
    VerifyError,
};

pub(super) fn check(
    spec: &ChainSpec,
    block: &Block,
    descendants: &[Bytes],
) -> Result<Evidence, VerifyError> {
    let EngineSpec::Pow(pow) = &spec.engine else {
        return Err(VerifyError::EngineMismatch {
            finality: "proof-of-work",
            spec: spec.name.clone(),
            engine: engine_name(&spec.engine),
        });
    };
    // The difficulty rule reads only genesis's timestamp (and the spec).
    let genesis = Header {
        number: 0,
        timestamp: spec.timestamp,
        bits: pow.initial_bits,
        ..Default::default()
    };
    let header = &block.header;
    // The block's parent is not in the proof: its bits can only be held to
    // the limit, except for block 1, whose parent is genesis.
    if header.number == 1 {
        expect_bits(header, next_bits(pow, &genesis, &genesis))?;
    }
    let initial = initial_target(pow);
    let (mut total, target) = check_seal(header)?;
    // Blocks whose target is easier than the chain's initial one.
    let mut easier = Vec::new();
    if target > initial {
        easier.push(header.number);
    }
    let mut later = Vec::with_capacity(descendants.len());
    let mut parent = (header.clone(), block.hash);
    for (index, bytes) in descendants.iter().enumerate() {
        let what = || format!("descendant {index} of the proof");
        let child = decode_header(bytes, what)?;
        let expected = parent.0.number.checked_add(1);
        if expected != Some(child.header.number) || child.header.parent_hash != parent.1 {
            return Err(VerifyError::PowLink {
                index,
                found: child.header.number,
                parent: child.header.parent_hash,
                expected: expected.unwrap_or(u64::MAX),
                expected_parent: parent.1,
            });
        }
        if child.header.timestamp < parent.0.timestamp {
            return Err(VerifyError::PowTimestamp {
                number: child.header.number,
                timestamp: child.header.timestamp,
                parent: parent.0.number,
                parent_timestamp: parent.0.timestamp,
            });
        }
        expect_bits(&child.header, next_bits(pow, &genesis, &parent.0))?;
        let (work, target) = check_seal(&child.header)?;
        total = total.saturating_add(work);
        if target > initial {
            easier.push(child.header.number);
        }
        later.push((child.header.number, child.hash));
        parent = (child.header, child.hash);
    }
    Ok(Evidence {
        line: confirmations(header.number, descendants.len(), total, &easier, pow),
        anchored: false,
        later,
        unproven: None,
    })
}

/// `easier`: the blocks whose target is easier than the initial one.
fn confirmations(number: u64, count: usize, total: u128, easier: &[u64], pow: &PowSpec) -> String {
    let depth = pow.finality_depth;
    let shown = plural(count, "confirmation", "confirmations");
    let verdict = match easier {
        [first, ..] => format!(
            "not final: the work is below the chain's initial difficulty ({} of the {} blocks \
             checked, from block {first}, have a target easier than the chain spec's initial \
             bits {:#010x} give)",
            easier.len(),
            count + 1,
            pow.initial_bits
        ),
        [] if count as u64 >= depth => {
            format!("final under the chain spec's finality depth of {depth}")
        }
        [] => format!("{count} of the {depth} confirmations the chain spec calls final"),
    };
    format!(
        "block {number} has {shown} ({total} hashes of work expected, its own included): \
         {verdict}; work shows effort, not that these blocks are the canonical chain"
    )
}

/// Checks `header`'s nonce against the target its bits encode; the work
/// those bits stand for, and the target.
fn check_seal(header: &Header) -> Result<(u128, U256), VerifyError> {
    let number = header.number;
    let bits = header.bits;
    let nonce: [u8; SEAL_LEN] =
        header
            .seal
            .as_ref()
            .try_into()
            .map_err(|_| VerifyError::PowSealLength {
                number,
                len: header.seal.len(),
            })?;
    let invalid = |reason: String| VerifyError::PowBits {
        number,
        bits,
        reason,
    };
    let target = target_from_bits(bits).map_err(|e| invalid(e.to_string()))?;
    if target.is_zero() {
        return Err(invalid("the target is zero: no hash meets it".into()));
    }
    if target > POW_LIMIT {
        return Err(invalid(format!(
            "the target is easier than the limit {}",
            target_to_b256(POW_LIMIT)
        )));
    }
    let hash = pow_hash(&header.seal_hash(), u64::from_be_bytes(nonce));
    if !meets_target(&hash, &target) {
        return Err(VerifyError::PowHash {
            number,
            hash,
            target: target_to_b256(target),
        });
    }
    Ok((work(bits), target))
}

fn expect_bits(header: &Header, expected: u32) -> Result<(), VerifyError> {
    if header.bits != expected {
        return Err(VerifyError::PowWrongBits {
            number: header.number,
            found: header.bits,
            expected,
        });
    }
    Ok(())
}
