//! Why the proven block is part of the chain: one module per kind of
//! evidence, then the user's checkpoint, if any.

mod authority;
mod bft;
mod none;
mod pow;

use alloy_primitives::B256;
use tally_primitives::{ChainSpec, EngineSpec};

use crate::{check::Block, Finality, VerifyError};

/// What a kind of evidence showed.
pub(crate) struct Evidence {
    pub line: String,
    /// The chain spec's own keys vouch for the block: the dev authority's
    /// seal, or a certificate by the spec's validators. Not a set some
    /// validator-set change in the proof names: its list is unproven.
    pub anchored: bool,
    /// Hashes of blocks built on the proven one that the evidence links
    /// to it (PoW descendants): a checkpoint may name one of them.
    pub later: Vec<(u64, B256)>,
    /// What the evidence takes as given from the proof, when that is why
    /// it is not anchored (BFT validator lists of governance changes).
    pub unproven: Option<String>,
}

/// Finality as [`crate::Verified`] reports it.
pub(crate) struct Settled {
    pub line: String,
    pub trusted: String,
    pub anchored: bool,
}

pub(crate) fn check(
    finality: &Finality,
    spec: &ChainSpec,
    spec_hash: B256,
    block: &Block,
    checkpoint: Option<B256>,
) -> Result<Settled, VerifyError> {
    let evidence = match finality {
        Finality::None => none::check(spec, block),
        Finality::Authority => authority::check(spec, block)?,
        Finality::Bft {
            certificate,
            validator_set_changes,
        } => bft::check(spec, block, certificate, validator_set_changes)?,
        Finality::Pow { descendants } => pow::check(spec, block, descendants)?,
    };
    let number = block.header.number;
    let spec_root = format!("the chain spec {:?} (hash {spec_hash})", spec.name);
    let mut line = evidence.line;
    let matched = match checkpoint {
        None => None,
        Some(cp) if cp == block.hash => Some(format!("block {number}'s hash is your checkpoint")),
        Some(cp) => match evidence.later.iter().find(|(_, h)| *h == cp) {
            Some((n, _)) => Some(format!(
                "block {n}, built on it in the proof, has your checkpoint's hash"
            )),
            None => {
                return Err(VerifyError::Checkpoint {
                    checkpoint: cp,
                    number,
                    hash: block.hash,
                })
            }
        },
    };
    if let Some(m) = &matched {
        line = format!("{line}; {m}");
    }
    let trusted = match (evidence.anchored, checkpoint.filter(|_| matched.is_some())) {
        (true, None) => format!("trusted: {spec_root}"),
        (true, Some(cp)) => format!("trusted: {spec_root}, and checkpoint {cp}"),
        (false, Some(cp)) => format!("trusted: checkpoint {cp} (with {spec_root})"),
        (false, None) => match &evidence.unproven {
            Some(unproven) => format!(
                "trusted: {spec_root}, and {unproven}, taken as given in the proof (not \
                 proven): give a checkpoint (block {number}'s hash, from a source you trust) \
                 to anchor it"
            ),
            None => format!(
                "trusted: {spec_root} only, which cannot vouch for this block: \
                 give a checkpoint (a block hash you trust) to anchor it"
            ),
        },
    };
    Ok(Settled {
        line,
        trusted,
        anchored: evidence.anchored || matched.is_some(),
    })
}

/// How errors and lines name an engine.
fn engine_name(engine: &EngineSpec) -> &'static str {
    match engine {
        EngineSpec::Dev {
            authority: None, ..
        } => "a single-node dev chain without seals",
        EngineSpec::Dev {
            authority: Some(_), ..
        } => "a dev chain sealed by an authority",
        EngineSpec::Pow(_) => "proof of work",
        EngineSpec::Bft(_) => "BFT consensus",
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}
