// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.0;

/// The ERC-20 face of one Tally native asset, at the token address the
/// assets contract (ITallyAssets, 0x…1003) gave it at issue. Transfers obey
/// the asset's policy and revert with the reason when they break it.
interface ITallyAsset {
    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    function name() external view returns (string memory);
    function symbol() external view returns (string memory);
    function decimals() external view returns (uint8);
    function totalSupply() external view returns (uint256);
    function balanceOf(address account) external view returns (uint256);
    function allowance(address owner, address spender) external view returns (uint256);
    function transfer(address to, uint256 value) external returns (bool);
    function approve(address spender, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);

    /// The asset's issuer and regulator (address(0) when none).
    function issuer() external view returns (address);
    function regulator() external view returns (address);
    function cap() external view returns (uint256);
    function paused() external view returns (bool);
    /// The balance `account` held when snapshot `snapshotId` was taken (a
    /// ballot takes one when it opens).
    function balanceOfAt(address account, uint64 snapshotId) external view returns (uint256);
    function totalSupplyAt(uint64 snapshotId) external view returns (uint256);
}
