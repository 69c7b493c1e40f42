//! Process level: delivery versus payment through the real `tally` binary
//! against `tally dev`.
//!
//! Dev account 0 issues an asset (a transaction to the assets contract
//! built here) and sells 250 units to dev account 1 for 2 ETH: `tally
//! settle new` writes the instruction, both parties `sign` it, account 2
//! `submit`s it, and `show` reports the block it settled in, by file and
//! by id. Both legs moved, to the unit and the wei; a second submission is
//! refused with the contract's reason; a file missing a signature is
//! refused before anything is sent.

mod common;

use std::path::Path;

use alloy_primitives::{address, Address, Bytes, U256};
use alloy_sol_types::SolCall;
use common::*;
use serde_json::{json, Value};

alloy_sol_types::sol!("../../contracts/ITallyAssets.sol");
alloy_sol_types::sol!("../../contracts/ITallyAsset.sol");

const ASSETS: Address = address!("0000000000000000000000000000000000001003");
/// The first asset issued on a chain.
const TOKEN: Address = address!("a55e700000000000000000000000000000000001");
const ETH: u128 = 1_000_000_000_000_000_000;

impl Cli {
    /// Sends a call to the assets contract from dev account `n`.
    fn assets_tx(&self, n: u32, call: impl SolCall) {
        let data = Bytes::from(call.abi_encode()).to_string();
        let to = ASSETS.to_string();
        let out = self.ok(&[
            "tx",
            "send",
            "--to",
            &to,
            "--data",
            &data,
            "--dev-account",
            &n.to_string(),
        ]);
        assert!(out.contains("status:  success"), "{out}");
    }
}

async fn token_balance(rpc: &Rpc, who: Address) -> U256 {
    let data = Bytes::from(ITallyAsset::balanceOfCall { account: who }.abi_encode());
    let out = rpc
        .ok("eth_call", json!([{"to": TOKEN, "data": data}, "latest"]))
        .await;
    ITallyAsset::balanceOfCall::abi_decode_returns(&bytes(&out)).unwrap()
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

/// The value after `label` on the first line that starts with it.
fn field<'a>(stdout: &'a str, label: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(label))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{stdout}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn asset_for_eth_settles_end_to_end() {
    let node = TestNode::start();
    let rpc = node.rpc();
    let cli = Cli {
        url: node.http_url(),
    };
    let w = wallets(3);
    let (seller, buyer) = (w[0].address, w[1].address);

    cli.assets_tx(
        0,
        ITallyAssets::issueCall {
            name: "Green Bond 2030".into(),
            symbol: "GB30".into(),
            decimals: 0,
            cap: U256::from(1_000_000),
            regulator: Address::ZERO,
            policy: ITallyAssets::Policy {
                allowlist: false,
                maxHolding: U256::ZERO,
                purpose: String::new(),
            },
        },
    );
    cli.assets_tx(
        0,
        ITallyAssets::mintCall {
            token: TOKEN,
            to: seller,
            amount: U256::from(1000),
        },
    );
    assert_eq!(token_balance(&rpc, seller).await, U256::from(1000));
    let seller_eth = rpc.balance(seller, "latest").await;
    let buyer_eth = rpc.balance(buyer, "latest").await;

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dvp.json");
    let f = path_str(&file);
    let (seller_s, buyer_s, token_s) = (seller.to_string(), buyer.to_string(), TOKEN.to_string());
    let amount_b = (2 * ETH).to_string();
    let new = [
        "settle",
        "new",
        "--out",
        f,
        "--party-a",
        &seller_s,
        "--party-b",
        &buyer_s,
        "--asset-a",
        &token_s,
        "--amount-a",
        "250",
        "--asset-b",
        "eth",
        "--amount-b",
        &amount_b,
        "--expiry",
        "+600",
    ];
    let out = cli.ok(&new);
    assert!(out.contains("delivers 250 units of"), "{out}");
    assert!(out.contains("pays 2 ETH"), "{out}");
    // No silent overwrite.
    assert!(cli.fails(&new).contains("already exists"));
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(written["instruction"]["assetB"], "eth");
    assert_eq!(written["instruction"]["amountA"], "250");

    // Only the parties sign.
    let err = cli.fails(&["settle", "sign", f, "--dev-account", "2"]);
    assert!(err.contains("only the parties sign"), "{err}");
    let out = cli.ok(&["settle", "sign", f, "--dev-account", "0"]);
    assert!(
        out.contains("as partyA") && out.contains("still missing: partyB"),
        "{out}"
    );
    // A submitter that is not partyB cannot go without B's signature.
    let err = cli.fails(&["settle", "submit", f, "--dev-account", "2"]);
    assert!(err.contains("lacks partyB's signature"), "{err}");
    let out = cli.ok(&["settle", "show", f]);
    assert_eq!(field(&out, "settled:"), "no");
    assert_eq!(field(&out, "partyA's signature:"), "signed");
    assert_eq!(field(&out, "partyB's signature:"), "not signed");

    let out = cli.ok(&["settle", "sign", f, "--dev-account", "1"]);
    assert!(
        out.contains("as partyB") && !out.contains("still missing"),
        "{out}"
    );

    let out = cli.ok(&["settle", "submit", f, "--dev-account", "2"]);
    assert!(out.contains("status:  success"), "{out}");
    let block: u64 = field(&out, "block:").parse().unwrap();
    let id = field(&out, "settled:")
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();

    // Both legs moved, exactly: the parties sent no transaction.
    assert_eq!(token_balance(&rpc, seller).await, U256::from(750));
    assert_eq!(token_balance(&rpc, buyer).await, U256::from(250));
    assert_eq!(
        rpc.balance(seller, "latest").await,
        seller_eth + U256::from(2 * ETH)
    );
    assert_eq!(
        rpc.balance(buyer, "latest").await,
        buyer_eth - U256::from(2 * ETH)
    );

    let out = cli.ok(&["settle", "show", f]);
    assert_eq!(field(&out, "settled:"), format!("yes, in block {block}"));
    assert!(field(&out, "id:").starts_with(&id), "{out}");
    let out = cli.ok(&["settle", "show", &id]);
    assert_eq!(field(&out, "settled:"), format!("yes, in block {block}"));

    // Once only.
    let err = cli.fails(&["settle", "submit", f, "--dev-account", "2"]);
    assert!(
        err.contains(&format!("already settled in block {block}")),
        "{err}"
    );
    assert_eq!(token_balance(&rpc, buyer).await, U256::from(250));
}
