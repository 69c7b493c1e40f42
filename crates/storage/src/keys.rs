//! Fixed-width, big-endian key encodings, so that redb's byte order sorts
//! keys by address, then slot, then block number.

use alloy_primitives::{Address, B256, U256};

pub fn account_key(a: &Address) -> [u8; 20] {
    a.0 .0
}

pub fn storage_key(a: &Address, slot: &U256) -> [u8; 52] {
    let mut k = [0u8; 52];
    k[..20].copy_from_slice(a.as_slice());
    k[20..].copy_from_slice(&slot.to_be_bytes::<32>());
    k
}

/// Splits a [`storage_key`] back into its slot.
pub fn storage_key_slot(k: &[u8; 52]) -> U256 {
    U256::from_be_slice(&k[20..])
}

pub fn account_history_key(a: &Address, block: u64) -> [u8; 28] {
    let mut k = [0u8; 28];
    k[..20].copy_from_slice(a.as_slice());
    k[20..].copy_from_slice(&block.to_be_bytes());
    k
}

pub fn storage_history_key(a: &Address, slot: &U256, block: u64) -> [u8; 60] {
    let mut k = [0u8; 60];
    k[..52].copy_from_slice(&storage_key(a, slot));
    k[52..].copy_from_slice(&block.to_be_bytes());
    k
}

/// The block number at the end of a history key; `None` for a key too
/// short to end with one (a damaged database).
pub fn history_key_block(k: &[u8]) -> Option<u64> {
    let start = k.len().checked_sub(8)?;
    let b: [u8; 8] = k[start..].try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

pub fn tx_lookup_value(number: u64, index: u64) -> [u8; 16] {
    let mut v = [0u8; 16];
    v[..8].copy_from_slice(&number.to_be_bytes());
    v[8..].copy_from_slice(&index.to_be_bytes());
    v
}

pub fn decode_tx_lookup(v: &[u8; 16]) -> (u64, u64) {
    let mut n = [0u8; 8];
    let mut i = [0u8; 8];
    n.copy_from_slice(&v[..8]);
    i.copy_from_slice(&v[8..]);
    (u64::from_be_bytes(n), u64::from_be_bytes(i))
}

pub fn b256_key(h: &B256) -> [u8; 32] {
    h.0
}

/// Trie node key: version big-endian, then the node's path encoding, so all
/// nodes of versions above N are the range `[trie_version_prefix(N + 1), ..)`.
pub fn trie_node_key(version: u64, path: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(8 + path.len());
    k.extend_from_slice(&version.to_be_bytes());
    k.extend_from_slice(path);
    k
}

pub fn trie_version_prefix(version: u64) -> [u8; 8] {
    version.to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keys_sort_by_address_slot_then_block() {
        let a = Address::repeat_byte(1);
        let b = Address::repeat_byte(2);
        assert!(account_history_key(&a, 300) < account_history_key(&a, 301));
        assert!(account_history_key(&a, u64::MAX) < account_history_key(&b, 0));
        let s1 = U256::from(5);
        let s2 = U256::from(256);
        assert!(storage_history_key(&a, &s1, 9) < storage_history_key(&a, &s1, 10));
        assert!(storage_history_key(&a, &s1, u64::MAX) < storage_history_key(&a, &s2, 0));
        assert_eq!(
            history_key_block(&storage_history_key(&a, &s2, 77)),
            Some(77)
        );
        assert_eq!(storage_key_slot(&storage_key(&a, &s2)), s2);
    }

    /// Found by the `storage_codec` fuzz target: a key shorter than a
    /// block number panicked in `copy_from_slice`.
    #[test]
    fn short_history_keys_have_no_block() {
        assert_eq!(history_key_block(&[]), None);
        assert_eq!(history_key_block(&[1, 2, 3, 4, 5, 6, 7]), None);
        assert_eq!(history_key_block(&[0, 0, 0, 0, 0, 0, 1, 2]), Some(258));
    }

    #[test]
    fn trie_keys_sort_by_version() {
        assert!(trie_node_key(1, &[0xff; 40]) < trie_node_key(2, &[]));
        assert!(trie_node_key(255, &[]) < trie_node_key(256, &[]));
        assert_eq!(decode_tx_lookup(&tx_lookup_value(7, 9)), (7, 9));
    }
}
