//! The state commitment: one Jellyfish Merkle tree (jmt, SHA-256 nodes)
//! versioned by block number.
//!
//! One flat tree holds accounts and storage slots:
//! - an account's leaf key is `keccak256(address)` (20-byte preimage) and its
//!   value the 72-byte layout nonce ‖ balance ‖ code hash;
//! - a slot's leaf key is `keccak256(address ++ slot)` (52-byte preimage) and
//!   its value the slot as 32 big-endian bytes; zero slots are absent.
//!
//! The preimages have different lengths, so account and slot keys cannot
//! collide, and storage proofs are checked against the same state root as
//! accounts. The keys and values are defined once, in
//! `tally_verify::state`, which the offline proof checker uses too.
//!
//! The tree of block N is jmt version 2N. A block's deletions are applied
//! first, key by key, as version 2N-1; its inserts and updates then go
//! through jmt's sorted batch insert as version 2N, which hashes each
//! touched node once instead of once per key (key-by-key updates cost ~10x
//! more). Nodes are stored in [`TRIE_NODES`] under `version ++ path`, are
//! never rewritten, and unwinding to block N deletes the versions above 2N.
//! A sync run may skip the trees of its earlier blocks
//! ([`crate::BlockBatch::keep_trees_from`]); [`tree_kept`] tells which are whole.

use alloy_primitives::B256;
use jmt::{
    storage::{LeafNode, NibblePath, Node, NodeKey, TreeReader},
    KeyHash, OwnedValue, Sha256Jmt, Version,
};
use redb::ReadableTable;
use std::collections::HashMap;
use tally_storage::{keys, schema::TRIE_NODES};

pub use tally_verify::state::{account_key, account_value, storage_key, storage_value};

/// The jmt version holding the state after `block`.
pub fn version_of(block: u64) -> Version {
    // Block numbers stay far below 2^63; saturating keeps this total.
    block.saturating_mul(2)
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

/// Whether the whole tree of `block` is stored: its root is written only
/// when the tree is kept ([`crate::BlockBatch::keep_trees_from`]).
pub fn tree_kept<R: TreeReader>(nodes: &R, block: u64) -> Result<bool, crate::StateError> {
    let root = Sha256Jmt::new(nodes)
        .get_root_hash_option(version_of(block))
        .map_err(crate::StateError::trie)?;
    Ok(root.is_some())
}

/// Tree nodes held in memory, looked up before the database.
pub trait NodeSource {
    fn node(&self, key: &NodeKey) -> Option<&Node>;
}

/// Nodes written by an earlier step of the same block, not yet stored.
impl NodeSource for std::collections::BTreeMap<NodeKey, Node> {
    fn node(&self, key: &NodeKey) -> Option<&Node> {
        self.get(key)
    }
}

/// A [`TreeReader`] that sees `nodes` on top of `base`.
pub struct Overlay<'a, R, M> {
    pub base: &'a R,
    pub nodes: &'a M,
}

impl<R: TreeReader, M: NodeSource + Sync> TreeReader for Overlay<'_, R, M> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        match self.nodes.node(node_key) {
            Some(n) => Ok(Some(n.clone())),
            None => self.base.get_node_option(node_key),
        }
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        self.base.get_value_option(max_version, key_hash)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        self.base.get_rightmost_leaf()
    }
}

/// The newest node at each tree path written by the blocks of a run, so
/// each block of the run reads the tree's busy upper levels from memory
/// rather than from the database. Nodes are immutable once written, and
/// the tree of the run's head refers, at every path it has, to the newest
/// node written there; an older version asked for is read from the base.
#[derive(Default)]
pub struct RecentNodes {
    by_path: HashMap<NibblePath, (NodeKey, Node)>,
}

impl RecentNodes {
    /// Remembers the nodes a block added to the tree.
    pub fn insert_all(&mut self, nodes: Vec<(NodeKey, Node)>) {
        for (key, node) in nodes {
            match self.by_path.get_mut(key.nibble_path()) {
                Some(entry) if entry.0.version() >= key.version() => {}
                Some(entry) => *entry = (key, node),
                None => {
                    self.by_path.insert(key.nibble_path().clone(), (key, node));
                }
            }
        }
    }

    /// The newest node at each path, encoded: together with the nodes
    /// stored before the run, the whole tree of the run's last block.
    pub fn encoded(&self) -> Result<EncodedNodes, std::io::Error> {
        encode_nodes(self.by_path.values().map(|(k, n)| (k, n)))
    }
}

impl NodeSource for RecentNodes {
    fn node(&self, key: &NodeKey) -> Option<&Node> {
        self.by_path
            .get(key.nibble_path())
            .filter(|(k, _)| k.version() == key.version())
            .map(|(_, n)| n)
    }
}

/// Applies one block's tree writes on top of the tree at `parent_version`
/// (`None`: the empty tree) and returns the new root and the new nodes.
/// `set` must be sorted by key and free of duplicates.
pub fn apply_block<R: TreeReader>(
    reader: &R,
    block: u64,
    set: Vec<(KeyHash, Option<OwnedValue>)>,
) -> anyhow::Result<(B256, Vec<(NodeKey, Node)>)> {
    let version = version_of(block);
    let (deletes, updates): (Vec<_>, Vec<_>) = set.into_iter().partition(|(_, v)| v.is_none());
    let mut nodes = std::collections::BTreeMap::new();
    if version > 0 {
        // Always write version 2N-1 (a root copy when there is nothing to
        // delete): jmt builds version 2N on the root of 2N-1.
        let (_, batch) = Sha256Jmt::new(reader).put_value_set(deletes, version - 1)?;
        nodes = batch.node_batch.nodes().clone();
    } else if !deletes.is_empty() {
        anyhow::bail!("the genesis block cannot delete keys");
    }
    let overlay = Overlay {
        base: reader,
        nodes: &nodes,
    };
    let tree = Sha256Jmt::new(&overlay);
    let updates: Vec<(KeyHash, OwnedValue)> = updates
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    let (root, batch) = if updates.is_empty() {
        tree.put_value_set(Vec::new(), version)?
    } else {
        let (roots, batch) = tree.batch_put_value_sets(vec![updates], None, version)?;
        let root = roots
            .first()
            .copied()
            .ok_or_else(|| anyhow::anyhow!("jmt returned no root for version {version}"))?;
        (root, batch)
    };
    let mut out: Vec<(NodeKey, Node)> = nodes.into_iter().collect();
    out.extend(
        batch
            .node_batch
            .nodes()
            .iter()
            .map(|(k, n)| (k.clone(), n.clone())),
    );
    Ok((root_of(root), out))
}

/// Tree nodes of one block, encoded for [`TRIE_NODES`].
/// `(TRIE_NODES key, borsh node)` pairs ready to insert.
pub type EncodedNodes = Vec<(Vec<u8>, Vec<u8>)>;

pub fn encode_nodes<'n>(
    nodes: impl IntoIterator<Item = (&'n NodeKey, &'n Node)>,
) -> Result<EncodedNodes, std::io::Error> {
    nodes
        .into_iter()
        .map(|(k, n)| Ok((node_key_bytes(k)?, borsh::to_vec(n)?)))
        .collect()
}

/// Reference used by tests and the ADR: a tree built in memory from scratch.
#[doc(hidden)]
pub fn root_from_scratch(leaves: impl IntoIterator<Item = (KeyHash, OwnedValue)>) -> B256 {
    let mock = MemReader;
    let tree = Sha256Jmt::new(&mock);
    let set: Vec<_> = leaves.into_iter().map(|(k, v)| (k, Some(v))).collect();
    match tree.put_value_set(set, 0) {
        Ok((root, _)) => root_of(root),
        // An in-memory tree with no nodes yet cannot fail to read.
        Err(_) => B256::ZERO,
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{keccak256, Address, U256};
    use tally_primitives::Account;
    use tally_storage::codec::encode_account;

    /// The tree's values and keys (defined in tally-verify) are the
    /// database's layouts: an account leaf is the stored account record,
    /// a slot key hashes the stored slot key.
    #[test]
    fn tree_layouts_match_the_database_codecs() {
        let a = Address::repeat_byte(0x42);
        let acc = Account {
            nonce: 9,
            balance: U256::from(10u64).pow(U256::from(20u64)),
            code_hash: B256::repeat_byte(7),
        };
        assert_eq!(
            account_value(&Some(acc)),
            Some(encode_account(&acc).to_vec())
        );
        let slot = U256::from(0xdead_beefu64);
        assert_eq!(
            storage_key(&a, &slot).0,
            keccak256(keys::storage_key(&a, &slot)).0
        );
        assert_eq!(account_key(&a).0, keccak256(a).0);
    }
}
