//! The chain spec of a new testnet: `tally dev`'s chain id and funded test
//! accounts, so the same scripts work against every testnet, and the engine
//! the options ask for.
//!
//! - dev: node 1 is the only producer;
//! - pow: every node mines; the genesis time is now (the difficulty rule
//!   is anchored there);
//! - bft: node `i` is member `i`'s node and the first V nodes are the
//!   validators. A BFT chain is always a consortium: the allowlist
//!   (`members`) holds every node's key, which the spec requires of each
//!   validator and member node.

use std::collections::BTreeMap;

use tally_primitives::{
    Address, BftMember, BftSpec, BftValidator, ChainSpec, EngineSpec, GenesisAccount, PowSpec,
    B256, U256,
};

use super::layout::{BftOptions, Consensus, CreateOptions};

/// How many test-mnemonic accounts are funded at genesis, as in `tally dev`.
const FUNDED_ACCOUNTS: u32 = 10;

/// Test-mnemonic accounts `0..n`: node `i` (1-based) uses account `i - 1`,
/// funded at genesis for the first [`FUNDED_ACCOUNTS`] nodes.
pub fn test_accounts(n: usize) -> anyhow::Result<Vec<Address>> {
    let count = u32::try_from(n).map_err(|_| anyhow::anyhow!("{n} test accounts are too many"))?;
    let accounts: Vec<Address> = tally_crypto::mnemonic::dev_accounts(count)
        .into_iter()
        .map(|(_, address)| address)
        .collect();
    anyhow::ensure!(
        accounts.len() == n,
        "derived only {} of {n} test-mnemonic accounts",
        accounts.len()
    );
    Ok(accounts)
}

/// The spec of a new testnet whose nodes have the ed25519 keys `publics`
/// and the accounts `accounts` (one each). `bft` is used by BFT networks
/// only; `None` there means [`BftOptions::all`].
pub fn testnet_spec(
    opts: &CreateOptions,
    bft: Option<&BftOptions>,
    publics: &[B256],
    accounts: &[Address],
) -> ChainSpec {
    let mut spec = ChainSpec::dev(funded_alloc(), opts.block_time_ms);
    spec.name = "tally-testnet".into();
    if opts.consortium {
        spec.members = publics.to_vec();
    }
    match opts.consensus {
        Consensus::Dev => {
            spec.engine = EngineSpec::Dev {
                block_time_ms: opts.block_time_ms,
                authority: publics.first().copied(),
            };
        }
        Consensus::Pow => {
            spec.name = "tally-pow-testnet".into();
            spec.engine = EngineSpec::Pow(PowSpec {
                target_block_time_ms: opts.block_time_ms,
                ..PowSpec::default()
            });
            spec.timestamp = unix_now();
        }
        Consensus::Bft => {
            let all = BftOptions::all(publics.len());
            let bft = bft.unwrap_or(&all);
            spec.name = "tally-bft-testnet".into();
            spec.engine = EngineSpec::Bft(bft_spec(opts.block_time_ms, bft, publics, accounts));
            spec.members = publics.to_vec();
        }
    }
    spec
}

/// The first [`FUNDED_ACCOUNTS`] test accounts with 10,000 coins each.
fn funded_alloc() -> BTreeMap<Address, GenesisAccount> {
    let wei = U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18));
    tally_crypto::mnemonic::dev_accounts(FUNDED_ACCOUNTS)
        .into_iter()
        .map(|(_, a)| {
            (
                a,
                GenesisAccount {
                    balance: wei,
                    ..Default::default()
                },
            )
        })
        .collect()
}

/// Members are the nodes in order, each with its name and account; the
/// first `bft.validators` nodes validate with power 1. No roles are
/// listed: members' accounts are admins by default.
fn bft_spec(
    block_time_ms: u64,
    bft: &BftOptions,
    publics: &[B256],
    accounts: &[Address],
) -> BftSpec {
    BftSpec {
        block_time_ms,
        create_empty_blocks: bft.create_empty_blocks,
        timeout_ms: 1000,
        timeout_delta_ms: 500,
        validators: publics
            .iter()
            .take(bft.validators)
            .map(|&key| BftValidator { key, power: 1 })
            .collect(),
        members: bft
            .member_names
            .iter()
            .zip(publics.iter().zip(accounts))
            .map(|(name, (&node_key, &account))| BftMember {
                name: name.clone(),
                account,
                node_key,
            })
            .collect(),
        roles: BTreeMap::new(),
        governance_threshold_pct: 67,
        min_gas_price: 0,
    }
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// How many faulty validators (of equal power) a BFT chain of `validators`
/// survives: f with 3f + 1 <= V.
pub fn fault_tolerance(validators: usize) -> usize {
    validators.saturating_sub(1) / 3
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: u8) -> Vec<B256> {
        (1..=n).map(B256::repeat_byte).collect()
    }

    fn bft_opts(nodes: usize, bft: Option<BftOptions>) -> CreateOptions {
        CreateOptions {
            consensus: Consensus::Bft,
            nodes,
            block_time_ms: 1000,
            consortium: false,
            base_port: None,
            bft,
        }
    }

    #[test]
    fn bft_spec_has_validators_members_and_allowlist() {
        let publics = keys(4);
        let accounts = test_accounts(4).unwrap();
        let opts = bft_opts(
            4,
            Some(BftOptions {
                validators: 3,
                member_names: ["a", "b", "c", "d"].map(String::from).to_vec(),
                create_empty_blocks: false,
            }),
        );
        let spec = testnet_spec(&opts, opts.bft.as_ref(), &publics, &accounts);
        spec.validate().unwrap();
        assert_eq!(spec.name, "tally-bft-testnet");
        assert_eq!(spec.chain_id, 31337);
        // Always a consortium, even without --consortium.
        assert_eq!(spec.members, publics);
        let EngineSpec::Bft(bft) = &spec.engine else {
            panic!("not a BFT spec: {:?}", spec.engine);
        };
        assert_eq!(
            bft.validators,
            publics[..3]
                .iter()
                .map(|&key| BftValidator { key, power: 1 })
                .collect::<Vec<_>>()
        );
        assert_eq!(bft.members.len(), 4);
        for (i, m) in bft.members.iter().enumerate() {
            assert_eq!(m.name, ["a", "b", "c", "d"][i]);
            assert_eq!(m.node_key, publics[i]);
            assert_eq!(m.account, accounts[i]);
            assert!(spec.alloc.contains_key(&m.account), "funded at genesis");
        }
        assert!(!bft.create_empty_blocks);
        assert_eq!(bft.block_time_ms, 1000);
        assert_eq!((bft.timeout_ms, bft.timeout_delta_ms), (1000, 500));
        assert_eq!(bft.governance_threshold_pct, 67);
        assert_eq!(bft.min_gas_price, 0);
        assert!(bft.roles.is_empty());
        // It survives the TOML round trip the node reads it through.
        assert_eq!(ChainSpec::from_toml(&spec.to_toml(), "t").unwrap(), spec);
    }

    #[test]
    fn bft_defaults_make_every_node_a_validator_named_org_i() {
        let publics = keys(3);
        let accounts = test_accounts(3).unwrap();
        let spec = testnet_spec(&bft_opts(3, None), None, &publics, &accounts);
        spec.validate().unwrap();
        let EngineSpec::Bft(bft) = &spec.engine else {
            panic!("not a BFT spec");
        };
        assert_eq!(bft.validators.len(), 3);
        let names: Vec<&str> = bft.members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["org1", "org2", "org3"]);
        assert!(bft.create_empty_blocks);
    }

    #[test]
    fn dev_spec_is_public_unless_consortium() {
        let publics = keys(2);
        let accounts = test_accounts(2).unwrap();
        let mut opts = CreateOptions {
            consensus: Consensus::Dev,
            nodes: 2,
            block_time_ms: 0,
            consortium: false,
            base_port: None,
            bft: None,
        };
        assert!(testnet_spec(&opts, None, &publics, &accounts)
            .members
            .is_empty());
        opts.consortium = true;
        assert_eq!(
            testnet_spec(&opts, None, &publics, &accounts).members,
            publics
        );
    }

    #[test]
    fn fault_tolerance_is_a_third_rounded_down() {
        let f: Vec<usize> = (1..=7).map(fault_tolerance).collect();
        assert_eq!(f, [0, 0, 0, 1, 1, 1, 2]);
        assert_eq!(fault_tolerance(0), 0);
    }
}
