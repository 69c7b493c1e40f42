//! The validator set of one height and who proposes in each round.
//!
//! Proposer selection is Tendermint's weighted round-robin in its "smooth"
//! form (each step every validator's priority grows by its power and the
//! highest, ties to the lowest key, is chosen and loses the total power).
//! With fixed powers that sequence repeats every `total` steps and picks
//! each validator exactly `power` times per period, spread out rather than
//! in runs, so the set computes one period once and the proposer of
//! `(height, round)` is entry `(height + round) mod period`: deterministic
//! from the pair alone, with no state carried between heights.

use super::context::{TallyContext, ValidatorKey};
use malachitebft_core_types as mala;
use tally_crypto::node_key::NodePublicKey;
use tally_primitives::{bft::quorum, BftValidator, B256};

pub use tally_verify::bft::{ValidatorsError as ValidatorSetError, MAX_TOTAL_POWER};

/// Longest proposer schedule kept; sets whose reduced total power exceeds
/// it get a schedule over powers scaled down to fit (proportional to within
/// one slot per validator).
pub const MAX_SCHEDULE: u64 = 1 << 16;

/// One validator: its key (its address), the parsed public key and power.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validator {
    pub key: ValidatorKey,
    pub public: NodePublicKey,
    pub power: u64,
}

impl mala::Validator<TallyContext> for Validator {
    fn address(&self) -> &ValidatorKey {
        &self.key
    }
    fn public_key(&self) -> &NodePublicKey {
        &self.public
    }
    fn voting_power(&self) -> u64 {
        self.power
    }
}

/// The validators of one height, sorted by key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
    total: u64,
    /// One period of the proposer sequence, as indices into `validators`.
    schedule: Vec<u32>,
}

impl ValidatorSet {
    /// The set of `list`, checked as the offline checker checks it
    /// ([`tally_verify::bft::Validators`]): non-empty, no zero power, no
    /// duplicate, usable keys, total power at most [`MAX_TOTAL_POWER`].
    pub fn new(list: &[BftValidator]) -> Result<ValidatorSet, ValidatorSetError> {
        let checked = tally_verify::bft::Validators::new(list)?;
        let total = checked.total_power();
        let validators: Vec<Validator> = checked
            .iter()
            .map(|(key, public, power)| Validator {
                key: ValidatorKey(key),
                public,
                power,
            })
            .collect();
        let schedule = schedule(&validators);
        Ok(ValidatorSet {
            validators,
            total,
            schedule,
        })
    }

    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    pub fn len(&self) -> usize {
        self.validators.len()
    }

    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    pub fn total_power(&self) -> u64 {
        self.total
    }

    /// Power a certificate must reach: more than two thirds of the total.
    pub fn quorum(&self) -> u64 {
        quorum(self.total)
    }

    pub fn get(&self, key: &B256) -> Option<&Validator> {
        self.validators
            .binary_search_by(|v| v.key.0.cmp(key))
            .ok()
            .map(|i| &self.validators[i])
    }

    /// The proposer of `round` at `height` (see the module docs).
    pub fn proposer(&self, height: u64, round: u32) -> &Validator {
        let period = self.schedule.len() as u64;
        let slot = (height % period + u64::from(round) % period) % period;
        &self.validators[self.schedule[slot as usize] as usize]
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// One period of smooth weighted round-robin over the validators' powers.
fn schedule(validators: &[Validator]) -> Vec<u32> {
    let g = validators.iter().fold(0, |g, v| gcd(g, v.power));
    let mut powers: Vec<u64> = validators.iter().map(|v| v.power / g).collect();
    let reduced: u64 = powers.iter().sum();
    if reduced > MAX_SCHEDULE {
        // u128: power × MAX_SCHEDULE may not fit in u64.
        for p in &mut powers {
            *p = ((u128::from(*p) * u128::from(MAX_SCHEDULE) / u128::from(reduced)) as u64).max(1);
        }
    }
    let period: u64 = powers.iter().sum();
    let mut priority = vec![0i128; powers.len()];
    let mut out = Vec::with_capacity(period as usize);
    for _ in 0..period {
        for (p, w) in priority.iter_mut().zip(&powers) {
            *p += i128::from(*w);
        }
        // Highest priority; ties go to the earliest (lowest) key.
        let mut best = 0;
        for i in 1..priority.len() {
            if priority[i] > priority[best] {
                best = i;
            }
        }
        priority[best] -= i128::from(period);
        out.push(best as u32);
    }
    out
}

impl mala::ValidatorSet<TallyContext> for ValidatorSet {
    fn count(&self) -> usize {
        self.validators.len()
    }
    fn total_voting_power(&self) -> u64 {
        self.total
    }
    fn get_by_address(&self, address: &ValidatorKey) -> Option<&Validator> {
        self.get(&address.0)
    }
    fn get_by_index(&self, index: usize) -> Option<&Validator> {
        self.validators.get(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_crypto::node_key::NodeKey;

    fn key(i: u8) -> B256 {
        B256::from(NodeKey::from_bytes(&[i; 32]).public().to_bytes())
    }

    #[test]
    fn proposers_follow_power_over_many_heights() {
        let list: Vec<_> = [(1, 1), (2, 2), (3, 3), (4, 10)]
            .iter()
            .map(|&(i, power)| BftValidator { key: key(i), power })
            .collect();
        let set = ValidatorSet::new(&list).unwrap();
        assert_eq!(set.total_power(), 16);
        assert_eq!(set.quorum(), 11);
        let mut counts = std::collections::HashMap::new();
        let heights = 16 * 500;
        for h in 1..=heights {
            *counts.entry(set.proposer(h, 0).key.0).or_insert(0u64) += 1;
        }
        for v in &list {
            assert_eq!(
                counts[&v.key],
                heights / 16 * v.power,
                "validator {}",
                v.key
            );
        }
        // Deterministic, and a new round moves to another proposer for the
        // small validators (the heavy one may follow itself).
        assert_eq!(set.proposer(77, 3), set.proposer(77, 3));
        let mut changed = 0;
        for h in 1..200 {
            if set.proposer(h, 0).key != set.proposer(h, 1).key {
                changed += 1;
            }
        }
        assert!(changed > 100, "round change rotated only {changed} of 199");
    }

    #[test]
    fn equal_powers_rotate() {
        let list: Vec<_> = (1..=4)
            .map(|i| BftValidator {
                key: key(i),
                power: 5,
            })
            .collect();
        let set = ValidatorSet::new(&list).unwrap();
        let seen: std::collections::BTreeSet<_> = (0..4).map(|r| set.proposer(9, r).key).collect();
        assert_eq!(seen.len(), 4);
    }

    #[test]
    fn huge_powers_are_scaled_not_refused() {
        let list = vec![
            BftValidator {
                key: key(1),
                power: 1_000_000_007,
            },
            BftValidator {
                key: key(2),
                power: 3_000_000_019,
            },
        ];
        let set = ValidatorSet::new(&list).unwrap();
        let n = 40_000;
        let first = (0..n)
            .filter(|h| set.proposer(*h, 0).key.0 == key(1))
            .count();
        assert!((9_000..11_000).contains(&first), "{first}");
    }

    #[test]
    fn bad_sets_are_refused() {
        assert_eq!(ValidatorSet::new(&[]), Err(ValidatorSetError::Empty));
        let zero = [BftValidator {
            key: key(1),
            power: 0,
        }];
        assert_eq!(
            ValidatorSet::new(&zero),
            Err(ValidatorSetError::ZeroPower(key(1)))
        );
        let dup = [
            BftValidator {
                key: key(1),
                power: 1,
            },
            BftValidator {
                key: key(1),
                power: 2,
            },
        ];
        assert_eq!(
            ValidatorSet::new(&dup),
            Err(ValidatorSetError::Duplicate(key(1)))
        );
        let weak = [BftValidator {
            key: B256::ZERO,
            power: 1,
        }];
        assert!(matches!(
            ValidatorSet::new(&weak),
            Err(ValidatorSetError::BadKey { .. })
        ));
        let big = [
            BftValidator {
                key: key(1),
                power: u64::MAX / 2,
            },
            BftValidator {
                key: key(2),
                power: u64::MAX / 2,
            },
        ];
        assert_eq!(
            ValidatorSet::new(&big),
            Err(ValidatorSetError::PowerOverflow)
        );
    }
}
