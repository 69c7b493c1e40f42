//! The assets, token and ballots interfaces, bound from the same `.sol`
//! files the executor binds (`tally_executor::system::abi`), so the CLI
//! encodes exactly what the node decodes without depending on the
//! executor crate.

use alloy_primitives::{address, Address};

alloy_sol_types::sol!("../../contracts/ITallyAssets.sol");
alloy_sol_types::sol!("../../contracts/ITallyAsset.sol");
alloy_sol_types::sol!("../../contracts/ITallyBallots.sol");

/// The assets registry (`tally_executor::system::ASSETS`).
pub const ASSETS: Address = address!("0000000000000000000000000000000000001003");
/// Shareholder ballots (`tally_executor::system::BALLOTS`).
pub const BALLOTS: Address = address!("0000000000000000000000000000000000001005");
