//! The compact state proof against jmt's own: over random in-memory trees
//! (keys sharing prefixes of various lengths, so paths end at the key's
//! leaf, at an empty subtree or at another leaf; single-leaf and empty
//! trees), the compact proof of every key must be accepted for exactly the
//! (key, value, root) claims jmt's `SparseMerkleProof::verify` accepts, and
//! any changed byte of a compact proof must fail.

mod common;

use alloy_primitives::{Bytes, B256};
use common::MemTree;
use jmt::{proof::SparseMerkleProof, KeyHash, RootHash};
use proptest::prelude::*;
use sha2::Sha256;
use tally_verify::state::{compact_from_jmt, verify_leaf, CompactProof, StateProofError};

type JmtProof = SparseMerkleProof<Sha256>;

/// Keys that share prefixes: none, a byte, a byte and a nibble, 17 bits
/// (inside a nibble), 30 bits.
fn key() -> impl Strategy<Value = [u8; 32]> {
    (0u8..5, any::<[u8; 32]>()).prop_map(|(shape, mut k)| {
        match shape {
            0 => {}
            1 => k[0] = 0xab,
            2 => {
                k[0] = 0xab;
                k[1] = 0xc0 | (k[1] & 0x0f);
            }
            3 => {
                k[0] = 0xab;
                k[1] = 0xcd;
                k[2] &= 0x7f;
            }
            _ => {
                k[..3].copy_from_slice(&[0xab, 0xcd, 0xef]);
                k[3] &= 0x03;
            }
        }
        k
    })
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 1..80)
}

/// A tree over `leaves` (the last value wins for a repeated key).
fn tree(leaves: &[([u8; 32], Vec<u8>)]) -> (MemTree, B256) {
    MemTree::build(
        leaves
            .iter()
            .map(|(k, v)| (KeyHash(*k), v.clone()))
            .collect(),
    )
}

fn jmt_accepts(proof: &[u8], root: &B256, key: &[u8; 32], value: Option<&[u8]>) -> bool {
    borsh::from_slice::<JmtProof>(proof)
        .is_ok_and(|p| p.verify(RootHash(root.0), KeyHash(*key), value).is_ok())
}

fn compact_accepts(proof: &[u8], root: &B256, key: &[u8; 32], value: Option<&[u8]>) -> bool {
    verify_leaf(proof, root, KeyHash(*key), value).is_ok()
}

/// How a proof ends, as jmt's proof shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Present,
    AbsentEmpty,
    AbsentAtLeaf,
}

fn kind(compact: &[u8], key: &[u8; 32]) -> Kind {
    let p = CompactProof::decode(compact).expect("decodes");
    match p.leaf {
        None => Kind::AbsentEmpty,
        Some(l) if l.key_hash.0 == *key => Kind::Present,
        Some(_) => Kind::AbsentAtLeaf,
    }
}

/// Every claim about `key` worth trying with its proof: the true one,
/// other values, absence, another key, another root. jmt and the compact
/// check must agree on each, and both accept the true one. The kind of
/// the proof.
fn agree(
    tree: &MemTree,
    root: &B256,
    key: &[u8; 32],
    truth: Option<&[u8]>,
    others: &[([u8; 32], Vec<u8>)],
) -> Result<Kind, TestCaseError> {
    let borsh = tree.prove_jmt(KeyHash(*key));
    let compact = compact_from_jmt(&borsh).expect("jmt's proof converts");
    prop_assert!(
        jmt_accepts(&borsh, root, key, truth),
        "jmt refuses the truth"
    );
    let mut wrong_root = *root;
    wrong_root.0[31] ^= 1;
    let mut values: Vec<Option<&[u8]>> = vec![truth, None, Some(b"x")];
    values.extend(others.iter().map(|(_, v)| Some(v.as_slice())));
    let mut keys = vec![*key];
    keys.extend(others.iter().map(|(k, _)| *k));
    let mut flipped = *key;
    flipped[31] ^= 1;
    keys.push(flipped);
    flipped = *key;
    flipped[0] ^= 0x80;
    keys.push(flipped);
    for k in &keys {
        for v in &values {
            for r in [root, &wrong_root] {
                let j = jmt_accepts(&borsh, r, k, *v);
                let c = compact_accepts(&compact, r, k, *v);
                prop_assert_eq!(j, c, "key {:?} value {:?} root {}", k, v, r);
            }
        }
    }
    Ok(kind(&compact, key))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// jmt and the compact check agree on every claim about present and
    /// absent keys.
    #[test]
    fn compact_proofs_accept_what_jmt_accepts(
        leaves in proptest::collection::vec((key(), value()), 1..30),
        absent in proptest::collection::vec(key(), 1..8),
    ) {
        let (tree, root) = tree(&leaves);
        let present: std::collections::BTreeMap<[u8; 32], Vec<u8>> =
            leaves.iter().cloned().collect();
        let others: Vec<_> = leaves.iter().take(3).cloned().collect();
        for (k, v) in &present {
            prop_assert_eq!(agree(&tree, &root, k, Some(v), &others)?, Kind::Present);
        }
        for k in absent.iter().filter(|k| !present.contains_key(*k)) {
            prop_assert_ne!(agree(&tree, &root, k, None, &others)?, Kind::Present);
        }
    }

    /// A tree of one leaf: the leaf is the root, no siblings.
    #[test]
    fn single_leaf_trees_agree(k in key(), v in value(), other in key()) {
        let (tree, root) = tree(&[(k, v.clone())]);
        let c = tree.prove(KeyHash(k));
        prop_assert_eq!(CompactProof::decode(&c).expect("decodes").siblings.len(), 0);
        agree(&tree, &root, &k, Some(&v), &[])?;
        if other != k {
            prop_assert_eq!(agree(&tree, &root, &other, None, &[(k, v)])?, Kind::AbsentAtLeaf);
        }
    }

    /// Any byte of a compact proof changed to anything else fails.
    #[test]
    fn any_changed_byte_of_a_compact_proof_fails(
        leaves in proptest::collection::vec((key(), value()), 1..30),
        probe in key(),
        which in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        mask in 1u8..=255,
    ) {
        let (tree, root) = tree(&leaves);
        let present: std::collections::BTreeMap<[u8; 32], Vec<u8>> =
            leaves.iter().cloned().collect();
        // A present key or an absent one, half the time each.
        let (key, value) = if which.index(2) == 0 {
            let (k, v) = present.iter().nth(which.index(present.len())).expect("non-empty");
            (*k, Some(v.as_slice()))
        } else if present.contains_key(&probe) {
            return Ok(());
        } else {
            (probe, None)
        };
        let mut proof = tree.prove(KeyHash(key)).to_vec();
        prop_assert!(compact_accepts(&proof, &root, &key, value));
        let at = at.index(proof.len());
        proof[at] ^= mask;
        prop_assert!(!compact_accepts(&proof, &root, &key, value), "byte {} ^ {:#04x}", at, mask);
    }

    /// jmt's borsh proof with a byte changed, cut or added: jmt accepts
    /// it exactly when its conversion is accepted.
    #[test]
    fn changed_jmt_proofs_convert_to_what_jmt_accepts(
        leaves in proptest::collection::vec((key(), value()), 1..20),
        which in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        how in 0u8..3,
    ) {
        let (tree, root) = tree(&leaves);
        let (key, v) = &leaves[which.index(leaves.len())];
        let present: std::collections::BTreeMap<_, _> = leaves.iter().cloned().collect();
        let v = present.get(key).unwrap_or(v);
        let mut borsh = tree.prove_jmt(KeyHash(*key)).to_vec();
        let at = at.index(borsh.len() + 1);
        match how {
            0 if at < borsh.len() => borsh[at] = byte,
            1 => borsh.truncate(at),
            _ => borsh.insert(at, byte),
        }
        for value in [Some(v.as_slice()), None] {
            let j = jmt_accepts(&borsh, &root, key, value);
            let c = compact_from_jmt(&borsh)
                .is_ok_and(|p| compact_accepts(&p, &root, key, value));
            prop_assert_eq!(j, c);
        }
    }

    /// Garbage is refused with an error, never a panic.
    #[test]
    fn garbage_is_refused(bytes in proptest::collection::vec(any::<u8>(), 0..400), k in key()) {
        prop_assert!(verify_leaf(&bytes, &B256::ZERO, KeyHash(k), None).is_err());
        if let Ok(c) = compact_from_jmt(&bytes) {
            prop_assert!(CompactProof::decode(&c).is_ok());
        }
    }
}

/// The fixed cases the random ones are meant to reach, each seen: present
/// keys, absent keys at an empty subtree and at another leaf, a single
/// leaf, and the empty tree.
#[test]
fn every_kind_of_path_is_covered() {
    let k = |first: u8, second: u8| {
        let mut key = [0x11u8; 32];
        key[0] = first;
        key[1] = second;
        key
    };
    let leaves: Vec<_> = [(0x00, 0x00), (0x01, 0x00), (0x80, 0x00), (0x80, 0x01)]
        .into_iter()
        .map(|(a, b)| (k(a, b), vec![a, b, 7]))
        .collect();
    let (tree, root) = tree(&leaves);
    for (key, v) in &leaves {
        assert_eq!(
            agree(&tree, &root, key, Some(v), &leaves).unwrap(),
            Kind::Present
        );
    }
    // 0x40…: the subtree under bit pattern 01 is empty.
    assert_eq!(
        agree(&tree, &root, &k(0x40, 0), None, &leaves).unwrap(),
        Kind::AbsentEmpty
    );
    // 0x00 0x01: shares the path of 0x00 0x00 down to its leaf.
    assert_eq!(
        agree(&tree, &root, &k(0x00, 0x01), None, &leaves).unwrap(),
        Kind::AbsentAtLeaf
    );

    let one = [(k(0x42, 0x42), b"one".to_vec())];
    let (single, single_root) = self::tree(&one);
    assert_eq!(
        agree(&single, &single_root, &one[0].0, Some(b"one"), &[]).unwrap(),
        Kind::Present
    );
    assert_eq!(
        agree(&single, &single_root, &k(0x43, 0), None, &one).unwrap(),
        Kind::AbsentAtLeaf
    );

    // jmt cannot build an empty tree in one batch; its proof is no leaf
    // and no siblings, under the empty subtree's hash.
    let empty_root = B256::from(*b"SPARSE_MERKLE_PLACEHOLDER_HASH__");
    let borsh = [0u8, 0, 0, 0, 0];
    let compact = compact_from_jmt(&borsh).unwrap();
    assert_eq!(compact[..], [0, 0, 0]);
    for (key, value) in [(k(0, 0), None), (k(0, 0), Some(&b"v"[..]))] {
        for root in [empty_root, B256::ZERO] {
            assert_eq!(
                jmt_accepts(&borsh, &root, &key, value),
                compact_accepts(&compact, &root, &key, value)
            );
        }
    }
    assert!(compact_accepts(&compact, &empty_root, &k(0, 0), None));
}

/// Every bit of the fixture world's proofs, flipped, fails; and the
/// compact proofs are smaller than jmt's.
#[test]
fn every_bit_of_the_world_proofs_matters() {
    let w = common::world(8, 3000);
    let keys: Vec<(KeyHash, Option<Vec<u8>>)> = vec![
        (
            tally_verify::state::account_key(&common::ALICE),
            tally_verify::state::account_value(&Some(w.alice)),
        ),
        (tally_verify::state::account_key(&common::NOBODY), None),
    ];
    for (key, value) in keys {
        let borsh = w.tree.prove_jmt(key);
        let compact: Bytes = w.tree.prove(key);
        assert!(
            compact.len() < borsh.len(),
            "{} vs {}",
            compact.len(),
            borsh.len()
        );
        let value = value.as_deref();
        verify_leaf(&compact, &w.state_root, key, value).unwrap();
        for at in 0..compact.len() {
            for bit in 0..8 {
                let mut p = compact.to_vec();
                p[at] ^= 1 << bit;
                assert!(
                    verify_leaf(&p, &w.state_root, key, value).is_err(),
                    "byte {at} bit {bit}"
                );
            }
        }
    }
}

#[test]
fn refusals_name_what_failed() {
    let leaves = [([0x10u8; 32], b"v".to_vec()), ([0x20u8; 32], b"w".to_vec())];
    let (tree, root) = tree(&leaves);
    let key = KeyHash([0x10; 32]);
    let p = tree.prove(key);
    let e = verify_leaf(&p, &root, key, Some(b"other")).unwrap_err();
    assert!(matches!(e, StateProofError::ValueMismatch { .. }), "{e}");
    assert!(e
        .to_string()
        .starts_with("the proof's leaf holds a value with hash"));
    let e = verify_leaf(&p, &root, key, None).unwrap_err();
    assert_eq!(
        e,
        StateProofError::KeyPresent {
            key: B256::from(key.0)
        }
    );
    let e = verify_leaf(&p, &B256::ZERO, key, Some(b"v")).unwrap_err();
    assert!(matches!(e, StateProofError::RootMismatch { .. }), "{e}");
    let e = verify_leaf(&p, &root, KeyHash([0x20; 32]), Some(b"w")).unwrap_err();
    assert!(matches!(e, StateProofError::KeyMismatch { .. }), "{e}");
    // 0x30… shares 2 bits with 0x10…, fewer than the proof's siblings.
    let e = verify_leaf(&p, &root, KeyHash([0x30; 32]), None).unwrap_err();
    assert!(matches!(e, StateProofError::LeafOffPath { .. }), "{e}");
    let e = compact_from_jmt(&[7]).unwrap_err();
    assert!(e.to_string().starts_with("undecodable: "), "{e}");
}

/// A forged proof whose sibling equals the hash beside it hashes to the
/// same root whichever side the key takes: only jmt's prefix rule (the
/// key must share the leaf's first bits, one per sibling) refuses it as a
/// proof of another key's absence.
#[test]
fn a_symmetric_path_needs_the_prefix_rule() {
    let leaf_key = [0x00u8; 32];
    let value_hash = [0x5au8; 32];
    let mut borsh = vec![1u8];
    borsh.extend_from_slice(&leaf_key);
    borsh.extend_from_slice(&value_hash);
    borsh.extend_from_slice(&1u32.to_le_bytes());
    borsh.push(2); // a leaf sibling: the same leaf
    borsh.extend_from_slice(&leaf_key);
    borsh.extend_from_slice(&value_hash);
    let h = tally_verify::state::compact::leaf_hash(&leaf_key, &value_hash);
    let root = B256::from(tally_verify::state::compact::internal_hash(&h, &h));
    let compact = compact_from_jmt(&borsh).unwrap();
    // Shares bit 0 with the leaf: the subtree the leaf alone fills.
    let near = [0x01u8; 32];
    // Differs at bit 0: it would sit beside the leaf, not in its subtree.
    let far = [0x80u8; 32];
    assert!(jmt_accepts(&borsh, &root, &near, None));
    assert!(compact_accepts(&compact, &root, &near, None));
    assert!(!jmt_accepts(&borsh, &root, &far, None));
    assert_eq!(
        verify_leaf(&compact, &root, KeyHash(far), None).unwrap_err(),
        StateProofError::LeafOffPath {
            leaf: B256::from(leaf_key),
            key: B256::from(far),
            common: 0,
            siblings: 1,
        }
    );
}
