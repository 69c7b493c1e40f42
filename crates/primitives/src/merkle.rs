//! Binary Merkle trees over 32-byte leaves, with inclusion proofs.
//!
//! Leaves and inner nodes are hashed with different prefixes (0x00, 0x01) so a
//! node can never pass for a leaf. An odd node at the end of a level is
//! carried up unchanged rather than paired with itself, so two different leaf
//! lists never share a root (the duplication flaw of Bitcoin's tree,
//! CVE-2012-2459). The root of no leaves is the zero hash.

use alloy_primitives::{keccak256, B256};

fn leaf(item: &B256) -> B256 {
    let mut buf = [0u8; 33];
    buf[1..].copy_from_slice(item.as_slice());
    keccak256(buf)
}

fn node(left: &B256, right: &B256) -> B256 {
    let mut buf = [0u8; 65];
    buf[0] = 1;
    buf[1..33].copy_from_slice(left.as_slice());
    buf[33..].copy_from_slice(right.as_slice());
    keccak256(buf)
}

fn next_level(level: &[B256]) -> Vec<B256> {
    level
        .chunks(2)
        .map(|pair| match pair {
            [l, r] => node(l, r),
            [single] => *single,
            _ => unreachable!("chunks(2) yields one or two items"),
        })
        .collect()
}

/// The Merkle root of `items`.
pub fn root(items: &[B256]) -> B256 {
    if items.is_empty() {
        return B256::ZERO;
    }
    let mut level: Vec<B256> = items.iter().map(leaf).collect();
    while level.len() > 1 {
        level = next_level(&level);
    }
    level[0]
}

/// Proof that an item sits at `index` among `leaf_count` items.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MerkleProof {
    pub index: u64,
    pub leaf_count: u64,
    /// Sibling hashes from the leaf level upward; levels where the node had no
    /// sibling (carried up) contribute nothing.
    pub siblings: Vec<B256>,
}

/// Builds the inclusion proof for `items[index]`, or `None` if out of range.
pub fn proof(items: &[B256], index: usize) -> Option<MerkleProof> {
    Tree::new(items).proof(index)
}

/// Every level of a tree, leaves first, so each of many proofs costs only
/// its path (a batch of N documents gets all N proofs in O(N log N)).
#[derive(Clone, Debug)]
pub struct Tree {
    levels: Vec<Vec<B256>>,
}

impl Tree {
    pub fn new(items: &[B256]) -> Tree {
        let mut levels = vec![items.iter().map(leaf).collect::<Vec<_>>()];
        while levels.last().is_some_and(|l| l.len() > 1) {
            let next = next_level(levels.last().expect("a level exists"));
            levels.push(next);
        }
        Tree { levels }
    }

    /// The root ([`root`] of the items).
    pub fn root(&self) -> B256 {
        self.levels
            .last()
            .and_then(|l| l.first())
            .copied()
            .unwrap_or(B256::ZERO)
    }

    /// The proof of item `index`, or `None` if out of range.
    pub fn proof(&self, index: usize) -> Option<MerkleProof> {
        let count = self.levels.first()?.len();
        if index >= count {
            return None;
        }
        let mut siblings = Vec::new();
        let mut i = index;
        for level in &self.levels[..self.levels.len() - 1] {
            if let Some(s) = level.get(i ^ 1) {
                siblings.push(*s);
            }
            i /= 2;
        }
        Some(MerkleProof {
            index: index as u64,
            leaf_count: count as u64,
            siblings,
        })
    }
}

impl MerkleProof {
    /// Checks that `item` is at `self.index` in a tree with root `root`.
    pub fn verify(&self, root: &B256, item: &B256) -> bool {
        if self.index >= self.leaf_count {
            return false;
        }
        let mut hash = leaf(item);
        let mut i = self.index;
        let mut width = self.leaf_count;
        let mut sibs = self.siblings.iter();
        while width > 1 {
            let sib = i ^ 1;
            if sib < width {
                let Some(s) = sibs.next() else { return false };
                hash = if i.is_multiple_of(2) {
                    node(&hash, s)
                } else {
                    node(s, &hash)
                };
            }
            i /= 2;
            width = width.div_ceil(2);
        }
        sibs.next().is_none() && hash == *root
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn items(n: usize) -> Vec<B256> {
        (0..n)
            .map(|i| keccak256((i as u64).to_be_bytes()))
            .collect()
    }

    #[test]
    fn empty_and_single() {
        assert_eq!(root(&[]), B256::ZERO);
        let one = items(1);
        assert_eq!(root(&one), leaf(&one[0]));
        assert!(proof(&one, 0).unwrap().verify(&root(&one), &one[0]));
        assert!(proof(&one, 1).is_none());
    }

    #[test]
    fn duplicated_last_leaf_changes_root() {
        let three = items(3);
        let mut four = three.clone();
        four.push(three[2]);
        assert_ne!(root(&three), root(&four));
    }

    proptest! {
        #[test]
        fn every_proof_verifies_and_rejects_tampering(n in 1usize..70, pick in any::<prop::sample::Index>()) {
            let xs = items(n);
            let r = root(&xs);
            let i = pick.index(n);
            let p = proof(&xs, i).unwrap();
            prop_assert!(p.verify(&r, &xs[i]));
            let tree = Tree::new(&xs);
            prop_assert_eq!(tree.root(), r);
            prop_assert_eq!(tree.proof(i), Some(p.clone()));
            // Wrong item, wrong index, wrong root all fail.
            prop_assert!(!p.verify(&r, &B256::repeat_byte(0xee)));
            if n > 1 {
                let mut moved = p.clone();
                moved.index = ((i + 1) % n) as u64;
                prop_assert!(!moved.verify(&r, &xs[i]) || xs[(i + 1) % n] == xs[i]);
            }
            prop_assert!(!p.verify(&B256::repeat_byte(1), &xs[i]));
            let mut cut = p.clone();
            if cut.siblings.pop().is_some() {
                prop_assert!(!cut.verify(&r, &xs[i]));
            }
        }
    }
}
