//! The difficulty rule: absolute ASERT (Bitcoin Cash's aserti3-2d)
//! anchored at genesis (docs/adr/0005-pow-difficulty.md).
//!
//! The target of block `n + 1` depends only on its parent, block `n`, and
//! on genesis:
//!
//! ```text
//! target(n + 1) = initial_target * 2^((t_n - t_genesis - T * n) / halflife)
//! ```
//!
//! A chain on schedule keeps the initial target; for every half-life it
//! runs behind (or ahead) the target doubles (or halves). This is
//! aserti3-2d with block 1 as the anchor block (its parent, genesis, gives
//! the anchor time, and `height_delta + 1 = n`), so block 1's target is
//! exactly the initial target. Everything is integer arithmetic as in the
//! aserti3-2d specification: 2^x is split into a whole number of shifts
//! and a 16-bit fraction whose power of two is the spec's cubic
//! polynomial. Results are clamped to `[1, POW_LIMIT]`, and no input panics.

use alloy_primitives::{U256, U512};
use tally_primitives::{Header, PowSpec};

use super::target::{bits_from_target, target_from_bits, POW_LIMIT};

/// Fractional bits of the fixed-point exponent (aserti3-2d's `rbits`).
const RADIX_BITS: u32 = 16;

/// The initial target of `spec`, bounded to `[1, POW_LIMIT]` (an
/// undecodable `initial_bits` counts as the limit; the consensus
/// engine refuses such specs, so this only keeps the function total).
pub fn initial_target(spec: &PowSpec) -> U256 {
    target_from_bits(spec.initial_bits)
        .unwrap_or(POW_LIMIT)
        .clamp(U256::from(1u8), POW_LIMIT)
}

/// The target of the block after `parent`.
pub fn next_target(spec: &PowSpec, genesis: &Header, parent: &Header) -> U256 {
    // Validation guarantees a block time of at least one second; a
    // half-life of zero (also refused there) would divide by zero.
    let spacing = i128::from(spec.target_block_time_ms / 1000);
    let halflife = i128::from(spec.halflife_s.max(1));
    let elapsed = i128::from(parent.timestamp) - i128::from(genesis.timestamp);
    let behind = elapsed.saturating_sub(spacing.saturating_mul(i128::from(parent.number)));
    // Division truncates toward zero, as aserti3-2d specifies (C++ `/`).
    // Saturating keeps absurd inputs absurd: shifts far past 256 either way.
    let exponent = behind.saturating_mul(1 << RADIX_BITS) / halflife;
    scale(initial_target(spec), exponent)
}

/// The compact bits of the block after `parent`.
pub fn next_bits(spec: &PowSpec, genesis: &Header, parent: &Header) -> u32 {
    bits_from_target(next_target(spec, genesis, parent))
}

/// `anchor * 2^(exponent / 2^16)`, clamped to `[1, POW_LIMIT]`; `anchor`
/// must be in that range too.
fn scale(anchor: U256, exponent: i128) -> U256 {
    // An arithmetic shift floors, so the fraction is in [0, 2^16).
    let shifts = exponent >> RADIX_BITS;
    let frac = (exponent & ((1 << RADIX_BITS) - 1)) as u128;
    // 2^16 * 2^(frac / 2^16), within 2^16 ..= 2^17 - 1 (aserti3-2d's
    // polynomial; its largest intermediate is under 2^65, so u128 is ample).
    let factor = (1u128 << RADIX_BITS)
        + ((195_766_423_245_049 * frac
            + 971_821_376 * frac * frac
            + 5_127 * frac * frac * frac
            + (1 << 47))
            >> 48);
    // anchor < 2^255 and factor < 2^17: the product needs up to 272 bits.
    let product = U512::from(anchor) * U512::from(factor);
    let shift = shifts - i128::from(RADIX_BITS);
    let scaled = if shift >= 240 {
        // product >= 2^16 (anchor >= 1), so the result is at least 2^256.
        return POW_LIMIT;
    } else if shift >= 0 {
        // Below 2^272 * 2^239 < 2^512: no bits lost.
        product << usize::try_from(shift).unwrap_or(0)
    } else if shift > -512 {
        product >> usize::try_from(-shift).unwrap_or(0)
    } else {
        U512::ZERO
    };
    if scaled.is_zero() {
        return U256::from(1u8);
    }
    if scaled >= U512::from(POW_LIMIT) {
        return POW_LIMIT;
    }
    // Below POW_LIMIT, so the high limbs are zero.
    U256::from_limbs_slice(&scaled.as_limbs()[..4])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pow::target::POW_LIMIT_BITS;
    use proptest::prelude::*;

    const GENESIS_TIME: u64 = 1_700_000_000;

    fn spec(initial_bits: u32) -> PowSpec {
        PowSpec {
            target_block_time_ms: 2000,
            initial_bits,
            halflife_s: 16,
            ..PowSpec::default()
        }
    }

    fn genesis(spec: &PowSpec) -> Header {
        Header {
            number: 0,
            timestamp: GENESIS_TIME,
            bits: spec.initial_bits,
            ..Default::default()
        }
    }

    /// Block `number` whose timestamp is `late` seconds off the schedule.
    fn parent(number: u64, late: i64) -> Header {
        Header {
            number,
            timestamp: GENESIS_TIME
                .saturating_add(2 * number)
                .saturating_add_signed(late),
            ..Default::default()
        }
    }

    fn target(bits: u32) -> U256 {
        target_from_bits(bits).unwrap()
    }

    #[test]
    fn block_one_gets_exactly_the_initial_target() {
        let s = spec(0x1f00_ffff);
        let g = genesis(&s);
        assert_eq!(next_target(&s, &g, &g), target(0x1f00_ffff));
        assert_eq!(next_bits(&s, &g, &g), 0x1f00_ffff);
    }

    #[test]
    fn on_schedule_keeps_the_target() {
        let s = spec(0x1f00_ffff);
        let g = genesis(&s);
        for n in [1u64, 2, 100, 1_000_000] {
            assert_eq!(next_bits(&s, &g, &parent(n, 0)), 0x1f00_ffff, "block {n}");
        }
    }

    #[test]
    fn one_halflife_behind_doubles_and_one_ahead_halves() {
        let s = spec(0x1f00_ffff);
        let g = genesis(&s);
        let initial = target(0x1f00_ffff);
        assert_eq!(
            next_target(&s, &g, &parent(100, 16)),
            initial * U256::from(2u8)
        );
        assert_eq!(
            next_target(&s, &g, &parent(100, -16)),
            initial / U256::from(2u8)
        );
        assert_eq!(
            next_target(&s, &g, &parent(100, 48)),
            initial * U256::from(8u8)
        );
        // Compact bits keep both exactly (0xffff << 1 fits the mantissa).
        assert_eq!(next_bits(&s, &g, &parent(100, 16)), 0x1f01_fffe);
        assert_eq!(
            target(next_bits(&s, &g, &parent(100, -16))),
            initial / U256::from(2u8)
        );
    }

    #[test]
    fn half_a_halflife_is_close_to_the_square_root_of_two() {
        let s = spec(0x1f00_ffff);
        let g = genesis(&s);
        let initial = target(0x1f00_ffff);
        let up = next_target(&s, &g, &parent(100, 8));
        // 2^0.5 = 1.41421356...; aserti3-2d's polynomial is within 0.013%.
        let ratio = (up / (initial / U256::from(1_000_000u64))).to::<u64>();
        assert!((1_414_000..=1_414_400).contains(&ratio), "{ratio}");
        // Between whole shifts the target rises monotonically.
        let mut last = initial;
        for late in 1..=16 {
            let next = next_target(&s, &g, &parent(100, late));
            assert!(next > last, "{late}");
            last = next;
        }
    }

    #[test]
    fn clamps_at_the_limit_and_at_one() {
        let s = spec(0x1f00_ffff);
        let g = genesis(&s);
        // Far behind: the easiest target allowed.
        assert_eq!(next_bits(&s, &g, &parent(10, 100_000)), POW_LIMIT_BITS);
        // Far ahead: 1 (the future limit makes this unreachable in practice).
        let ahead = parent(1_000_000, -1_900_000);
        assert_eq!(next_target(&s, &g, &ahead), U256::from(1u8));
        // An initial target at the limit never goes above it.
        let easy = spec(POW_LIMIT_BITS);
        let g = genesis(&easy);
        assert_eq!(next_target(&easy, &g, &parent(5, 20)), POW_LIMIT);
        assert_eq!(next_target(&easy, &g, &parent(5, -16)), POW_LIMIT >> 1);
    }

    #[test]
    fn extreme_inputs_do_not_panic() {
        let s = PowSpec {
            target_block_time_ms: u64::MAX,
            halflife_s: 0,
            initial_bits: 0xff12_3456,
            ..PowSpec::default()
        };
        let g = Header {
            timestamp: u64::MAX,
            ..Default::default()
        };
        let p = Header {
            number: u64::MAX,
            timestamp: 0,
            ..Default::default()
        };
        assert_eq!(next_target(&s, &g, &p), U256::from(1u8));
        assert_eq!(next_target(&s, &p, &g), POW_LIMIT);
    }

    proptest! {
        #[test]
        fn always_within_bounds_and_monotonic_in_parent_time(
            bits in any::<u32>(),
            block_ms in any::<u64>(),
            halflife in any::<u64>(),
            genesis_time in any::<u64>(),
            number in any::<u64>(),
            time in any::<u64>(),
        ) {
            let s = PowSpec {
                target_block_time_ms: block_ms,
                initial_bits: bits,
                halflife_s: halflife,
                ..PowSpec::default()
            };
            let g = Header { timestamp: genesis_time, ..Default::default() };
            let p = Header { number, timestamp: time, ..Default::default() };
            let t = next_target(&s, &g, &p);
            prop_assert!(t >= U256::from(1u8) && t <= POW_LIMIT);
            // The compact form decodes to a target in bounds as well.
            let decoded = target_from_bits(next_bits(&s, &g, &p)).unwrap();
            prop_assert!(decoded >= U256::from(1u8) && decoded <= t);
            let later = Header { timestamp: time.saturating_add(1), ..p };
            prop_assert!(next_target(&s, &g, &later) >= t);
        }
    }
}
