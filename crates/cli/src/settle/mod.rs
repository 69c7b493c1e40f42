//! `tally settle`: delivery versus payment through the settlement system
//! contract.
//!
//! The workflow is a file passed between the parties: `new` writes an
//! instruction (two parties, two legs, an expiry, a random nonce), each
//! party checks it and adds its EIP-712 signature with `sign`, anyone
//! sends it with `submit` (several files settle as one netted batch), and
//! `show` tells whether and when an instruction settled. Signing is local
//! (keys as for `tally tx` and `tally gov`); the digest needs the chain id,
//! from `--chain-id` or the node.

mod abi;
mod file;

use std::path::{Path, PathBuf};

use alloy_primitives::{Bytes, B256, U256};
use alloy_sol_types::SolCall;
use anyhow::{anyhow, bail, Context as _};
use serde_json::{json, Value};
use tally_crypto::{address_of, sign_hash};

use crate::client::{
    parse::{parse_address, parse_hex, quantity_u64},
    rpc::{Rpc, RpcArgs},
    tx::{revert_error, send, Request},
    wallet::SignerArgs,
};
use crate::gov::TxArgs;
use abi::{ITallySettlement as S, SETTLEMENT};
use file::{InstructionJson, SettlementFile, Side};

#[derive(clap::Subcommand)]
pub enum SettleCommand {
    /// Write a new instruction file: partyA delivers amountA of assetA to
    /// partyB, partyB pays amountB of assetB to partyA.
    New {
        /// Where to write the instruction (JSON).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
        #[arg(long, value_name = "ADDRESS")]
        party_a: String,
        #[arg(long, value_name = "ADDRESS")]
        party_b: String,
        /// What partyA delivers: a token address, or "eth".
        #[arg(long, value_name = "TOKEN|eth")]
        asset_a: String,
        /// How much, in base units (wei for eth).
        #[arg(long, value_name = "UNITS")]
        amount_a: String,
        /// What partyB pays: a token address, or "eth".
        #[arg(long, value_name = "TOKEN|eth")]
        asset_b: String,
        #[arg(long, value_name = "UNITS")]
        amount_b: String,
        /// When the instruction lapses: unix seconds, or +SECONDS from now.
        #[arg(long, default_value = "+3600", value_name = "UNIX|+SECONDS")]
        expiry: String,
    },
    /// Add the signer's signature to an instruction file (the signer must
    /// be one of its parties).
    Sign {
        file: PathBuf,
        #[command(flatten)]
        signer: SignerArgs,
        #[command(flatten)]
        chain: ChainArgs,
    },
    /// Send instruction files to the settlement contract: one settles
    /// alone, several as one netted batch (all or nothing).
    Submit {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Show an instruction (a file, or an id) and whether it settled.
    Show {
        #[arg(value_name = "FILE|ID")]
        target: String,
        #[command(flatten)]
        chain: ChainArgs,
    },
}

/// The chain id the digest is bound to, and the node to ask for it.
#[derive(clap::Args, Debug, Clone)]
pub struct ChainArgs {
    /// The chain id (default: the file's, else the node's eth_chainId).
    #[arg(long, value_name = "N")]
    pub chain_id: Option<u64>,
    #[command(flatten)]
    pub rpc: RpcArgs,
}

pub fn run(cmd: SettleCommand) -> anyhow::Result<()> {
    match cmd {
        SettleCommand::New {
            out,
            force,
            party_a,
            party_b,
            asset_a,
            amount_a,
            asset_b,
            amount_b,
            expiry,
        } => {
            if out.exists() && !force {
                bail!(
                    "{} already exists: choose another --out or pass --force",
                    out.display()
                );
            }
            let now = unix_now()?;
            let f = SettlementFile {
                instruction: InstructionJson {
                    party_a: parse_address(&party_a).context("--party-a")?,
                    party_b: parse_address(&party_b).context("--party-b")?,
                    asset_a: file::asset_text(file::parse_asset(&asset_a).context("--asset-a")?),
                    amount_a: file::parse_units(&amount_a)
                        .context("--amount-a")?
                        .to_string(),
                    asset_b: file::asset_text(file::parse_asset(&asset_b).context("--asset-b")?),
                    amount_b: file::parse_units(&amount_b)
                        .context("--amount-b")?
                        .to_string(),
                    expiry: file::parse_expiry(&expiry, now)?,
                    nonce: U256::from_be_bytes(rand::random::<[u8; 32]>()),
                },
                chain_id: None,
                digest: None,
                signature_a: None,
                signature_b: None,
            };
            file::check_new(&f.instruction()?, now)?;
            f.save(&out)?;
            println!("wrote {}", out.display());
            print_instruction(&f)?;
            println!(
                "next: each party runs `tally settle sign {}`",
                out.display()
            );
            Ok(())
        }
        SettleCommand::Sign {
            file,
            signer,
            chain,
        } => sign(&file, &signer, &chain),
        SettleCommand::Submit { files, tx } => submit(&files, &tx),
        SettleCommand::Show { target, chain } => show(&target, &chain),
    }
}

fn unix_now() -> anyhow::Result<u64> {
    Ok(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs())
}

/// The chain id: `--chain-id`, else the file's, else the node's; a
/// mismatch between them is an error (a signature would be for another
/// chain).
fn chain_id(args: &ChainArgs, recorded: Option<u64>, what: &str) -> anyhow::Result<u64> {
    let id = match (args.chain_id, recorded) {
        (Some(given), Some(rec)) if given != rec => bail!(
            "{what} was signed for chain {rec}, not --chain-id {given}: signatures are bound to one chain"
        ),
        (Some(id), _) | (None, Some(id)) => id,
        (None, None) => node_chain_id(&Rpc::connect(&args.rpc)?)?,
    };
    Ok(id)
}

fn node_chain_id(rpc: &Rpc) -> anyhow::Result<u64> {
    let v: Value = rpc.call("eth_chainId", vec![])?;
    quantity_u64(&v).ok_or_else(|| anyhow!("eth_chainId answered {v}, not a number"))
}

fn sign(path: &Path, signer: &SignerArgs, chain: &ChainArgs) -> anyhow::Result<()> {
    let mut f = SettlementFile::load(path)?;
    let key = signer.key()?;
    let me = address_of(&key);
    let Some(side) = f.side_of(me) else {
        bail!(
            "{me} is neither partyA {} nor partyB {} of {}: only the parties sign",
            f.instruction.party_a,
            f.instruction.party_b,
            path.display()
        );
    };
    let chain_id = chain_id(chain, f.chain_id, &path.display().to_string())?;
    let ins = f.instruction()?;
    let digest = abi::digest(chain_id, &ins);
    let signature = Bytes::from(sign_hash(&key, &digest).as_bytes().to_vec());
    match side {
        Side::A => f.signature_a = Some(signature),
        Side::B => f.signature_b = Some(signature),
    }
    f.chain_id = Some(chain_id);
    f.digest = Some(digest);
    f.save(path)?;
    println!("signed {} as {} ({me})", path.display(), side.name());
    println!("digest: {digest} (chain {chain_id})");
    let other = if side == Side::A { Side::B } else { Side::A };
    if f.signature(other).is_none() {
        println!(
            "still missing: {}'s signature ({}); it may also submit without signing",
            other.name(),
            f.party(other)
        );
    }
    Ok(())
}

fn submit(paths: &[PathBuf], tx: &TxArgs) -> anyhow::Result<()> {
    let key = tx.signer.key()?;
    let me = address_of(&key);
    let rpc = Rpc::connect(&tx.rpc)?;
    let chain_id = node_chain_id(&rpc)?;
    let mut instructions = Vec::with_capacity(paths.len());
    let (mut sigs_a, mut sigs_b) = (Vec::new(), Vec::new());
    let mut ids = Vec::new();
    for path in paths {
        let f = SettlementFile::load(path)?;
        if let Some(rec) = f.chain_id.filter(|rec| *rec != chain_id) {
            bail!(
                "{} was signed for chain {rec}, but the node at {} runs chain {chain_id}",
                path.display(),
                rpc.url()
            );
        }
        for side in [Side::A, Side::B] {
            if f.signature(side).is_none() && f.party(side) != me {
                bail!(
                    "{} lacks {}'s signature: {} must run `tally settle sign {}` (or submit it itself)",
                    path.display(),
                    side.name(),
                    f.party(side),
                    path.display()
                );
            }
        }
        let ins = f.instruction()?;
        ids.push(abi::digest(chain_id, &ins));
        instructions.push(ins);
        sigs_a.push(f.signature(Side::A).cloned().unwrap_or_default());
        sigs_b.push(f.signature(Side::B).cloned().unwrap_or_default());
    }
    let data = if instructions.len() == 1 {
        S::settleCall {
            instruction: instructions.remove(0),
            signatureA: sigs_a.remove(0),
            signatureB: sigs_b.remove(0),
        }
        .abi_encode()
    } else {
        S::settleBatchCall {
            instructions,
            signaturesA: sigs_a,
            signaturesB: sigs_b,
        }
        .abi_encode()
    };
    let request = Request {
        to: Some(SETTLEMENT),
        value: U256::ZERO,
        data: Bytes::from(data),
    };
    let outcome = send(&rpc, &key, &request, &tx.send, None)?;
    outcome.print();
    outcome.ok()?;
    if outcome.success() == Some(true) {
        for (path, id) in paths.iter().zip(&ids) {
            println!("settled: {id} ({})", path.display());
        }
    }
    Ok(())
}

fn show(target: &str, chain: &ChainArgs) -> anyhow::Result<()> {
    let path = Path::new(target);
    let id = if path.is_file() {
        let f = SettlementFile::load(path)?;
        let chain_id = chain_id(chain, f.chain_id, target)?;
        let id = abi::digest(chain_id, &f.instruction()?);
        print_instruction(&f)?;
        for side in [Side::A, Side::B] {
            let state = if f.signature(side).is_some() {
                "signed"
            } else {
                "not signed"
            };
            println!("{}'s signature: {state}", side.name());
        }
        println!("id:      {id} (chain {chain_id})");
        id
    } else {
        let bytes = parse_hex("FILE|ID", target).map_err(|_| {
            anyhow!("{target:?} is neither a file nor an instruction id (0x and 64 hex digits)")
        })?;
        let id = B256::try_from(bytes.as_ref()).map_err(|_| {
            anyhow!(
                "{target:?} is neither a file nor an instruction id: an id is 32 bytes, this is {}",
                bytes.len()
            )
        })?;
        println!("id:      {id}");
        id
    };
    let rpc = Rpc::connect(&chain.rpc)?;
    let call = json!({
        "to": SETTLEMENT,
        "data": Bytes::from(S::settledAtCall { id }.abi_encode()),
    });
    let out: Bytes = rpc
        .call("eth_call", vec![call, json!("latest")])
        .map_err(|e| revert_error(e, None, "settledAt failed"))?;
    let block = S::settledAtCall::abi_decode_returns(&out)
        .map_err(|e| anyhow!("settledAt answered {out} ({e}); is this a Tally node?"))?;
    if block == 0 {
        println!("settled: no");
    } else {
        println!("settled: yes, in block {block}");
    }
    Ok(())
}

fn print_instruction(f: &SettlementFile) -> anyhow::Result<()> {
    let ins = f.instruction()?;
    println!(
        "partyA:  {} delivers {}",
        ins.partyA,
        file::leg_text(ins.assetA, ins.amountA)
    );
    println!(
        "partyB:  {} pays {}",
        ins.partyB,
        file::leg_text(ins.assetB, ins.amountB)
    );
    println!("expiry:  {} (unix seconds)", ins.expiry);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::Address;
    use clap::{CommandFactory, Parser};

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        cmd: SettleCommand,
    }

    #[test]
    fn commands_are_well_formed() {
        Cli::command().debug_assert();
        assert!(Cli::try_parse_from(["t", "submit"]).is_err());
        assert!(
            Cli::try_parse_from(["t", "submit", "a.json", "b.json", "--dev-account", "1"]).is_ok()
        );
    }

    /// The instruction both the CLI's and the executor's tests pin, so the
    /// two bindings of the digest cannot drift apart.
    pub(crate) fn pinned() -> S::Instruction {
        S::Instruction {
            partyA: Address::repeat_byte(1),
            partyB: Address::repeat_byte(2),
            assetA: alloy_primitives::address!("a55e700000000000000000000000000000000001"),
            amountA: U256::from(250),
            assetB: Address::ZERO,
            amountB: U256::from(10u64.pow(18)),
            expiry: 2_000_000_000,
            nonce: U256::from(7),
        }
    }

    #[test]
    fn the_digest_is_the_contracts() {
        // The same value is asserted in crates/executor/tests/system/settlement.rs.
        assert_eq!(
            abi::digest(31337, &pinned()),
            alloy_primitives::b256!(
                "6d370064e4345b9f1ecb52b02c5e83a02c6134a62cd1a6c168cf3fa670b980ff"
            )
        );
        assert_ne!(abi::digest(1, &pinned()), abi::digest(31337, &pinned()));
    }

    #[test]
    fn a_signature_recovers_to_its_signer() {
        let key =
            tally_crypto::mnemonic::derive_key(tally_crypto::mnemonic::TEST_MNEMONIC, 0).unwrap();
        let d = abi::digest(31337, &pinned());
        let sig = sign_hash(&key, &d);
        assert_eq!(tally_crypto::recover(&sig, &d).unwrap(), address_of(&key));
    }
}
