//! One module per page. Each renders a [`crate::html::Page`] or answers a
//! [`crate::error::PageError`]; the helpers here are shared by several.

pub mod address;
pub mod block;
pub mod consensus;
pub mod home;
pub mod notary;
pub mod search;
pub mod sql;
pub mod token;
pub mod trace;
pub mod tx;

use alloy_consensus::Transaction;
use alloy_primitives::{Address, B256, U256};
use tally_primitives::{SealedBlock, TxEnvelope};
use tally_rpc::{Backend, BackendError};

use crate::{error::PageError, format, html};

/// What a page says in place of a section that needs the SQL index.
pub fn index_notice(e: &BackendError) -> String {
    match e {
        BackendError::Unavailable(m) => html::notice(&format!(
            "This section needs the SQL index, and {m}: restart the node without --no-index \
             to see it."
        )),
        other => html::notice(&format!("The SQL index could not answer: {other}")),
    }
}

/// The canonical block `number`, or a 404 that says how high the chain is.
pub fn block_at(backend: &dyn Backend, number: u64) -> Result<SealedBlock, PageError> {
    backend.block_by_number(number)?.ok_or_else(|| {
        PageError::not_found(
            "Block not found",
            format!(
                "there is no block {number} yet: the chain's head is block {}",
                backend.head().number
            ),
        )
    })
}

/// Where a transaction goes: its recipient, or the contract it creates.
pub fn recipient_cell(tx: &TxEnvelope, sender: Address) -> String {
    match tx.to() {
        Some(to) => html::addr_link(&to),
        None => {
            let created = sender.create(tx.nonce());
            format!(
                "{} {}",
                html::badge("info", "create"),
                html::addr_link(&created)
            )
        }
    }
}

/// A row of a transaction list: hash, block, from, to, value.
pub fn tx_row(hash: &B256, block: u64, from: &Address, to: String, value: U256) -> Vec<String> {
    vec![
        html::tx_link(hash),
        html::block_link(block),
        html::addr_link(from),
        to,
        html::esc(&format::eth(value)),
    ]
}

/// The status badge of a receipt.
pub fn status_badge(success: bool) -> String {
    if success {
        html::badge("ok", "Success")
    } else {
        html::badge("fail", "Failed")
    }
}
