//! Whether an instruction may settle: its digest, its parties'
//! signatures, its expiry and whether it settled before.

use super::settled_block;
use crate::system::{
    abi::ITallySettlement::Instruction, revert, store::Store, CallCtx, SysError, SETTLEMENT,
};
use alloy_primitives::{Address, Signature, B256, U256};
use alloy_sol_types::{Eip712Domain, SolStruct};
use std::borrow::Cow;

/// The EIP-712 domain of the settlement contract on chain `chain_id`.
pub(crate) fn domain(chain_id: u64) -> Eip712Domain {
    Eip712Domain::new(
        Some(Cow::Borrowed("Tally Settlement")),
        Some(Cow::Borrowed("1")),
        Some(U256::from(chain_id)),
        Some(SETTLEMENT),
        None,
    )
}

/// The digest both parties sign; it is also the instruction's id.
pub fn digest(chain_id: u64, ins: &Instruction) -> B256 {
    ins.eip712_signing_hash(&domain(chain_id))
}

/// Checks that `ins` may settle in this call: well formed, not expired,
/// never settled, and signed by both parties (the submitter's own
/// signature may be left empty). Returns its id.
pub(crate) fn check(
    s: &mut Store<'_>,
    ctx: &CallCtx,
    ins: &Instruction,
    sig_a: &[u8],
    sig_b: &[u8],
) -> Result<B256, SysError> {
    let id = digest(ctx.chain_id, ins);
    for (name, party) in [("partyA", ins.partyA), ("partyB", ins.partyB)] {
        if party.is_zero() {
            return revert(format!(
                "instruction {id}: {name} is the zero address: both parties must be accounts"
            ));
        }
        if party == SETTLEMENT {
            return revert(format!(
                "instruction {id}: {name} is the settlement contract itself"
            ));
        }
    }
    if ins.partyA == ins.partyB {
        return revert(format!(
            "instruction {id}: partyA and partyB are both {}: a settlement needs two parties",
            ins.partyA
        ));
    }
    for (name, amount) in [("amountA", ins.amountA), ("amountB", ins.amountB)] {
        if amount.is_zero() {
            return revert(format!(
                "instruction {id}: {name} is zero: both legs must move something"
            ));
        }
    }
    if ctx.timestamp > ins.expiry {
        return revert(format!(
            "instruction {id} expired at {} (unix seconds); the block time is {}",
            ins.expiry, ctx.timestamp
        ));
    }
    let settled = settled_block(s, id)?;
    if settled != 0 {
        return revert(format!(
            "instruction {id} already settled in block {settled}: an instruction settles once"
        ));
    }
    for sig in [sig_a, sig_b] {
        if !sig.is_empty() {
            s.slots.charge(crate::system::host::gas::ECRECOVER)?;
        }
    }
    check_signer(ctx, id, "A", ins.partyA, sig_a)?;
    check_signer(ctx, id, "B", ins.partyB, sig_b)?;
    Ok(id)
}

fn check_signer(
    ctx: &CallCtx,
    id: B256,
    side: &str,
    party: Address,
    sig: &[u8],
) -> Result<(), SysError> {
    if sig.is_empty() {
        if ctx.caller == party {
            return Ok(());
        }
        return revert(format!(
            "instruction {id}: signature{side} is empty, but the submitter {} is not party{side} {party}: \
             party{side} must sign",
            ctx.caller
        ));
    }
    let signature = match parse_signature(sig) {
        Ok(signature) => signature,
        Err(why) => return revert(format!("instruction {id}: signature{side} {why}")),
    };
    match tally_crypto::recover(&signature, &id) {
        Ok(signer) if signer == party => Ok(()),
        Ok(signer) => revert(format!(
            "instruction {id}: signature{side} was made by {signer}, expected party{side} {party} \
             (signed for another instruction or chain?)"
        )),
        Err(e) => revert(format!(
            "instruction {id}: signature{side} is not valid: {e}"
        )),
    }
}

/// A 65-byte signature r ‖ s ‖ v, with v 27/28 or 0/1.
pub(crate) fn parse_signature(sig: &[u8]) -> Result<Signature, String> {
    let Ok(bytes) = <&[u8; 65]>::try_from(sig) else {
        return Err(format!("is {} bytes, expected 65 (r, s, v)", sig.len()));
    };
    let parity = match bytes[64] {
        0 | 27 => false,
        1 | 28 => true,
        v => return Err(format!("has v = {v}, expected 27 or 28 (or 0 or 1)")),
    };
    Ok(Signature::from_bytes_and_parity(&bytes[..64], parity))
}
