//! `tally_sql` and `GET /sql` over the real server: the query and its
//! parameters reach the backend as given (URL-decoded, JSON or text), the
//! answer comes back as the backend made it, refusals are -32602 / 400 with
//! the backend's message, and a backend without an index says it is off
//! (-32000 / 503). The index itself is tested in `tally-sql`, and through
//! a real node in `crates/cli/tests/sql_cli.rs`.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::bare::Bare;
use common::client::{call, rpc_error, serve_backend};
use common::TestBackend;
use serde_json::{json, Value};
use tally_primitives::{
    Account, Address, Bytes, Receipt, SealedBlock, SealedHeader, TxLocation, B256,
};
use tally_rpc::{
    Backend, BackendError, CallOutcome, CallRequest, NewBlock, PendingTransaction, SyncProgress,
};
use tokio::sync::broadcast;

type Res<T = ()> = anyhow::Result<T>;

/// The fixture chain plus an SQL "index" that records what it was asked.
struct WithSql {
    bare: Bare,
    asked: Mutex<Vec<(String, Vec<Value>)>>,
}

macro_rules! delegate {
    ($(fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)*) => {
        $(fn $name(&self $(, $arg: $ty)*) -> $ret {
            Backend::$name(&self.bare $(, $arg)*)
        })*
    };
}

impl Backend for WithSql {
    delegate! {
        fn chain_id(&self) -> u64;
        fn client_version(&self) -> String;
        fn engine_name(&self) -> String;
        fn head(&self) -> SealedHeader;
        fn safe_number(&self) -> u64;
        fn finalized_number(&self) -> u64;
        fn header_by_number(&self, number: u64) -> Result<Option<SealedHeader>, BackendError>;
        fn header_by_hash(&self, hash: B256) -> Result<Option<SealedHeader>, BackendError>;
        fn block_by_number(&self, number: u64) -> Result<Option<SealedBlock>, BackendError>;
        fn block_by_hash(&self, hash: B256) -> Result<Option<SealedBlock>, BackendError>;
        fn receipts(&self, block_hash: B256) -> Result<Option<Vec<Receipt>>, BackendError>;
        fn tx_location(&self, tx_hash: B256) -> Result<Option<TxLocation>, BackendError>;
        fn pending_transaction(&self, tx_hash: B256) -> Result<Option<PendingTransaction>, BackendError>;
        fn pending_transaction_hashes(&self) -> Vec<B256>;
        fn account(&self, address: Address, number: u64) -> Result<Option<Account>, BackendError>;
        fn storage(&self, address: Address, slot: B256, number: u64) -> Result<B256, BackendError>;
        fn code(&self, address: Address, number: u64) -> Result<Bytes, BackendError>;
        fn proof(&self, address: Address, slots: Vec<B256>, number: u64) -> Result<serde_json::Value, BackendError>;
        fn call(&self, request: &CallRequest, number: u64) -> Result<CallOutcome, BackendError>;
        fn send_raw_transaction(&self, raw: Bytes) -> Result<B256, BackendError>;
        fn pending_nonce(&self, address: Address) -> Result<u64, BackendError>;
        fn peer_count(&self) -> usize;
        fn syncing(&self) -> Option<SyncProgress>;
        fn next_base_fee(&self) -> u64;
        fn suggested_priority_fee(&self) -> u128;
        fn subscribe_new_blocks(&self) -> broadcast::Receiver<Arc<NewBlock>>;
        fn subscribe_pending_txs(&self) -> broadcast::Receiver<B256>;
    }

    fn sql(&self, query: &str, params: Vec<Value>) -> Result<Value, BackendError> {
        self.asked
            .lock()
            .unwrap()
            .push((query.to_string(), params.clone()));
        match query {
            "SELEC" => Err(BackendError::InvalidParams(
                "near \"SELEC\": syntax error".into(),
            )),
            "SLOW" => Err(BackendError::Execution {
                message: "the query ran past its time limit of 5000 ms".into(),
                data: None,
            }),
            _ => Ok(json!({
                "columns": ["n"],
                "rows": [[params.len()]],
                "truncated": false,
                "elapsedMs": 1,
            })),
        }
    }
}

/// `GET path` over raw HTTP: the status and the JSON body.
fn get(addr: SocketAddr, path: &str) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {out}"));
    let (head, body) = out.split_once("\r\n\r\n").expect("headers end");
    assert!(
        head.to_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

async fn get_async(addr: SocketAddr, path: &str) -> (u16, Value) {
    let path = path.to_string();
    tokio::task::spawn_blocking(move || get(addr, &path))
        .await
        .unwrap()
}

#[tokio::test]
async fn queries_reach_the_backend_and_answers_come_back() -> Res {
    let backend = Arc::new(WithSql {
        bare: Bare(TestBackend::fixture()),
        asked: Mutex::default(),
    });
    let (server, client) = serve_backend(backend.clone()).await?;
    let addr = server.local_addr();

    let answer = call(&client, "tally_sql", json!(["SELECT ?, ?", [1, "0xab"]])).await?;
    assert_eq!(
        answer,
        json!({"columns": ["n"], "rows": [[2]], "truncated": false, "elapsedMs": 1})
    );
    // Parameters are optional.
    call(&client, "tally_sql", json!(["SELECT 1"])).await?;

    let (code, message, _) = rpc_error(call(&client, "tally_sql", json!(["SELEC"])).await);
    assert_eq!(
        (code, message.as_str()),
        (-32602, "near \"SELEC\": syntax error")
    );
    let (code, message, _) = rpc_error(call(&client, "tally_sql", json!(["SLOW"])).await);
    assert_eq!(code, -32000);
    assert!(message.contains("time limit"), "{message}");
    let (code, _, _) = rpc_error(call(&client, "tally_sql", json!([])).await);
    assert_eq!(code, -32602, "the query is required");

    // Over plain HTTP: URL-decoded, parameters as JSON or else text.
    let (status, body) = get_async(
        addr,
        "/sql?q=SELECT+count(*)%20FROM+t+WHERE+a%3D%3F+AND+b%3D%3F+AND+c%3D%3F&p=7&p=0xAB&p=%22x%22",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["rows"], json!([[3]]));
    let (status, body) = get_async(addr, "/sql?q=SELEC").await;
    assert_eq!(
        (status, body),
        (400, json!({"error": "near \"SELEC\": syntax error"}))
    );
    let (status, body) = get_async(addr, "/sql?q=SLOW").await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = get_async(addr, "/sql?p=1").await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap_or("").contains("q="),
        "{body}"
    );
    assert_eq!(get_async(addr, "/sql?q=%zz").await.0, 400);

    let asked = backend.asked.lock().unwrap().clone();
    assert_eq!(
        asked,
        vec![
            ("SELECT ?, ?".to_string(), vec![json!(1), json!("0xab")]),
            ("SELECT 1".to_string(), vec![]),
            ("SELEC".to_string(), vec![]),
            ("SLOW".to_string(), vec![]),
            (
                "SELECT count(*) FROM t WHERE a=? AND b=? AND c=?".to_string(),
                vec![json!(7), json!("0xAB"), json!("x")]
            ),
            ("SELEC".to_string(), vec![]),
            ("SLOW".to_string(), vec![]),
        ]
    );
    server.stop();
    Ok(())
}

#[tokio::test]
async fn a_backend_without_an_index_says_it_is_off() -> Res {
    let (server, client) = serve_backend(Arc::new(Bare(TestBackend::fixture()))).await?;
    let (code, message, _) = rpc_error(call(&client, "tally_sql", json!(["SELECT 1"])).await);
    assert_eq!(code, -32000);
    assert_eq!(
        message,
        "the SQL index is off on this node (started with --no-index)"
    );
    let (status, body) = get_async(server.local_addr(), "/sql?q=SELECT+1").await;
    assert_eq!(status, 503);
    assert_eq!(body["error"], json!(message));
    server.stop();
    Ok(())
}
