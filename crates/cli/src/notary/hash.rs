//! SHA-256 of files, read in chunks on all cores with a progress bar for
//! large jobs, and the FILE|HASH arguments.

use std::{io::Read, path::Path, path::PathBuf};

use alloy_primitives::B256;
use anyhow::{bail, Context as _};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

/// SHA-256 of one file; errors name the file.
pub(crate) fn file_hash(path: &Path) -> anyhow::Result<B256> {
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
/// (recursively, sorted by path); stamp receipts and symbolic links inside
/// a directory are left out.
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
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let path = entry.path();
        // `DirEntry::file_type` does not follow symbolic links, so a link
        // (to a parent folder, or to a file already in the set) is skipped
        // rather than followed.
        let kind = entry
            .file_type()
            .with_context(|| format!("cannot read {}", path.display()))?;
        if kind.is_dir() {
            walk(&path, out)?;
        } else if kind.is_file() && !path.to_string_lossy().ends_with(".notary.json") {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_hash_with_sha256() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bill.txt");
        std::fs::write(&path, b"abc").unwrap();
        // FIPS 180-2's test vector for "abc".
        assert_eq!(
            file_hash(&path).unwrap().to_string(),
            "0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let err = format!("{:#}", file_hash(&dir.path().join("gone")).unwrap_err());
        assert!(err.contains("gone"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_inside_a_directory_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let docs = dir.path().join("docs");
        std::fs::create_dir_all(docs.join("sub")).unwrap();
        std::fs::write(docs.join("a.txt"), b"a").unwrap();
        std::fs::write(docs.join("sub/b.txt"), b"b").unwrap();
        // A link to a parent folder would recurse forever; a link to a
        // file would stamp it twice.
        std::os::unix::fs::symlink(&docs, docs.join("sub/up")).unwrap();
        std::os::unix::fs::symlink(docs.join("a.txt"), docs.join("sub/a-again.txt")).unwrap();
        let files = expand(std::slice::from_ref(&docs)).unwrap();
        assert_eq!(files, vec![docs.join("a.txt"), docs.join("sub/b.txt")]);
    }
}
