//! Where the governance system contract keeps a BFT chain's validator
//! list, shared by the executor (which writes it) and the checker (which
//! proves a validator-set change's list from it).
//!
//! The list is an array in the contract's storage: its length at
//! `validators.len`, validator `i`'s ed25519 key at `validator.key[i]` and
//! its power at `validator.power[i]` (slots per [`system_slot`]). The set
//! that signs height `h` is the list after block `h - 1`; a proof of a
//! change carries one storage proof per slot against that block's state
//! root: the length, then each validator's key and power in storage order.

use alloy_primitives::{address, Address, Bytes, B256, U256};
use tally_primitives::BftValidator;

use crate::records::system_slot;
use crate::state::{verify_slot, StateProofError};

/// The governance system contract (`contracts/ITallyGovernance.sol`).
pub const GOVERNANCE: Address = address!("0000000000000000000000000000000000001001");

/// Most validators a proven list may hold: bounds the checker's work on a
/// hostile proof (a BFT set is tens of validators, not thousands).
pub const MAX_PROVEN_VALIDATORS: usize = 1024;

/// The slot holding the number of validators.
pub fn count_slot() -> U256 {
    system_slot("validators.len", &[])
}

/// The slot holding validator `i`'s key.
pub fn key_slot(i: u64) -> U256 {
    system_slot("validator.key", &[U256::from(i)])
}

/// The slot holding validator `i`'s power.
pub fn power_slot(i: u64) -> U256 {
    system_slot("validator.power", &[U256::from(i)])
}

/// The slots proving a list of `n` validators, in the order a proof
/// carries them: the count, then each validator's key and power.
pub fn list_slots(n: usize) -> Vec<U256> {
    let mut slots = Vec::with_capacity(1 + 2 * n);
    slots.push(count_slot());
    for i in 0..n as u64 {
        slots.push(key_slot(i));
        slots.push(power_slot(i));
    }
    slots
}

/// Why a list's storage proofs do not show it.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ListProofError {
    #[error("{found} storage proofs for a list of {validators} validators, expected {expected} (the count, then a key and a power each)")]
    Count {
        found: usize,
        validators: usize,
        expected: usize,
    },
    #[error("a list of {0} validators, more than the {MAX_PROVEN_VALIDATORS} a proof may carry")]
    TooLong(usize),
    #[error(
        "the proof of the governance contract's {what} does not show the listed value: {source}"
    )]
    Slot {
        what: String,
        source: StateProofError,
    },
}

/// Checks that `proofs` (compact state proofs, in [`list_slots`] order)
/// show the governance contract holding exactly `list`, in that order,
/// under `state_root`.
pub fn verify_list(
    proofs: &[Bytes],
    state_root: &B256,
    list: &[BftValidator],
) -> Result<(), ListProofError> {
    if list.len() > MAX_PROVEN_VALIDATORS {
        return Err(ListProofError::TooLong(list.len()));
    }
    let expected = 1 + 2 * list.len();
    if proofs.len() != expected {
        return Err(ListProofError::Count {
            found: proofs.len(),
            validators: list.len(),
            expected,
        });
    }
    let mut values = Vec::with_capacity(expected);
    values.push(("validator count".to_string(), U256::from(list.len())));
    for (i, v) in list.iter().enumerate() {
        values.push((
            format!("key of validator {i}"),
            U256::from_be_bytes(v.key.0),
        ));
        values.push((format!("power of validator {i}"), U256::from(v.power)));
    }
    for ((proof, slot), (what, value)) in proofs.iter().zip(list_slots(list.len())).zip(values) {
        verify_slot(proof, state_root, &GOVERNANCE, &slot, &value)
            .map_err(|source| ListProofError::Slot { what, source })?;
    }
    Ok(())
}
