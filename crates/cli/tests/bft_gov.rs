//! Process level: on a real 4-node BFT testnet (3 validators, 4 members)
//! `tally gov` proposes adding the fourth member's node as a validator and
//! granting a role; members vote; the proposals execute at their effective
//! height and `tally_getValidators` shows the new set from exactly that
//! height. `tally export-block` then writes a block signed by the new set,
//! `tally verify-block` checks it offline against the chain spec, and a
//! bundle with one changed byte fails with a reason.
//!
//! Then governance is followed to where users rely on it: the added node
//! really signs (its precommits are in commit certificates), a second vote
//! removes it again (the set, the certificates and the chain go on
//! without it), and a role revoked by vote stops an account's transfers
//! from exactly the proposal's effective height.

mod common;
#[path = "common/testnet.rs"]
mod testnet;

use std::time::Duration;

use alloy_primitives::{Address, U256};
use common::*;
use serde_json::{json, Value};
use testnet::{eventually, Testnet};

const CLI_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `tally args...` and returns stdout; panics with both streams when
/// it fails.
fn tally_ok(args: &[&str]) -> String {
    let (status, stdout, stderr) = run_to_exit(args, CLI_TIMEOUT);
    assert!(
        status.success(),
        "tally {args:?} failed ({status})\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    stdout
}

fn hex(n: u64) -> Value {
    json!(format!("{n:#x}"))
}

/// The `proposal: N` line `tally gov propose` prints.
fn proposal_id(stdout: &str) -> u64 {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("proposal: "))
        .and_then(|id| id.trim().parse().ok())
        .unwrap_or_else(|| panic!("no proposal id in:\n{stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn governance_changes_validators_and_blocks_verify_offline() {
    let net = Testnet::start(
        4,
        &[
            "--consensus",
            "bft",
            "--validators",
            "3",
            "--block-time",
            "0.2",
        ],
    );
    let url = net.node(1).rpc_url.clone();
    let rpc = net.node(1).rpc();
    eventually("block 2", Duration::from_secs(30), || async {
        (rpc.block_number().await >= 2).then_some(())
    })
    .await;

    let members = rpc.ok("tally_getMembers", json!([])).await;
    let new_key = members[3]["nodeKey"]
        .as_str()
        .expect("node key")
        .to_lowercase();
    let genesis_set = rpc.ok("tally_getValidators", json!([hex(1)])).await;
    assert_eq!(genesis_set["validators"].as_array().map(Vec::len), Some(3));
    assert_eq!(genesis_set["quorum"], 3);

    // Far enough ahead for two proposals and four votes at 0.2 s a block.
    let effective = rpc.block_number().await + 40;
    let eff = effective.to_string();
    let out = tally_ok(&[
        "gov",
        "propose",
        "add-validator",
        "--key",
        &new_key,
        "--effective-height",
        &eff,
        "--memo",
        "org4 validates",
        "--dev-account",
        "0",
        "--rpc",
        &url,
    ]);
    let add = proposal_id(&out);
    let auditor = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"; // test account 4
    let out = tally_ok(&[
        "gov",
        "propose",
        "grant-role",
        "--account",
        auditor,
        "--role",
        "deployer",
        "--effective-height",
        &eff,
        "--dev-account",
        "1",
        "--rpc",
        &url,
    ]);
    let grant = proposal_id(&out);
    assert_ne!(add, grant);

    // The proposer's vote counts: two more members make 3 of 4.
    for (id, voters) in [(add, ["1", "2"]), (grant, ["0", "3"])] {
        for voter in voters {
            tally_ok(&[
                "gov",
                "vote",
                &id.to_string(),
                "yes",
                "--dev-account",
                voter,
                "--rpc",
                &url,
            ]);
        }
    }
    let list = tally_ok(&["gov", "list", "--rpc", &url]);
    assert!(
        list.contains("addValidator") && list.contains("passed"),
        "{list}"
    );
    // An admin (a member's account) grants the transactor role directly:
    // a later proposal revokes it.
    let sender = &wallets(6)[5];
    let sender_arg = sender.address.to_string();
    tally_ok(&[
        "roles",
        "grant",
        &sender_arg,
        "transactor",
        "--dev-account",
        "0",
        "--rpc",
        &url,
    ]);

    // A non-member cannot propose: the revert reason is printed.
    let (status, _, stderr) = run_to_exit(
        &[
            "gov",
            "propose",
            "remove-validator",
            "--key",
            &new_key,
            "--effective-height",
            "+5",
            "--dev-account",
            "6",
            "--rpc",
            &url,
        ],
        CLI_TIMEOUT,
    );
    assert!(!status.success());
    assert!(stderr.contains("not a member"), "{stderr}");

    eventually("the effective height", Duration::from_secs(40), || async {
        (rpc.block_number().await > effective + 1).then_some(())
    })
    .await;
    let shown: Value = serde_json::from_str(&tally_ok(&[
        "gov",
        "show",
        &add.to_string(),
        "--json",
        "--rpc",
        &url,
    ]))
    .expect("gov show --json");
    assert_eq!(shown["status"], "executed", "{shown}");
    assert_eq!(shown["executedBlock"], effective - 1, "{shown}");
    let human = tally_ok(&["gov", "show", &grant.to_string(), "--rpc", &url]);
    assert!(human.contains("executed"), "{human}");

    let before = rpc
        .ok("tally_getValidators", json!([hex(effective - 1)]))
        .await;
    let after = rpc.ok("tally_getValidators", json!([hex(effective)])).await;
    assert_eq!(before["totalPower"], 3, "{before}");
    assert_eq!(after["totalPower"], 4, "{after}");
    assert!(after.to_string().contains(&new_key), "{after}");
    let changes = rpc.ok("tally_getValidatorSetChanges", json!([])).await;
    assert_eq!(changes[1]["height"], effective, "{changes}");
    let roles = tally_ok(&["roles", "show", auditor, "--rpc", &url]);
    assert!(roles.contains("deployer"), "{roles}");
    let far = rpc.err("tally_getValidators", json!([hex(1 << 40)])).await;
    assert!(far.message.contains("above"), "{}", far.message);

    // The added node does sign: its precommit is in some certificate from
    // the effective height on (a certificate holds the first quorum of
    // precommits a node collected, so not necessarily in every one).
    let rpcs: Vec<Rpc> = net.nodes.iter().map(|n| n.rpc()).collect();
    let signed_at = find_certificate_signed_by(&rpcs, &new_key, effective).await;
    assert!(signed_at >= effective);

    // Offline: a block signed by the new set, through the change.
    let number = (effective + 1).to_string();
    let bundle = net.dir.join("block.json");
    let bundle_arg = bundle.to_string_lossy().into_owned();
    let chain = net.chain_path().to_string_lossy().into_owned();
    tally_ok(&["export-block", &number, "--rpc", &url, "-o", &bundle_arg]);
    let verified = tally_ok(&["verify-block", &bundle_arg, "--chain", &chain]);
    assert!(
        verified.contains(&format!("block {number} 0x"))
            && verified.contains("of 4 voting power (quorum 3"),
        "{verified}"
    );
    // The new list is proven from the governance contract's storage.
    assert!(!verified.contains("taken as given"), "{verified}");
    assert!(
        verified.contains("proven: the 1 validator-set change(s) in the bundle"),
        "{verified}"
    );

    // One changed hex digit in a signature, or in the header bytes, fails.
    let text = std::fs::read_to_string(&bundle).expect("bundle");
    let mut json: Value = serde_json::from_str(&text).expect("bundle JSON");
    let sig = json["block"]["certificate"]["signatures"][0]["signature"]
        .as_str()
        .expect("signature")
        .to_string();
    let flipped = flip_digit(&sig, 20);
    json["block"]["certificate"]["signatures"][0]["signature"] = json!(flipped);
    let tampered = net.dir.join("tampered.json");
    std::fs::write(&tampered, json.to_string()).expect("write");
    let (status, _, stderr) = run_to_exit(
        &[
            "verify-block",
            &tampered.to_string_lossy(),
            "--chain",
            &chain,
        ],
        CLI_TIMEOUT,
    );
    assert!(!status.success(), "a tampered signature verified");
    assert!(
        stderr.contains("NOT VERIFIED") && stderr.contains("bad precommit signature"),
        "{stderr}"
    );

    let mut json: Value = serde_json::from_str(&text).expect("bundle JSON");
    let rlp = json["block"]["headerRlp"]
        .as_str()
        .expect("rlp")
        .to_string();
    json["block"]["headerRlp"] = json!(flip_digit(&rlp, rlp.len() / 2));
    std::fs::write(&tampered, json.to_string()).expect("write");
    let (status, _, stderr) = run_to_exit(
        &[
            "verify-block",
            &tampered.to_string_lossy(),
            "--chain",
            &chain,
        ],
        CLI_TIMEOUT,
    );
    assert!(!status.success(), "tampered header bytes verified");
    assert!(stderr.contains("NOT VERIFIED"), "{stderr}");

    // A tally-proof/1 account proof of a block signed by the new set; it
    // is checked again after governance removes that validator below.
    let early_proof = net.dir.join("account-early.json");
    let early_arg = early_proof.to_string_lossy().into_owned();
    tally_ok(&[
        "proof",
        "account",
        &sender_arg,
        "--block",
        &number,
        "-o",
        &early_arg,
        "--rpc",
        &url,
    ]);
    let verified = tally_ok(&["verify", &early_arg, "--chain", &chain]);
    assert!(verified.contains(&format!("block {number}")), "{verified}");
    // Anchored in the chain spec alone: the change's list is proven from
    // the governance contract's storage, no checkpoint is asked for.
    assert!(
        verified
            .contains("through 1 change, each list proven from the governance contract's storage"),
        "{verified}"
    );
    assert!(!verified.contains("taken as given"), "{verified}");

    // A second round of votes: remove the added validator again and revoke
    // the transactor role granted above, both from block `removed`.
    let roles = tally_ok(&["roles", "show", &sender_arg, "--rpc", &url]);
    assert!(roles.contains("transactor"), "{roles}");
    let removed = rpc.block_number().await + 40;
    let eff = removed.to_string();
    let out = tally_ok(&[
        "gov",
        "propose",
        "remove-validator",
        "--key",
        &new_key,
        "--effective-height",
        &eff,
        "--dev-account",
        "2",
        "--rpc",
        &url,
    ]);
    let remove = proposal_id(&out);
    let out = tally_ok(&[
        "gov",
        "propose",
        "revoke-role",
        "--account",
        &sender_arg,
        "--role",
        "transactor",
        "--effective-height",
        &eff,
        "--dev-account",
        "3",
        "--rpc",
        &url,
    ]);
    let revoke = proposal_id(&out);
    for (id, voters) in [(remove, ["0", "1"]), (revoke, ["0", "2"])] {
        for voter in voters {
            tally_ok(&[
                "gov",
                "vote",
                &id.to_string(),
                "yes",
                "--dev-account",
                voter,
                "--rpc",
                &url,
            ]);
        }
    }

    // Passed but not yet in effect: the account still sends.
    let to = Address::repeat_byte(0x77);
    let before_revoke = sender.transfer(0, to, U256::from(1000u64));
    let receipt = rpc.send_and_mine(&before_revoke).await;
    let mined_in = quantity(&receipt["blockNumber"]);
    assert!(
        mined_in < removed,
        "the transfer was meant to land before block {removed}, it landed in {mined_in}: \
         raise the margin"
    );

    eventually("the removal's height", Duration::from_secs(30), || async {
        (rpc.block_number().await >= removed + 6).then_some(())
    })
    .await;
    for id in [remove, revoke] {
        let shown: Value = serde_json::from_str(&tally_ok(&[
            "gov",
            "show",
            &id.to_string(),
            "--json",
            "--rpc",
            &url,
        ]))
        .expect("gov show --json");
        assert_eq!(shown["status"], "executed", "{shown}");
        assert_eq!(shown["executedBlock"], removed - 1, "{shown}");
    }
    let last_with = rpc
        .ok("tally_getValidators", json!([hex(removed - 1)]))
        .await;
    let first_without = rpc.ok("tally_getValidators", json!([hex(removed)])).await;
    assert!(last_with.to_string().contains(&new_key), "{last_with}");
    assert!(
        !first_without.to_string().contains(&new_key),
        "{first_without}"
    );
    assert_eq!(first_without["totalPower"], 3, "{first_without}");
    assert_eq!(first_without["quorum"], 3, "{first_without}");
    let changes = rpc.ok("tally_getValidatorSetChanges", json!([])).await;
    assert_eq!(changes[2]["height"], removed, "{changes}");
    // From `removed` on, no node's certificate carries its signature, and
    // each still holds a quorum of the remaining three.
    let head = rpc.block_number().await;
    for n in removed..head {
        for rpc in &rpcs {
            let signers = certificate_signers(rpc, n).await;
            assert!(
                !signers.contains(&new_key),
                "block {n} is certified by the removed validator: {signers:?}"
            );
            assert!(signers.len() >= 3, "block {n}: {signers:?}");
        }
    }
    // Blocks keep coming on the smaller set.
    eventually(
        "blocks after the removal",
        Duration::from_secs(15),
        || async { (rpc.block_number().await >= head + 5).then_some(()) },
    )
    .await;

    // Offline proofs across both changes: the one made before the removal
    // still verifies, and so does one of a block after it (the checker
    // rebuilds each block's set from the spec through the changes).
    tally_ok(&["verify", &early_arg, "--chain", &chain]);
    let late_proof = net.dir.join("account-late.json");
    let late_arg = late_proof.to_string_lossy().into_owned();
    let late = (removed + 1).to_string();
    tally_ok(&[
        "proof",
        "account",
        &sender_arg,
        "--block",
        &late,
        "-o",
        &late_arg,
        "--rpc",
        &url,
    ]);
    let verified = tally_ok(&["verify", &late_arg, "--chain", &chain]);
    assert!(verified.contains(&format!("block {late}")), "{verified}");
    assert!(
        verified
            .contains("through 2 changes, each list proven from the governance contract's storage"),
        "{verified}"
    );
    let text = std::fs::read_to_string(&late_proof).expect("proof");
    let mut json: Value = serde_json::from_str(&text).expect("proof JSON");
    let sig = json["finality"]["certificate"]["signatures"][0]["signature"]
        .as_str()
        .expect("a certificate signature")
        .to_string();
    json["finality"]["certificate"]["signatures"][0]["signature"] = json!(flip_digit(&sig, 30));
    std::fs::write(&late_proof, json.to_string()).expect("write");
    let (status, _, stderr) = run_to_exit(&["verify", &late_arg, "--chain", &chain], CLI_TIMEOUT);
    assert!(
        !status.success(),
        "a proof with a forged signature verified"
    );
    assert!(stderr.contains("does NOT verify"), "{stderr}");

    // The revoked role: the pool refuses the account's transfer.
    let roles = tally_ok(&["roles", "show", &sender_arg, "--rpc", &url]);
    assert!(!roles.contains("transactor"), "{roles}");
    let after_revoke = sender.transfer(1, to, U256::from(1000u64));
    let refused = rpc
        .send_raw(&after_revoke)
        .await
        .expect_err("a refused sender");
    assert!(
        refused.message.contains("lacks the transactor role"),
        "{refused:?}"
    );
}

/// Polls the nodes' commit certificates of blocks `from` and up until one
/// carries a signature by `key`; returns that block's number.
async fn find_certificate_signed_by(rpcs: &[Rpc], key: &str, from: u64) -> u64 {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut next = from;
    loop {
        let head = rpcs[0].block_number().await;
        for n in next..head {
            for rpc in rpcs {
                if certificate_signers(rpc, n).await.iter().any(|s| s == key) {
                    return n;
                }
            }
        }
        next = next.max(head);
        assert!(
            std::time::Instant::now() < deadline,
            "no certificate of blocks {from}..{head} is signed by {key}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The validator keys whose precommits are in the commit certificate of
/// block `n` as the node at `rpc` stores it (none when it has none).
async fn certificate_signers(rpc: &Rpc, n: u64) -> Vec<String> {
    let cert = rpc.ok("tally_getCommitCertificate", json!([hex(n)])).await;
    if !cert.is_null() {
        assert_eq!(cert["height"], n, "{cert}");
    }
    cert["signatures"]
        .as_array()
        .map(|sigs| {
            sigs.iter()
                .filter_map(|s| s["validator"].as_str())
                .map(str::to_lowercase)
                .collect()
        })
        .unwrap_or_default()
}

fn flip_digit(hex: &str, at: usize) -> String {
    let mut chars: Vec<char> = hex.chars().collect();
    chars[at] = if chars[at] == '0' { '1' } else { '0' };
    chars.into_iter().collect()
}
