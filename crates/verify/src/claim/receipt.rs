//! A transaction's receipt: the transaction's path to the transactions
//! root and the receipt's path to the receipts root, at the same position
//! of trees of the same size.

use alloy_primitives::keccak256;
use tally_primitives::Receipt;

use super::{at_block, tx::check_path};
use crate::{check::Block, ReceiptClaim, VerifyError};

pub(super) fn check(c: &ReceiptClaim, block: &Block) -> Result<Vec<String>, VerifyError> {
    check_path(&c.tx_hash, &c.tx_path, block)?;
    // Same index in trees of the same size: the receipt is the one of this
    // transaction (a position is fixed by the path's shape for a given
    // size, and both trees have the block's true size).
    if c.tx_path.index != c.path.index || c.tx_path.leaf_count != c.path.leaf_count {
        return Err(VerifyError::ReceiptPosition {
            tx_index: c.tx_path.index,
            tx_count: c.tx_path.leaf_count,
            receipt_index: c.path.index,
            receipt_count: c.path.leaf_count,
        });
    }
    let root = block.header.receipts_root;
    if !c.path.verify(&root, &keccak256(&c.receipt)) {
        return Err(VerifyError::ReceiptPath { root });
    }
    let receipt: Receipt =
        alloy_rlp::decode_exact(&c.receipt).map_err(|e| VerifyError::ReceiptDecode {
            reason: e.to_string(),
        })?;
    let outcome = if receipt.success {
        "succeeded (status 1)"
    } else {
        "FAILED (status 0, reverted)"
    };
    let logs = match receipt.logs.len() {
        1 => "1 log".to_string(),
        n => format!("{n} logs"),
    };
    Ok(vec![format!(
        "transaction {} in {} {outcome}: it used {} gas ({} for the block up to it) and emitted {logs}",
        c.tx_hash,
        at_block(block),
        receipt.gas_used,
        receipt.cumulative_gas_used,
    )])
}
