//! Storage slots of an account, each present with its value or absent.

use alloy_primitives::U256;

use super::at_block;
use crate::{check::Block, state, StorageClaim, VerifyError};

pub(super) fn check(c: &StorageClaim, block: &Block) -> Result<Vec<String>, VerifyError> {
    if c.slots.is_empty() {
        return Err(VerifyError::NoSlots { address: c.address });
    }
    let root = block.header.state_root;
    let mut lines = Vec::with_capacity(c.slots.len());
    for s in &c.slots {
        let slot = U256::from_be_bytes(s.slot.0);
        state::verify_slot(&s.proof, &root, &c.address, &slot, &s.value).map_err(|source| {
            VerifyError::StateProof {
                what: format!("slot {} of {}", s.slot, c.address),
                root,
                source,
            }
        })?;
        lines.push(if s.value.is_zero() {
            format!(
                "slot {} of {} is empty (zero) after {}",
                s.slot,
                c.address,
                at_block(block)
            )
        } else {
            format!(
                "slot {} of {} holds {:#x} ({}) after {}",
                s.slot,
                c.address,
                s.value,
                s.value,
                at_block(block)
            )
        });
    }
    Ok(lines)
}
