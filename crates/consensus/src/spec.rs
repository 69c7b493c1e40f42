//! Building the engine a chain spec names: the one place that knows which
//! [`EngineSpec`] makes which [`Engine`].

use crate::{dev::DevEngine, pow, Engine, SealError};
use tally_crypto::node_key::NodeKey;
use tally_primitives::{Address, ChainSpec, EngineSpec, Header, SealedHeader};

/// What this node brings to the engine besides the chain spec.
#[derive(Clone, Debug, Default)]
pub struct LocalEngine {
    /// The node's key (a dev authority signs with it).
    pub node_key: Option<NodeKey>,
    /// Overrides the dev engine's block time, in milliseconds.
    pub dev_block_time_ms: Option<u64>,
    /// Produce blocks on engines where any node may (PoW): the coinbase
    /// that receives rewards and fees.
    pub produce: Option<Address>,
}

/// Why the engine could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("chain spec authority: {0}")]
    Authority(String),
    #[error("chain spec proof-of-work parameters: {0}")]
    Pow(#[from] pow::PowError),
    #[error("chain spec bft parameters: {0}")]
    Bft(String),
}

/// The engine for `spec`, anchored at `genesis`.
pub fn engine_for(
    spec: &ChainSpec,
    genesis: &SealedHeader,
    local: &LocalEngine,
) -> Result<Box<dyn Engine>, EngineError> {
    Ok(match &spec.engine {
        EngineSpec::Dev {
            block_time_ms,
            authority,
        } => {
            let block_time = local.dev_block_time_ms.unwrap_or(*block_time_ms);
            match authority {
                None => Box::new(DevEngine::new(block_time)),
                Some(key) => Box::new(
                    DevEngine::with_authority(block_time, key, local.node_key.clone())
                        .map_err(|e| EngineError::Authority(e.to_string()))?,
                ),
            }
        }
        EngineSpec::Pow(pow_spec) => Box::new(pow::PowEngine::try_new(
            pow_spec.clone(),
            genesis.clone(),
            local
                .produce
                .map(|coinbase| pow::MinerSettings { coinbase }),
        )?),
        EngineSpec::Bft(bft) => {
            bft.validate().map_err(EngineError::Bft)?;
            crate::bft::ValidatorSet::new(&bft.validators)
                .map_err(|e| EngineError::Bft(e.to_string()))?;
            Box::new(crate::bft::BftEngine::new(spec.chain_id, bft))
        }
    })
}

/// Checks what a header proves on its own, with no chain at hand, and
/// returns the work it adds: sync runs this on a branch's headers before it
/// downloads their bodies, so a peer cannot make the node fetch a
/// heavy-looking branch without doing the work. Everything else is checked
/// when the blocks are imported.
pub type SealWork = fn(&Header) -> Result<u128, SealError>;

/// The [`SealWork`] of `spec`'s engine.
pub fn seal_work(spec: &ChainSpec) -> SealWork {
    match spec.engine {
        // One per block, as the dev engine's weight; the authority's
        // signature is checked at import.
        EngineSpec::Dev { .. } => |_| Ok(1),
        EngineSpec::Pow(_) => |header| {
            pow::verify_seal(header)?;
            Ok(pow::work(header.bits))
        },
        // Committed height: certificates are checked at import.
        EngineSpec::Bft(_) => |_| Ok(1),
    }
}
