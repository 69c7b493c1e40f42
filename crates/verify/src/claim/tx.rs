//! A transaction is in the block: its hash's Merkle path to the
//! transactions root, and optionally its bytes to show what it did.

use alloy_consensus::{transaction::SignerRecoverable, Transaction, TxEnvelope};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{keccak256, Bytes, B256};
use tally_primitives::merkle::MerkleProof;

use super::at_block;
use crate::{check::Block, text, TxClaim, VerifyError};

pub(super) fn check(c: &TxClaim, block: &Block) -> Result<Vec<String>, VerifyError> {
    check_path(&c.tx_hash, &c.path, block)?;
    // The path's index and leaf count only shape the path: the root does
    // not commit to the count, so neither is stated as proven.
    let mut lines = vec![format!(
        "transaction {} is in {}",
        c.tx_hash,
        at_block(block)
    )];
    if let Some(raw) = &c.raw {
        lines.push(describe(raw, &c.tx_hash)?);
    }
    Ok(lines)
}

/// Checks that `tx_hash` is a leaf under the header's transactions root.
pub(super) fn check_path(
    tx_hash: &B256,
    path: &MerkleProof,
    block: &Block,
) -> Result<(), VerifyError> {
    let root = block.header.transactions_root;
    if !path.verify(&root, tx_hash) {
        return Err(VerifyError::TxPath { root });
    }
    Ok(())
}

/// Decodes the transaction's EIP-2718 bytes (which must hash to the
/// proven hash) and says who sent what to whom.
fn describe(raw: &Bytes, tx_hash: &B256) -> Result<String, VerifyError> {
    let computed = keccak256(raw);
    if computed != *tx_hash {
        return Err(VerifyError::RawTxHash {
            computed,
            claimed: *tx_hash,
        });
    }
    let tx = TxEnvelope::decode_2718_exact(raw).map_err(|e| VerifyError::RawTxDecode {
        reason: e.to_string(),
    })?;
    let from = tx.recover_signer().map_err(|e| VerifyError::RawTxSender {
        reason: e.to_string(),
    })?;
    let to = match tx.to() {
        Some(to) => format!("to {to}"),
        None => "creating a contract".to_string(),
    };
    Ok(format!(
        "it was sent by {from} {to}, value {}, nonce {}, gas limit {}, {} bytes of input ({} transaction)",
        text::wei(&tx.value()),
        tx.nonce(),
        tx.gas_limit(),
        tx.input().len(),
        tx.tx_type()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Bytes that hash right reach the decoder, which refuses garbage
        /// without panicking.
        #[test]
        fn garbage_transactions_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let raw = Bytes::from(bytes);
            prop_assert!(describe(&raw, &keccak256(&raw)).is_err());
        }
    }

    #[test]
    fn typed_prefixes_with_garbage_are_refused() {
        for prefix in [0x00u8, 0x01, 0x02, 0x03, 0x04, 0x7f, 0xc0, 0xf8] {
            for tail in [&[][..], &[0xc0], &[0xf8, 0xff], &[0xc1, 0x80]] {
                let mut v = vec![prefix];
                v.extend_from_slice(tail);
                let raw = Bytes::from(v);
                assert!(describe(&raw, &keccak256(&raw)).is_err());
            }
        }
    }
}
