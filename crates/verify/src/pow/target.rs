//! Bitcoin's compact target encoding ("bits") and the work a target stands for.
//!
//! A compact target is a base-256 float: the top byte is the length in bytes
//! of the number, the low 23 bits its most significant bytes, and bit 23 a
//! sign that no valid target has. Decoding follows Bitcoin Core's
//! `arith_uint256::SetCompact` exactly (including what it accepts as zero),
//! encoding follows `GetCompact`, so Bitcoin's test vectors hold here.

use alloy_primitives::{B256, U256};

/// Why compact bits do not encode a target.
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
pub enum BitsError {
    #[error(
        "compact target {bits:#010x} is negative (sign bit 0x00800000 set on a non-zero mantissa)"
    )]
    NegativeTarget { bits: u32 },
    #[error("compact target {bits:#010x} does not fit in 256 bits")]
    TargetOverflow { bits: u32 },
}

/// The easiest target allowed, as compact bits: Bitcoin regtest's limit,
/// a target just under 2^255, so one hash in two meets it.
///
/// So easy a limit is deliberate: security comes from the difficulty rule,
/// which only lets the target reach the limit when the chain is far behind
/// its schedule; tests and single-CPU testnets can then seal blocks at
/// once, and the rule has room to make blocks easier after hash power
/// leaves a chain whose initial target was set too hard.
pub const POW_LIMIT_BITS: u32 = 0x207f_ffff;

/// [`POW_LIMIT_BITS`] decoded: `0x7fffff << 232`.
pub const POW_LIMIT: U256 = U256::from_limbs([0, 0, 0, 0x7fff_ff00_0000_0000]);

/// Decodes compact `bits` into a 256-bit target. Negative encodings and
/// encodings above 2^256 are errors; zero is a valid (unmeetable) result
/// that callers bound themselves.
pub fn target_from_bits(bits: u32) -> Result<U256, BitsError> {
    let size = bits >> 24;
    let mut word = bits & 0x007f_ffff;
    if size <= 3 {
        word >>= 8 * (3 - size);
    }
    if word == 0 {
        return Ok(U256::ZERO);
    }
    if bits & 0x0080_0000 != 0 {
        return Err(BitsError::NegativeTarget { bits });
    }
    if size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32) {
        return Err(BitsError::TargetOverflow { bits });
    }
    if size <= 3 {
        return Ok(U256::from(word));
    }
    // size is 4..=34 here and the checks above keep the result below 2^256.
    Ok(U256::from(word) << (8 * (size as usize - 3)))
}

/// Encodes `target` in compact form, keeping its three most significant
/// bytes (rounding down). Canonical: decoding the result and encoding it
/// again gives the same bits.
pub fn bits_from_target(target: U256) -> u32 {
    let mut size = target.bit_len().div_ceil(8);
    let mut compact = if size <= 3 {
        (target.as_limbs()[0] as u32) << (8 * (3 - size))
    } else {
        (target >> (8 * (size - 3))).as_limbs()[0] as u32
    };
    // The mantissa's top bit would read as a sign: move it a byte down.
    if compact & 0x0080_0000 != 0 {
        compact >>= 8;
        size += 1;
    }
    // size <= 33 for any U256.
    compact | ((size as u32) << 24)
}

/// The expected number of hashes to meet the target `bits` encodes,
/// `floor(2^256 / (target + 1))` as in Bitcoin's `GetBlockProof`,
/// saturating at `u128::MAX` (the fork-choice weight is a `u128`). Zero for
/// a negative, overflowing or zero target, which no valid header carries.
pub fn work(bits: u32) -> u128 {
    let Ok(target) = target_from_bits(bits) else {
        return 0;
    };
    if target.is_zero() {
        return 0;
    }
    // 2^256 does not fit in 256 bits, but 2^256 / (t + 1) equals
    // (2^256 - t - 1) / (t + 1) + 1 = !t / (t + 1) + 1, which does.
    let Some(divisor) = target.checked_add(U256::from(1u8)) else {
        return 1;
    };
    let work = (!target / divisor).saturating_add(U256::from(1u8));
    u128::try_from(work).unwrap_or(u128::MAX)
}

/// `target` as the 32 big-endian bytes external miners compare hashes with.
pub fn target_to_b256(target: U256) -> B256 {
    B256::from(target.to_be_bytes::<32>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U512;
    use proptest::prelude::*;

    #[test]
    fn bitcoin_vectors() {
        // From Bitcoin Core's arith_uint256_tests (SetCompact / GetCompact).
        for zero in [
            0u32,
            0x0012_3456,
            0x0100_3456,
            0x0200_0056,
            0x0300_0000,
            0x0400_0000,
            0x0092_3456,
            0x0180_3456,
            0x0280_0056,
            0x0380_0000,
            0x0480_0000,
        ] {
            assert_eq!(target_from_bits(zero), Ok(U256::ZERO), "{zero:#x}");
        }
        assert_eq!(bits_from_target(U256::ZERO), 0);
        let vectors: [(u32, U256, u32); 6] = [
            (0x0112_3456, U256::from(0x12u64), 0x0112_0000),
            (0x0212_3456, U256::from(0x1234u64), 0x0212_3400),
            (0x0312_3456, U256::from(0x12_3456u64), 0x0312_3456),
            (0x0412_3456, U256::from(0x1234_5600u64), 0x0412_3456),
            (0x0500_9234, U256::from(0x9234_0000u64), 0x0500_9234),
            (
                0x2012_3456,
                U256::from(0x12_3456u64) << (8 * 29),
                0x2012_3456,
            ),
        ];
        for (bits, target, canonical) in vectors {
            assert_eq!(target_from_bits(bits), Ok(target), "{bits:#x}");
            assert_eq!(bits_from_target(target), canonical, "{bits:#x}");
        }
        assert_eq!(
            target_from_bits(0x01fe_dcba),
            Err(BitsError::NegativeTarget { bits: 0x01fe_dcba })
        );
        assert_eq!(
            target_from_bits(0x0492_3456),
            Err(BitsError::NegativeTarget { bits: 0x0492_3456 })
        );
        assert_eq!(
            target_from_bits(0xff12_3456),
            Err(BitsError::TargetOverflow { bits: 0xff12_3456 })
        );
    }

    #[test]
    fn overflow_edges() {
        // The largest encodings that still fit, and one byte more of each.
        assert_eq!(
            target_from_bits(0x2200_00ff),
            Ok(U256::from(0xffu64) << 248)
        );
        assert!(target_from_bits(0x2300_00ff).is_err());
        assert!(target_from_bits(0x2200_0100).is_err());
        assert_eq!(
            target_from_bits(0x2100_ffff),
            Ok(U256::from(0xffffu64) << 240)
        );
        assert!(target_from_bits(0x2101_0000).is_err());
        assert_eq!(
            target_from_bits(0x207f_ffff),
            Ok(U256::from(0x7f_ffffu64) << 232)
        );
        // A zero mantissa is zero whatever the size, as in Bitcoin.
        assert_eq!(target_from_bits(0xff00_0000), Ok(U256::ZERO));
        assert_eq!(target_from_bits(0xff80_0000), Ok(U256::ZERO));
    }

    #[test]
    fn pow_limit_constant_matches_its_bits() {
        assert_eq!(target_from_bits(POW_LIMIT_BITS), Ok(POW_LIMIT));
        assert_eq!(bits_from_target(POW_LIMIT), POW_LIMIT_BITS);
        assert!(POW_LIMIT < U256::from(1u8) << 255);
    }

    #[test]
    fn work_matches_bitcoin() {
        // Bitcoin's genesis difficulty 0x1d00ffff: 0x100010001 hashes.
        assert_eq!(work(0x1d00_ffff), 0x1_0001_0001);
        // Target 2^255 - 2^232 needs a little over two hashes: floor is 2.
        assert_eq!(work(POW_LIMIT_BITS), 2);
        // Target 1, the hardest: 2^255 hashes, more than a u128 holds.
        assert_eq!(work(0x0101_0000), u128::MAX);
        // The testnet default: about 2^16.
        assert_eq!(work(0x1f00_ffff), 0x1_0001);
        for invalid in [0u32, 0x0492_3456, 0xff12_3456] {
            assert_eq!(work(invalid), 0, "{invalid:#x}");
        }
    }

    #[test]
    fn target_to_b256_is_big_endian() {
        assert_eq!(
            target_to_b256(U256::from(0x0102u64)).0[30..],
            [0x01, 0x02][..]
        );
        assert_eq!(target_to_b256(POW_LIMIT).0[..4], [0x7f, 0xff, 0xff, 0][..]);
    }

    fn any_u256() -> impl Strategy<Value = U256> {
        // Any width from 0 to 256 bits, so small and huge targets both occur.
        (any::<[u64; 4]>(), 0usize..=256).prop_map(|(limbs, bits)| {
            let value = U256::from_limbs(limbs);
            if bits == 256 {
                value
            } else {
                value & ((U256::from(1u8) << bits) - U256::from(1u8))
            }
        })
    }

    proptest! {
        #[test]
        fn encoding_keeps_the_top_bytes(target in any_u256()) {
            let bits = bits_from_target(target);
            let back = target_from_bits(bits).expect("encoded targets decode");
            prop_assert!(back <= target);
            // Only bytes below the mantissa are dropped: less than one unit
            // of its last byte, 256^(size - 3).
            let size = (bits >> 24) as usize;
            if size <= 3 {
                prop_assert_eq!(back, target);
            } else {
                prop_assert!(target - back < U256::from(1u8) << (8 * (size - 3)));
            }
            // The encoding is canonical.
            prop_assert_eq!(bits_from_target(back), bits);
            prop_assert_eq!(bits & 0x0080_0000, 0);
        }

        #[test]
        fn decoding_round_trips(bits in any::<u32>()) {
            if let Ok(target) = target_from_bits(bits) {
                let canonical = bits_from_target(target);
                prop_assert_eq!(target_from_bits(canonical), Ok(target));
            }
        }

        #[test]
        fn work_is_floor_of_two_pow_256_over_target_plus_one(bits in any::<u32>()) {
            let Ok(target) = target_from_bits(bits) else {
                prop_assert_eq!(work(bits), 0);
                return Ok(());
            };
            let w = work(bits);
            if target.is_zero() {
                prop_assert_eq!(w, 0);
                return Ok(());
            }
            let two_256 = U512::from(1u8) << 256;
            let divisor = U512::from(target) + U512::from(1u8);
            let exact = two_256 / divisor;
            if exact > U512::from(u128::MAX) {
                prop_assert_eq!(w, u128::MAX);
            } else {
                prop_assert_eq!(U512::from(w), exact);
            }
        }
    }
}
