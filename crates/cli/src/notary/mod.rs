//! `tally notary`: stamp files, show who stamped a file and when, revoke
//! or supersede a stamp, and write a proof that `tally verify` checks
//! offline.
//!
//! Files never leave the machine: each is hashed here with SHA-256 and
//! only the hashes go on chain, batched under one Merkle root per
//! transaction (up to [`MAX_BATCH`] documents each, so a transaction stays
//! under the pool's 128 KiB limit). Every stamped file
//! gets a receipt (`FILE.notary.json`): its hash, its batch's root, its
//! Merkle path and the transaction, enough to find it again.

pub(crate) mod hash;
mod receipt;

use std::path::PathBuf;

use std::time::Duration;

use alloy_primitives::{Bytes, U256};
use alloy_sol_types::SolCall;
use anyhow::{bail, Context as _};
use serde_json::json;

use crate::asset::{submit, ReadArgs, TxArgs};
use crate::client::{
    parse::quantity_u64,
    rpc::Rpc,
    tx::{send, wait_for_receipt, Outcome, Request, SendOptions},
};
use crate::proof::{save, AtArgs, OutArgs};
use tally_verify::{records::NOTARY, text::utc};

pub use hash::document_hash;

alloy_sol_types::sol!("../../contracts/ITallyNotary.sol");

/// Most documents one stamping transaction carries: 32 bytes each, so the
/// transaction stays under the pool's 128 KiB limit (the contract itself
/// takes up to 20,000 from other contracts).
pub const MAX_BATCH: usize = 4_000;

#[derive(clap::Subcommand)]
pub enum NotaryCommand {
    /// Hash files locally and stamp the hashes in one transaction per
    /// 4,000 files; writes FILE.notary.json beside each file. A directory
    /// stands for every file under it; symbolic links inside a directory
    /// are skipped.
    Stamp {
        #[arg(required = true, value_name = "FILE|DIR")]
        files: Vec<PathBuf>,
        /// A label recorded with the batch (at most 256 bytes).
        #[arg(long, default_value = "")]
        label: String,
        /// Write the receipts into this directory instead of beside the files.
        #[arg(long, value_name = "DIR")]
        receipts: Option<PathBuf>,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Say when and by whom a file (or a SHA-256 hash) was stamped.
    Show {
        #[arg(value_name = "FILE|HASH")]
        document: String,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Withdraw your stamp of a document, with a reason on record.
    Revoke {
        #[arg(value_name = "FILE|HASH")]
        document: String,
        #[arg(long, default_value = "")]
        reason: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Withdraw your stamp of a document in favour of another.
    Supersede {
        #[arg(value_name = "FILE|HASH")]
        document: String,
        /// The document that replaces it.
        #[arg(long = "by", value_name = "FILE|HASH")]
        replacement: String,
        #[arg(long, default_value = "")]
        reason: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Write a self-contained proof of a document's stamp, for
    /// `tally verify proof.json FILE --chain chain.toml`.
    Proof {
        #[arg(value_name = "FILE|HASH")]
        document: String,
        #[command(flatten)]
        out: OutArgs,
        #[command(flatten)]
        at: AtArgs,
    },
}

pub fn run(cmd: NotaryCommand) -> anyhow::Result<()> {
    match cmd {
        NotaryCommand::Stamp {
            files,
            label,
            receipts,
            tx,
        } => stamp(&files, &label, receipts.as_deref(), &tx),
        NotaryCommand::Show { document, read } => {
            let doc = document_hash(&document)?;
            let rpc = Rpc::connect(&read.rpc)?;
            let stamps: serde_json::Value = rpc.call(
                "tally_getNotaryRecords",
                vec![json!(doc), read.block_param()?],
            )?;
            if read.json {
                println!("{}", serde_json::to_string_pretty(&stamps)?);
                return Ok(());
            }
            let stamps: Vec<rpc_stamp::Stamp> = serde_json::from_value(stamps)?;
            if stamps.is_empty() {
                bail!("document {doc} was never stamped on this chain");
            }
            println!("document {doc}");
            for s in &stamps {
                print_stamp(s);
            }
            Ok(())
        }
        NotaryCommand::Revoke {
            document,
            reason,
            tx,
        } => {
            let doc = document_hash(&document)?;
            let rpc = Rpc::connect(&tx.rpc)?;
            let data = ITallyNotary::revokeCall {
                document: doc,
                reason,
            };
            submit(&tx, &rpc, NOTARY, data.abi_encode())?;
            println!("revoked your stamp of {doc}");
            Ok(())
        }
        NotaryCommand::Supersede {
            document,
            replacement,
            reason,
            tx,
        } => {
            let doc = document_hash(&document)?;
            let by = document_hash(&replacement).context("--by")?;
            let rpc = Rpc::connect(&tx.rpc)?;
            let data = ITallyNotary::supersedeCall {
                document: doc,
                replacement: by,
                reason,
            };
            submit(&tx, &rpc, NOTARY, data.abi_encode())?;
            println!("superseded your stamp of {doc} by {by}");
            Ok(())
        }
        NotaryCommand::Proof { document, out, at } => {
            let doc = document_hash(&document)?;
            let rpc = Rpc::connect(&at.rpc)?;
            save(
                &rpc,
                "tally_getNotaryProof",
                vec![json!(doc), at.block_param()?],
                &out.out,
            )?;
            Ok(())
        }
    }
}

/// Hashes `files`, sends one stamping transaction per batch without
/// waiting between them (consecutive nonces, so the node can put several
/// in one block), then waits for each and writes its files' receipts. A
/// batch that fails is reported and the others carry on; the error at the
/// end names every failed batch.
fn stamp(
    files: &[PathBuf],
    label: &str,
    receipts: Option<&std::path::Path>,
    tx: &TxArgs,
) -> anyhow::Result<()> {
    let files = hash::expand(files)?;
    receipt::check_distinct(&files, receipts)?;
    let hashes = hash::hash_files(&files)?;
    let rpc = Rpc::connect(&tx.rpc)?;
    let chain_id = quantity_u64(&rpc.call("eth_chainId", vec![])?).context("eth_chainId")?;
    let key = tx.signer.key()?;
    let first_nonce = match tx.send.nonce {
        Some(n) => n,
        None => {
            let from = tally_crypto::address_of(&key);
            quantity_u64(&rpc.call(
                "eth_getTransactionCount",
                vec![json!(from), json!("pending")],
            )?)
            .context("eth_getTransactionCount")?
        }
    };
    let batches: Vec<&[alloy_primitives::B256]> = hashes.chunks(MAX_BATCH).collect();
    let total = batches.len();
    let mut failed = Vec::new();
    let mut sent = Vec::new();
    let mut unsent = None;
    for (n, batch) in batches.iter().enumerate() {
        let data = ITallyNotary::stampCall {
            documents: batch.to_vec(),
            label: label.to_string(),
        };
        let request = Request {
            to: Some(NOTARY),
            value: U256::ZERO,
            data: Bytes::from(data.abi_encode()),
        };
        let opts = SendOptions {
            nonce: Some(first_nonce + n as u64),
            no_wait: true,
            ..tx.send.clone()
        };
        match send(&rpc, &key, &request, &opts, None) {
            Ok(outcome) => sent.push(outcome.hash),
            Err(e) => {
                // The batches after it would wait behind the missing nonce
                // and never be mined: send no more.
                unsent = Some(e);
                break;
            }
        }
    }
    if let Some(e) = unsent {
        let n = sent.len();
        eprintln!(
            "error: batch {} of {total} ({} document(s)) was not sent: {e:#}",
            n + 1,
            batches[n].len()
        );
        if n + 1 < total {
            eprintln!(
                "error: batches {} to {total} were not sent either (their nonces would follow \
                 the missing one)",
                n + 2
            );
        }
    }
    let file_batches = files.chunks(MAX_BATCH);
    for (n, ((hash, documents), batch_files)) in sent
        .iter()
        .copied()
        .zip(&batches)
        .zip(file_batches)
        .enumerate()
    {
        let batch = n + 1;
        let root = tally_primitives::merkle::root(documents);
        if tx.send.no_wait {
            println!(
                "sent {hash}: {} document(s) under root {root}",
                documents.len()
            );
            continue;
        }
        let mut fail = |what: String| {
            eprintln!(
                "error: batch {batch} of {total} ({} document(s)), transaction {hash}: {what}",
                documents.len()
            );
            failed.push(Failed {
                batch,
                documents: documents.len(),
                what: format!("transaction {hash} {what}"),
            });
        };
        let receipt = match wait_for_receipt(&rpc, hash, Duration::from_secs(tx.send.wait_timeout))
        {
            Ok(r) => r,
            Err(e) => {
                fail(format!("has no receipt: {e:#}"));
                continue;
            }
        };
        let outcome = Outcome {
            hash,
            receipt: Some(receipt),
            revert_reason: None,
        };
        if outcome.success() != Some(true) {
            fail("reverted: its documents are not stamped".into());
            continue;
        }
        let Some(mined) = receipt::Mined::from_outcome(&outcome) else {
            fail("has a receipt with no block number: no receipts written".into());
            continue;
        };
        let written = receipt::write_all(
            batch_files,
            documents,
            receipts,
            &receipt::Batch {
                chain_id,
                root,
                label: label.to_string(),
                mined,
            },
        );
        match written {
            Ok(written) => println!(
                "stamped {} file(s) under root {root} in block {} (transaction {hash}); \
                 {written} receipt(s) written",
                documents.len(),
                mined.block_number
            ),
            Err(e) => fail(format!(
                "was mined in block {}, but its receipts were not all written: {e:#}",
                mined.block_number
            )),
        }
    }
    for (n, documents) in batches.iter().enumerate().skip(sent.len()) {
        failed.push(Failed {
            batch: n + 1,
            documents: documents.len(),
            what: "not sent".into(),
        });
    }
    if failed.is_empty() {
        return Ok(());
    }
    let documents: usize = failed.iter().map(|f| f.documents).sum();
    let list = failed
        .iter()
        .map(|f| {
            format!(
                "batch {} ({} document(s), {})",
                f.batch, f.documents, f.what
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    bail!(
        "{} of {total} batch(es) failed, holding {documents} document(s): {list}",
        failed.len()
    )
}

/// A batch that did not end stamped with its receipts written.
struct Failed {
    /// From 1.
    batch: usize,
    documents: usize,
    what: String,
}

fn print_stamp(s: &rpc_stamp::Stamp) {
    println!(
        "  stamped by {} in block {} at {}{}",
        s.submitter,
        s.block_number,
        utc(s.timestamp),
        if s.label.is_empty() {
            String::new()
        } else {
            format!(", label {:?}", s.label)
        }
    );
    println!(
        "    batch {} (document {} of {}), transaction {}",
        s.root,
        s.index + 1,
        s.count,
        s.tx_hash
    );
    match &s.revocation {
        None => println!("    not revoked"),
        Some(r) if r.replacement.is_zero() => println!(
            "    REVOKED by its submitter in block {} at {}{}",
            r.block_number,
            utc(r.timestamp),
            reason(&r.reason)
        ),
        Some(r) => println!(
            "    SUPERSEDED by {} in block {} at {}{}",
            r.replacement,
            r.block_number,
            utc(r.timestamp),
            reason(&r.reason)
        ),
    }
}

fn reason(r: &str) -> String {
    if r.is_empty() {
        String::new()
    } else {
        format!(": {r}")
    }
}

mod rpc_stamp {
    //! `tally_getNotaryRecords`' answer.
    use alloy_primitives::{Address, B256};
    use serde::Deserialize;
    use tally_verify::Revocation;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Stamp {
        pub root: B256,
        pub index: u64,
        pub count: u64,
        pub submitter: Address,
        pub block_number: u64,
        pub timestamp: u64,
        pub tx_hash: B256,
        pub label: String,
        pub revocation: Option<Revocation>,
    }
}
