//! An account's nonce, balance and code hash, or its absence.

use tally_primitives::{Account, EMPTY_CODE_HASH};

use super::at_block;
use crate::{check::Block, state, text, AccountClaim, VerifyError};

pub(super) fn check(c: &AccountClaim, block: &Block) -> Result<Vec<String>, VerifyError> {
    let account = c.account.as_ref().map(|a| Account {
        nonce: a.nonce,
        balance: a.balance,
        code_hash: a.code_hash,
    });
    let root = block.header.state_root;
    state::verify_account(&c.proof, &root, &c.address, &account).map_err(|source| {
        VerifyError::StateProof {
            what: format!("account {}", c.address),
            root,
            source,
        }
    })?;
    Ok(vec![match account {
        None => format!(
            "account {} does not exist after {} (no nonce, balance or code)",
            c.address,
            at_block(block)
        ),
        Some(a) => format!(
            "account {} after {}: nonce {}, balance {}, code hash {} ({})",
            c.address,
            at_block(block),
            a.nonce,
            text::wei(&a.balance),
            a.code_hash,
            if a.code_hash == EMPTY_CODE_HASH {
                "no code"
            } else {
                "a contract"
            }
        ),
    }])
}
