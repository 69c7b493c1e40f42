//! The Solidity interfaces of the system contracts, generated from the
//! `.sol` files in `contracts/` so wallets, tests and the node share one
//! definition.

alloy_sol_types::sol!(
    #[sol(all_derives)]
    "../../contracts/ITallyRoles.sol"
);
alloy_sol_types::sol!(
    #[sol(all_derives)]
    "../../contracts/ITallyGovernance.sol"
);
alloy_sol_types::sol!(
    #[sol(all_derives)]
    "../../contracts/ITallyAssets.sol"
);
alloy_sol_types::sol!(
    #[sol(all_derives)]
    "../../contracts/ITallyAsset.sol"
);
alloy_sol_types::sol!(
    #[sol(all_derives)]
    "../../contracts/ITallySettlement.sol"
);
alloy_sol_types::sol!(
    #[sol(all_derives)]
    "../../contracts/ITallyBallots.sol"
);
alloy_sol_types::sol!(
    #[sol(all_derives)]
    "../../contracts/ITallyNotary.sol"
);
alloy_sol_types::sol!(
    #[sol(all_derives)]
    "../../contracts/ITallyTrace.sol"
);
