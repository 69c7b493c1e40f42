//! Tables of the chain database and the schema version.
//!
//! Bump [`SCHEMA_VERSION`] whenever a table's key or value encoding changes:
//! a node refuses to open a database written with another layout rather than
//! misreading it.
//!
//! Key layouts (all integers big-endian, so redb's byte order is numeric order):
//! - block tables are keyed by block number (`u64`);
//! - state tables by `address` (20 bytes) or `address ++ slot` (52 bytes);
//! - history tables append the block number that changed the value, so all
//!   versions of one key are adjacent and sorted by block;
//! - trie nodes by `version (block number) ++ nibble path`, so all nodes
//!   created by blocks above N form one range (unwind deletes it).

use redb::TableDefinition;

/// Version of the table layout below.
pub const SCHEMA_VERSION: u32 = 3;

/// `META` keys.
pub const META_SCHEMA_VERSION: &str = "schema_version";
/// Number of the latest committed block (`u64` big-endian).
pub const META_HEAD: &str = "head";
/// Hash of the chain spec the genesis was built from (32 bytes).
pub const META_GENESIS_SPEC: &str = "genesis_spec_hash";
/// The highest block whose transactions are all in [`TX_LOOKUP`] (`u64`
/// big-endian): the blocks above it are indexed in memory and written in
/// batches. Absent in files written before batching: every block is in
/// the table.
pub const META_LOOKUP_MARK: &str = "tx_lookup_mark";

pub const META: TableDefinition<'static, &str, &[u8]> = TableDefinition::new("meta");

/// number -> RLP header (canonical chain only: other blocks are in [`SIDE_BLOCKS`]).
pub const HEADERS: TableDefinition<'static, u64, &[u8]> = TableDefinition::new("headers");
/// number -> block hash.
pub const CANONICAL: TableDefinition<'static, u64, &[u8; 32]> = TableDefinition::new("canonical");
/// block hash -> number.
pub const HEADER_NUMBERS: TableDefinition<'static, &[u8; 32], u64> =
    TableDefinition::new("header_numbers");
/// number -> RLP body (transactions and senders).
pub const BODIES: TableDefinition<'static, u64, &[u8]> = TableDefinition::new("bodies");
/// number -> RLP list of receipts.
pub const RECEIPTS: TableDefinition<'static, u64, &[u8]> = TableDefinition::new("receipts");
/// tx hash -> block number ++ index (16 bytes).
pub const TX_LOOKUP: TableDefinition<'static, &[u8; 32], &[u8; 16]> =
    TableDefinition::new("tx_lookup");

/// address -> account (see [`crate::codec::encode_account`]), current state.
pub const ACCOUNTS: TableDefinition<'static, &[u8; 20], &[u8]> = TableDefinition::new("accounts");
/// address ++ slot -> non-zero value, current state.
pub const STORAGE: TableDefinition<'static, &[u8; 52], &[u8; 32]> = TableDefinition::new("storage");
/// code hash -> bytecode. Content-addressed, never deleted.
pub const CODE: TableDefinition<'static, &[u8; 32], &[u8]> = TableDefinition::new("code");

/// address ++ block -> the account *before* that block changed it (empty:
/// absent). The value after block n is the first entry with block > n, or
/// the current value when there is none.
pub const ACCOUNT_HISTORY: TableDefinition<'static, &[u8; 28], &[u8]> =
    TableDefinition::new("account_history");
/// address ++ slot ++ block -> the slot before that block changed it (zero: absent).
pub const STORAGE_HISTORY: TableDefinition<'static, &[u8; 60], &[u8; 32]> =
    TableDefinition::new("storage_history");
/// block -> every key the block changed with its previous value, in one
/// record (see [`crate::codec::Changeset`]): what unwind restores.
pub const CHANGESETS: TableDefinition<'static, u64, &[u8]> = TableDefinition::new("changesets");

/// Jellyfish Merkle tree nodes: version ++ borsh(nibble path) -> borsh(node).
pub const TRIE_NODES: TableDefinition<'static, &[u8], &[u8]> = TableDefinition::new("trie_nodes");

/// block hash -> RLP block (header and transactions): blocks kept off the
/// canonical chain (side branches, blocks a reorg unwound) until they fall
/// below the final block.
pub const SIDE_BLOCKS: TableDefinition<'static, &[u8; 32], &[u8]> =
    TableDefinition::new("side_blocks");
/// block hash -> fork-choice weight of the chain ending at that block
/// (`u128` big-endian), for every kept block, canonical or not.
pub const WEIGHTS: TableDefinition<'static, &[u8; 32], &[u8; 16]> = TableDefinition::new("weights");

/// block number -> RLP commit certificate (BFT chains).
pub const CERTIFICATES: TableDefinition<'static, u64, &[u8]> = TableDefinition::new("certificates");
/// height ++ round ++ kind -> a message this validator signed (BFT
/// write-ahead log; see [`crate::consensus`]).
pub const BFT_WAL: TableDefinition<'static, &[u8; 13], &[u8]> = TableDefinition::new("bft_wal");
