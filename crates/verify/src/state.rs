//! The state commitment's keys and values, and checks of state proofs.
//!
//! One flat Jellyfish Merkle tree (jmt, SHA-256 nodes) holds accounts and
//! storage slots (docs/adr/0001-state-commitment.md):
//! - an account's key is `keccak256(address)` (20-byte preimage) and its
//!   value the 72 bytes nonce (8, big-endian) ‖ balance (32, big-endian) ‖
//!   code hash (32);
//! - a slot's key is `keccak256(address ‖ slot)` (52-byte preimage, the
//!   slot as 32 bytes big-endian) and its value the 32-byte big-endian
//!   word; zero slots are absent.
//!
//! The preimages differ in length, so account and slot keys cannot
//! collide. A proof shows the leaf on the key's path (if any) and the
//! siblings up to the root; an absent key is proven by the empty subtree
//! or by the one other leaf on its path. jmt writes proofs as borsh
//! `SparseMerkleProof<Sha256>`s (what `eth_getProof` returns);
//! `tally-proof/1` carries them in the [`compact`] encoding, one hash per
//! non-empty sibling, which [`compact_from_jmt`] converts to and
//! [`verify_account`] and [`verify_slot`] check. `tally-state` builds the
//! tree and its proofs with these functions; the checker verifies with
//! them.

pub mod compact;

use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use jmt::{KeyHash, OwnedValue};
use tally_primitives::Account;

pub use compact::{decode_jmt, CompactProof, ProofLeaf};

/// Length of an account's value: nonce (8) ‖ balance (32) ‖ code hash (32).
pub const ACCOUNT_LEN: usize = 72;

/// Why a state proof does not show what it claims.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum StateProofError {
    /// The bytes are not a borsh jmt proof (converting one).
    #[error("undecodable: {0}")]
    Undecodable(String),
    // The compact encoding.
    #[error("undecodable: the proof is {len} bytes, its fields need {needed}")]
    Truncated { len: usize, needed: usize },
    #[error("undecodable: leaf tag {0:#04x}, expected 0x00 (no leaf) or 0x01 (a leaf)")]
    LeafTag(u8),
    #[error("undecodable: {0} siblings, more than a 256-bit key's path has")]
    TooManySiblings(usize),
    #[error("undecodable: the bitmap marks siblings past the last one")]
    StrayBitmapBits,
    #[error("undecodable: sibling {index} is marked non-empty but is the empty subtree's hash")]
    PlaceholderSibling { index: usize },
    #[error("undecodable: {extra} bytes follow the proof")]
    TrailingBytes { extra: usize },
    // What the proof shows.
    #[error("the proof is for key {proof}, not {expected}")]
    KeyMismatch { proof: B256, expected: B256 },
    #[error(
        "the proof's leaf holds a value with hash {proof}, the claimed value's hash is {expected}"
    )]
    ValueMismatch { proof: B256, expected: B256 },
    #[error("the proof shows key {key} absent (an empty subtree), but a value was claimed")]
    NoLeaf { key: B256 },
    #[error("the proof shows key {key} present, but its absence was claimed")]
    KeyPresent { key: B256 },
    #[error("the proof's leaf {leaf} shares {common} leading bits with key {key}, fewer than its {siblings} siblings: the key would not fall in its subtree")]
    LeafOffPath {
        leaf: B256,
        key: B256,
        common: usize,
        siblings: usize,
    },
    #[error("the proof leads to root {computed}, not {expected}")]
    RootMismatch { computed: B256, expected: B256 },
}

pub fn account_key(address: &Address) -> KeyHash {
    KeyHash(keccak256(address).0)
}

/// The 52-byte preimage of a slot's key: address ‖ slot (big-endian).
pub fn storage_key_preimage(address: &Address, slot: &U256) -> [u8; 52] {
    let mut k = [0u8; 52];
    k[..20].copy_from_slice(address.as_slice());
    k[20..].copy_from_slice(&slot.to_be_bytes::<32>());
    k
}

pub fn storage_key(address: &Address, slot: &U256) -> KeyHash {
    KeyHash(keccak256(storage_key_preimage(address, slot)).0)
}

/// The account layout committed to by the tree.
pub fn encode_account(a: &Account) -> [u8; ACCOUNT_LEN] {
    let mut out = [0u8; ACCOUNT_LEN];
    out[..8].copy_from_slice(&a.nonce.to_be_bytes());
    out[8..40].copy_from_slice(&a.balance.to_be_bytes::<32>());
    out[40..].copy_from_slice(a.code_hash.as_slice());
    out
}

/// An account's leaf value; `None` (no leaf) for an absent account.
pub fn account_value(a: &Option<Account>) -> Option<OwnedValue> {
    a.as_ref().map(|a| encode_account(a).to_vec())
}

/// A slot's leaf value; `None` (no leaf) for zero.
pub fn storage_value(v: &U256) -> Option<OwnedValue> {
    (!v.is_zero()).then(|| v.to_be_bytes::<32>().to_vec())
}

/// jmt's borsh proof (`SparseMerkleProof<Sha256>`, as the tree and
/// `eth_getProof` give it) in the compact encoding `tally-proof/1`
/// carries. The result verifies exactly when jmt's proof does.
pub fn compact_from_jmt(borsh_bytes: &[u8]) -> Result<Bytes, StateProofError> {
    decode_jmt(borsh_bytes).map(|p| Bytes::from(p.encode()))
}

/// Checks that the compact proof `proof` shows leaf `key` holding `value`
/// (`None`: absent) in the tree with root `state_root`.
pub fn verify_leaf(
    proof: &[u8],
    state_root: &B256,
    key: KeyHash,
    value: Option<&[u8]>,
) -> Result<(), StateProofError> {
    CompactProof::decode(proof)?.verify(state_root, key, value)
}

/// Checks that the compact proof `proof` shows `address` holding
/// `account` (`None`: no such account) under `state_root`.
pub fn verify_account(
    proof: &[u8],
    state_root: &B256,
    address: &Address,
    account: &Option<Account>,
) -> Result<(), StateProofError> {
    let value = account_value(account);
    verify_leaf(proof, state_root, account_key(address), value.as_deref())
}

/// Checks that the compact proof `proof` shows slot `slot` of `address`
/// holding `value` (zero: absent) under `state_root`.
pub fn verify_slot(
    proof: &[u8],
    state_root: &B256,
    address: &Address,
    slot: &U256,
    value: &U256,
) -> Result<(), StateProofError> {
    let leaf = storage_value(value);
    verify_leaf(
        proof,
        state_root,
        storage_key(address, slot),
        leaf.as_deref(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;

    #[test]
    fn key_and_value_layouts() {
        let a = address!("00000000000000000000000000000000000000aa");
        assert_eq!(account_key(&a).0, keccak256(a.as_slice()).0);
        let slot = U256::from(0x0102u64);
        let pre = storage_key_preimage(&a, &slot);
        assert_eq!(&pre[..20], a.as_slice());
        assert_eq!(pre[50..], [1, 2]);
        assert_eq!(storage_key(&a, &slot).0, keccak256(pre).0);
        let acc = Account {
            nonce: 0x0a0b,
            balance: U256::from(7u8),
            code_hash: B256::repeat_byte(0xcc),
        };
        let enc = encode_account(&acc);
        assert_eq!(enc[6..8], [0x0a, 0x0b]);
        assert_eq!(enc[39], 7);
        assert_eq!(enc[40..], [0xcc; 32]);
        assert_eq!(account_value(&None), None);
        assert_eq!(storage_value(&U256::ZERO), None);
        assert_eq!(storage_value(&U256::from(1u8)).unwrap()[31], 1);
    }

    #[test]
    fn garbage_is_undecodable_not_a_panic() {
        for bytes in [&[][..], &[1], &[0, 255, 255, 255, 255], &[1; 100]] {
            let e = verify_account(bytes, &B256::ZERO, &Address::ZERO, &None);
            assert!(e.is_err(), "{bytes:?}");
        }
    }
}
