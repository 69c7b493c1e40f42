//! The settlement contract's interface, bound from the same `.sol` file
//! the executor binds, and the EIP-712 digest its parties sign.

use alloy_primitives::{address, Address, B256, U256};
use alloy_sol_types::{Eip712Domain, SolStruct};
use std::borrow::Cow;

alloy_sol_types::sol!(
    #[sol(all_derives)]
    "../../contracts/ITallySettlement.sol"
);

/// The settlement contract (`tally_executor::system::SETTLEMENT`).
pub const SETTLEMENT: Address = address!("0000000000000000000000000000000000001004");

/// The digest both parties sign and the instruction's id: EIP-712 under
/// the domain "Tally Settlement" version 1 of `chain_id` and
/// [`SETTLEMENT`], as the contract computes it.
pub fn digest(chain_id: u64, ins: &ITallySettlement::Instruction) -> B256 {
    let domain = Eip712Domain::new(
        Some(Cow::Borrowed("Tally Settlement")),
        Some(Cow::Borrowed("1")),
        Some(U256::from(chain_id)),
        Some(SETTLEMENT),
        None,
    );
    ins.eip712_signing_hash(&domain)
}
