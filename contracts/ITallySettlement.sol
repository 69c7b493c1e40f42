// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.0;

/// The settlement system contract of Tally, at
/// 0x0000000000000000000000000000000000001004: delivery versus payment.
///
/// An instruction has two legs: `amountA` of `assetA` from partyA to
/// partyB, and `amountB` of `assetB` from partyB to partyA. An asset is a
/// Tally native asset's token address, or address(0) for the chain's coin
/// (ETH). Both parties sign the instruction's EIP-712 digest (domain: name
/// "Tally Settlement", version "1", the chain id, this contract's address);
/// either submits it, and may leave its own signature empty. Both legs move
/// in one transaction or neither does; an instruction settles at most once,
/// and not after `expiry` (unix seconds, compared with the block time).
///
/// settleBatch settles many instructions all or nothing, with netting: each
/// account's balance of each asset moves once, by its net amount, so the
/// batch succeeds when every account can cover its net debit, in whatever
/// order the instructions were listed. Every leg still emits its Transfer.
interface ITallySettlement {
    struct Instruction {
        address partyA;
        address partyB;
        address assetA;
        uint256 amountA;
        address assetB;
        uint256 amountB;
        /// Unix seconds; the block time must not be past it.
        uint64 expiry;
        /// Makes otherwise equal instructions distinct.
        uint256 nonce;
    }

    event Settled(bytes32 indexed id, address indexed partyA, address indexed partyB, address submitter);
    event BatchSettled(uint64 instructions, uint64 netMovements, address indexed submitter);

    /// Settles one instruction (both legs or neither).
    function settle(Instruction calldata instruction, bytes calldata signatureA, bytes calldata signatureB) external returns (bytes32 id);
    /// Settles every instruction with netting, or none.
    function settleBatch(Instruction[] calldata instructions, bytes[] calldata signaturesA, bytes[] calldata signaturesB) external returns (uint64 netMovements);

    /// The EIP-712 digest the parties sign; it is also the instruction's id.
    function digestOf(Instruction calldata instruction) external view returns (bytes32);
    /// Whether the instruction with this id settled, and in which block (0 if not).
    function settledAt(bytes32 id) external view returns (uint64 blockNumber);
}
