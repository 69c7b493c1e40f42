//! Netting: the legs of a batch in, one net movement per (asset, account)
//! out. Pure, so the rule a batch settles by can be tested alone: applying
//! the nets gives every account the balance it would have after all legs,
//! in any order, and each asset's debits sum to its credits.

use alloy_primitives::{Address, U256};
use std::collections::BTreeMap;

/// `amount` of `asset` (`Address::ZERO` for the coin) from `from` to `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Leg {
    pub asset: Address,
    pub from: Address,
    pub to: Address,
    pub amount: U256,
}

/// The net change of one account's balance of one asset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Net {
    Debit(U256),
    Credit(U256),
}

/// Every (asset, account) whose balance changes, in address order so
/// every node applies the movements in the same order.
pub(crate) type Nets = BTreeMap<(Address, Address), Net>;

/// The legs' amounts into or out of one account overflow 256 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the amounts of {asset} moving {direction} {account} add up past 2^256")]
pub(crate) struct Overflow {
    pub asset: Address,
    pub account: Address,
    pub direction: &'static str,
}

/// The net movements of `legs`; accounts whose in and out cancel are left
/// out.
pub(crate) fn net(legs: &[Leg]) -> Result<Nets, Overflow> {
    // (in, out) per (asset, account), summed separately so no sign is needed.
    let mut flows: BTreeMap<(Address, Address), (U256, U256)> = BTreeMap::new();
    for leg in legs {
        let out = &mut flows.entry((leg.asset, leg.from)).or_default().1;
        *out = out.checked_add(leg.amount).ok_or(Overflow {
            asset: leg.asset,
            account: leg.from,
            direction: "out of",
        })?;
        let into = &mut flows.entry((leg.asset, leg.to)).or_default().0;
        *into = into.checked_add(leg.amount).ok_or(Overflow {
            asset: leg.asset,
            account: leg.to,
            direction: "into",
        })?;
    }
    Ok(flows
        .into_iter()
        .filter_map(|(key, (into, out))| {
            let net = if into > out {
                Net::Credit(into - out)
            } else if out > into {
                Net::Debit(out - into)
            } else {
                return None;
            };
            Some((key, net))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn acct(n: u8) -> Address {
        Address::repeat_byte(n)
    }

    fn leg(asset: u8, from: u8, to: u8, amount: u64) -> Leg {
        Leg {
            asset: if asset == 0 {
                Address::ZERO
            } else {
                acct(0xa0 + asset)
            },
            from: acct(from),
            to: acct(to),
            amount: U256::from(amount),
        }
    }

    #[test]
    fn a_chain_of_payments_nets_to_its_ends() {
        // 1 pays 2, 2 pays 3 the same: 2 is untouched.
        let nets = net(&[leg(1, 1, 2, 50), leg(1, 2, 3, 50)]).unwrap();
        assert_eq!(nets.len(), 2);
        assert_eq!(nets[&(acct(0xa1), acct(1))], Net::Debit(U256::from(50)));
        assert_eq!(nets[&(acct(0xa1), acct(3))], Net::Credit(U256::from(50)));
        // A swap of two assets: four movements, none cancels.
        let nets = net(&[leg(1, 1, 2, 5), leg(0, 2, 1, 7)]).unwrap();
        assert_eq!(nets.len(), 4);
        assert_eq!(nets[&(Address::ZERO, acct(2))], Net::Debit(U256::from(7)));
        // Back and forth cancels completely.
        assert!(net(&[leg(1, 1, 2, 9), leg(1, 2, 1, 9)]).unwrap().is_empty());
    }

    #[test]
    fn overflowing_sums_are_refused() {
        let big = Leg {
            amount: U256::MAX,
            ..leg(1, 1, 2, 0)
        };
        let err = net(&[big, big]).unwrap_err();
        assert_eq!(err.account, acct(1));
        assert!(err.to_string().contains("past 2^256"), "{err}");
    }

    proptest! {
        #[test]
        fn nets_match_moving_every_leg(
            raw in proptest::collection::vec((0u8..3, 1u8..5, 1u8..5, 0u64..1_000), 0..40)
        ) {
            let legs: Vec<Leg> = raw.iter().map(|&(a, f, t, x)| leg(a, f, t, x)).collect();
            let nets = net(&legs).unwrap();
            // Leg by leg, with signed balances.
            let mut by_leg: HashMap<(Address, Address), i128> = HashMap::new();
            for l in &legs {
                let x = i128::from(l.amount.to::<u64>());
                *by_leg.entry((l.asset, l.from)).or_default() -= x;
                *by_leg.entry((l.asset, l.to)).or_default() += x;
            }
            by_leg.retain(|_, v| *v != 0);
            let from_nets: HashMap<(Address, Address), i128> = nets
                .iter()
                .map(|(k, n)| match n {
                    Net::Debit(x) => (*k, -i128::from(x.to::<u64>())),
                    Net::Credit(x) => (*k, i128::from(x.to::<u64>())),
                })
                .collect();
            prop_assert_eq!(&from_nets, &by_leg);
            // Each asset's debits and credits balance.
            let mut per_asset: HashMap<Address, i128> = HashMap::new();
            for ((asset, _), v) in &from_nets {
                *per_asset.entry(*asset).or_default() += v;
            }
            prop_assert!(per_asset.values().all(|v| *v == 0));
        }
    }
}
