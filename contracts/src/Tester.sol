// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title Tester
/// @notice Exercises the JSON-RPC paths a node must get right: state writes
/// with events, reverts with a reason string and with a custom error, view
/// calls, and calls that carry value.
contract Tester {
    /// Raised by `failCustom`; its selector and arguments must reach the
    /// caller in the revert data of eth_call / eth_estimateGas.
    error CustomFailure(uint256 code, string message);

    uint256 public value;
    address public lastSender;
    uint256 public totalReceived;

    event ValueChanged(address indexed sender, uint256 indexed oldValue, uint256 newValue);
    event Received(address indexed sender, uint256 amount, uint256 total);

    constructor(uint256 initialValue) {
        value = initialValue;
    }

    /// Stores `newValue` and emits ValueChanged.
    function setValue(uint256 newValue) external {
        emit ValueChanged(msg.sender, value, newValue);
        value = newValue;
        lastSender = msg.sender;
    }

    /// A pure-read view, to test eth_call with arguments.
    function getValuePlus(uint256 delta) external view returns (uint256) {
        return value + delta;
    }

    /// Always reverts with Error(string).
    function failWithReason() external pure {
        revert("Tester: always fails");
    }

    /// Always reverts with the custom error CustomFailure(42, "custom").
    function failCustom() external pure {
        revert CustomFailure(42, "custom");
    }

    /// Reverts with Error(string) only when `fail` is true, so a test can
    /// send one transaction that succeeds and one that fails on chain.
    function maybeFail(bool fail) external {
        require(!fail, "Tester: asked to fail");
        value += 1;
    }

    /// Accepts ETH and records it.
    function deposit() external payable {
        totalReceived += msg.value;
        emit Received(msg.sender, msg.value, totalReceived);
    }

    /// The contract's ETH balance.
    function balance() external view returns (uint256) {
        return address(this).balance;
    }
}
