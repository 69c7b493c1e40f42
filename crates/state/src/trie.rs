//! The state commitment: one Jellyfish Merkle tree (jmt, SHA-256 nodes)
//! versioned by block number.
//!
//! One flat tree holds accounts and storage slots:
//! - an account's leaf key is `keccak256(address)` (20-byte preimage) and its
//!   value the 72-byte [`encode_account`] layout;
//! - a slot's leaf key is `keccak256(address ++ slot)` (52-byte preimage) and
//!   its value the slot as 32 big-endian bytes; zero slots are absent.
//!
//! The preimages have different lengths, so account and slot keys cannot
//! collide, and storage proofs are checked against the same state root as
//! accounts. The tree of block N is jmt version N; nodes are stored in
//! [`TRIE_NODES`] under `version ++ path`, are never rewritten, and unwinding
//! to N deletes the versions above N.

use alloy_primitives::{keccak256, Address, B256, U256};
use jmt::{
    storage::{LeafNode, Node, NodeKey, TreeReader},
    KeyHash, OwnedValue, Sha256Jmt, Version,
};
use redb::ReadableTable;
use std::collections::HashMap;
use tally_primitives::Account;
use tally_storage::{codec::encode_account, keys, schema::TRIE_NODES};

pub fn account_key(a: &Address) -> KeyHash {
    KeyHash(keccak256(a).0)
}

pub fn storage_key(a: &Address, slot: &U256) -> KeyHash {
    KeyHash(keccak256(keys::storage_key(a, slot)).0)
}

pub fn account_value(a: &Option<Account>) -> Option<OwnedValue> {
    a.as_ref().map(|a| encode_account(a).to_vec())
}

pub fn storage_value(v: &U256) -> Option<OwnedValue> {
    (!v.is_zero()).then(|| v.to_be_bytes::<32>().to_vec())
}

pub fn node_key_bytes(key: &NodeKey) -> Result<Vec<u8>, std::io::Error> {
    let path = borsh::to_vec(key.nibble_path())?;
    Ok(keys::trie_node_key(key.version(), &path))
}

pub fn root_of(r: jmt::RootHash) -> B256 {
    B256::from(r.0)
}

/// Reads tree nodes from a redb table (read or write transaction). jmt asks
/// for leaf values only when building proofs; `values` supplies them.
pub struct NodeReader<T> {
    table: T,
    values: HashMap<KeyHash, OwnedValue>,
}

impl<T: ReadableTable<&'static [u8], &'static [u8]>> NodeReader<T> {
    pub fn new(table: T) -> Self {
        NodeReader {
            table,
            values: HashMap::new(),
        }
    }

    pub fn with_value(&mut self, key: KeyHash, value: Option<OwnedValue>) {
        if let Some(v) = value {
            self.values.insert(key, v);
        }
    }

    pub fn tree(&self) -> Sha256Jmt<'_, Self> {
        Sha256Jmt::new(self)
    }
}

impl<T: ReadableTable<&'static [u8], &'static [u8]>> TreeReader for NodeReader<T> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        let key = node_key_bytes(node_key)?;
        match self.table.get(key.as_slice())? {
            Some(v) => Ok(Some(borsh::from_slice(v.value())?)),
            None => Ok(None),
        }
    }

    fn get_value_option(
        &self,
        _max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        Ok(self.values.get(&key_hash).cloned())
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        anyhow::bail!("the rightmost leaf is only needed to restore a tree, which Tally never does")
    }
}

/// Tree nodes of one block, encoded for [`TRIE_NODES`].
pub fn encode_nodes(
    batch: &jmt::storage::TreeUpdateBatch,
) -> Result<Vec<(Vec<u8>, Vec<u8>)>, std::io::Error> {
    batch
        .node_batch
        .nodes()
        .iter()
        .map(|(k, n)| Ok((node_key_bytes(k)?, borsh::to_vec(n)?)))
        .collect()
}

/// Reference used by tests and the ADR: a tree built in memory from scratch.
#[doc(hidden)]
pub fn root_from_scratch(leaves: impl IntoIterator<Item = (KeyHash, OwnedValue)>) -> B256 {
    let mock = MemReader::default();
    let tree = Sha256Jmt::new(&mock);
    let set: Vec<_> = leaves.into_iter().map(|(k, v)| (k, Some(v))).collect();
    match tree.put_value_set(set, 0) {
        Ok((root, _)) => root_of(root),
        // An in-memory tree with no nodes yet cannot fail to read.
        Err(_) => B256::ZERO,
    }
}

#[derive(Default)]
struct MemReader;

impl TreeReader for MemReader {
    fn get_node_option(&self, _: &NodeKey) -> anyhow::Result<Option<Node>> {
        Ok(None)
    }
    fn get_value_option(&self, _: Version, _: KeyHash) -> anyhow::Result<Option<OwnedValue>> {
        Ok(None)
    }
    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        Ok(None)
    }
}

/// The table type handed to [`NodeReader`] in read transactions.
pub type ReadNodes = redb::ReadOnlyTable<&'static [u8], &'static [u8]>;
pub const NODES: redb::TableDefinition<'static, &'static [u8], &'static [u8]> = TRIE_NODES;
