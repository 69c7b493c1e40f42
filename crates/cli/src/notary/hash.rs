//! SHA-256 of files, read in chunks on all cores with a progress bar for
//! large jobs, and the FILE|HASH arguments.

use std::{io::Read, path::Path, path::PathBuf};

use alloy_primitives::B256;
use anyhow::{bail, Context as _};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

/// SHA-256 of one file.
pub fn file_hash(path: &Path) -> anyhow::Result<B256> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(B256::from_slice(&hasher.finalize()))
}

/// The files named: each file itself, and every file under each directory
/// (recursively, sorted by path); stamp receipts are left out.
pub fn expand(args: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for arg in args {
        if arg.is_dir() {
            let mut found = Vec::new();
            walk(arg, &mut found)?;
            found.sort();
            out.extend(found);
        } else if arg.is_file() {
            out.push(arg.clone());
        } else {
            bail!("{} is neither a file nor a directory", arg.display());
        }
    }
    if out.is_empty() {
        bail!("no files to stamp");
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot list {}", dir.display()))?
            .path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.is_file() && !path.to_string_lossy().ends_with(".notary.json") {
            out.push(path);
        }
    }
    Ok(())
}

/// The hashes of `files`, in order; a progress bar when there are many.
pub fn hash_files(files: &[PathBuf]) -> anyhow::Result<Vec<B256>> {
    let bar = (files.len() >= 200).then(|| {
        let bar = indicatif::ProgressBar::new(files.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("hashing {bar:30} {pos}/{len} files ({eta})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let hashes = files
        .par_iter()
        .map(|f| {
            let h = file_hash(f);
            if let Some(b) = &bar {
                b.inc(1);
            }
            h
        })
        .collect::<anyhow::Result<Vec<_>>>();
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    hashes
}

/// A document named on the command line: an existing file (hashed here)
/// or a 32-byte hex hash.
pub fn document_hash(arg: &str) -> anyhow::Result<B256> {
    let path = Path::new(arg);
    if path.is_file() {
        return file_hash(path);
    }
    match crate::client::parse::parse_b256(arg) {
        Ok(h) => Ok(h),
        Err(_) => bail!("{arg:?} is neither a file nor a 32-byte hex SHA-256 hash"),
    }
}
