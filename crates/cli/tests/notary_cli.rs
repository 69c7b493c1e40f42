//! Process level: the notary and offline proofs through the real `tally`
//! binary against `tally dev`.
//!
//! 1,000 files are stamped in one command (one transaction, one Merkle
//! root); `notary show` finds one by its file; a proof of it is written,
//! the node is stopped, and `tally verify` checks the proof against the
//! file and the chain spec alone. A changed file, a changed proof and a
//! proof about another file all fail with a reason. A revoked document's
//! proof says it was revoked. Proofs of a transaction, its receipt and an
//! account verify offline too.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use sha2::{Digest, Sha256};

const FILES: usize = 1000;

fn sha256_hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(Sha256::digest(bytes)))
}

fn doc(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("diploma-{i:04}.txt"))
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stamped_file_is_proven_offline_and_a_revoked_one_says_so() {
    let work = tempfile::tempdir().expect("temp dir");
    let datadir = work.path().join("chain");
    let docs = work.path().join("docs");
    let receipts = work.path().join("receipts");
    std::fs::create_dir_all(&docs).unwrap();
    for i in 0..FILES {
        std::fs::write(
            doc(&docs, i),
            format!("Diploma {i}: Tally University, 2026\n"),
        )
        .unwrap();
    }
    let mut node = TestNode::start_with(NodeOptions {
        datadir: Some(datadir.clone()),
        ..Default::default()
    });
    let cli = Cli {
        url: node.http_url(),
    };

    // Stamp all 1,000 in one command: one batch, one receipt per file.
    let files: Vec<String> = (0..FILES).map(|i| s(&doc(&docs, i))).collect();
    let mut args = vec!["notary", "stamp"];
    args.extend(files.iter().map(String::as_str));
    let receipts_arg = s(&receipts);
    args.extend([
        "--label",
        "diplomas 2026",
        "--receipts",
        &receipts_arg,
        "--dev-account",
        "0",
    ]);
    let out = cli.ok(&args);
    assert!(
        out.contains(&format!("stamped {FILES} file(s) under root")),
        "{out}"
    );
    let receipt: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(receipts.join("diploma-0007.txt.notary.json")).unwrap(),
    )
    .unwrap();
    let hash7 = sha256_hex(&std::fs::read(doc(&docs, 7)).unwrap());
    assert_eq!(receipt["document"], hash7.as_str());
    assert_eq!(receipt["path"]["leafCount"], FILES as u64);
    let stamp_tx = receipt["txHash"].as_str().unwrap().to_string();

    // show: by file and by hash.
    let out = cli.ok(&["notary", "show", &s(&doc(&docs, 7))]);
    let dev0 = wallets(1)[0].address.to_string().to_lowercase();
    assert!(out.to_lowercase().contains(&dev0), "{out}");
    assert!(out.contains("document 8 of 1000"), "{out}");
    assert!(
        out.contains("\"diplomas 2026\"") && out.contains("not revoked"),
        "{out}"
    );
    cli.ok(&["notary", "show", &hash7]);
    let err = cli.fails(&["notary", "show", &format!("0x{}", "ab".repeat(32))]);
    assert!(err.contains("never stamped"), "{err}");

    // Revoke document 8; stamping the same batch again is refused.
    cli.ok(&[
        "notary",
        "revoke",
        &s(&doc(&docs, 8)),
        "--reason",
        "issued in error",
        "--dev-account",
        "0",
    ]);
    let out = cli.ok(&["notary", "show", &s(&doc(&docs, 8))]);
    assert!(
        out.contains("REVOKED") && out.contains("issued in error"),
        "{out}"
    );

    // Proofs, written while the node runs.
    let p7 = s(&work.path().join("proof-7.json"));
    let p8 = s(&work.path().join("proof-8.json"));
    let ptx = s(&work.path().join("tx.json"));
    let preceipt = s(&work.path().join("receipt.json"));
    let paccount = s(&work.path().join("account.json"));
    cli.ok(&["notary", "proof", &s(&doc(&docs, 7)), "-o", &p7]);
    cli.ok(&["notary", "proof", &s(&doc(&docs, 8)), "-o", &p8]);
    cli.ok(&["proof", "tx", &stamp_tx, "-o", &ptx]);
    cli.ok(&["proof", "receipt", &stamp_tx, "-o", &preceipt]);
    cli.ok(&["proof", "account", &dev0, "-o", &paccount]);

    // No node from here on.
    node.signal_and_wait("TERM", Duration::from_secs(30));
    let chain = s(&datadir.join("chain.toml"));

    let out = cli.ok(&["verify", &p7, &s(&doc(&docs, 7)), "--chain", &chain]);
    assert!(out.contains(&hash7), "{out}");
    assert!(out.to_lowercase().contains("not revoked"), "{out}");
    let out = cli.ok(&["verify", &p8, &s(&doc(&docs, 8)), "--chain", &chain]);
    assert!(
        out.contains("REVOKED") && out.contains("issued in error"),
        "{out}"
    );
    for p in [&ptx, &preceipt, &paccount] {
        cli.ok(&["verify", p, "--chain", &chain]);
    }

    // Another file, a changed file, a changed proof: each fails.
    let err = cli.fails(&["verify", &p7, &s(&doc(&docs, 6)), "--chain", &chain]);
    assert!(err.contains("does NOT verify"), "{err}");
    std::fs::write(
        doc(&docs, 7),
        "Diploma 7: Tally University, 2026 (forged)\n",
    )
    .unwrap();
    cli.fails(&["verify", &p7, &s(&doc(&docs, 7)), "--chain", &chain]);
    let text = std::fs::read_to_string(&p7).unwrap();
    let forged = text.replacen("\"count\":1000", "\"count\":1001", 1);
    assert_ne!(forged, text);
    let forged_path = work.path().join("forged.json");
    std::fs::write(&forged_path, forged).unwrap();
    cli.fails(&["verify", &s(&forged_path), "--chain", &chain]);
}
