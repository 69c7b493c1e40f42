// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.0;

/// The traceability system contract of Tally, at
/// 0x0000000000000000000000000000000000001007: the history of products
/// through a supply chain, written by the parties a registry authorises.
///
/// Anyone may create a registry and becomes its admin. The admin gives
/// parties a role in it: 1 manufacturer, 2 shipper, 3 warehouse,
/// 4 retailer, 5 inspector (0 removes the party). A manufacturer registers
/// products (IDs unique across the contract); any party with a role then
/// appends events to them: a status, a location and the hashes of
/// supporting documents (which the notary can stamp).
///
/// Storage (what a storage proof covers): keccak256("head" ‖
/// keccak256(productId)) holds a hash chain that starts at the
/// registration, keccak256(abi.encode(product, registry, manufacturer,
/// timestamp, blockNumber, keccak256(description))), and takes in each event
/// as keccak256(abi.encode(previous, party, uint16(role), timestamp,
/// blockNumber, keccak256(status), keccak256(location),
/// keccak256(abi.encode(documents)))).
///
/// Every refusal reverts with a reason.
interface ITallyTrace {
    event RegistryCreated(uint64 indexed registry, address indexed admin, string name);
    event PartyAuthorized(uint64 indexed registry, address indexed party, uint8 role);
    event ProductRegistered(bytes32 indexed product, uint64 indexed registry, address indexed manufacturer, string productId, string description);
    event TraceEvent(bytes32 indexed product, address indexed party, uint64 index, uint8 role, string status, string location, bytes32[] documents);

    /// Creates a registry named by 1 to 128 bytes, with the caller as admin;
    /// ids count from 1.
    function createRegistry(string calldata name) external returns (uint64 id);
    /// Admin only: gives `party` a role (1 to 5) in the registry, or
    /// removes it (0).
    function authorize(uint64 registry, address party, uint8 role) external;
    /// A manufacturer of the registry registers a product: an ID of 1 to
    /// 128 bytes, unused so far, and a description of at most 1024 bytes.
    function registerProduct(string calldata productId, uint64 registry, string calldata description) external;
    /// A party with a role in the product's registry records an event: a
    /// status of 1 to 128 bytes, a location of at most 256 and at most 16
    /// non-zero document hashes.
    function appendEvent(string calldata productId, string calldata status, string calldata location, bytes32[] calldata documents) external;

    /// The registry's admin and name; zero and empty when it does not exist.
    function registry(uint64 id) external view returns (address admin, string memory name);
    /// The party's role in the registry; 0 for none.
    function roleOf(uint64 registry, address party) external view returns (uint8);
    /// The product's registration and its number of events; all zero when
    /// it is not registered.
    function product(string calldata productId) external view returns (uint64 registry, address manufacturer, uint64 timestamp, uint64 blockNumber, string memory description, uint64 eventCount);
    /// The product's event number `index` (from 0).
    function eventAt(string calldata productId, uint64 index) external view returns (address party, uint8 role, uint64 timestamp, uint64 blockNumber, string memory status, string memory location, bytes32[] memory documents);
}
