//! No evidence: a chain whose blocks carry no seal. Only the user's
//! checkpoint can anchor the header.

use tally_primitives::{ChainSpec, EngineSpec};

use super::{engine_name, Evidence};
use crate::check::Block;

pub(super) fn check(spec: &ChainSpec, block: &Block) -> Evidence {
    let n = block.header.number;
    let line = match &spec.engine {
        EngineSpec::Dev {
            authority: None, ..
        } => format!(
            "block {n} carries no seal: chain spec {:?} is a single-node dev chain, so nothing \
             in the proof shows the block is the chain's",
            spec.name
        ),
        other => format!(
            "the proof carries no finality evidence for block {n} (chain spec {:?} runs {}), so \
             nothing in it shows the block is the chain's",
            spec.name,
            engine_name(other)
        ),
    };
    Evidence {
        line,
        anchored: false,
        later: Vec::new(),
        unproven: None,
    }
}
