//! Process level: traceability through the real `tally` binary against
//! `tally dev`.
//!
//! An admin creates a registry and gives a manufacturer, a shipper and a
//! retailer their roles; the manufacturer registers a product; the shipper
//! (with a document hashed locally) and the retailer append events; an
//! unauthorised account is refused with the contract's reason and a
//! non-zero exit. `tally trace history` lists the registration and the
//! events in order with their roles, now and at an older block; `tally
//! trace proof` writes a proof that `tally verify` checks with the node
//! stopped, and that fails once one event's status is changed; `tally
//! trace qr` writes a square PNG naming the product and the chain.

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A product ID with characters a URI must escape.
const PRODUCT: &str = "SKU-1/lot 7";

/// The value after `label` on the first line that starts with it.
fn field(stdout: &str, label: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(label))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{stdout}"))
}

/// The rows of `tally trace history`'s table: (index, party, role,
/// status), the party lower-cased.
fn history_rows(stdout: &str) -> Vec<(String, String, String, String)> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("#  time (UTC)"))
        .skip(1)
        .filter(|l| !l.trim_start().starts_with("document "))
        .map(|l| {
            // #, date, time, block, party, role, status, ...
            let cols: Vec<&str> = l.split_whitespace().collect();
            let col = |i: usize| cols.get(i).copied().unwrap_or_default().to_string();
            (col(0), col(4).to_lowercase(), col(5), col(6))
        })
        .collect()
}

#[test]
fn a_product_history_is_written_read_proven_and_labelled() {
    let mut node = TestNode::start();
    let cli = Cli {
        url: node.http_url(),
    };
    let w = wallets(5);
    let [_admin, maker, shipper, retailer, outsider] =
        [0, 1, 2, 3, 4].map(|i| w[i].address.to_string());
    let dir = tempfile::tempdir().expect("temp dir");

    let out = cli.ok(&[
        "trace",
        "registry",
        "create",
        "Coffee chain",
        "--dev-account",
        "0",
    ]);
    let registry: String = field(&out, "registry:")
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    assert_eq!(registry, "1", "registry ids count from 1:\n{out}");

    for (party, role) in [
        (&maker, "manufacturer"),
        (&shipper, "shipper"),
        (&retailer, "retailer"),
    ] {
        let out = cli.ok(&[
            "trace",
            "authorize",
            party,
            "--registry",
            &registry,
            "--role",
            role,
            "--dev-account",
            "0",
        ]);
        assert!(out.contains(&format!("is a {role} in registry 1")), "{out}");
    }
    // Only the admin gives roles.
    let err = cli.fails(&[
        "trace",
        "authorize",
        &outsider,
        "--registry",
        &registry,
        "--role",
        "inspector",
        "--dev-account",
        "4",
    ]);
    assert!(err.contains("only registry 1's admin"), "{err}");

    let out = cli.ok(&[
        "trace",
        "register",
        PRODUCT,
        "--registry",
        &registry,
        "--description",
        "Arabica, 60 kg bag",
        "--dev-account",
        "1",
    ]);
    let registered_block = field(&out, "block:");
    assert!(out.contains("registered product"), "{out}");

    let bill = dir.path().join("bill-of-lading.pdf");
    std::fs::write(
        &bill,
        b"bill of lading no. 4471: 1 bag, Santos to Rotterdam",
    )
    .expect("doc");
    let bill_hash = format!(
        "0x{}",
        hex::encode(Sha256::digest(std::fs::read(&bill).unwrap()))
    );
    let out = cli.ok(&[
        "trace",
        "event",
        PRODUCT,
        "--status",
        "shipped",
        "--location",
        "Santos, BR",
        "--doc",
        bill.to_str().expect("utf-8 path"),
        "--dev-account",
        "2",
    ]);
    assert!(out.contains(&format!("document {bill_hash}")), "{out}");
    assert!(
        out.contains("event 1 of product") && out.contains("(shipper)"),
        "{out}"
    );

    let receipt_hash = format!("0x{}", "ab".repeat(32));
    let out = cli.ok(&[
        "trace",
        "event",
        PRODUCT,
        "--status",
        "received",
        "--location",
        "Amsterdam, NL",
        "--doc-hash",
        &receipt_hash,
        "--dev-account",
        "3",
    ]);
    assert!(
        out.contains("event 2 of product") && out.contains("(retailer)"),
        "{out}"
    );

    // An account with no role in the registry is refused, with the reason.
    let (ok, stdout, stderr) = cli.run(&[
        "trace",
        "event",
        PRODUCT,
        "--status",
        "tampered",
        "--dev-account",
        "4",
    ]);
    assert!(!ok, "an unauthorised event succeeded:\n{stdout}");
    assert!(
        stderr.contains(&format!(
            "is not authorised in registry 1, which product {PRODUCT}"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Nor does a party whose role was removed; its past events stay.
    let out = cli.ok(&[
        "trace",
        "authorize",
        &retailer,
        "--registry",
        &registry,
        "--role",
        "none",
        "--dev-account",
        "0",
    ]);
    assert!(out.contains("has no role in registry 1"), "{out}");
    let err = cli.fails(&[
        "trace",
        "event",
        PRODUCT,
        "--status",
        "sold",
        "--dev-account",
        "3",
    ]);
    assert!(err.contains("is not authorised in registry 1"), "{err}");

    // The history, in order, with roles.
    let history = cli.ok(&["trace", "history", PRODUCT]);
    let rows = history_rows(&history);
    let expect = [
        ("-", &maker, "manufacturer", "registered"),
        ("1", &shipper, "shipper", "shipped"),
        ("2", &retailer, "retailer", "received"),
    ];
    assert_eq!(rows.len(), expect.len(), "{history}");
    for (row, (i, party, role, status)) in rows.iter().zip(expect) {
        assert_eq!(
            (
                row.0.as_str(),
                row.1.as_str(),
                row.2.as_str(),
                row.3.as_str()
            ),
            (i, party.to_lowercase().as_str(), role, status),
            "{history}"
        );
    }
    for needle in [
        "Arabica, 60 kg bag",
        "Santos, BR",
        "Amsterdam, NL",
        &format!("document {bill_hash}"),
        &format!("document {receipt_hash}"),
        "events:       2",
    ] {
        assert!(history.contains(needle), "no {needle:?} in:\n{history}");
    }
    // At the registration's block, there were no events yet.
    let then = cli.ok(&["trace", "history", PRODUCT, "--block", &registered_block]);
    assert_eq!(history_rows(&then).len(), 1, "{then}");
    let json: Value =
        serde_json::from_str(&cli.ok(&["trace", "history", PRODUCT, "--json"])).expect("JSON");
    let roles: Vec<u64> = json["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["role"].as_u64())
        .collect();
    assert_eq!(roles, [2, 4], "{json}");
    let err = cli.fails(&["trace", "history", "no such product"]);
    assert!(err.contains("no product \"no such product\""), "{err}");

    // The QR code of a label.
    let png_path = dir.path().join("code.png");
    let out = cli.ok(&[
        "trace",
        "qr",
        PRODUCT,
        "-o",
        png_path.to_str().expect("utf-8 path"),
        "--size",
        "300",
    ]);
    assert!(
        out.contains(&format!(
            "it encodes: tally://trace/{CHAIN_ID}/SKU-1%2Flot%207"
        )),
        "{out}"
    );
    let bytes = std::fs::read(&png_path).expect("the PNG");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    let mut reader = png::Decoder::new(std::io::Cursor::new(&bytes))
        .read_info()
        .expect("a PNG header");
    let mut pixels = vec![0; reader.output_buffer_size().expect("buffer size")];
    let info = reader.next_frame(&mut pixels).expect("a PNG image");
    assert_eq!((info.width, info.height), (300, 300));
    let pixels = &pixels[..info.buffer_size()];
    assert_eq!(pixels[0], 255, "a light quiet zone");
    assert!(pixels.contains(&0), "dark modules");

    // The proof, checked with the node stopped.
    let proof_path = dir.path().join("proof.json");
    let proof_arg = proof_path.to_str().expect("utf-8 path");
    let out = cli.ok(&["trace", "proof", PRODUCT, "-o", proof_arg]);
    assert!(out.contains("history"), "{out}");
    let proof: Value =
        serde_json::from_str(&std::fs::read_to_string(&proof_path).expect("proof")).expect("JSON");
    assert_eq!(proof["claim"]["kind"], "trace", "{proof}");
    assert_eq!(
        proof["claim"]["events"].as_array().map(Vec::len),
        Some(2),
        "{proof}"
    );

    node.signal_and_wait("INT", Duration::from_secs(30));
    let chain = node.datadir.join("chain.toml");
    let chain_arg = chain.to_str().expect("utf-8 path");
    let (status, stdout, stderr) = run_to_exit(
        &["verify", proof_arg, "--chain", chain_arg],
        Duration::from_secs(60),
    );
    assert!(status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    for needle in [
        &format!("product {PRODUCT:?}"),
        "\"shipped\"",
        "(shipper)",
        "\"received\"",
        "(retailer)",
        &bill_hash,
        "2 events",
    ] {
        assert!(stdout.contains(needle), "no {needle:?} in:\n{stdout}");
    }

    let mut tampered = proof.clone();
    tampered["claim"]["events"][0]["status"] = Value::from("lost at sea");
    let tampered_path = dir.path().join("tampered.json");
    std::fs::write(&tampered_path, tampered.to_string()).expect("write");
    let (status, stdout, stderr) = run_to_exit(
        &[
            "verify",
            tampered_path.to_str().expect("utf-8 path"),
            "--chain",
            chain_arg,
        ],
        Duration::from_secs(60),
    );
    assert!(!status.success(), "a tampered proof verified:\n{stdout}");
    assert!(
        stderr.contains("does NOT verify") && stderr.contains("history"),
        "{stderr}"
    );
}
