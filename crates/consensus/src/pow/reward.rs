//! The block reward schedule: Bitcoin's halvings.

use tally_primitives::{PowSpec, U256};

/// The reward of block `number`: `spec.block_reward` halved once every
/// `halving_interval` blocks (never when the interval is 0), zero after
/// 256 halvings.
pub fn block_reward(spec: &PowSpec, number: u64) -> U256 {
    let halvings = number.checked_div(spec.halving_interval).unwrap_or(0);
    if halvings >= 256 {
        return U256::ZERO;
    }
    // halvings < 256 here, so the cast and the shift are exact.
    spec.block_reward >> halvings as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_every_interval() {
        let spec = PowSpec {
            block_reward: U256::from(1000u64),
            halving_interval: 10,
            ..PowSpec::default()
        };
        assert_eq!(block_reward(&spec, 0), U256::from(1000u64));
        assert_eq!(block_reward(&spec, 9), U256::from(1000u64));
        assert_eq!(block_reward(&spec, 10), U256::from(500u64));
        assert_eq!(block_reward(&spec, 25), U256::from(250u64));
        // Integer halving: 1000 >> 9 = 1, then nothing.
        assert_eq!(block_reward(&spec, 90), U256::from(1u64));
        assert_eq!(block_reward(&spec, 100), U256::ZERO);
        assert_eq!(block_reward(&spec, u64::MAX), U256::ZERO);
    }

    #[test]
    fn default_schedule_is_bitcoins() {
        let spec = PowSpec::default();
        let coin = U256::from(10u64).pow(U256::from(18u64));
        assert_eq!(block_reward(&spec, 1), U256::from(50u64) * coin);
        assert_eq!(block_reward(&spec, 210_000), U256::from(25u64) * coin);
        assert_eq!(
            block_reward(&spec, 420_000),
            U256::from(25u64) * coin / U256::from(2u8)
        );
    }

    #[test]
    fn zero_interval_never_halves_and_256_halvings_reach_zero() {
        let never = PowSpec {
            block_reward: U256::MAX,
            halving_interval: 0,
            ..PowSpec::default()
        };
        assert_eq!(block_reward(&never, u64::MAX), U256::MAX);
        let every = PowSpec {
            block_reward: U256::MAX,
            halving_interval: 1,
            ..PowSpec::default()
        };
        assert_eq!(block_reward(&every, 255), U256::from(1u8));
        assert_eq!(block_reward(&every, 256), U256::ZERO);
    }
}
