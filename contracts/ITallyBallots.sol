// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.0;

/// The ballots system contract of Tally, at
/// 0x0000000000000000000000000000000000001005: shareholder voting on a
/// native asset.
///
/// The asset's issuer opens a ballot: a question, 2 to 16 options and an
/// end block. Opening takes a snapshot of the asset's balances; each holder
/// at the snapshot votes once, for one option, with the weight of its
/// balance then (later transfers change nothing). Votes are accepted up to
/// and including the end block; the tallies are in this contract's storage,
/// so eth_getProof proves them.
interface ITallyBallots {
    struct Ballot {
        uint64 id;
        address token;
        address creator;
        string question;
        string[] options;
        uint64 snapshotId;
        uint64 snapshotBlock;
        uint64 endBlock;
        uint256[] tallies;
        uint64 voters;
        /// The asset's total supply at the snapshot: the most weight that can vote.
        uint256 eligibleWeight;
    }

    event BallotOpened(uint64 indexed id, address indexed token, address indexed creator, string question, uint64 snapshotId, uint64 endBlock);
    event VoteCast(uint64 indexed id, address indexed voter, uint8 option, uint256 weight);

    function open(address token, string calldata question, string[] calldata options, uint64 endBlock) external returns (uint64 id);
    function vote(uint64 id, uint8 option) external;

    function ballotCount() external view returns (uint64);
    function getBallot(uint64 id) external view returns (Ballot memory);
    /// The option `voter` chose plus one (0: has not voted), and its weight.
    function voteOf(uint64 id, address voter) external view returns (uint8 choicePlusOne, uint256 weight);
}
