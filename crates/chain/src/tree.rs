//! [`BlockTree`]: headers by hash, children by parent, the best tip.

use std::collections::{BTreeMap, HashMap};
use tally_consensus::Weight;
use tally_primitives::{SealedHeader, B256};

/// A block in the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub header: SealedHeader,
    /// Weight of the chain ending at this block.
    pub weight: Weight,
}

/// Why a block cannot join the tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("block {number} ({hash}) has parent {parent}, which this node does not know")]
    UnknownParent {
        number: u64,
        hash: B256,
        parent: B256,
    },
    #[error("block {number} ({hash}) is at or below the final block {final_number}")]
    BelowFinal {
        number: u64,
        hash: B256,
        final_number: u64,
    },
    #[error("block {0} is not in the block tree")]
    Unknown(B256),
}

/// What [`BlockTree::insert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// Already in the tree.
    Known,
    /// Added; `best` says whether it is now the best tip.
    Added { best: bool },
}

/// How to move the head to another block: unwind to `ancestor`, then apply
/// `apply` in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub ancestor: SealedHeader,
    /// Blocks leaving the canonical chain, highest first.
    pub unwind: Vec<SealedHeader>,
    /// Blocks joining it, lowest first.
    pub apply: Vec<SealedHeader>,
}

/// Non-final blocks by hash, rooted at the final block.
#[derive(Debug, Clone)]
pub struct BlockTree {
    blocks: HashMap<B256, Entry>,
    children: HashMap<B256, Vec<B256>>,
    by_number: BTreeMap<u64, Vec<B256>>,
    root: B256,
    head: B256,
    best: B256,
}

/// Whether `a` beats `b` in fork choice.
fn better(a: &Entry, b: &Entry) -> bool {
    (a.weight, std::cmp::Reverse(a.header.hash)) > (b.weight, std::cmp::Reverse(b.header.hash))
}

impl BlockTree {
    /// A tree holding only `root` (the final block), which is also the head.
    pub fn new(root: SealedHeader, weight: Weight) -> Self {
        let hash = root.hash;
        let mut tree = BlockTree {
            blocks: HashMap::new(),
            children: HashMap::new(),
            by_number: BTreeMap::new(),
            root: hash,
            head: hash,
            best: hash,
        };
        tree.by_number.entry(root.number).or_default().push(hash);
        tree.blocks.insert(
            hash,
            Entry {
                header: root,
                weight,
            },
        );
        tree
    }

    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    pub fn contains(&self, hash: &B256) -> bool {
        self.blocks.contains_key(hash)
    }

    pub fn get(&self, hash: &B256) -> Option<&Entry> {
        self.blocks.get(hash)
    }

    /// The final block every kept block descends from.
    pub fn root(&self) -> &Entry {
        &self.blocks[&self.root]
    }

    /// The canonical head.
    pub fn head(&self) -> &Entry {
        &self.blocks[&self.head]
    }

    /// The tip fork choice prefers; the node reorgs to it when it is not
    /// the head.
    pub fn best(&self) -> &Entry {
        &self.blocks[&self.best]
    }

    /// Adds a block whose parent is in the tree, with the weight of the
    /// chain it ends.
    pub fn insert(&mut self, header: SealedHeader, weight: Weight) -> Result<Inserted, TreeError> {
        let hash = header.hash;
        if self.blocks.contains_key(&hash) {
            return Ok(Inserted::Known);
        }
        let root = self.root();
        if header.number <= root.header.number {
            return Err(TreeError::BelowFinal {
                number: header.number,
                hash,
                final_number: root.header.number,
            });
        }
        if !self.blocks.contains_key(&header.parent_hash) {
            return Err(TreeError::UnknownParent {
                number: header.number,
                hash,
                parent: header.parent_hash,
            });
        }
        self.children
            .entry(header.parent_hash)
            .or_default()
            .push(hash);
        self.by_number.entry(header.number).or_default().push(hash);
        let entry = Entry { header, weight };
        let best = better(&entry, self.best());
        self.blocks.insert(hash, entry);
        if best {
            self.best = hash;
        }
        Ok(Inserted::Added { best })
    }

    /// Marks `hash` as the canonical head (after the node made it so).
    pub fn set_head(&mut self, hash: B256) -> Result<(), TreeError> {
        if !self.blocks.contains_key(&hash) {
            return Err(TreeError::Unknown(hash));
        }
        self.head = hash;
        Ok(())
    }

    /// The ancestor of `hash` at `number`, if both are in the tree.
    pub fn ancestor_at(&self, hash: &B256, number: u64) -> Option<&Entry> {
        let mut at = self.blocks.get(hash)?;
        while at.header.number > number {
            at = self.blocks.get(&at.header.parent_hash)?;
        }
        (at.header.number == number).then_some(at)
    }

    /// How to move the head from `from` to `to`.
    pub fn route(&self, from: &B256, to: &B256) -> Result<Route, TreeError> {
        let get = |h: &B256| self.blocks.get(h).ok_or(TreeError::Unknown(*h));
        let (mut a, mut b) = (get(from)?, get(to)?);
        let mut unwind = Vec::new();
        let mut apply = Vec::new();
        while a.header.number > b.header.number {
            unwind.push(a.header.clone());
            a = get(&a.header.parent_hash)?;
        }
        while b.header.number > a.header.number {
            apply.push(b.header.clone());
            b = get(&b.header.parent_hash)?;
        }
        while a.header.hash != b.header.hash {
            unwind.push(a.header.clone());
            apply.push(b.header.clone());
            a = get(&a.header.parent_hash)?;
            b = get(&b.header.parent_hash)?;
        }
        apply.reverse();
        Ok(Route {
            ancestor: a.header.clone(),
            unwind,
            apply,
        })
    }

    /// Removes `hash` and everything built on it (a block found invalid);
    /// returns the removed hashes. The head and the root cannot be removed.
    pub fn remove_subtree(&mut self, hash: &B256) -> Vec<B256> {
        if *hash == self.root
            || self
                .route(hash, &self.head)
                .is_ok_and(|r| r.unwind.is_empty())
        {
            return Vec::new();
        }
        let mut removed = Vec::new();
        let mut stack = vec![*hash];
        while let Some(h) = stack.pop() {
            if let Some(kids) = self.children.remove(&h) {
                stack.extend(kids);
            }
            self.forget(&h);
            removed.push(h);
        }
        if removed.contains(&self.best) {
            self.best = self.find_best();
        }
        removed
    }

    fn forget(&mut self, hash: &B256) {
        let Some(entry) = self.blocks.remove(hash) else {
            return;
        };
        if let Some(siblings) = self.children.get_mut(&entry.header.parent_hash) {
            siblings.retain(|h| h != hash);
        }
        if let Some(at) = self.by_number.get_mut(&entry.header.number) {
            at.retain(|h| h != hash);
            if at.is_empty() {
                self.by_number.remove(&entry.header.number);
            }
        }
    }

    fn find_best(&self) -> B256 {
        self.blocks
            .values()
            // Tips only: blocks nothing builds on.
            .filter(|e| {
                self.children
                    .get(&e.header.hash)
                    .is_none_or(|c| c.is_empty())
            })
            .fold(
                self.root(),
                |best, e| if better(e, best) { e } else { best },
            )
            .header
            .hash
    }

    /// Makes `hash` (a canonical block) the new root: blocks at or below
    /// it and branches that do not descend from it are dropped. Returns the
    /// dropped blocks that were not ancestors of `hash` (side blocks the
    /// node may delete).
    pub fn finalize(&mut self, hash: &B256) -> Result<Vec<B256>, TreeError> {
        let number = self
            .blocks
            .get(hash)
            .ok_or(TreeError::Unknown(*hash))?
            .header
            .number;
        let mut ancestors = std::collections::HashSet::new();
        let mut at = *hash;
        while let Some(e) = self.blocks.get(&at) {
            ancestors.insert(at);
            if at == self.root {
                break;
            }
            at = e.header.parent_hash;
        }
        let mut dropped = Vec::new();
        let below: Vec<u64> = self.by_number.range(..=number).map(|(n, _)| *n).collect();
        for n in below {
            for h in self.by_number.get(&n).cloned().unwrap_or_default() {
                if h == *hash {
                    continue;
                }
                // Side branches hanging off the dropped part go with it.
                let mut stack = vec![h];
                while let Some(x) = stack.pop() {
                    if x == *hash || !self.blocks.contains_key(&x) {
                        continue;
                    }
                    let kids = self.children.remove(&x).unwrap_or_default();
                    stack.extend(
                        kids.into_iter()
                            .filter(|k| !ancestors.contains(k) && k != hash),
                    );
                    if !ancestors.contains(&x) {
                        dropped.push(x);
                    }
                    self.forget(&x);
                }
            }
        }
        self.root = *hash;
        if !self.blocks.contains_key(&self.best) {
            self.best = self.find_best();
        }
        Ok(dropped)
    }

    /// The blocks at `number` in the tree.
    pub fn at_number(&self, number: u64) -> &[B256] {
        self.by_number.get(&number).map_or(&[], |v| v.as_slice())
    }
}
