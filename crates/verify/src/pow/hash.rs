//! The PoW hash, computed the plain way: two SHA-256 calls over 40 bytes.
//! (The miner in `tally-consensus` computes the same hash with the padded
//! blocks kept in place; its tests compare the two.)

use alloy_primitives::{B256, U256};
use sha2::{Digest, Sha256};

/// Length of a PoW seal: the nonce, 8 bytes big-endian.
pub const SEAL_LEN: usize = 8;

/// SHA-256(SHA-256(seal_hash ‖ nonce as 8 bytes big-endian)).
pub fn pow_hash(seal_hash: &B256, nonce: u64) -> B256 {
    let mut input = [0u8; 40];
    input[..32].copy_from_slice(seal_hash.as_slice());
    input[32..].copy_from_slice(&nonce.to_be_bytes());
    B256::from_slice(&Sha256::digest(Sha256::digest(input)))
}

/// Whether `hash`, read as a big-endian number, is at or below `target`.
pub fn meets_target(hash: &B256, target: &U256) -> bool {
    U256::from_be_bytes(hash.0) <= *target
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::b256;

    #[test]
    fn matches_vectors_computed_elsewhere() {
        // Python: sha256(sha256(seal_hash + nonce.to_bytes(8, "big"))).
        assert_eq!(
            pow_hash(&B256::ZERO, 0),
            b256!("752998506c34979b5cffb93e51c1e0c76ee35fcb420e1a66a032730b69108e32")
        );
        assert_eq!(
            pow_hash(&B256::repeat_byte(0xab), 0x0102_0304_0506_0708),
            b256!("0c0c475874385b6bb992b8d5485b24b2ad7dfbdaf9cdc0edf58076db7f40b3ae")
        );
    }

    #[test]
    fn target_comparison_is_big_endian_and_inclusive() {
        assert!(meets_target(&B256::with_last_byte(1), &U256::from(1u8)));
        assert!(!meets_target(&B256::with_last_byte(2), &U256::from(1u8)));
        let mut high = B256::ZERO;
        high.0[0] = 1;
        assert!(!meets_target(&high, &(U256::from(1u8) << 200)));
        assert!(meets_target(&high, &(U256::from(1u8) << 248)));
    }
}
