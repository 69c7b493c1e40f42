// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.0;

/// The notary system contract of Tally, at
/// 0x0000000000000000000000000000000000001006: timestamps batches of
/// document hashes, so anyone holding a document can later prove it existed
/// no later than a block, and who vouched for it.
///
/// Documents never reach the chain: the submitter hashes each one with
/// SHA-256 and sends the hashes. The contract commits to the batch's Merkle
/// root (Tally's binary tree: leaves keccak256(0x00 ‖ hash), nodes
/// keccak256(0x01 ‖ left ‖ right), an odd node carried up), and logs one
/// Notarized event per document so the node can find a document's batch and
/// rebuild its inclusion proof from the receipt.
///
/// Storage (what a storage proof covers): keccak256("batch" ‖ root) holds
/// keccak256(abi.encode(submitter, timestamp, blockNumber, count,
/// keccak256(label))); keccak256("revoked" ‖ submitter ‖ document) holds
/// keccak256(abi.encode(blockNumber, timestamp, replacement,
/// keccak256(reason))) once the submitter revokes or supersedes it.
///
/// Every refusal reverts with a reason.
interface ITallyNotary {
    /// A batch was stamped in this block.
    event Stamped(bytes32 indexed root, address indexed submitter, uint64 count, string label);
    /// `document` is at position `index` of the batch with root `root`.
    event Notarized(bytes32 indexed document, bytes32 indexed root, uint64 index);
    /// `submitter` withdrew its stamps of `document`; `replacement` (zero
    /// for a plain revocation) is the document that takes its place.
    event Revoked(bytes32 indexed document, address indexed submitter, bytes32 replacement, string reason);

    /// Stamps 1 to 20,000 non-zero document hashes under a label of at most
    /// 256 bytes; returns the batch's Merkle root. A root is stamped once.
    function stamp(bytes32[] calldata documents, string calldata label) external returns (bytes32 root);
    /// Withdraws the caller's stamps of `document` (once; reason at most
    /// 256 bytes).
    function revoke(bytes32 document, string calldata reason) external;
    /// As revoke, naming the non-zero document that replaces it.
    function supersede(bytes32 document, bytes32 replacement, string calldata reason) external;

    /// The stamp of the batch with `root`; all zero when it was never stamped.
    function batch(bytes32 root) external view returns (address submitter, uint64 timestamp, uint64 blockNumber, uint64 count, string memory label);
    /// Whether `submitter` revoked `document`, and when, by what, and why.
    function revocation(address submitter, bytes32 document) external view returns (bool revoked, uint64 blockNumber, uint64 timestamp, bytes32 replacement, string memory reason);
    /// The Merkle root stamp would compute for `documents`.
    function merkleRoot(bytes32[] calldata documents) external view returns (bytes32);
}
