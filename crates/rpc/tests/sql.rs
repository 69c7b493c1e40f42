//! `tally_sql` and `GET /sql` over the real server: the query and its
//! parameters reach the backend as given (URL-decoded, JSON or text), the
//! answer comes back as the backend made it, refusals are -32602 / 400 with
//! the backend's message, and a backend without an index says it is off
//! (-32000 / 503). The index itself is tested in `tally-sql`, and through
//! a real node in `crates/cli/tests/sql_cli.rs`.

#[macro_use]
mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::bare::Bare;
use common::client::{call, rpc_error, serve_backend};
use common::TestBackend;
use serde_json::{json, Value};
use tally_rpc::{Backend, BackendError};

type Res<T = ()> = anyhow::Result<T>;

/// The fixture chain plus an SQL "index" that records what it was asked.
struct WithSql {
    bare: Arc<TestBackend>,
    asked: Mutex<Vec<(String, Vec<Value>)>>,
}

impl Backend for WithSql {
    delegate_required_backend!(bare);

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
        bare: TestBackend::fixture(),
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
