//! `tally proof tx|receipt|account|storage`: fetch a `tally-proof/1` proof
//! from a node and write it to a file that `tally verify` checks offline
//! (`docs/proofs.md`). The notary and traceability commands write their
//! proofs through [`save`] too.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use serde_json::{json, Value};
use tally_verify::{Claim, Proof};

use crate::asset::ReadArgs;
use crate::client::{
    parse::{parse_address, parse_b256},
    rpc::{Rpc, RpcArgs},
};

#[derive(clap::Subcommand)]
pub enum ProofCommand {
    /// Prove a mined transaction is in its block (with its bytes).
    Tx {
        /// The transaction hash.
        hash: String,
        #[command(flatten)]
        out: OutArgs,
        #[command(flatten)]
        rpc: RpcArgs,
    },
    /// Prove a mined transaction's receipt (status, gas used, logs).
    Receipt {
        /// The transaction hash.
        hash: String,
        #[command(flatten)]
        out: OutArgs,
        #[command(flatten)]
        rpc: RpcArgs,
    },
    /// Prove an account's nonce, balance and code hash (or its absence).
    Account {
        address: String,
        #[command(flatten)]
        out: OutArgs,
        #[command(flatten)]
        at: AtArgs,
    },
    /// Prove storage slots of a contract.
    Storage {
        address: String,
        /// Slots (32-byte hex or decimal numbers), up to 64.
        #[arg(required = true)]
        slots: Vec<String>,
        #[command(flatten)]
        out: OutArgs,
        #[command(flatten)]
        at: AtArgs,
    },
}

/// Where a proof goes.
#[derive(clap::Args)]
pub struct OutArgs {
    /// Write the proof here (JSON).
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: PathBuf,
}

/// The block a state proof is made at, and the node.
#[derive(clap::Args)]
pub struct AtArgs {
    /// Prove at this block (number or tag; default finalized).
    #[arg(long, value_name = "BLOCK")]
    pub block: Option<String>,
    #[command(flatten)]
    pub rpc: RpcArgs,
}

impl AtArgs {
    /// The block parameter: the one given, or `finalized`.
    pub fn block_param(&self) -> anyhow::Result<Value> {
        let read = ReadArgs {
            block: self.block.clone(),
            json: false,
            rpc: RpcArgs {
                url: self.rpc.url.clone(),
                rpc_timeout: self.rpc.rpc_timeout,
            },
        };
        Ok(match &self.block {
            Some(_) => read.block_param()?,
            None => json!("finalized"),
        })
    }
}

pub fn run(cmd: ProofCommand) -> anyhow::Result<()> {
    match cmd {
        ProofCommand::Tx { hash, out, rpc } => {
            let hash = parse_b256(&hash).context("HASH")?;
            let rpc = Rpc::connect(&rpc)?;
            save(
                &rpc,
                "tally_getTransactionProof",
                vec![json!(hash), json!(true)],
                &out.out,
            )?;
        }
        ProofCommand::Receipt { hash, out, rpc } => {
            let hash = parse_b256(&hash).context("HASH")?;
            let rpc = Rpc::connect(&rpc)?;
            save(&rpc, "tally_getReceiptProof", vec![json!(hash)], &out.out)?;
        }
        ProofCommand::Account { address, out, at } => {
            let address = parse_address(&address).context("ADDRESS")?;
            let rpc = Rpc::connect(&at.rpc)?;
            let params = vec![json!(address), at.block_param()?];
            save(&rpc, "tally_getAccountProof", params, &out.out)?;
        }
        ProofCommand::Storage {
            address,
            slots,
            out,
            at,
        } => {
            let address = parse_address(&address).context("ADDRESS")?;
            let slots = slots
                .iter()
                .map(|s| parse_slot(s))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let rpc = Rpc::connect(&at.rpc)?;
            let params = vec![json!(address), json!(slots), at.block_param()?];
            save(&rpc, "tally_getStorageProof", params, &out.out)?;
        }
    }
    Ok(())
}

/// A storage slot: 0x-hex (up to 32 bytes) or a decimal number.
fn parse_slot(text: &str) -> anyhow::Result<alloy_primitives::B256> {
    let value: alloy_primitives::U256 = text
        .parse()
        .with_context(|| format!("invalid slot {text:?}: expected a number or 0x-hex"))?;
    Ok(value.into())
}

/// Asks the node for a proof with `method`, writes it to `out` and says
/// what it holds.
pub fn save(rpc: &Rpc, method: &str, params: Vec<Value>, out: &Path) -> anyhow::Result<Proof> {
    let proof: Proof = rpc.call(method, params)?;
    let header: tally_primitives::Header = alloy_rlp::decode_exact(&proof.header)
        .context("the node's proof holds an undecodable header")?;
    let text = serde_json::to_string(&proof)?;
    std::fs::write(out, text.as_bytes())
        .with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "wrote a proof of {} at block {} ({} bytes) to {}",
        what(&proof.claim),
        header.number,
        text.len(),
        out.display()
    );
    println!(
        "check it offline: tally verify {} --chain chain.toml",
        out.display()
    );
    Ok(proof)
}

/// The claim in a few words.
fn what(claim: &Claim) -> String {
    match claim {
        Claim::Transaction(c) => format!("transaction {}", c.tx_hash),
        Claim::Receipt(c) => format!("the receipt of {}", c.tx_hash),
        Claim::Account(c) => format!("account {}", c.address),
        Claim::Storage(c) => format!("{} slot(s) of {}", c.slots.len(), c.address),
        Claim::Notary(c) => format!("document {}", c.document),
        Claim::Trace(c) => format!("product {:?}'s history", c.product_id),
    }
}

/// Reads a proof file, naming the file in every error.
pub fn load(path: &Path) -> anyhow::Result<Proof> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read proof {}", path.display()))?;
    match serde_json::from_str(&text) {
        Ok(p) => Ok(p),
        Err(e) => bail!("{} is not a tally-proof/1 proof: {e}", path.display()),
    }
}
