// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.0;

/// The roles system contract of Tally consortium chains, at
/// 0x0000000000000000000000000000000000001002 (a native contract run by the
/// node; its state lives in this address's storage).
///
/// Role bits: 1 admin, 2 deployer, 4 transactor, 8 auditor. On a
/// permissioned chain a contract creation needs deployer or admin, any other
/// transaction needs transactor or admin; an auditor (or an account without
/// roles) may only read.
interface ITallyRoles {
    event RoleGranted(address indexed account, uint8 mask, address indexed by);
    event RoleRevoked(address indexed account, uint8 mask, address indexed by);

    /// The role bits of `account`.
    function rolesOf(address account) external view returns (uint8);

    /// Whether `account` holds every bit of `role`.
    function hasRole(address account, uint8 role) external view returns (bool);

    /// Whether the chain enforces roles on transactions.
    function permissioned() external view returns (bool);

    /// Adds the bits of `mask` to `account`'s roles; only an admin may call it.
    function grantRole(address account, uint8 mask) external;

    /// Removes the bits of `mask` from `account`'s roles; only an admin may call it.
    function revokeRole(address account, uint8 mask) external;
}
