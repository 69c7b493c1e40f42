//! The block explorer in a real headless browser: tests/js/explorer.mjs
//! drives Debian's `chromium` through `chromium-driver` (WebDriver, with
//! the npm `selenium-webdriver` client) against a `tally dev` whose chain
//! holds an ERC-20 transfer and a notarized document. Screenshots of the
//! main pages land in target/explorer-screenshots/ (kept by CI).
//!
//! Chromium, chromedriver and Node.js are required: without them this test
//! fails, saying how to install them (scripts/test.sh does), rather than
//! passing without having checked anything.

mod common;
#[path = "common/explorer.rs"]
mod explorer;

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use common::*;

/// `$var`, else the first of `paths` that exists; panics with how to
/// install it.
fn required(var: &str, paths: &[&str], package: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(var) {
        return PathBuf::from(p);
    }
    paths
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!(
                "{} not found: the explorer's browser test needs Debian's {package}. Install it \
                 with `sudo apt-get install -y chromium chromium-driver` (scripts/test.sh does \
                 this), or point {var} at it",
                paths.join(" or ")
            )
        })
}

fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    let target = if target.is_relative() {
        repo_root().join(target)
    } else {
        target
    };
    target.join("explorer-screenshots")
}

fn npm_ci_if_needed(js: &Path) {
    match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        _ => panic!(
            "Node.js (`node`) is not on PATH; the explorer's browser test needs it: install \
             Node.js >= 18 (scripts/test.sh does)"
        ),
    }
    if !js.join("node_modules/selenium-webdriver").is_dir() {
        let mut npm = Command::new("npm");
        npm.args(["ci", "--no-audit", "--no-fund"]).current_dir(js);
        let (status, out, err) = run_command(npm, Duration::from_secs(300));
        assert!(
            status.success(),
            "`npm ci` in {} failed ({status}):\n{out}\n{err}",
            js.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn explorer_works_in_headless_chromium() {
    let chromium = required("CHROMIUM", &["/usr/bin/chromium"], "chromium");
    let chromedriver = required(
        "CHROMEDRIVER",
        &["/usr/bin/chromedriver"],
        "chromium-driver",
    );
    let js = repo_root().join("tests/js");
    npm_ci_if_needed(&js);

    let s = explorer::scene(&[]).await;
    let files = tempfile::tempdir().expect("tempdir");
    let document = files.path().join("invoice-2024-0042.txt");
    std::fs::write(&document, explorer::DOCUMENT).expect("write the document");
    let shots = screenshots_dir();

    let mut cmd = Command::new("node");
    cmd.arg(js.join("explorer.mjs"))
        .current_dir(&js)
        .env("TALLY_EXPLORER", s.node.explorer_url())
        .env("TALLY_RPC", s.node.http_url())
        .env("TALLY_BLOCK", s.transfer_block.to_string())
        .env("TALLY_TX", s.transfer_tx.to_string())
        .env("TALLY_ADDRESS", s.bob.address.to_string())
        .env("TALLY_TOKEN", s.token.to_string())
        .env("TALLY_DOCUMENT_FILE", &document)
        .env("TALLY_SCREENSHOTS", &shots)
        .env("CHROMIUM", &chromium)
        .env("CHROMEDRIVER", &chromedriver)
        // Selenium Manager must never fetch a browser or driver.
        .env("SE_OFFLINE", "true");
    let (status, out, err) = run_command(cmd, Duration::from_secs(240));
    assert!(
        status.success(),
        "explorer.mjs failed ({status}):\nstdout:\n{out}\nstderr:\n{err}\nnode log:\n{}",
        s.node.stderr()
    );
    assert!(out.contains("all checks passed"), "{out}");
    for page in [
        "home",
        "block",
        "transaction",
        "address",
        "token",
        "sql",
        "notary",
        "consensus",
    ] {
        let shot = shots.join(format!("{page}.png"));
        let bytes = std::fs::read(&shot).unwrap_or_else(|e| panic!("{}: {e}", shot.display()));
        assert!(
            bytes.starts_with(b"\x89PNG"),
            "{} is not a PNG",
            shot.display()
        );
    }
}
