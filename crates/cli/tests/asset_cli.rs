//! Process level: native assets and shareholder ballots through the real
//! `tally` binary against `tally dev`.
//!
//! An issuer issues an asset with an allowlist and a maximum holding,
//! mints and transfers; the policy refuses a holder not on the allowlist,
//! a mint above the maximum holding and a frozen account, each with the
//! contract's reason on stderr; the regulator claws back with a reason;
//! `tally asset holders --block` shows the balances of an old block and
//! `tally asset history` every movement. The node's RPC answers an
//! unknown token and bad parameters with clear errors and serves the
//! system contracts' ABIs. Then a ballot runs from open to result: two
//! holders vote with their balances at the snapshot, a transfer after it
//! changes nothing, and the ballot closes at its end block.

mod common;

use alloy_primitives::{Address, U256};
use common::*;
use serde_json::{json, Value};

/// The value after `label` on the first line that starts with it.
fn field(stdout: &str, label: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(label))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{stdout}"))
}

fn block_of(stdout: &str) -> u64 {
    field(stdout, "block:").parse().expect("block number")
}

/// `balanceOf(account)` through the token's ERC-20 face, as cast would.
async fn balance_of(rpc: &Rpc, token: &str, account: Address) -> U256 {
    let data = format!("0x70a08231{:0>64}", hex_of(account));
    u256(
        &rpc.ok("eth_call", json!([{"to": token, "data": data}, "latest"]))
            .await,
    )
}

fn hex_of(a: Address) -> String {
    format!("{a:x}").trim_start_matches("0x").to_string()
}

/// `address balance share` rows of `tally asset holders`.
fn holder_rows(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter(|l| l.starts_with("0x"))
        .map(|l| {
            let mut cols = l.split_whitespace();
            let a = cols.next().unwrap_or_default().to_lowercase();
            (a, cols.next().unwrap_or_default().to_string())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_obey_their_policy_and_keep_their_history() {
    let node = TestNode::start();
    let rpc = node.rpc();
    let cli = Cli {
        url: node.http_url(),
    };
    let w = wallets(5);
    let [issuer, regulator, alice, bob, carol] = [0, 1, 2, 3, 4].map(|i| w[i].address.to_string());
    let lower = |a: &str| a.to_lowercase();

    let out = cli.ok(&[
        "asset",
        "issue",
        "--name",
        "Gold Bond",
        "--symbol",
        "GLD",
        "--decimals",
        "2",
        "--cap",
        "1000000",
        "--regulator",
        &regulator,
        "--allowlist",
        "--max-holding",
        "500",
        "--dev-account",
        "0",
    ]);
    let token = field(&out, "token:");
    assert!(token.to_lowercase().starts_with("0xa55e7"), "{out}");

    for who in [&alice, &bob] {
        cli.ok(&["asset", "allow", &token, who, "--dev-account", "0"]);
    }
    cli.ok(&["asset", "mint", &token, &alice, "400", "--dev-account", "0"]);
    cli.ok(&["asset", "mint", &token, &bob, "100", "--dev-account", "0"]);
    let out = cli.ok(&[
        "asset",
        "transfer",
        &token,
        &bob,
        "50.5",
        "--dev-account",
        "2",
    ]);
    let old_block = block_of(&out);
    assert!(out.contains("sent 50.5 GLD"), "{out}");
    // The ERC-20 face sees the same balances (base units, 2 decimals).
    assert_eq!(
        balance_of(&rpc, &token, w[2].address).await,
        U256::from(34_950)
    );

    // Refusals, each with the contract's reason.
    let err = cli.fails(&[
        "asset",
        "transfer",
        &token,
        &carol,
        "10",
        "--dev-account",
        "2",
    ]);
    assert!(err.contains("allowlist") && err.contains(&carol), "{err}");
    let err = cli.fails(&["asset", "mint", &token, &bob, "450", "--dev-account", "0"]);
    assert!(err.contains("above the maximum holding"), "{err}");
    let err = cli.fails(&["asset", "mint", &token, &bob, "1", "--dev-account", "2"]);
    assert!(err.contains("only GLD's issuer"), "{err}");
    let err = cli.fails(&[
        "asset",
        "transfer",
        &token,
        &bob,
        "0.001",
        "--dev-account",
        "2",
    ]);
    assert!(err.contains("2 decimals"), "{err}");

    cli.ok(&["asset", "freeze", &token, &bob, "--dev-account", "1"]);
    let err = cli.fails(&[
        "asset",
        "transfer",
        &token,
        &alice,
        "1",
        "--dev-account",
        "3",
    ]);
    assert!(err.contains("is frozen for GLD"), "{err}");
    // Only the regulator claws back, frozen or not.
    let err = cli.fails(&[
        "asset",
        "clawback",
        &token,
        &bob,
        "20",
        "--reason",
        "x",
        "--dev-account",
        "0",
    ]);
    assert!(err.contains("regulator"), "{err}");
    let out = cli.ok(&[
        "asset",
        "clawback",
        &token,
        &bob,
        "20",
        "--reason",
        "court order 17",
        "--dev-account",
        "1",
    ]);
    assert!(out.contains("clawed back 20 GLD"), "{out}");

    // Holders now, and at the block of the transfer.
    let now = holder_rows(&cli.ok(&["asset", "holders", &token]));
    assert!(now.contains(&(lower(&alice), "349.5".into())), "{now:?}");
    assert!(now.contains(&(lower(&bob), "130.5".into())), "{now:?}");
    assert!(now.contains(&(lower(&issuer), "20".into())), "{now:?}");
    let then = cli.ok(&[
        "asset",
        "holders",
        &token,
        "--block",
        &old_block.to_string(),
    ]);
    let rows = holder_rows(&then);
    assert_eq!(rows.len(), 2, "{then}");
    assert!(rows.contains(&(lower(&bob), "150.5".into())), "{then}");
    assert!(then.contains(&format!("at block {old_block}")), "{then}");

    let show = cli.ok(&["asset", "show", &token]);
    assert!(
        show.contains("supply:    500 GLD of a cap of 1000000 GLD"),
        "{show}"
    );
    assert!(show.contains("allowlist, max holding 500 GLD"), "{show}");

    let history = cli.ok(&["asset", "history", &token]);
    for needle in [
        "issue",
        "allow",
        "mint",
        "transfer",
        "freeze",
        "clawback",
        "court order 17",
    ] {
        assert!(history.contains(needle), "no {needle:?} in:\n{history}");
    }
    // A mint or clawback is one entry, not also a Transfer.
    let json: Value = serde_json::from_str(&cli.ok(&["asset", "history", &token, "--json"]))
        .expect("history JSON");
    let kinds: Vec<&str> = json["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        ["issue", "allow", "allow", "mint", "mint", "transfer", "freeze", "clawback"],
        "{json}"
    );
    let bobs = cli.ok(&["asset", "history", &token, "--account", &bob, "--json"]);
    let bobs: Value = serde_json::from_str(&bobs).expect("history JSON");
    assert_eq!(bobs["entries"].as_array().map(Vec::len), Some(5), "{bobs}");

    // The RPC's own errors and the ABIs.
    let unknown = "0xa55e700000000000000000000000000000000063";
    let e = rpc.err("tally_getAsset", json!([unknown])).await;
    assert!(e.message.to_lowercase().contains(unknown), "{e:?}");
    let e = rpc.err("tally_getHolders", json!(["not an address"])).await;
    assert_eq!(e.code, -32602, "{e:?}");
    let e = rpc
        .err("tally_getAssetHistory", json!([token, {"fromBlok": "0x1"}]))
        .await;
    assert_eq!(e.code, -32602, "{e:?}");
    let contracts = rpc.ok("tally_getSystemContracts", json!([])).await;
    let assets = contracts
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "assets"))
        .expect("assets contract");
    assert_eq!(
        assets["address"],
        "0x0000000000000000000000000000000000001003"
    );
    assert!(assets["abi"]
        .as_array()
        .is_some_and(|a| a.iter().any(|f| f["name"] == "clawback")));
    drop(node);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ballot_weighs_votes_at_its_snapshot() {
    let node = TestNode::start();
    let rpc = node.rpc();
    let cli = Cli {
        url: node.http_url(),
    };
    let w = wallets(4);
    let [alice, bob] = [2, 3].map(|i| w[i].address.to_string());

    let out = cli.ok(&[
        "asset",
        "issue",
        "--name",
        "Acme Shares",
        "--symbol",
        "ACME",
        "--decimals",
        "0",
        "--cap",
        "10000",
        "--dev-account",
        "0",
    ]);
    let token = field(&out, "token:");
    cli.ok(&["asset", "mint", &token, &alice, "600", "--dev-account", "0"]);
    cli.ok(&["asset", "mint", &token, &bob, "400", "--dev-account", "0"]);

    // Only the issuer opens a ballot.
    let err = cli.fails(&[
        "vote",
        "open",
        &token,
        "--question",
        "Merge?",
        "--option",
        "yes",
        "--option",
        "no",
        "--end",
        "+10",
        "--dev-account",
        "2",
    ]);
    assert!(err.contains("only ACME's issuer"), "{err}");
    let out = cli.ok(&[
        "vote",
        "open",
        &token,
        "--question",
        "Approve the merger?",
        "--option",
        "yes",
        "--option",
        "no",
        "--end",
        "+8",
        "--dev-account",
        "0",
    ]);
    let id = field(&out, "ballot:");
    // After the snapshot: alice's 300 moved to bob must not vote twice.
    cli.ok(&[
        "asset",
        "transfer",
        &token,
        &bob,
        "300",
        "--dev-account",
        "2",
    ]);
    let out = cli.ok(&["vote", "cast", &id, "yes", "--dev-account", "2"]);
    assert!(out.contains("with 600 ACME"), "{out}");
    let out = cli.ok(&["vote", "cast", &id, "1", "--dev-account", "3"]);
    assert!(
        out.contains("voted \"no\"") && out.contains("with 400 ACME"),
        "{out}"
    );
    let err = cli.fails(&["vote", "cast", &id, "no", "--dev-account", "3"]);
    assert!(err.contains("already voted"), "{err}");
    let err = cli.fails(&["vote", "cast", &id, "maybe", "--dev-account", "2"]);
    assert!(err.contains("0: yes, 1: no"), "{err}");

    let show = cli.ok(&["vote", "show", &id]);
    assert!(
        show.contains("Approve the merger?") && show.contains("open"),
        "{show}"
    );
    assert!(show.contains("[0] yes") && show.contains("60.0%"), "{show}");
    assert!(show.contains("[1] no") && show.contains("40.0%"), "{show}");
    let ballot: Value =
        serde_json::from_str(&cli.ok(&["vote", "show", &id, "--json"])).expect("ballot JSON");
    assert_eq!(u256(&ballot["tallies"][0]), U256::from(600));
    assert_eq!(u256(&ballot["tallies"][1]), U256::from(400));
    assert_eq!(u256(&ballot["eligibleWeight"]), U256::from(1000));
    assert_eq!(ballot["voters"], 2);
    // The result is provable: eth_getProof on the tally slots gives the
    // tallies, against the block's state root.
    let slots = ballot["tallySlots"].clone();
    let proof = rpc
        .ok(
            "eth_getProof",
            json!([
                "0x0000000000000000000000000000000000001005",
                slots,
                "latest"
            ]),
        )
        .await;
    let proved: Vec<U256> = proof["storageProof"]
        .as_array()
        .expect("storage proofs")
        .iter()
        .map(|p| u256(&p["value"]))
        .collect();
    assert_eq!(proved, vec![U256::from(600), U256::from(400)]);
    assert!(!proof["storageProof"][0]["proof"]
        .as_array()
        .expect("proof nodes")
        .is_empty());

    // Past the end block the ballot is closed and refuses votes.
    let end = ballot["endBlock"].as_u64().expect("endBlock");
    while rpc.block_number().await <= end {
        cli.ok(&[
            "asset",
            "transfer",
            &token,
            &alice,
            "1",
            "--dev-account",
            "3",
        ]);
    }
    let err = cli.fails(&["vote", "cast", &id, "yes", "--dev-account", "1"]);
    assert!(err.contains("closed"), "{err}");
    let list = cli.ok(&["vote", "list"]);
    assert!(
        list.contains("closed") && list.contains("Approve the merger?"),
        "{list}"
    );
    drop(node);
}
