//! Claims checked against the roots of the proven header: one module per
//! kind, each returning what it proved in plain words.

mod account;
mod notary;
mod receipt;
mod storage;
mod trace;
mod tx;

use alloy_primitives::B256;

use crate::{check::Block, Claim, VerifyError};

pub(crate) fn check(
    claim: &Claim,
    block: &Block,
    document: Option<B256>,
) -> Result<Vec<String>, VerifyError> {
    let no_document = |kind| match document {
        Some(_) => Err(VerifyError::DocumentNotApplicable { kind }),
        None => Ok(()),
    };
    match claim {
        Claim::Transaction(c) => {
            no_document("transaction")?;
            tx::check(c, block)
        }
        Claim::Receipt(c) => {
            no_document("receipt")?;
            receipt::check(c, block)
        }
        Claim::Account(c) => {
            no_document("account")?;
            account::check(c, block)
        }
        Claim::Storage(c) => {
            no_document("storage")?;
            storage::check(c, block)
        }
        Claim::Notary(c) => notary::check(c, block, document),
        Claim::Trace(c) => trace::check(c, block, document),
    }
}

/// "block 12 (2026-12-01T10:00:00Z (UTC))": how lines name the proven block.
fn at_block(block: &Block) -> String {
    format!(
        "block {} ({})",
        block.header.number,
        crate::text::utc(block.header.timestamp)
    )
}
