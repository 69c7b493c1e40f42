// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.0;

/// The governance system contract of Tally consortium chains, at
/// 0x0000000000000000000000000000000000001001 (a native contract run by the
/// node; its state lives in this address's storage).
///
/// Member accounts propose and vote. A proposal passes once its yes votes
/// reach threshold() (the chain spec's percentage of members, rounded up;
/// the proposer's own vote counts as yes) and takes effect at exactly its
/// effectiveHeight: the node applies it at the end of block
/// effectiveHeight - 1. One still pending when that block ends expires.
///
/// Proposal kinds: 1 add validator, 2 remove validator, 3 add member,
/// 4 remove member, 5 set parameter, 6 grant role, 7 revoke role.
/// Statuses: 1 pending, 2 passed, 3 rejected, 4 executed, 5 expired,
/// 6 failed (passed, but could not be applied, e.g. removing the last
/// validator). Parameters: 1 block gas limit, 2 block time (ms),
/// 3 minimum gas price (wei).
interface ITallyGovernance {
    struct Proposal {
        uint8 kind;
        address proposer;
        uint8 status;
        uint64 yes;
        uint64 no;
        uint64 effectiveHeight;
        uint64 createdBlock;
        /// 0 until executed.
        uint64 executedBlock;
        string memo;
        /// Validator key (kinds 1, 2) or member node key (kind 3).
        bytes32 key;
        /// Member account (kinds 3, 4) or the account of a role change (6, 7).
        address account;
        /// Member name (kind 3).
        string name;
        /// Parameter number (kind 5).
        uint8 param;
        /// Validator power (1), parameter value (5) or role mask (6, 7).
        uint256 value;
    }

    event Proposed(uint64 indexed id, address indexed proposer, uint8 kind, uint64 effectiveHeight);
    event Voted(uint64 indexed id, address indexed voter, bool support);
    event Passed(uint64 indexed id);
    event Rejected(uint64 indexed id);
    event Executed(uint64 indexed id, uint64 height);
    event Expired(uint64 indexed id);
    event EvidenceRecorded(bytes32 indexed validator, uint64 height, uint32 round, uint8 kind);

    function proposeAddValidator(bytes32 key, uint64 power, uint64 effectiveHeight, string calldata memo) external returns (uint64 id);
    function proposeRemoveValidator(bytes32 key, uint64 effectiveHeight, string calldata memo) external returns (uint64 id);
    function proposeAddMember(string calldata name, address account, bytes32 nodeKey, uint64 effectiveHeight, string calldata memo) external returns (uint64 id);
    function proposeRemoveMember(address account, uint64 effectiveHeight, string calldata memo) external returns (uint64 id);
    function proposeSetParam(uint8 param, uint256 value, uint64 effectiveHeight, string calldata memo) external returns (uint64 id);
    function proposeGrantRole(address account, uint8 mask, uint64 effectiveHeight, string calldata memo) external returns (uint64 id);
    function proposeRevokeRole(address account, uint8 mask, uint64 effectiveHeight, string calldata memo) external returns (uint64 id);

    /// Votes on a pending proposal; each member votes once.
    function vote(uint64 id, bool support) external;

    /// Proposal ids run from 1 to proposalCount().
    function proposalCount() external view returns (uint64);
    function getProposal(uint64 id) external view returns (Proposal memory);

    function validators() external view returns (bytes32[] memory keys, uint64[] memory powers);
    function members() external view returns (string[] memory names, address[] memory accounts, bytes32[] memory nodeKeys);
    function params() external view returns (uint64 gasLimit, uint64 blockTimeMs, uint64 minGasPrice);
    /// Yes votes a proposal needs with today's members.
    function threshold() external view returns (uint64 votesNeeded);

    /// Equivocation evidence recorded from block headers, indices 0 to evidenceCount() - 1.
    function evidenceCount() external view returns (uint64);
    function getEvidence(uint64 index) external view returns (bytes32 validator, uint64 height, uint32 round, uint8 kind, bytes32 firstValue, bytes32 secondValue, bytes32 hash);
}
