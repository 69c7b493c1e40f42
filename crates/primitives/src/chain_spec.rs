//! The chain spec: everything nodes of one chain must agree on before block 1.
//!
//! It is written as TOML. Its hash (Keccak-256 of its canonical JSON form) is
//! committed in the genesis header's `extra_data`, so two nodes with different
//! specs have different genesis hashes and never join each other.

use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, path::Path};

#[derive(Debug, thiserror::Error)]
pub enum ChainSpecError {
    #[error("cannot read chain spec {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("chain spec {path} is not valid TOML for a chain spec: {message}")]
    Parse { path: String, message: String },
    #[error("chain spec is invalid: {0}")]
    Invalid(String),
}

/// Which consensus engine runs the chain, with its parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum EngineSpec {
    /// One node seals blocks: as soon as transactions are pending, or every
    /// `block_time_ms` when that is non-zero.
    Dev {
        #[serde(default)]
        block_time_ms: u64,
        /// The ed25519 public key of the one node allowed to produce blocks;
        /// every other node checks the producer's signature in each header's
        /// seal. Absent: blocks carry no seal (a single-node dev chain).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        authority: Option<B256>,
    },
    /// Proof of work: double SHA-256 of the seal hash and a nonce below a
    /// compact target that adjusts toward the block time (ADR 0005).
    Pow(PowSpec),
    /// Tendermint BFT among a consortium's validators: a block every
    /// `block_time_ms`, final once 2f+1 validators commit it (ADR 0007).
    Bft(crate::bft::BftSpec),
}

/// Parameters of a proof-of-work chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowSpec {
    /// The block time the difficulty rule steers toward.
    #[serde(default = "PowSpec::default_block_time_ms")]
    pub target_block_time_ms: u64,
    /// Compact target ("bits") of block 1; the genesis header carries it
    /// and the difficulty rule is anchored there.
    pub initial_bits: u32,
    /// Half-life of the difficulty rule in seconds: the target doubles (or
    /// halves) for each half-life the chain falls behind (or runs ahead of)
    /// its schedule.
    pub halflife_s: u64,
    /// Reward of each block before the first halving, in wei.
    pub block_reward: U256,
    /// Blocks between halvings of the reward (0: never halves).
    pub halving_interval: u64,
    /// Blocks below the head that are final: the node never unwinds them.
    pub finality_depth: u64,
    /// Blocks below the head reported as `safe`.
    pub safe_depth: u64,
    /// How far ahead of a node's clock a block's timestamp may be, seconds.
    pub max_future_s: u64,
}

impl PowSpec {
    fn default_block_time_ms() -> u64 {
        2000
    }
}

impl Default for PowSpec {
    /// A testnet: 2 s blocks, Bitcoin's reward schedule (50 coins halving
    /// every 210,000 blocks), final after 32 blocks.
    fn default() -> Self {
        PowSpec {
            target_block_time_ms: 2000,
            // About 2^24 hashes per block: one core of a current CPU
            // (~9 MH/s) finds one in about the block time, and the rule
            // adjusts from there. Much easier starts mine dozens of
            // blocks a second until it catches up.
            initial_bits: 0x1e00_ffff,
            halflife_s: 16,
            block_reward: U256::from(50u64) * U256::from(10u64).pow(U256::from(18u64)),
            halving_interval: 210_000,
            finality_depth: 32,
            safe_depth: 6,
            max_future_s: 15,
        }
    }
}

/// An account funded (or deployed) at genesis.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisAccount {
    #[serde(default)]
    pub balance: U256,
    #[serde(default)]
    pub nonce: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Bytes>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub storage: BTreeMap<U256, U256>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainSpec {
    pub name: String,
    pub chain_id: u64,
    pub engine: EngineSpec,
    /// Gas limit of every block.
    pub gas_limit: u64,
    /// Base fee per gas in wei, constant for now; it is burned.
    pub base_fee: u64,
    /// Genesis timestamp, seconds since the Unix epoch.
    #[serde(default)]
    pub timestamp: u64,
    #[serde(default)]
    pub alloc: BTreeMap<Address, GenesisAccount>,
    /// Consortium chains: the ed25519 node keys of the members' nodes. Only
    /// these nodes may connect to one another. Empty: a public chain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<B256>,
}

impl ChainSpec {
    /// The spec of `tally dev`: chain id 31337 like Hardhat and Anvil, so
    /// wallets configured for those work unchanged.
    pub fn dev(alloc: BTreeMap<Address, GenesisAccount>, block_time_ms: u64) -> ChainSpec {
        ChainSpec {
            name: "tally-dev".into(),
            chain_id: 31337,
            engine: EngineSpec::Dev {
                block_time_ms,
                authority: None,
            },
            gas_limit: 300_000_000,
            base_fee: 1_000_000_000,
            timestamp: 0,
            alloc,
            members: Vec::new(),
        }
    }

    pub fn hash(&self) -> B256 {
        // serde_json over BTreeMaps is deterministic: the same spec always
        // gives the same bytes.
        keccak256(serde_json::to_vec(self).expect("chain spec serialises"))
    }

    pub fn from_toml(text: &str, path: &str) -> Result<ChainSpec, ChainSpecError> {
        let spec: ChainSpec = toml::from_str(text).map_err(|e| ChainSpecError::Parse {
            path: path.into(),
            message: e.to_string(),
        })?;
        spec.validate()?;
        Ok(spec)
    }

    pub fn load(path: &Path) -> Result<ChainSpec, ChainSpecError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ChainSpecError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::from_toml(&text, &shown)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("chain spec serialises to TOML")
    }

    pub fn validate(&self) -> Result<(), ChainSpecError> {
        if self.chain_id == 0 {
            return Err(ChainSpecError::Invalid("chain_id must be non-zero".into()));
        }
        if let EngineSpec::Pow(pow) = &self.engine {
            if pow.target_block_time_ms < 1000 {
                return Err(ChainSpecError::Invalid(format!(
                    "pow target_block_time_ms {} is below 1000: block timestamps are whole seconds",
                    pow.target_block_time_ms
                )));
            }
            if self.timestamp == 0 {
                return Err(ChainSpecError::Invalid(
                    "a pow chain spec needs its launch time as `timestamp` (seconds since 1970): \
                     the difficulty rule is anchored there; `tally init --consensus pow` sets it"
                        .into(),
                ));
            }
            if pow.halflife_s == 0 {
                return Err(ChainSpecError::Invalid(
                    "pow halflife_s must be non-zero".into(),
                ));
            }
            if pow.safe_depth > pow.finality_depth {
                return Err(ChainSpecError::Invalid(format!(
                    "pow safe_depth {} is deeper than finality_depth {}",
                    pow.safe_depth, pow.finality_depth
                )));
            }
        }
        if let EngineSpec::Bft(bft) = &self.engine {
            bft.validate().map_err(ChainSpecError::Invalid)?;
            for key in bft
                .validators
                .iter()
                .map(|v| v.key)
                .chain(bft.members.iter().map(|m| m.node_key))
            {
                if !self.members.contains(&key) {
                    return Err(ChainSpecError::Invalid(format!(
                        "bft node key {key} is not in the chain spec's members allowlist"
                    )));
                }
            }
        }
        if self.gas_limit < 21_000 {
            return Err(ChainSpecError::Invalid(format!(
                "gas_limit {} is below the 21000 gas of a plain transfer",
                self.gas_limit
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_round_trip_keeps_hash() {
        let mut alloc = BTreeMap::new();
        alloc.insert(
            Address::repeat_byte(1),
            GenesisAccount {
                balance: U256::from(10u64).pow(U256::from(22)),
                ..Default::default()
            },
        );
        let spec = ChainSpec::dev(alloc, 0);
        let text = spec.to_toml();
        let back = ChainSpec::from_toml(&text, "test.toml").unwrap();
        assert_eq!(back, spec);
        assert_eq!(back.hash(), spec.hash());
        let mut other = spec.clone();
        other.chain_id = 1;
        assert_ne!(other.hash(), spec.hash());
    }

    #[test]
    fn bad_toml_names_the_file() {
        let err = ChainSpec::from_toml("chain_id = \"x\"", "bad.toml").unwrap_err();
        assert!(err.to_string().contains("bad.toml"), "{err}");
    }
}
