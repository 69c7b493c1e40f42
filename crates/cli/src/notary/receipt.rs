//! The receipt written for each stamped file: what it takes to find the
//! stamp again and to check the file against it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use alloy_primitives::B256;
use anyhow::{bail, Context as _};
use rayon::prelude::*;
use serde::Serialize;
use tally_primitives::merkle;

use crate::client::{parse::quantity_u64, tx::Outcome};

/// Where a stamping transaction landed.
#[derive(Clone, Copy, Debug)]
pub struct Mined {
    pub tx_hash: B256,
    pub block_number: u64,
}

impl Mined {
    pub fn from_outcome(outcome: &Outcome) -> Option<Mined> {
        let receipt = outcome.receipt.as_ref()?;
        Some(Mined {
            tx_hash: outcome.hash,
            block_number: quantity_u64(receipt.get("blockNumber")?)?,
        })
    }
}

/// One stamped batch.
pub struct Batch {
    pub chain_id: u64,
    pub root: B256,
    pub label: String,
    pub mined: Mined,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Receipt<'a> {
    format: &'static str,
    file: String,
    document: B256,
    chain_id: u64,
    root: B256,
    path: merkle::MerkleProof,
    label: &'a str,
    tx_hash: B256,
    block_number: u64,
}

/// The receipt path of `file`: beside it, or in `dir`.
fn receipt_path(file: &Path, dir: Option<&Path>) -> PathBuf {
    let name = format!(
        "{}.notary.json",
        file.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "document".into())
    );
    match dir {
        Some(d) => d.join(name),
        None => file.with_file_name(name),
    }
}

/// Refuses a set of files two of which would get the same receipt path
/// (`a/report.pdf` and `b/report.pdf` with `--receipts DIR`, or one file
/// named twice): their receipts, written in parallel, would overwrite each
/// other. Called before anything is sent.
pub fn check_distinct(files: &[PathBuf], dir: Option<&Path>) -> anyhow::Result<()> {
    let mut seen: HashMap<PathBuf, &PathBuf> = HashMap::with_capacity(files.len());
    for file in files {
        let out = receipt_path(file, dir);
        if let Some(first) = seen.insert(out.clone(), file) {
            if first == file {
                bail!(
                    "{} is named twice (directly or through a directory); \
                     nothing was stamped",
                    file.display()
                );
            }
            bail!(
                "{} and {} would both get the receipt {}; stamp them in separate \
                 commands or with different --receipts directories; nothing was stamped",
                first.display(),
                file.display(),
                out.display()
            );
        }
    }
    Ok(())
}

/// Writes a receipt for each of `files`; returns how many.
pub fn write_all(
    files: &[PathBuf],
    documents: &[B256],
    dir: Option<&Path>,
    batch: &Batch,
) -> anyhow::Result<usize> {
    if let Some(d) = dir {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    let tree = merkle::Tree::new(documents);
    files
        .par_iter()
        .zip(documents)
        .enumerate()
        .try_for_each(|(i, (file, document))| {
            let path = tree.proof(i).context("document outside its batch")?;
            let receipt = Receipt {
                format: "tally-notary-receipt/1",
                file: file.display().to_string(),
                document: *document,
                chain_id: batch.chain_id,
                root: batch.root,
                path,
                label: &batch.label,
                tx_hash: batch.mined.tx_hash,
                block_number: batch.mined.block_number,
            };
            let out = receipt_path(file, dir);
            std::fs::write(&out, serde_json::to_string_pretty(&receipt)? + "\n")
                .with_context(|| format!("cannot write receipt {}", out.display()))
        })?;
    Ok(files.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_that_share_a_receipt_path_are_refused() {
        let a = PathBuf::from("a/report.pdf");
        let b = PathBuf::from("b/report.pdf");
        let files = vec![a.clone(), b.clone()];
        // Beside the files: distinct receipts.
        check_distinct(&files, None).unwrap();
        // In one directory: the same receipt, refused naming both files.
        let err = check_distinct(&files, Some(Path::new("receipts")))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("a/report.pdf") && err.contains("b/report.pdf"),
            "{err}"
        );
        // One file named twice.
        let err = check_distinct(&[a.clone(), a], None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("a/report.pdf") && err.contains("twice"),
            "{err}"
        );
    }
}
