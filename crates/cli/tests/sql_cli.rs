//! Process level: SQL over the ledger through the real `tally` binary.
//!
//! `tally dev` indexes its chain as it grows: after transfers, a token
//! deployment and a token transfer, `tally sql` counts exactly the
//! transactions sent and sees the contract and the token movements, as a
//! table, CSV or JSON; `GET /sql` and `tally_sql` answer the same. Writes,
//! ATTACH and PRAGMA are refused with a clear error and the node goes on
//! answering. A node restarted with `--no-index` says its index is off;
//! restarted with the index again (also after a SIGKILL) it catches up on
//! the blocks it missed, with every block and transaction exactly once.

mod common;

use std::time::{Duration, Instant};

use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_sol_types::{sol, SolCall, SolConstructor};
use common::*;
use serde_json::{json, Value};

sol! {
    contract TestToken {
        constructor(string name_, string symbol_, uint256 initialSupply);
        function transfer(address to, uint256 value) external returns (bool);
    }
}

const TIMEOUT: Duration = Duration::from_secs(30);

fn lower(a: Address) -> String {
    format!("{a:#x}")
}

/// `tally_sql` over JSON-RPC; panics on an error.
async fn sql(rpc: &Rpc, query: &str, params: Value) -> Value {
    rpc.ok("tally_sql", json!([query, params])).await
}

/// The single value of a one-row, one-column answer.
async fn scalar(rpc: &Rpc, query: &str) -> Value {
    let answer = sql(rpc, query, json!([])).await;
    answer["rows"][0][0].clone()
}

/// Waits until the index holds the chain's head block.
async fn wait_indexed(rpc: &Rpc) -> u64 {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let head = rpc.block_number().await;
        let indexed = scalar(rpc, "SELECT max(number) FROM blocks").await;
        if indexed.as_u64() == Some(head) {
            return head;
        }
        assert!(
            Instant::now() < deadline,
            "the index is at {indexed}, the chain at {head}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The index holds every block from genesis to `head` once, and every
/// transaction once.
async fn assert_whole_chain(rpc: &Rpc, head: u64, txs: u64) {
    let answer = sql(
        rpc,
        "SELECT count(*), count(DISTINCT number), min(number), max(number), sum(tx_count) \
         FROM blocks",
        json!([]),
    )
    .await;
    assert_eq!(
        answer["rows"][0],
        json!([head + 1, head + 1, 0, head, txs]),
        "blocks 0..={head} with {txs} transactions, each once"
    );
    let answer = sql(
        rpc,
        "SELECT count(*), count(DISTINCT hash) FROM transactions",
        json!([]),
    )
    .await;
    assert_eq!(answer["rows"][0], json!([txs, txs]));
}

/// Sends `n` transfers from `from` to `to` and waits for each.
async fn transfers(rpc: &Rpc, from: &Wallet, to: Address, n: u64) {
    for _ in 0..n {
        let nonce = rpc.nonce(from.address, "pending").await;
        rpc.send_and_mine(&from.transfer(nonce, to, U256::from(1_000u64)))
            .await;
    }
}

async fn get(url: &str) -> (u16, Value) {
    let resp = reqwest::get(url).await.expect("GET the node");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("read the body");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_over_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().join("chain");
    let start = |extra: &[&str]| {
        TestNode::start_with(NodeOptions {
            datadir: Some(datadir.clone()),
            extra_args: extra.iter().map(|s| s.to_string()).collect(),
            ..NodeOptions::default()
        })
    };
    let mut node = start(&[]);
    let rpc = node.rpc();
    let cli = Cli {
        url: node.http_url(),
    };
    let w = wallets(3);
    let (alice, bob, carol) = (&w[0], &w[1], &w[2]);

    // Three transfers, a token deployment (its mint is a Transfer log) and
    // a token transfer: five transactions.
    transfers(&rpc, alice, bob.address, 3).await;
    let art = artifact("TestToken");
    let mut code = art.bytecode.to_vec();
    code.extend(
        TestToken::constructorCall {
            name_: "Test Token".into(),
            symbol_: "TST".into(),
            initialSupply: U256::from(1_000_000u64),
        }
        .abi_encode(),
    );
    let nonce = rpc.nonce(bob.address, "pending").await;
    let create = bob.tx(nonce, TxKind::Create, U256::ZERO, code.into(), 3_000_000);
    let receipt = rpc.send_and_mine(&create).await;
    let token = address(&receipt["contractAddress"]);
    let call: Bytes = TestToken::transferCall {
        to: carol.address,
        value: U256::from(250u64),
    }
    .abi_encode()
    .into();
    let tx = bob.tx(nonce + 1, TxKind::Call(token), U256::ZERO, call, 200_000);
    rpc.send_and_mine(&tx).await;
    let head = wait_indexed(&rpc).await;

    // The default table.
    let out = cli.ok(&["sql", "SELECT count(*) FROM transactions"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.first(), Some(&"count(*)"), "{out}");
    assert!(lines.get(1).is_some_and(|l| l.starts_with("---")), "{out}");
    assert_eq!(lines.get(2).map(|l| l.trim()), Some("5"), "{out}");
    assert!(out.contains("(1 row"), "{out}");

    // Parameters, NULL, and the system tables.
    let out = cli.ok(&[
        "sql",
        "SELECT sender, recipient, contract_address FROM transactions \
         WHERE sender = ? AND recipient IS NULL",
        "--param",
        &lower(bob.address),
    ]);
    assert!(out.contains("NULL"), "{out}");
    assert!(out.contains(&lower(token)), "{out}");
    let out = cli.ok(&[
        "sql",
        "SELECT creator FROM contracts WHERE address = ?",
        "--param",
        &lower(token),
    ]);
    assert!(out.contains(&lower(bob.address)), "{out}");

    // CSV: the header, then the records; JSON: the node's answer.
    let out = cli.ok(&[
        "sql",
        "SELECT sender, recipient, value, token_id FROM token_transfers \
         WHERE token = ? ORDER BY block_number, log_index",
        "--param",
        &lower(token),
        "--format",
        "csv",
    ]);
    // (The harness reads output by lines: CSV's CRLF comes back as lines.)
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "sender,recipient,value,token_id".to_string(),
            format!("{},{},1000000,", lower(Address::ZERO), lower(bob.address)),
            format!("{},{},250,", lower(bob.address), lower(carol.address)),
        ]
    );
    let out = cli.ok(&[
        "sql",
        "SELECT number, 'a,b' AS label FROM blocks WHERE number <= ? ORDER BY number",
        "--param",
        "1",
        "--format",
        "json",
    ]);
    let answer: Value = serde_json::from_str(&out).expect("JSON output");
    assert_eq!(answer["columns"], json!(["number", "label"]));
    assert_eq!(answer["rows"], json!([[0, "a,b"], [1, "a,b"]]));
    assert_eq!(answer["truncated"], json!(false));
    assert!(answer["elapsedMs"].is_u64(), "{answer}");

    // Refusals are clear, and the node goes on answering.
    for (query, expect) in [
        ("DELETE FROM blocks", "DELETE from blocks is not allowed"),
        ("INSERT INTO blocks (number) VALUES (999)", "not allowed"),
        ("ATTACH DATABASE '/tmp/x.db' AS x", "ATTACH is not allowed"),
        (
            "PRAGMA table_info(blocks)",
            "PRAGMA table_info is not allowed",
        ),
        ("SELECT * FROM nowhere", "no such table: nowhere"),
    ] {
        let err = cli.fails(&["sql", query]);
        assert!(err.contains(expect), "{query}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let err = cli.fails(&["sql", "SELECT ?", "--param", "1", "--param", "2"]);
    assert!(err.contains("1 `?` parameter(s) but 2"), "{err}");
    assert_eq!(
        scalar(&rpc, "SELECT count(*) FROM blocks").await,
        json!(head + 1)
    );
    assert_eq!(rpc.block_number().await, head);

    // The schema needs no node.
    let (status, schema, _) = run_to_exit(&["sql", "--schema"], TIMEOUT);
    assert!(status.success());
    for table in [
        "CREATE TABLE blocks",
        "transactions",
        "token_transfers",
        "notary_batches",
    ] {
        assert!(schema.contains(table), "{table} missing from:\n{schema}");
    }

    // Over JSON-RPC and plain HTTP.
    let answer = sql(
        &rpc,
        "SELECT count(*) AS n FROM transactions WHERE sender = ?",
        json!([lower(alice.address)]),
    )
    .await;
    assert_eq!(answer["columns"], json!(["n"]));
    assert_eq!(answer["rows"], json!([[3]]));
    let err = rpc.err("tally_sql", json!(["DROP TABLE blocks"])).await;
    assert_eq!(err.code, -32602, "{err:?}");
    assert!(err.message.contains("DROP"), "{err:?}");
    let err = rpc.err("tally_sql", json!(["SELEC 1"])).await;
    assert_eq!(err.code, -32602, "{err:?}");
    assert!(err.message.contains("syntax error"), "{err:?}");

    let base = node.http_url();
    let (status, body) = get(&format!(
        "{base}/sql?q=SELECT+count(*)+AS+n+FROM+transactions+WHERE+sender+%3D+%3F&p={}",
        lower(alice.address)
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["rows"], json!([[3]]));
    assert_eq!(body["columns"], json!(["n"]));
    let (status, body) = get(&format!("{base}/sql?q=SELECT+%3F+%2B+1&p=41")).await;
    assert_eq!((status, &body["rows"]), (200, &json!([[42]])), "{body}");
    let (status, body) = get(&format!("{base}/sql?q=DELETE+FROM+blocks")).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("not allowed")),
        "{body}"
    );
    let (status, body) = get(&format!("{base}/sql")).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().is_some_and(|e| e.contains("q=")),
        "{body}"
    );

    // The index's gauges are in the metrics.
    let metrics = rpc.ok("tally_metrics", json!([])).await;
    assert_eq!(metrics["indexHead"], json!(head), "{metrics}");
    assert!(metrics["indexRowsWritten"].as_u64() > Some(0), "{metrics}");
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(&format!("tally_index_head_block {head}\n")),
        "{text}"
    );
    assert!(text.contains("tally_index_lag_blocks "), "{text}");

    // Without the index: blocks the index does not see, and a clear answer.
    node.signal_and_wait("INT", TIMEOUT);
    let mut node = start(&["--no-index"]);
    let rpc = node.rpc();
    transfers(&rpc, carol, alice.address, 2).await;
    let err = rpc.err("tally_sql", json!(["SELECT 1"])).await;
    assert_eq!(err.code, -32000, "{err:?}");
    assert!(err.message.contains("--no-index"), "{err:?}");
    let err = Cli {
        url: node.http_url(),
    }
    .fails(&["sql", "SELECT 1"]);
    assert!(err.contains("the SQL index is off on this node"), "{err}");
    let (status, body) = get(&format!("{}/sql?q=SELECT+1", node.http_url())).await;
    assert_eq!(status, 503, "{body}");
    let metrics = rpc.ok("tally_metrics", json!([])).await;
    assert!(metrics.get("indexHead").is_none(), "{metrics}");
    node.signal_and_wait("INT", TIMEOUT);

    // With the index again: it catches up on the blocks it missed.
    let mut node = start(&[]);
    let rpc = node.rpc();
    let head = wait_indexed(&rpc).await;
    assert_whole_chain(&rpc, head, 7).await;
    let deadline = Instant::now() + TIMEOUT;
    while !node.stderr().contains("SQL index caught up") {
        assert!(
            Instant::now() < deadline,
            "no catch-up log:\n{}",
            node.stderr()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A SIGKILL while indexing new blocks loses nothing and repeats nothing.
    transfers(&rpc, alice, carol.address, 2).await;
    node.sigkill();
    let node = start(&[]);
    let rpc = node.rpc();
    let head = wait_indexed(&rpc).await;
    assert_whole_chain(&rpc, head, 9).await;
    let answer = sql(
        &rpc,
        "SELECT count(*) FROM transactions WHERE recipient = ?",
        json!([lower(carol.address)]),
    )
    .await;
    assert_eq!(answer["rows"], json!([[2]]));
}
