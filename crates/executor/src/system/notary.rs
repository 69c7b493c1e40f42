//! The notary contract ([`ITallyNotary`]): timestamps batches of document
//! hashes under their Merkle root ([`tally_primitives::merkle`]), and lets
//! a submitter revoke or supersede what it stamped.
//!
//! The slots an offline proof covers are fixed in
//! [`tally_verify::records::notary`]: the batch's slot holds one commitment
//! to its submitter, time, block, count and label, and a revocation's slot
//! one commitment to its block, time, replacement and reason. The clear
//! fields sit in other slots for the views. Documents are not stored: the
//! node finds a document's batch through its `Notarized` log and rebuilds
//! the batch from the receipt's `Notarized` logs with that root.

use super::{
    abi::ITallyNotary::{self, ITallyNotaryCalls as Calls},
    assets::{emit, writing},
    read_at, revert,
    store::{addr_word, slot, Store},
    CallCtx, Slots, SysError, NOTARY,
};
use crate::{StateSource, StateSourceError};
use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::{SolCall, SolInterface};
use tally_verify::records::notary::{
    batch_slot, record_commitment, revocation_commitment, revocation_slot,
};
use tally_verify::{NotaryRecord, Revocation};

/// Most documents one stamp may hold.
pub const MAX_DOCUMENTS: usize = 20_000;
/// Longest label or reason, bytes.
pub const MAX_TEXT: usize = 256;

/// Keccak-256 priced as the EVM's `KECCAK256`: a base plus a price per
/// 32-byte word hashed.
const KECCAK: u64 = 30;
const KECCAK_WORD: u64 = 6;

/// Gas for the Merkle root of `n` documents: `n` leaves of 33 bytes and
/// `n - 1` inner nodes of 65 bytes (an odd node carried up costs nothing).
pub fn merkle_gas(n: usize) -> u64 {
    let keccak = |bytes: u64| KECCAK + KECCAK_WORD * bytes.div_ceil(32);
    let n = u64::try_from(n).unwrap_or(u64::MAX);
    n.saturating_mul(keccak(33))
        .saturating_add(n.saturating_sub(1).saturating_mul(keccak(65)))
}

/// The block number, timestamp and count of a batch, in one word.
fn info_slot(root: B256) -> U256 {
    slot("batchInfo", &[root.into()])
}

fn submitter_slot(root: B256) -> U256 {
    slot("batchSubmitter", &[root.into()])
}

fn label_slot(root: B256) -> U256 {
    slot("batchLabel", &[root.into()])
}

fn revocation_keys(submitter: Address, document: B256) -> [U256; 2] {
    [addr_word(submitter), document.into()]
}

/// The block number and timestamp of a revocation, in one word.
fn revoked_info_slot(submitter: Address, document: B256) -> U256 {
    slot("revokedInfo", &revocation_keys(submitter, document))
}

fn replacement_slot(submitter: Address, document: B256) -> U256 {
    slot("revokedBy", &revocation_keys(submitter, document))
}

fn reason_slot(submitter: Address, document: B256) -> U256 {
    slot("revokedReason", &revocation_keys(submitter, document))
}

/// Three 64-bit values in one word, the first highest.
pub(crate) fn pack(a: u64, b: u64, c: u64) -> U256 {
    (U256::from(a) << 128) | (U256::from(b) << 64) | U256::from(c)
}

pub(crate) fn unpack(w: U256) -> (u64, u64, u64) {
    let part = |shift: usize| (w >> shift).as_limbs()[0];
    (part(128), part(64), part(0))
}

pub(crate) fn call(
    slots: &mut dyn Slots,
    ctx: &CallCtx,
    input: &[u8],
) -> Result<Vec<u8>, SysError> {
    let Ok(call) = Calls::abi_decode(input) else {
        return revert("unknown ITallyNotary function or malformed arguments");
    };
    let mut s = Store::new(slots, NOTARY);
    let s = &mut s;
    use ITallyNotary as N;
    match call {
        Calls::stamp(c) => {
            writing(ctx)?;
            let root = stamp(s, ctx, &c.documents, &c.label)?;
            Ok(N::stampCall::abi_encode_returns(&root))
        }
        Calls::revoke(c) => {
            writing(ctx)?;
            revoke(s, ctx, c.document, B256::ZERO, &c.reason)?;
            Ok(Vec::new())
        }
        Calls::supersede(c) => {
            writing(ctx)?;
            if c.replacement.is_zero() {
                return revert("supersede needs a non-zero replacement hash: use revoke to withdraw a document without one");
            }
            if c.replacement == c.document {
                return revert(format!("document {} cannot supersede itself", c.document));
            }
            revoke(s, ctx, c.document, c.replacement, &c.reason)?;
            Ok(Vec::new())
        }
        Calls::batch(c) => {
            let r = read_batch(s, c.root)?.unwrap_or(NotaryRecord {
                submitter: Address::ZERO,
                timestamp: 0,
                block_number: 0,
                count: 0,
                label: String::new(),
            });
            Ok(N::batchCall::abi_encode_returns(&N::batchReturn {
                submitter: r.submitter,
                timestamp: r.timestamp,
                blockNumber: r.block_number,
                count: r.count,
                label: r.label,
            }))
        }
        Calls::revocation(c) => {
            let r = read_revocation(s, c.submitter, c.document)?;
            let revoked = r.is_some();
            let r = r.unwrap_or(Revocation {
                block_number: 0,
                timestamp: 0,
                replacement: B256::ZERO,
                reason: String::new(),
            });
            Ok(N::revocationCall::abi_encode_returns(
                &N::revocationReturn {
                    revoked,
                    blockNumber: r.block_number,
                    timestamp: r.timestamp,
                    replacement: r.replacement,
                    reason: r.reason,
                },
            ))
        }
        Calls::merkleRoot(c) => {
            s.slots.charge(merkle_gas(c.documents.len()))?;
            let root = tally_primitives::merkle::root(&c.documents);
            Ok(N::merkleRootCall::abi_encode_returns(&root))
        }
    }
}

fn stamp(
    s: &mut Store<'_>,
    ctx: &CallCtx,
    documents: &[B256],
    label: &str,
) -> Result<B256, SysError> {
    if documents.is_empty() {
        return revert("a stamp needs at least one document hash");
    }
    if documents.len() > MAX_DOCUMENTS {
        return revert(format!(
            "a stamp holds at most {MAX_DOCUMENTS} documents, not {}: split the batch",
            documents.len()
        ));
    }
    if let Some(i) = documents.iter().position(|d| d.is_zero()) {
        return revert(format!(
            "document {i} of the batch is the zero hash: send each document's SHA-256"
        ));
    }
    if label.len() > MAX_TEXT {
        return revert(format!(
            "a label has at most {MAX_TEXT} bytes, not {}",
            label.len()
        ));
    }
    s.slots.charge(merkle_gas(documents.len()))?;
    let root = tally_primitives::merkle::root(documents);
    if !s.get(batch_slot(root))?.is_zero() {
        let (block, _, _) = unpack(s.get(info_slot(root))?);
        return revert(format!("batch {root} is already stamped in block {block}"));
    }
    let count = documents.len() as u64;
    let commitment = record_commitment(ctx.caller, ctx.timestamp, ctx.block, count, label);
    s.set(batch_slot(root), commitment.into())?;
    s.set(info_slot(root), pack(ctx.block, ctx.timestamp, count))?;
    s.set(submitter_slot(root), addr_word(ctx.caller))?;
    if !label.is_empty() {
        s.set_string(label_slot(root), label)?;
    }
    emit(
        s,
        &ITallyNotary::Stamped {
            root,
            submitter: ctx.caller,
            count,
            label: label.to_owned(),
        },
    )?;
    for (index, document) in documents.iter().enumerate() {
        emit(
            s,
            &ITallyNotary::Notarized {
                document: *document,
                root,
                index: index as u64,
            },
        )?;
    }
    Ok(root)
}

fn revoke(
    s: &mut Store<'_>,
    ctx: &CallCtx,
    document: B256,
    replacement: B256,
    reason: &str,
) -> Result<(), SysError> {
    if document.is_zero() {
        return revert("the document hash is zero: name the document's SHA-256");
    }
    if reason.len() > MAX_TEXT {
        return revert(format!(
            "a reason has at most {MAX_TEXT} bytes, not {}",
            reason.len()
        ));
    }
    let at = revocation_slot(ctx.caller, document);
    if !s.get(at)?.is_zero() {
        let (block, _, _) = unpack(s.get(revoked_info_slot(ctx.caller, document))?);
        return revert(format!(
            "document {document} of {} was already revoked in block {block}",
            ctx.caller
        ));
    }
    let commitment = revocation_commitment(ctx.block, ctx.timestamp, replacement, reason);
    s.set(at, commitment.into())?;
    s.set(
        revoked_info_slot(ctx.caller, document),
        pack(ctx.block, ctx.timestamp, 0),
    )?;
    if !replacement.is_zero() {
        s.set(replacement_slot(ctx.caller, document), replacement.into())?;
    }
    if !reason.is_empty() {
        s.set_string(reason_slot(ctx.caller, document), reason)?;
    }
    emit(
        s,
        &ITallyNotary::Revoked {
            document,
            submitter: ctx.caller,
            replacement,
            reason: reason.to_owned(),
        },
    )
}

fn read_batch(s: &mut Store<'_>, root: B256) -> Result<Option<NotaryRecord>, SysError> {
    if s.get(batch_slot(root))?.is_zero() {
        return Ok(None);
    }
    let (block_number, timestamp, count) = unpack(s.get(info_slot(root))?);
    Ok(Some(NotaryRecord {
        submitter: s.get_addr(submitter_slot(root))?,
        timestamp,
        block_number,
        count,
        label: s.get_string(label_slot(root))?,
    }))
}

fn read_revocation(
    s: &mut Store<'_>,
    submitter: Address,
    document: B256,
) -> Result<Option<Revocation>, SysError> {
    if s.get(revocation_slot(submitter, document))?.is_zero() {
        return Ok(None);
    }
    let (block_number, timestamp, _) = unpack(s.get(revoked_info_slot(submitter, document))?);
    Ok(Some(Revocation {
        block_number,
        timestamp,
        replacement: s.get_b256(replacement_slot(submitter, document))?,
        reason: s.get_string(reason_slot(submitter, document))?,
    }))
}

/// The stamp of the batch with Merkle root `root`, if it was stamped.
pub fn batch<S: StateSource + ?Sized>(
    state: &S,
    root: B256,
) -> Result<Option<NotaryRecord>, StateSourceError> {
    read_at(state, NOTARY, |s| read_batch(s, root))
}

/// `submitter`'s revocation or supersession of `document`, if it made one.
pub fn revocation<S: StateSource + ?Sized>(
    state: &S,
    submitter: Address,
    document: B256,
) -> Result<Option<Revocation>, StateSourceError> {
    read_at(state, NOTARY, |s| read_revocation(s, submitter, document))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_words_round_trip() {
        let w = pack(u64::MAX, 7, u64::MAX - 1);
        assert_eq!(unpack(w), (u64::MAX, 7, u64::MAX - 1));
        assert_eq!(unpack(pack(0, 0, 0)), (0, 0, 0));
    }

    #[test]
    fn merkle_gas_prices_each_hash() {
        assert_eq!(merkle_gas(0), 0);
        assert_eq!(merkle_gas(1), 42);
        // Two leaves and one node.
        assert_eq!(merkle_gas(2), 2 * 42 + 48);
        assert_eq!(merkle_gas(1_000), 1_000 * 42 + 999 * 48);
    }
}
