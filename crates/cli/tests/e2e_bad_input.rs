//! End to end: what a real `tally dev` process answers to bad input, with
//! the JSON-RPC codes and messages Ethereum clients match on, and that it
//! keeps serving and mining afterwards; a WebSocket storm, refused past
//! the caps set on the command line while HTTP goes on. Also bad startup
//! conditions: a port already taken, a corrupt data directory, a cap of 0
//! must end the process with a clear error, never a panic.

mod common;

use std::time::Duration;

use alloy_consensus::{Signed, TxEip1559, TxEnvelope};
use alloy_primitives::{Bytes, Signature, TxKind, U256};
use common::*;
use serde_json::json;

const TIMEOUT: Duration = Duration::from_secs(20);

fn assert_rejected(err: &RpcErr, needle: &str) {
    assert!(
        err.message.contains(needle),
        "expected {needle:?} in the error, got {err:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_requests_get_standard_codes() {
    let node = TestNode::start();
    let rpc = node.rpc();

    let (_, v) = rpc
        .post_raw("{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\"")
        .await;
    assert_eq!(v["error"]["code"], -32700, "truncated JSON: {v}");
    let (_, v) = rpc.post_raw("not json at all").await;
    assert_eq!(v["error"]["code"], -32700, "garbage: {v}");

    let err = rpc.err("eth_noSuchMethod", json!([])).await;
    assert_eq!(err.code, -32601, "{err:?}");

    let err = rpc.err("eth_getBalance", json!(["0x1234", "latest"])).await;
    assert_eq!(err.code, -32602, "short address: {err:?}");
    let err = rpc.err("eth_getBalance", json!([])).await;
    assert_eq!(err.code, -32602, "missing params: {err:?}");
    let err = rpc
        .err("eth_getBlockByNumber", json!(["0xzz", false]))
        .await;
    assert_eq!(err.code, -32602, "bad block number: {err:?}");

    // A batch answers each entry, the bad one with its own error.
    let (_, v) = rpc
        .post_raw(
            json!([
                {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
                {"jsonrpc": "2.0", "id": 2, "method": "eth_nope", "params": []}
            ])
            .to_string(),
        )
        .await;
    let answers = v.as_array().unwrap_or_else(|| panic!("batch answer: {v}"));
    assert_eq!(answers.len(), 2, "{v}");
    let chain = answers.iter().find(|a| a["id"] == 1).expect("id 1");
    assert_eq!(quantity(&chain["result"]), CHAIN_ID);
    let bad = answers.iter().find(|a| a["id"] == 2).expect("id 2");
    assert_eq!(bad["error"]["code"], -32601, "{v}");

    // Still alive.
    assert_eq!(rpc.block_number().await, 0);
}

/// A transaction signed with a signature that recovers to no key.
fn with_bad_signature(tx: TxEip1559) -> TxEnvelope {
    let sig = Signature::new(U256::ZERO, U256::from(1u64), false);
    TxEnvelope::Eip1559(Signed::new_unhashed(tx, sig))
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_transactions_are_rejected_and_the_node_keeps_mining() {
    let node = TestNode::start();
    let rpc = node.rpc();
    let w = wallets(5);

    // Malformed RLP / envelopes.
    for junk in [
        &b""[..],
        &[0x02][..],
        &[0x02, 0xf8, 0xff, 0x01][..],
        &[0xc0][..],
        &[0x7f, 0x01, 0x02][..],
    ] {
        let err = rpc.send_raw_bytes(junk).await.expect_err("junk accepted");
        assert!(
            err.code == -32602 || err.code == -32000,
            "junk {junk:02x?}: {err:?}"
        );
        assert!(!err.message.is_empty());
    }

    // Wrong chain id.
    let mut tx = TxEip1559 {
        chain_id: 1,
        nonce: 0,
        gas_limit: 21_000,
        max_fee_per_gas: 2 * BASE_FEE,
        max_priority_fee_per_gas: BASE_FEE,
        to: TxKind::Call(w[1].address),
        value: U256::from(1u64),
        access_list: Default::default(),
        input: Bytes::new(),
    };
    let err = rpc
        .send_raw(&w[0].sign(tx.clone()))
        .await
        .expect_err("wrong chain id accepted");
    assert_rejected(&err, "invalid chain id");

    // Bad signature.
    tx.chain_id = CHAIN_ID;
    let err = rpc
        .send_raw(&with_bad_signature(tx.clone()))
        .await
        .expect_err("bad signature accepted");
    assert_rejected(&err, "invalid sender");

    // Nonce too low: mine nonce 0, then send another nonce 0.
    rpc.send_and_mine(&w[0].transfer(0, w[1].address, U256::from(1u64)))
        .await;
    let err = rpc
        .send_raw(&w[0].transfer(0, w[1].address, U256::from(2u64)))
        .await
        .expect_err("nonce too low accepted");
    assert_rejected(&err, "nonce too low");

    // Oversize: more than 128 KiB of calldata.
    let big = vec![0x01u8; 130 * 1024];
    let gas = 21_000 + 16 * big.len() as u64;
    let tx = w[0].tx(1, TxKind::Call(w[1].address), U256::ZERO, big.into(), gas);
    let err = rpc.send_raw(&tx).await.expect_err("oversize accepted");
    assert_rejected(&err, "oversized data");

    // Insufficient funds: an account with nothing, and a funded one asking
    // for more than it has.
    let (poor_key, _) = tally_crypto::dev_accounts(20)
        .pop()
        .expect("20th dev account");
    let poor = Wallet {
        address: tally_crypto::address_of(&poor_key),
        key: poor_key,
    };
    let err = rpc
        .send_raw(&poor.transfer(0, w[1].address, U256::from(1u64)))
        .await
        .expect_err("unfunded account accepted");
    assert_rejected(&err, "insufficient funds for gas * price + value");
    let all = rpc.balance(w[2].address, "latest").await;
    let err = rpc
        .send_raw(&w[2].transfer(0, w[1].address, all))
        .await
        .expect_err("overdraft accepted");
    assert_rejected(&err, "insufficient funds for gas * price + value");

    // Nonce gap: queued, not mined, until the gap fills.
    let gapped = w[3].transfer(2, w[1].address, U256::from(3u64));
    let gap_hash = rpc.send_raw(&gapped).await.expect("gapped tx accepted");
    assert_eq!(gap_hash, *gapped.tx_hash());
    // Replacing it at the same price is underpriced.
    let same_price = w[3].transfer(2, w[1].address, U256::from(4u64));
    let err = rpc
        .send_raw(&same_price)
        .await
        .expect_err("same-price replacement accepted");
    assert_rejected(&err, "replacement transaction underpriced");
    // Another sender's tx gets mined; the gapped one must not be.
    rpc.send_and_mine(&w[4].transfer(0, w[1].address, U256::from(1u64)))
        .await;
    let r = rpc.ok("eth_getTransactionReceipt", json!([gap_hash])).await;
    assert!(r.is_null(), "gapped tx was mined: {r}");
    assert_eq!(rpc.nonce(w[3].address, "latest").await, 0);
    rpc.send_raw(&w[3].transfer(0, w[1].address, U256::from(1u64)))
        .await
        .expect("nonce 0");
    rpc.send_raw(&w[3].transfer(1, w[1].address, U256::from(1u64)))
        .await
        .expect("nonce 1");
    let r = rpc.wait_receipt(gap_hash, TIMEOUT).await;
    assert_eq!(r["status"], "0x1", "{r}");
    assert_eq!(rpc.nonce(w[3].address, "latest").await, 3);

    // Still serves and mines a valid transaction.
    let r = rpc
        .send_and_mine(&w[0].transfer(1, w[1].address, U256::from(5u64)))
        .await;
    assert_eq!(r["status"], "0x1");
}

#[tokio::test(flavor = "multi_thread")]
async fn port_in_use_exits_with_an_error_naming_the_address() {
    let first = TestNode::start();
    let port = first.port.to_string();
    let other = tempfile::tempdir().expect("tempdir");
    let dir = other.path().to_str().expect("utf-8 temp path");
    let (status, _, stderr) = run_to_exit(
        &["dev", "--port", &port, "--datadir", dir],
        Duration::from_secs(60),
    );
    assert!(!status.success(), "second node on port {port} started");
    assert!(
        stderr.contains(&format!("127.0.0.1:{port}")),
        "error does not name the address: {stderr}"
    );
    // The flags `tally dev` really has, not another command's.
    assert!(stderr.contains("choose another with --port"), "{stderr}");
    assert!(!stderr.contains("--rpc-port"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The first node is unaffected.
    assert_eq!(first.rpc().block_number().await, 0);
}

#[test]
fn corrupt_datadir_exits_with_an_error_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("chain.redb");
    std::fs::write(
        &db,
        b"this is not a redb database, just garbage".repeat(200),
    )
    .expect("write garbage");
    let d = dir.path().to_str().expect("utf-8 temp path");
    let (status, _, stderr) = run_to_exit(
        &["dev", "--port", "0", "--datadir", d],
        Duration::from_secs(60),
    );
    assert!(!status.success(), "node started on a corrupt chain.redb");
    assert!(
        stderr.contains("chain.redb"),
        "error does not name the file: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("RUST_BACKTRACE"), "{stderr}");
    // The cause is said once, not repeated by the error chain.
    assert_eq!(stderr.matches("Not a redb database").count(), 1, "{stderr}");
    // The garbage is left for the user to inspect, not overwritten.
    let left = std::fs::read(&db).expect("chain.redb still there");
    assert!(left.starts_with(b"this is not a redb database"));
}

/// A datadir that held a chain whose chain.redb was emptied (a full disk,
/// a bad copy) is refused: it once started a new chain at block 0.
#[test]
fn an_emptied_chain_database_is_refused_not_restarted_at_genesis() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut node = TestNode::start_with(NodeOptions {
        datadir: Some(dir.path().to_path_buf()),
        ..NodeOptions::default()
    });
    let status = node.signal_and_wait("TERM", Duration::from_secs(30));
    assert!(status.success(), "{status}");
    let db = dir.path().join("chain.redb");
    std::fs::write(&db, b"").expect("truncate chain.redb");
    let d = dir.path().to_str().expect("utf-8 temp path");
    let (status, _, stderr) = run_to_exit(
        &["dev", "--port", "0", "--no-explorer", "--datadir", d],
        Duration::from_secs(60),
    );
    assert!(
        !status.success(),
        "a node started over an emptied chain.redb"
    );
    assert!(
        stderr.contains("chain.redb is empty (0 bytes), but this data directory held a chain"),
        "{stderr}"
    );
    assert_eq!(std::fs::metadata(&db).expect("still there").len(), 0);
}

/// The signal is sent the moment the banner says the node is ready: the
/// handlers must be installed by then. Several rounds, since a missing
/// handler shows only when the signal wins the race.
#[test]
fn sigterm_stops_the_node_cleanly() {
    for round in 0..4 {
        for signal in ["TERM", "INT"] {
            let mut node = TestNode::start();
            let status = node.signal_and_wait(signal, Duration::from_secs(30));
            assert!(
                status.success(),
                "round {round}: exit after SIG{signal}: {status:?}; stderr:\n{}",
                node.stderr()
            );
        }
    }
}

/// Sends a WebSocket handshake on a fresh connection and returns the
/// answer's status and body (read until the server closes, at most 5 s).
async fn ws_handshake(port: u16) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect to the RPC port");
    let request = format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: Upgrade\r\n\
         Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    socket
        .write_all(request.as_bytes())
        .await
        .expect("send handshake");
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    // An accepted upgrade keeps the connection open, and so may a refusal
    // (keep-alive): stop once the head, and a refusal's body, are in.
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(n) = socket.read(&mut buf).await {
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&answer).to_ascii_lowercase();
            let Some((head, body)) = text.split_once("\r\n\r\n") else {
                continue;
            };
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if head.starts_with("http/1.1 101") || body.len() >= length {
                break;
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
    (status, text)
}

/// The per-address WebSocket cap set by `--ws-max-per-ip` holds: the
/// (N+1)th connection is refused with 429 and a reason, HTTP requests keep
/// being answered, the open WebSockets keep working, and a closed one
/// gives its place back.
#[tokio::test(flavor = "multi_thread")]
async fn websocket_caps_from_the_command_line_spare_http() {
    use jsonrpsee::core::client::ClientT;
    use jsonrpsee::ws_client::WsClientBuilder;
    const PER_IP: usize = 3;
    let node = TestNode::start_with(NodeOptions {
        extra_args: vec![
            "--ws-max-per-ip".into(),
            PER_IP.to_string(),
            "--ws-max-connections".into(),
            "10".into(),
        ],
        ..NodeOptions::default()
    });
    let rpc = node.rpc();
    let mut open = Vec::new();
    for i in 0..PER_IP {
        let ws = WsClientBuilder::default()
            .build(node.ws_url())
            .await
            .unwrap_or_else(|e| panic!("WebSocket {i} of {PER_IP} refused: {e}"));
        open.push(ws);
    }
    let (status, answer) = ws_handshake(node.port).await;
    assert_eq!(status, 429, "{answer}");
    assert!(
        answer.contains(&format!(
            "too many WebSocket connections from 127.0.0.1: {PER_IP} open, the limit per \
             address is {PER_IP}"
        )),
        "{answer}"
    );
    // HTTP goes on, many requests at once.
    let calls = (0..32).map(|_| {
        let rpc = rpc.clone();
        tokio::spawn(async move { rpc.block_number().await })
    });
    for call in calls {
        assert_eq!(call.await.expect("HTTP call"), 0);
    }
    for ws in &open {
        let id: String = ws
            .request("eth_chainId", jsonrpsee::rpc_params![])
            .await
            .expect("an open WebSocket still answers");
        assert_eq!(id, format!("{CHAIN_ID:#x}"));
    }
    // A closed one gives its place back (the server notices the close a
    // moment later).
    drop(open.pop());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, answer) = ws_handshake(node.port).await;
        if status == 101 {
            break;
        }
        assert_eq!(status, 429, "{answer}");
        assert!(
            std::time::Instant::now() < deadline,
            "a closed WebSocket did not give its place back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A cap of 0 would refuse every WebSocket as "too many": refused at the
/// start, naming the flag, from `tally dev` and from node.toml alike.
#[test]
fn a_websocket_cap_of_zero_is_refused() {
    for flag in ["--ws-max-connections", "--ws-max-per-ip"] {
        let (status, _, stderr) = run_to_exit(
            &["dev", "--port", "0", "--no-explorer", flag, "0"],
            Duration::from_secs(30),
        );
        assert!(!status.success(), "tally dev {flag} 0 started");
        assert!(
            stderr.contains(flag) && stderr.contains("must be at least 1"),
            "{stderr}"
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("node.toml");
    std::fs::write(
        &config,
        "datadir = \".\"\nrpc = \"127.0.0.1:0\"\nws_max_per_ip = 0\n",
    )
    .expect("write node.toml");
    let config = config.to_str().expect("utf-8 temp path");
    let (status, _, stderr) = run_to_exit(
        &["node", "--config", config, "--chain", "chain.toml"],
        Duration::from_secs(30),
    );
    assert!(
        !status.success(),
        "tally node started with ws_max_per_ip = 0"
    );
    assert!(
        stderr.contains("node.toml")
            && stderr.contains("`ws_max_per_ip`")
            && stderr.contains("must be at least 1"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
