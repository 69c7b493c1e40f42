//! The block explorer over real HTTP, served by a real `tally dev`: every
//! page renders what the chain holds (a decoded ERC-20 transfer, a revert
//! reason, token balances, a notarized document), search redirects to the
//! right page, the SQL console refuses writes plainly, and every bad input
//! gets an error page with the right status instead of a panic.

mod common;
#[path = "common/explorer.rs"]
mod explorer;

use std::{net::TcpListener, time::Duration};

use common::*;
use explorer::{scene, AMOUNT};
use serde_json::Value;

/// An HTTP client that does not follow redirects, so tests see them.
struct Web {
    base: String,
    http: reqwest::Client,
}

impl Web {
    fn new(base: String) -> Self {
        Web {
            base,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .expect("http client"),
        }
    }

    /// GETs `path`: status, `Location` header, body.
    async fn get(&self, path: &str) -> (u16, String, String) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        (status, location, resp.text().await.expect("body"))
    }

    /// GETs a page that must answer `status`, returning its body.
    async fn page(&self, path: &str, status: u16) -> String {
        let (got, _, body) = self.get(path).await;
        assert_eq!(got, status, "GET {path} answered {got}:\n{body}");
        if path.starts_with("/api/") {
            return body;
        }
        assert!(
            body.starts_with("<!doctype html>"),
            "GET {path} is not a page:\n{body}"
        );
        assert!(body.contains("</html>"), "GET {path} is cut short");
        body
    }

    /// GETs `/search?q=…`, which must redirect to `to`.
    async fn redirects(&self, q: &str, to: &str) {
        let (status, location, body) = self.get(&format!("/search?q={q}")).await;
        assert_eq!(
            (status, location.as_str()),
            (303, to),
            "search {q:?}:\n{body}"
        );
    }
}

fn has(body: &str, needles: &[&str]) {
    for n in needles {
        assert!(body.contains(n), "page lacks {n:?}:\n{body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_show_blocks_transactions_addresses_tokens_and_records() {
    let s = scene(&[]).await;
    let web = Web::new(s.node.explorer_url());
    let tx = s.transfer_tx.to_string();
    let token = s.token.to_string();
    let bob = s.bob.address.to_string();

    // Home: stats, chart, latest blocks and transactions; its live feed.
    let home = web.page("/", 200).await;
    has(
        &home,
        &[
            "Latest blocks",
            "Latest transactions",
            "<svg class=\"chart\"",
            "/static/home.js",
        ],
    );
    has(
        &home,
        &[
            &format!("/tx/{}", s.failed_tx),
            &format!("/block/{}", s.transfer_block),
        ],
    );
    let latest: Value = serde_json::from_str(&web.page("/api/latest", 200).await).expect("JSON");
    assert!(
        latest["head"].as_u64().unwrap() > s.transfer_block,
        "{latest}"
    );
    assert!(
        latest["blocks"].as_str().unwrap().contains("<table>"),
        "{latest}"
    );

    // Block by number and by hash.
    let block = web.page(&format!("/block/{}", s.transfer_block), 200).await;
    has(
        &block,
        &[
            &s.transfer_block_hash.to_string(),
            &format!("/tx/{tx}"),
            "Success",
        ],
    );
    let by_hash = web
        .page(&format!("/block/{}", s.transfer_block_hash), 200)
        .await;
    has(&by_hash, &[&format!("Block {}", s.transfer_block)]);

    // The ERC-20 transfer, decoded: call, Transfer log, token movement.
    let page = web.page(&format!("/tx/{tx}"), 200).await;
    has(
        &page,
        &[
            "transfer(address to, uint256 value)",
            "Transfer(address from, address to, uint256 value)",
            &AMOUNT.to_string(),
            "1,234.5 TST",
            &bob,
            "Success",
        ],
    );
    // The reverted one, with its reason.
    let failed = web.page(&format!("/tx/{}", s.failed_tx), 200).await;
    has(
        &failed,
        &["Failed", "ERC20: transfer amount exceeds balance"],
    );

    // Bob: his ether (less the fee of his failed transfer), his token
    // balance, the transfer he received.
    let address = web.page(&format!("/address/{bob}"), 200).await;
    has(
        &address,
        &[
            "9,999.99",
            "1,234.5 TST",
            &format!("/tx/{tx}"),
            "Test Token",
        ],
    );
    let contract = web.page(&format!("/address/{token}"), 200).await;
    has(
        &contract,
        &[
            "Contract",
            &format!("/token/{token}"),
            &s.alice.address.to_string(),
        ],
    );

    // The token: metadata by calls, holders and transfers from the index.
    let tok = web.page(&format!("/token/{token}"), 200).await;
    has(
        &tok,
        &[
            "Test Token",
            "TST",
            "1,000,000 TST",
            "998,765.5 TST",
            "1,234.5 TST",
            &format!("/tx/{tx}"),
        ],
    );
    // Alice and Bob hold it; the index counts them.
    assert!(
        tok.contains("<dt>Holders</dt><dd>2</dd>"),
        "the token page counts 2 holders"
    );

    // Consensus: the dev engine and its authority.
    has(
        &web.page("/consensus", 200).await,
        &["Dev authority", "Finalized", "Producers of the last"],
    );

    // The notary: stamped by Alice, as JSON and as a page.
    let doc = s.document.to_string();
    let answer: Value =
        serde_json::from_str(&web.page(&format!("/api/notary/{doc}"), 200).await).unwrap();
    assert_eq!(answer["stamped"], true, "{answer}");
    assert_eq!(answer["stamps"][0]["label"], "invoices", "{answer}");
    assert_eq!(
        answer["stamps"][0]["submitter"]
            .as_str()
            .map(str::to_lowercase),
        Some(s.alice.address.to_string().to_lowercase())
    );
    has(
        &web.page(&format!("/notary?document={doc}"), 200).await,
        &["Stamped", "invoices", "notary.js"],
    );
    let unknown = format!("0x{}", "ab".repeat(32));
    let answer: Value =
        serde_json::from_str(&web.page(&format!("/api/notary/{unknown}"), 200).await).unwrap();
    assert_eq!(answer["stamped"], false, "{answer}");

    // Search.
    web.redirects(
        &s.transfer_block.to_string(),
        &format!("/block/{}", s.transfer_block),
    )
    .await;
    web.redirects(&tx, &format!("/tx/{tx}")).await;
    web.redirects(&tx.to_uppercase().replace("0X", "0x"), &format!("/tx/{tx}"))
        .await;
    web.redirects(
        &s.transfer_block_hash.to_string(),
        &format!("/block/{}", s.transfer_block_hash),
    )
    .await;
    web.redirects(&bob.to_lowercase(), &format!("/address/{bob}"))
        .await;
    web.redirects(&doc, &format!("/notary?document={doc}"))
        .await;
    has(
        &web.page("/search?q=no+such+thing", 404).await,
        &["Nothing found", "no such thing"],
    );
    has(
        &web.page("/search?q=999999", 404).await,
        &["no block 999999"],
    );
    has(
        &web.page(&format!("/search?q={unknown}"), 404).await,
        &["Nothing found"],
    );
    has(&web.page("/search", 200).await, &["Search by block number"]);

    // The SQL console: a query, a refused write, a syntax error.
    let sql = web
        .page("/sql?q=SELECT+count(*)+AS+blocks_seen+FROM+blocks", 200)
        .await;
    has(&sql, &["<th>blocks_seen</th>", "1 row"]);
    let write = web.page("/sql?q=DELETE+FROM+blocks", 400).await;
    has(
        &write,
        &[
            "The query was not run",
            "read-only",
            "DELETE FROM blocks</textarea>",
        ],
    );
    has(
        &web.page("/sql?q=SELEC+1", 400).await,
        &["The query was not run", "syntax error"],
    );
    has(&web.page("/sql", 200).await, &["Examples", "Run query"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_an_error_page_with_the_right_status() {
    let s = scene(&[]).await;
    let web = Web::new(s.node.explorer_url());
    let zero = format!("0x{}", "00".repeat(32));
    for (path, status, says) in [
        ("/block/999999", 404, "no block 999999 yet"),
        ("/block/0x1234", 400, "64 hex digits"),
        (&format!("/block/{zero}") as &str, 404, "no block with hash"),
        ("/tx/0x1234", 400, "64 hex digits"),
        (&format!("/tx/{zero}"), 404, "no transaction"),
        ("/address/nope", 400, "40 hex digits"),
        (&format!("/token/{}", s.bob.address), 404, "Not a token"),
        ("/notary?document=0x12", 400, "64 hex digits"),
        ("/trace/NO-SUCH-PRODUCT", 404, "is registered on this chain"),
        ("/no/such/page", 404, "Page not found"),
        ("/sql?q=%zz", 400, "percent-encoding"),
    ] {
        let body = web.page(path, status).await;
        has(&body, &[says, "Back to the latest blocks"]);
        assert!(!body.contains("panicked"), "{path}: {body}");
    }
    let (status, _, body) = web.get("/api/notary/0x12").await;
    assert_eq!(status, 400);
    let e: Value = serde_json::from_str(&body).expect("JSON error");
    assert!(
        e["error"].as_str().unwrap().contains("64 hex digits"),
        "{e}"
    );

    let resp = reqwest::Client::new()
        .post(format!("{}/", s.node.explorer_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    // The assets are embedded and served with their types.
    for (path, kind) in [
        ("/static/style.css", "text/css"),
        ("/static/home.js", "text/javascript"),
        ("/favicon.ico", "image/svg+xml"),
    ] {
        let resp = reqwest::get(format!("{}{path}", s.node.explorer_url()))
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with(kind), "{path}: {ct}");
    }
    // The node still serves after all that.
    web.page("/", 200).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_index_pages_say_what_is_missing() {
    let node = TestNode::start_with(NodeOptions {
        explorer: true,
        extra_args: vec!["--no-index".into()],
        ..NodeOptions::default()
    });
    let rpc = node.rpc();
    let w = wallets(2);
    rpc.send_and_mine(&w[0].transfer(0, w[1].address, alloy_primitives::U256::from(5u64)))
        .await;
    let web = Web::new(node.explorer_url());
    has(&web.page("/sql?q=SELECT+1", 503).await, &["--no-index"]);
    let address = web.page(&format!("/address/{}", w[1].address), 200).await;
    has(&address, &["10,000.000000000000000005 ETH", "--no-index"]);
    // Home and blocks do not need the index.
    has(
        &web.page("/", 200).await,
        &["Latest transactions", "/block/1"],
    );
    web.page("/block/1", 200).await;
}

#[test]
fn a_taken_explorer_port_is_a_clear_error() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().unwrap().port().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let (status, _, stderr) = run_to_exit(
        &[
            "dev",
            "--port",
            "0",
            "--explorer-port",
            &port,
            "--datadir",
            dir.path().to_str().unwrap(),
        ],
        Duration::from_secs(60),
    );
    assert!(
        !status.success(),
        "tally dev started with its explorer port taken"
    );
    assert!(
        stderr.contains(&format!("127.0.0.1:{port}"))
            && stderr.contains("--explorer-port")
            && stderr.contains("--no-explorer"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
