// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.0;

/// The assets system contract of Tally, at
/// 0x0000000000000000000000000000000000001003 (a native contract run by the
/// node; it keeps the asset count, and each asset's state lives in the
/// storage of its own token address, as an ERC-20 contract's would).
///
/// Anyone may issue an asset. Each asset is also an ERC-20 token at its own
/// address (ITallyAsset), 0xa55e7000000000000000000000000000000000NN with
/// the asset's number NN (from 1) in the last eight bytes, so wallets and
/// tools see name, symbol, balances and Transfer events unchanged.
///
/// The issuer mints (within the cap) and burns from its own balance. The
/// policy, the allowlist, freezes, purpose tags and the pause are set by the
/// issuer or the asset's regulator; only the regulator claws back. Every
/// refusal reverts with a reason.
interface ITallyAssets {
    /// Rules every movement of the asset obeys (mint, transfer, settlement).
    struct Policy {
        /// Holders must be on the asset's allowlist (KYC); the issuer and
        /// the regulator always are.
        bool allowlist;
        /// The most one account may hold, in base units; 0 for no limit.
        /// The issuer is exempt.
        uint256 maxHolding;
        /// Purpose-bound money: when not empty, holders may only pay
        /// accounts tagged for this asset (setTagged), or the issuer; the
        /// issuer's own payments (and mints) go to anyone.
        string purpose;
    }

    struct Info {
        address token;
        uint64 id;
        string name;
        string symbol;
        uint8 decimals;
        uint256 cap;
        uint256 totalSupply;
        address issuer;
        address regulator;
        bool paused;
        Policy policy;
        uint64 holders;
        uint64 issuedBlock;
    }

    event AssetIssued(address indexed token, address indexed issuer, uint64 id, string name, string symbol, uint8 decimals, uint256 cap, address regulator);
    event PolicyChanged(address indexed token, address indexed by, bool allowlist, uint256 maxHolding, string purpose);
    event RegulatorChanged(address indexed token, address indexed regulator, address indexed by);
    event Minted(address indexed token, address indexed to, uint256 amount);
    event Burned(address indexed token, address indexed from, uint256 amount);
    event AllowlistChanged(address indexed token, address indexed account, bool allowed, address by);
    event FreezeChanged(address indexed token, address indexed account, bool frozen, address by);
    event TagChanged(address indexed token, address indexed account, bool tagged, address by);
    event PauseChanged(address indexed token, bool paused, address by);
    event Clawback(address indexed token, address indexed from, address indexed to, uint256 amount, string reason);

    /// Issues a new asset with the caller as issuer; returns its token address.
    /// regulator may be address(0) (then only the issuer manages the policy).
    function issue(string calldata name, string calldata symbol, uint8 decimals, uint256 cap, address regulator, Policy calldata policy) external returns (address token);

    /// Issuer only: creates `amount` new units for `to`, within the cap.
    function mint(address token, address to, uint256 amount) external;
    /// Issuer only: destroys `amount` units of the issuer's own balance.
    function burn(address token, uint256 amount) external;

    function setPolicy(address token, Policy calldata policy) external;
    /// Issuer only.
    function setRegulator(address token, address regulator) external;
    function setAllowed(address token, address account, bool allowed) external;
    function setFrozen(address token, address account, bool frozen) external;
    function setTagged(address token, address account, bool tagged) external;
    function setPaused(address token, bool paused) external;
    /// Regulator only: moves `amount` from `from` back to the issuer,
    /// whatever the policy, with the reason on record.
    function clawback(address token, address from, uint256 amount, string calldata reason) external;

    function assetCount() external view returns (uint64);
    /// The token address of asset number `id` (from 1).
    function tokenOf(uint64 id) external view returns (address);
    function getAsset(address token) external view returns (Info memory);
    /// Holders with a non-zero balance, `count` from position `start`.
    function holders(address token, uint64 start, uint64 count) external view returns (address[] memory accounts, uint256[] memory balances);
    function flagsOf(address token, address account) external view returns (bool allowed, bool frozen, bool tagged);
}
