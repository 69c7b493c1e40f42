//! The compact encoding of a jmt sparse Merkle proof, which `tally-proof/1`
//! carries, and its check.
//!
//! jmt's own proof (borsh `SparseMerkleProof<Sha256>`) stores every sibling
//! as a whole node: an internal node as both its children, a leaf as its key
//! and value hashes, an empty subtree as a tag. A check only needs each
//! sibling's hash, and most siblings low in the tree are empty, so the
//! compact form keeps a bitmap of the non-empty siblings and their 32-byte
//! hashes (docs/proofs.md, "State proofs"):
//!
//! ```text
//! proof  = leaf count bitmap hash*
//! leaf   = 0x00 | 0x01 keyHash(32) valueHash(32)
//! count  = number of siblings, u16 big-endian, at most 256
//! bitmap = ceil(count / 8) bytes; bit i (sibling i from the bottom) is bit
//!          7 - i % 8 of byte i / 8; 1: not the empty subtree; unused bits 0
//! hash   = each non-empty sibling's hash, from the bottom up
//! ```
//!
//! [`CompactProof::verify`] accepts exactly what jmt's
//! `SparseMerkleProof::verify` accepts for the same key, value and root
//! (the tests compare the two over random trees). The encoding is
//! canonical: a proof has one encoding, so any changed byte fails.

use alloy_primitives::B256;
use borsh::BorshDeserialize;
use jmt::KeyHash;
use sha2::{Digest, Sha256};

use super::StateProofError;

/// The hash of an empty subtree (jmt's `SPARSE_MERKLE_PLACEHOLDER_HASH`).
pub const PLACEHOLDER_HASH: [u8; 32] = *b"SPARSE_MERKLE_PLACEHOLDER_HASH__";
/// Prefix of a leaf's hash (jmt's `LEAF_DOMAIN_SEPARATOR`).
const LEAF_PREFIX: &[u8] = b"JMT::LeafNode";
/// Prefix of an internal node's hash (jmt's `INTERNAL_DOMAIN_SEPARATOR`,
/// a vowel chopped to fit 16 bytes).
const INTERNAL_PREFIX: &[u8] = b"JMT::IntrnalNode";
/// A key has 256 bits, so a path at most 256 siblings.
pub const MAX_SIBLINGS: usize = 256;

const NO_LEAF: u8 = 0x00;
const LEAF: u8 = 0x01;

/// The leaf on a key's path: the key's own, or (for an absent key) the one
/// other leaf in the subtree the key would fall in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProofLeaf {
    pub key_hash: B256,
    /// SHA-256 of the leaf's value.
    pub value_hash: B256,
}

impl ProofLeaf {
    pub fn hash(&self) -> [u8; 32] {
        leaf_hash(&self.key_hash.0, &self.value_hash.0)
    }
}

/// A decoded compact proof: the leaf, if any, and every sibling from the
/// bottom up (`None`: the empty subtree).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompactProof {
    pub leaf: Option<ProofLeaf>,
    pub siblings: Vec<Option<B256>>,
}

pub fn leaf_hash(key_hash: &[u8; 32], value_hash: &[u8; 32]) -> [u8; 32] {
    Sha256::new()
        .chain_update(LEAF_PREFIX)
        .chain_update(key_hash)
        .chain_update(value_hash)
        .finalize()
        .into()
}

pub fn internal_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    Sha256::new()
        .chain_update(INTERNAL_PREFIX)
        .chain_update(left)
        .chain_update(right)
        .finalize()
        .into()
}

/// Bit `i` of `key`, bit 0 being the most significant of its first byte.
fn bit(key: &[u8; 32], i: usize) -> bool {
    key.get(i / 8).is_some_and(|b| (b >> (7 - i % 8)) & 1 == 1)
}

fn common_prefix_bits(a: &[u8; 32], b: &[u8; 32]) -> usize {
    a.iter().zip(b).position(|(x, y)| x != y).map_or(256, |i| {
        let byte = a.get(i).zip(b.get(i)).map_or(0, |(x, y)| x ^ y);
        i * 8 + byte.leading_zeros() as usize
    })
}

/// Reads a compact proof's bytes front to back.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StateProofError> {
        let end = self.at.saturating_add(n);
        let out = self
            .bytes
            .get(self.at..end)
            .ok_or(StateProofError::Truncated {
                len: self.bytes.len(),
                needed: end,
            })?;
        self.at = end;
        Ok(out)
    }

    fn byte(&mut self) -> Result<u8, StateProofError> {
        self.take(1).map(|b| b.first().copied().unwrap_or_default())
    }

    fn hash(&mut self) -> Result<B256, StateProofError> {
        self.take(32).map(B256::from_slice)
    }
}

impl CompactProof {
    /// Decodes the compact encoding, refusing any other encoding of the
    /// same proof (stray bitmap bits, an empty subtree's hash given
    /// explicitly, trailing bytes).
    pub fn decode(bytes: &[u8]) -> Result<CompactProof, StateProofError> {
        let mut r = Reader { bytes, at: 0 };
        let leaf = match r.byte()? {
            NO_LEAF => None,
            LEAF => Some(ProofLeaf {
                key_hash: r.hash()?,
                value_hash: r.hash()?,
            }),
            tag => return Err(StateProofError::LeafTag(tag)),
        };
        let count = usize::from(u16::from_be_bytes([r.byte()?, r.byte()?]));
        if count > MAX_SIBLINGS {
            return Err(StateProofError::TooManySiblings(count));
        }
        let bitmap = r.take(count.div_ceil(8))?;
        let mut siblings = Vec::with_capacity(count);
        for i in 0..count {
            let present = bitmap
                .get(i / 8)
                .is_some_and(|b| (b >> (7 - i % 8)) & 1 == 1);
            siblings.push(if present {
                let h = r.hash()?;
                if h.0 == PLACEHOLDER_HASH {
                    return Err(StateProofError::PlaceholderSibling { index: i });
                }
                Some(h)
            } else {
                None
            });
        }
        let used_bits = count % 8;
        if used_bits != 0 && bitmap.last().is_some_and(|b| b & (0xff >> used_bits) != 0) {
            return Err(StateProofError::StrayBitmapBits);
        }
        if r.at != bytes.len() {
            return Err(StateProofError::TrailingBytes {
                extra: bytes.len() - r.at,
            });
        }
        Ok(CompactProof { leaf, siblings })
    }

    /// The compact encoding. An explicit sibling equal to the empty
    /// subtree's hash is written as empty, which hashes the same.
    pub fn encode(&self) -> Vec<u8> {
        let n = self.siblings.len();
        let present: Vec<&B256> = self
            .siblings
            .iter()
            .flatten()
            .filter(|h| h.0 != PLACEHOLDER_HASH)
            .collect();
        let mut out = Vec::with_capacity(67 + n.div_ceil(8) + 32 * present.len());
        match &self.leaf {
            None => out.push(NO_LEAF),
            Some(l) => {
                out.push(LEAF);
                out.extend_from_slice(l.key_hash.as_slice());
                out.extend_from_slice(l.value_hash.as_slice());
            }
        }
        // More than MAX_SIBLINGS cannot verify; the count saturates so
        // decoding refuses it rather than reading another proof.
        out.extend_from_slice(&u16::try_from(n).unwrap_or(u16::MAX).to_be_bytes());
        let mut bitmap = vec![0u8; n.div_ceil(8)];
        for (i, s) in self.siblings.iter().enumerate() {
            if s.is_some_and(|h| h.0 != PLACEHOLDER_HASH) {
                if let Some(b) = bitmap.get_mut(i / 8) {
                    *b |= 0x80 >> (i % 8);
                }
            }
        }
        out.extend_from_slice(&bitmap);
        for h in present {
            out.extend_from_slice(h.as_slice());
        }
        out
    }

    /// Checks that the proof shows `key` holding `value` (`None`: absent)
    /// under `root`, with jmt's rules: a present value needs the key's own
    /// leaf with the value's hash; an absent key needs no leaf, or another
    /// key's leaf sharing at least as many leading bits with it as there
    /// are siblings. The path is hashed from the leaf (or the empty
    /// subtree) up, sibling i taking bit `count - 1 - i` of the key.
    pub fn verify(
        &self,
        root: &B256,
        key: KeyHash,
        value: Option<&[u8]>,
    ) -> Result<(), StateProofError> {
        let n = self.siblings.len();
        if n > MAX_SIBLINGS {
            return Err(StateProofError::TooManySiblings(n));
        }
        let key_hash = B256::from(key.0);
        match (value, &self.leaf) {
            (Some(value), Some(leaf)) => {
                if leaf.key_hash != key_hash {
                    return Err(StateProofError::KeyMismatch {
                        proof: leaf.key_hash,
                        expected: key_hash,
                    });
                }
                let expected = B256::from_slice(&Sha256::digest(value));
                if leaf.value_hash != expected {
                    return Err(StateProofError::ValueMismatch {
                        proof: leaf.value_hash,
                        expected,
                    });
                }
            }
            (Some(_), None) => return Err(StateProofError::NoLeaf { key: key_hash }),
            (None, Some(leaf)) => {
                if leaf.key_hash == key_hash {
                    return Err(StateProofError::KeyPresent { key: key_hash });
                }
                let common = common_prefix_bits(&key.0, &leaf.key_hash.0);
                if common < n {
                    return Err(StateProofError::LeafOffPath {
                        leaf: leaf.key_hash,
                        key: key_hash,
                        common,
                        siblings: n,
                    });
                }
            }
            (None, None) => {}
        }
        let mut h = self.leaf.map_or(PLACEHOLDER_HASH, |l| l.hash());
        for (i, sibling) in self.siblings.iter().enumerate() {
            let s = sibling.map_or(PLACEHOLDER_HASH, |s| s.0);
            h = if bit(&key.0, n - 1 - i) {
                internal_hash(&s, &h)
            } else {
                internal_hash(&h, &s)
            };
        }
        if h != root.0 {
            return Err(StateProofError::RootMismatch {
                computed: B256::from(h),
                expected: *root,
            });
        }
        Ok(())
    }
}

/// jmt 0.12's `SparseMerkleProof<Sha256>` as borsh lays it out (its fields
/// are private): the optional leaf, then the siblings bottom up. The
/// hasher marker encodes to nothing.
#[derive(BorshDeserialize)]
struct JmtProof {
    leaf: Option<JmtLeaf>,
    siblings: Vec<JmtNode>,
}

#[derive(BorshDeserialize)]
struct JmtLeaf {
    key_hash: [u8; 32],
    value_hash: [u8; 32],
}

/// jmt's `SparseMerkleNode`, in its variant order.
#[derive(BorshDeserialize)]
enum JmtNode {
    Null,
    Internal { left: [u8; 32], right: [u8; 32] },
    Leaf(JmtLeaf),
}

impl JmtNode {
    /// The node's hash as jmt computes it; `None`: the empty subtree.
    fn hash(&self) -> Option<B256> {
        let h = match self {
            JmtNode::Null => return None,
            JmtNode::Internal { left, right } => internal_hash(left, right),
            JmtNode::Leaf(l) => leaf_hash(&l.key_hash, &l.value_hash),
        };
        (h != PLACEHOLDER_HASH).then_some(B256::from(h))
    }
}

/// Decodes jmt's borsh proof (as `eth_getProof` returns it) into the
/// compact form, hashing each sibling.
pub fn decode_jmt(borsh_bytes: &[u8]) -> Result<CompactProof, StateProofError> {
    let proof: JmtProof =
        borsh::from_slice(borsh_bytes).map_err(|e| StateProofError::Undecodable(e.to_string()))?;
    if proof.siblings.len() > MAX_SIBLINGS {
        return Err(StateProofError::TooManySiblings(proof.siblings.len()));
    }
    Ok(CompactProof {
        leaf: proof.leaf.map(|l| ProofLeaf {
            key_hash: B256::from(l.key_hash),
            value_hash: B256::from(l.value_hash),
        }),
        siblings: proof.siblings.iter().map(JmtNode::hash).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_and_prefixes() {
        let mut k = [0u8; 32];
        k[0] = 0b1010_0000;
        k[31] = 1;
        assert!(bit(&k, 0) && !bit(&k, 1) && bit(&k, 2) && !bit(&k, 3));
        assert!(bit(&k, 255) && !bit(&k, 254) && !bit(&k, 256));
        assert_eq!(common_prefix_bits(&k, &k), 256);
        let mut o = k;
        o[0] = 0b1011_0000;
        assert_eq!(common_prefix_bits(&k, &o), 3);
        o = k;
        o[31] = 0;
        assert_eq!(common_prefix_bits(&k, &o), 255);
    }

    #[test]
    fn encoding_round_trips() {
        let proof = CompactProof {
            leaf: Some(ProofLeaf {
                key_hash: B256::repeat_byte(1),
                value_hash: B256::repeat_byte(2),
            }),
            siblings: (0..11)
                .map(|i| (i % 3 == 0).then(|| B256::repeat_byte(i)))
                .collect(),
        };
        let bytes = proof.encode();
        // tag, key, value, count, 2 bitmap bytes, 4 hashes.
        assert_eq!(bytes.len(), 1 + 64 + 2 + 2 + 4 * 32);
        assert_eq!(bytes[65..69], [0, 11, 0b1001_0010, 0b0100_0000]);
        assert_eq!(CompactProof::decode(&bytes), Ok(proof));
        let empty = CompactProof {
            leaf: None,
            siblings: Vec::new(),
        };
        assert_eq!(empty.encode(), [0, 0, 0]);
        assert_eq!(CompactProof::decode(&[0, 0, 0]), Ok(empty));
    }

    #[test]
    fn other_encodings_of_a_proof_are_refused() {
        use StateProofError::*;
        let decode = |b: &[u8]| CompactProof::decode(b).unwrap_err();
        assert_eq!(decode(&[]), Truncated { len: 0, needed: 1 });
        assert_eq!(decode(&[2, 0, 0]), LeafTag(2));
        assert_eq!(decode(&[0, 1, 1, 0]), TooManySiblings(257));
        assert_eq!(decode(&[0, 0, 0, 0]), TrailingBytes { extra: 1 });
        assert_eq!(decode(&[0, 0, 1, 0b0100_0000]), StrayBitmapBits);
        assert_eq!(decode(&[0, 0, 2]), Truncated { len: 3, needed: 4 });
        let mut explicit = vec![0, 0, 1, 0x80];
        explicit.extend_from_slice(&PLACEHOLDER_HASH);
        assert_eq!(decode(&explicit), PlaceholderSibling { index: 0 });
        // Written by encode as the empty subtree it hashes to.
        let p = CompactProof {
            leaf: None,
            siblings: vec![Some(B256::from(PLACEHOLDER_HASH))],
        };
        assert_eq!(p.encode(), [0, 0, 1, 0]);
    }
}
