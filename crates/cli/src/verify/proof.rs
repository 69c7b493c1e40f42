//! `tally verify PROOF [FILE] --chain chain.toml`: checks a `tally-proof/1`
//! proof offline, with no node, and says what it proves and back to which
//! trusted root (the chain spec, or a checkpoint hash the user gives).

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use tally_primitives::ChainSpec;
use tally_verify::{check, text::utc, CheckOptions, Finality};

use crate::client::parse::parse_b256;
use crate::notary::hash::file_hash;

#[derive(clap::Args)]
pub struct VerifyProofArgs {
    /// A proof from `tally notary proof`, `tally trace proof` or `tally proof`.
    pub proof: PathBuf,
    /// For a notary proof: the document itself, hashed here; the proof
    /// must be about exactly this file.
    pub file: Option<PathBuf>,
    /// The chain spec (chain.toml) you trust: its engine, authority or
    /// validators anchor the proof.
    #[arg(long = "chain", value_name = "FILE")]
    pub chain: PathBuf,
    /// A block hash you trust (from a node or a publication you trust):
    /// the proven block or, on PoW, one of its descendants must have it.
    #[arg(long, value_name = "HASH")]
    pub checkpoint: Option<String>,
}

pub fn run(args: VerifyProofArgs) -> anyhow::Result<()> {
    let spec = ChainSpec::load(&args.chain)
        .with_context(|| format!("the chain spec {}", args.chain.display()))?;
    let proof = crate::proof::load(&args.proof)?;
    let document = match &args.file {
        Some(f) => Some(file_hash(f)?),
        None => None,
    };
    let checkpoint = match &args.checkpoint {
        Some(c) => Some(parse_b256(c).context("--checkpoint")?),
        None => None,
    };
    let opts = CheckOptions {
        checkpoint,
        document,
    };
    let verified = check(&proof, &spec, &opts)
        .map_err(|e| anyhow::anyhow!("{} does NOT verify: {e}", args.proof.display()))?;
    println!(
        "VERIFIED against block {} {} of {}",
        verified.block_number,
        verified.block_hash,
        utc(verified.timestamp)
    );
    for line in verified.lines() {
        println!("  {line}");
    }
    match (&proof.finality, verified.anchored) {
        (_, true) => Ok(()),
        // Work is evidence, not an anchor: say so, but the proof holds.
        (Finality::Pow { .. }, false) => {
            println!(
                "  note: proof of work shows the work built on block {}, not that no heavier \
                 chain exists; pass --checkpoint HASH to anchor it to a block you trust",
                verified.block_number
            );
            Ok(())
        }
        // Certified by a set that a validator-set change in the proof
        // names: the lists are not proven, say so, but the proof holds.
        (Finality::Bft { .. }, false) => {
            println!(
                "  note: block {} is certified by a validator set the proof's validator-set \
                 changes name, and their validator lists are taken on trust (not proven from \
                 governance state); pass --checkpoint HASH (block {}'s hash, from a source you \
                 trust) to anchor it",
                verified.block_number, verified.block_number
            );
            Ok(())
        }
        (_, false) => bail!(
            "the proof is consistent, but nothing anchors block {} to the chain spec \
             (its blocks carry no seal): pass --checkpoint with a block hash from a \
             source you trust",
            verified.block_number
        ),
    }
}
