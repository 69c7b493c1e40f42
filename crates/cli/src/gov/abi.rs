//! The system contracts' Solidity interfaces, bound from the same `.sol`
//! files the executor binds (`tally_executor::system::abi`), so the CLI
//! encodes exactly what the node decodes without depending on the
//! executor crate.

use alloy_primitives::{address, Address};

alloy_sol_types::sol!(
    #[sol(all_derives)]
    "../../contracts/ITallyGovernance.sol"
);
alloy_sol_types::sol!(
    #[sol(all_derives)]
    "../../contracts/ITallyRoles.sol"
);

/// The governance contract (`tally_executor::system::GOVERNANCE`).
pub const GOVERNANCE: Address = address!("0000000000000000000000000000000000001001");
/// The roles contract (`tally_executor::system::ROLES`).
pub const ROLES: Address = address!("0000000000000000000000000000000000001002");
