//! Shared harness of the process-level (e2e) tests: starts the real `tally
//! dev` binary on a free port, waits for its RPC banner, talks JSON-RPC to it
//! over raw HTTP (so tests see the exact error objects), signs transactions
//! with the test-mnemonic keys, and kills the process on drop so no test
//! leaves a node behind, even when it panics.

// Each e2e test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::{
    io::{BufRead, BufReader, Read},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{mpsc, Arc, Mutex},
    time::{Duration, Instant},
};

use alloy_consensus::{TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use serde_json::{json, Value};

/// Chain id of `tally dev`.
pub const CHAIN_ID: u64 = 31337;
/// The dev chain's constant base fee (1 gwei).
pub const BASE_FEE: u128 = 1_000_000_000;
/// How long a node may take to print its RPC address.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// The line of the banner that carries the RPC address.
const BANNER_PREFIX: &str = "JSON-RPC (HTTP and WebSocket): http://";
/// The line of the banner that carries the explorer's address (printed
/// before the RPC line).
const EXPLORER_PREFIX: &str = "Explorer: http://";

/// Path of the `tally` binary Cargo built for these tests.
pub fn tally_bin() -> &'static str {
    env!("CARGO_BIN_EXE_tally")
}

/// Root of the repository (two levels above the cli crate).
pub fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// How to start a node.
#[derive(Default, Clone)]
pub struct NodeOptions {
    /// Keep the chain here; without it a fresh temporary directory is used
    /// (owned by the test, so even a SIGKILLed node leaves nothing behind).
    pub datadir: Option<PathBuf>,
    pub block_time: Option<f64>,
    /// 0 (any free port) unless set.
    pub port: u16,
    /// Serve the block explorer on a free port (see
    /// [`TestNode::explorer_url`]); off by default, since tests run many
    /// nodes at once and the explorer's default port is fixed.
    pub explorer: bool,
    pub extra_args: Vec<String>,
}

/// A running `tally dev` process.
pub struct TestNode {
    child: Option<Child>,
    pub port: u16,
    /// The explorer's port, when started with [`NodeOptions::explorer`].
    pub explorer_port: Option<u16>,
    pub datadir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    stderr: Arc<Mutex<String>>,
}

impl TestNode {
    /// Starts a node with default options on a temporary datadir.
    pub fn start() -> Self {
        Self::start_with(NodeOptions::default())
    }

    pub fn start_with(opts: NodeOptions) -> Self {
        let (datadir, temp) = match opts.datadir {
            Some(d) => (d, None),
            None => {
                let t = tempfile::Builder::new()
                    .prefix("tally-e2e-")
                    .tempdir()
                    .expect("create temp datadir");
                (t.path().to_path_buf(), Some(t))
            }
        };
        let mut cmd = Command::new(tally_bin());
        cmd.arg("dev")
            .arg("--port")
            .arg(opts.port.to_string())
            .arg("--datadir")
            .arg(&datadir);
        if let Some(t) = opts.block_time {
            cmd.arg("--block-time").arg(t.to_string());
        }
        if opts.explorer {
            cmd.args(["--explorer-port", "0"]);
        } else {
            cmd.arg("--no-explorer");
        }
        cmd.args(&opts.extra_args)
            .env_remove("TALLY_DATADIR")
            .env("RUST_LOG", "info,jsonrpsee=warn")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn tally dev");

        let stderr = Arc::new(Mutex::new(String::new()));
        drain_lines(
            child.stderr.take().expect("stderr piped"),
            None,
            stderr.clone(),
        );
        let (tx, rx) = mpsc::channel();
        let stdout_log = Arc::new(Mutex::new(String::new()));
        drain_lines(
            child.stdout.take().expect("stdout piped"),
            Some(tx),
            stdout_log,
        );

        let deadline = Instant::now() + START_TIMEOUT;
        let mut explorer_port = None;
        let port = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.trim().strip_prefix(EXPLORER_PREFIX) {
                        explorer_port = rest.rsplit(':').next().and_then(|p| p.parse().ok());
                    }
                    if let Some(port) = parse_banner_port(&line) {
                        break port;
                    }
                }
                Err(e) => {
                    let _ = child.kill();
                    let status = child.wait().ok();
                    // Give the stderr thread a moment to collect the tail.
                    std::thread::sleep(Duration::from_millis(100));
                    panic!(
                        "tally dev did not print its RPC address ({e:?}); exit status {status:?}; \
                         stderr:\n{}",
                        stderr.lock().map(|s| s.clone()).unwrap_or_default()
                    );
                }
            }
        };
        TestNode {
            child: Some(child),
            port,
            explorer_port,
            datadir,
            _temp: temp,
            stderr,
        }
    }

    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:<port>` of the explorer; panics unless the node
    /// was started with [`NodeOptions::explorer`].
    pub fn explorer_url(&self) -> String {
        let port = self
            .explorer_port
            .expect("the node was started without the explorer (NodeOptions::explorer)");
        format!("http://127.0.0.1:{port}")
    }

    pub fn rpc(&self) -> Rpc {
        Rpc::new(&self.http_url())
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// What the node wrote to stderr so far (its logs).
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Kills the node with SIGKILL (no chance to flush or clean up) and
    /// reaps it.
    pub fn sigkill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // std's Child::kill sends SIGKILL on unix.
            child.kill().expect("SIGKILL tally");
            let _ = child.wait();
        }
    }

    /// Waits for the node to exit by itself; `None` if it still runs
    /// after `timeout` (it is left running).
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let child = self.child.as_mut().expect("node already stopped");
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait().expect("wait tally") {
                self.child = None;
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Sends `signal` (e.g. "TERM", "INT") and waits for the exit status.
    pub fn signal_and_wait(&mut self, signal: &str, timeout: Duration) -> ExitStatus {
        let mut child = self.child.take().expect("node already stopped");
        let ok = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .expect("run kill");
        assert!(ok.success(), "kill -{signal} failed");
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait().expect("wait tally") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("tally did not exit within {timeout:?} after SIG{signal}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Reads `reader` line by line on a thread until EOF, appending to `log`
/// and forwarding each line to `tx` while someone listens. Draining keeps
/// the node from blocking on a full pipe.
fn drain_lines(
    reader: impl Read + Send + 'static,
    tx: Option<mpsc::Sender<String>>,
    log: Arc<Mutex<String>>,
) {
    std::thread::spawn(move || {
        let mut tx = tx;
        for line in BufReader::new(reader).lines() {
            let Ok(line) = line else { break };
            if let Ok(mut l) = log.lock() {
                l.push_str(&line);
                l.push('\n');
            }
            if let Some(t) = &tx {
                if t.send(line).is_err() {
                    tx = None;
                }
            }
        }
    });
}

/// The port in the banner line `JSON-RPC (HTTP and WebSocket): http://H:P  ws://H:P`.
pub fn parse_banner_port(line: &str) -> Option<u16> {
    let rest = line.trim().strip_prefix(BANNER_PREFIX)?;
    let hostport = rest.split_whitespace().next()?;
    hostport.rsplit(':').next()?.parse().ok()
}

/// Runs `tally` with `args` to completion (at most `timeout`), returning
/// (status, stdout, stderr). Panics if it does not exit in time.
pub fn run_to_exit(args: &[&str], timeout: Duration) -> (ExitStatus, String, String) {
    let mut cmd = Command::new(tally_bin());
    cmd.args(args).env_remove("TALLY_DATADIR");
    run_command(cmd, timeout)
}

/// Runs `cmd` to completion (at most `timeout`, then it is killed and the
/// test fails), returning (status, stdout, stderr).
pub fn run_command(mut cmd: Command, timeout: Duration) -> (ExitStatus, String, String) {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let out = Arc::new(Mutex::new(String::new()));
    let err = Arc::new(Mutex::new(String::new()));
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let t1 = drain_to(
        child.stdout.take().expect("stdout"),
        out.clone(),
        done_tx.clone(),
    );
    let t2 = drain_to(child.stderr.take().expect("stderr"), err.clone(), done_tx);
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait child") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{what} still running after {timeout:?}; stdout:\n{}\nstderr:\n{}",
                out.lock().map(|s| s.clone()).unwrap_or_default(),
                err.lock().map(|s| s.clone()).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // Both pipes reach EOF once the child and anything it spawned that
    // inherited them are gone; wait briefly, not forever.
    let _ = done_rx.recv_timeout(Duration::from_secs(5));
    let _ = done_rx.recv_timeout(Duration::from_secs(5));
    drop((t1, t2));
    let o = out.lock().map(|s| s.clone()).unwrap_or_default();
    let e = err.lock().map(|s| s.clone()).unwrap_or_default();
    (status, o, e)
}

/// Like [`drain_lines`] but signals `done` at EOF.
fn drain_to(
    reader: impl Read + Send + 'static,
    log: Arc<Mutex<String>>,
    done: mpsc::Sender<()>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(reader).lines() {
            let Ok(line) = line else { break };
            if let Ok(mut l) = log.lock() {
                l.push_str(&line);
                l.push('\n');
            }
        }
        let _ = done.send(());
    })
}

/// A JSON-RPC error object as the node sent it.
#[derive(Debug, Clone)]
pub struct RpcErr {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

/// A minimal JSON-RPC client over HTTP that keeps error objects intact.
#[derive(Clone)]
pub struct Rpc {
    url: String,
    http: reqwest::Client,
}

impl Rpc {
    pub fn new(url: &str) -> Self {
        Rpc {
            url: url.to_string(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("http client"),
        }
    }

    /// POSTs `body` verbatim and returns the HTTP status and the parsed
    /// response body (Null if it is not JSON).
    pub async fn post_raw(&self, body: impl Into<String>) -> (u16, Value) {
        let resp = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body.into())
            .send()
            .await
            .expect("POST to node");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("read response");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Calls `method`, returning the result or the error object.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, RpcErr> {
        match self.try_call(method, params).await {
            Ok(r) => r,
            Err(e) => panic!("{method}: cannot reach the node: {e}"),
        }
    }

    /// Like [`Rpc::call`], but a transport failure (node gone) is an `Err`
    /// instead of a panic, for tests that kill the node under load.
    pub async fn try_call(
        &self,
        method: &str,
        params: Value,
    ) -> Result<Result<Value, RpcErr>, String> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let resp = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let v: Value = resp.json().await.map_err(|e| e.to_string())?;
        Ok(Self::result_of(method, v))
    }

    fn result_of(method: &str, v: Value) -> Result<Value, RpcErr> {
        if let Some(err) = v.get("error") {
            return Err(RpcErr {
                code: err.get("code").and_then(Value::as_i64).unwrap_or(0),
                message: err
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                data: err.get("data").cloned(),
            });
        }
        match v.get("result") {
            Some(r) => Ok(r.clone()),
            None => panic!("{method}: response has neither result nor error: {v}"),
        }
    }

    /// Calls `method` and panics with the error object if it fails.
    pub async fn ok(&self, method: &str, params: Value) -> Value {
        match self.call(method, params.clone()).await {
            Ok(v) => v,
            Err(e) => panic!("{method}({params}) failed: {e:?}"),
        }
    }

    /// Calls `method` and panics if it succeeds.
    pub async fn err(&self, method: &str, params: Value) -> RpcErr {
        match self.call(method, params.clone()).await {
            Ok(v) => panic!("{method}({params}) succeeded with {v}, expected an error"),
            Err(e) => e,
        }
    }

    pub async fn block_number(&self) -> u64 {
        quantity(&self.ok("eth_blockNumber", json!([])).await)
    }

    pub async fn balance(&self, addr: Address, block: &str) -> U256 {
        u256(&self.ok("eth_getBalance", json!([addr, block])).await)
    }

    pub async fn nonce(&self, addr: Address, block: &str) -> u64 {
        quantity(
            &self
                .ok("eth_getTransactionCount", json!([addr, block]))
                .await,
        )
    }

    pub async fn send_raw(&self, tx: &TxEnvelope) -> Result<B256, RpcErr> {
        self.send_raw_bytes(&raw(tx)).await
    }

    pub async fn send_raw_bytes(&self, raw: &[u8]) -> Result<B256, RpcErr> {
        let v = self
            .call(
                "eth_sendRawTransaction",
                json!([Bytes::copy_from_slice(raw)]),
            )
            .await?;
        Ok(serde_json::from_value(v).expect("tx hash"))
    }

    /// Polls for the receipt of `hash` until `timeout`.
    pub async fn wait_receipt(&self, hash: B256, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let r = self.ok("eth_getTransactionReceipt", json!([hash])).await;
            if !r.is_null() {
                return r;
            }
            assert!(
                Instant::now() < deadline,
                "no receipt for {hash} after {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends `tx`, waits for its receipt and asserts it succeeded.
    pub async fn send_and_mine(&self, tx: &TxEnvelope) -> Value {
        let hash = match self.send_raw(tx).await {
            Ok(h) => h,
            Err(e) => panic!("eth_sendRawTransaction rejected {}: {e:?}", tx.tx_hash()),
        };
        assert_eq!(hash, *tx.tx_hash(), "node returned another tx hash");
        let r = self.wait_receipt(hash, Duration::from_secs(20)).await;
        assert_eq!(r["status"], "0x1", "tx {hash} failed: {r}");
        r
    }
}

/// Parses a hex quantity ("0x1a") into u64.
pub fn quantity(v: &Value) -> u64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a quantity: {v}"));
    u64::from_str_radix(s.trim_start_matches("0x"), 16)
        .unwrap_or_else(|e| panic!("bad quantity {s}: {e}"))
}

pub fn u256(v: &Value) -> U256 {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("not a U256 {v}: {e}"))
}

pub fn b256(v: &Value) -> B256 {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("not a B256 {v}: {e}"))
}

pub fn address(v: &Value) -> Address {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("not an address {v}: {e}"))
}

pub fn bytes(v: &Value) -> Bytes {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("not bytes {v}: {e}"))
}

/// EIP-2718 bytes of a signed transaction, as eth_sendRawTransaction takes.
pub fn raw(tx: &TxEnvelope) -> Vec<u8> {
    tx.encoded_2718()
}

/// A funded test-mnemonic account that signs EIP-1559 transactions.
#[derive(Clone)]
pub struct Wallet {
    pub key: tally_crypto::SecretKey,
    pub address: Address,
}

/// The first `n` funded dev accounts.
pub fn wallets(n: u32) -> Vec<Wallet> {
    tally_crypto::dev_accounts(n)
        .into_iter()
        .map(|(key, address)| Wallet { key, address })
        .collect()
}

impl Wallet {
    /// An EIP-1559 tx paying 2 gwei max fee, 1 gwei tip.
    pub fn tx(&self, nonce: u64, to: TxKind, value: U256, input: Bytes, gas: u64) -> TxEnvelope {
        self.sign(TxEip1559 {
            chain_id: CHAIN_ID,
            nonce,
            gas_limit: gas,
            max_fee_per_gas: 2 * BASE_FEE,
            max_priority_fee_per_gas: BASE_FEE,
            to,
            value,
            access_list: Default::default(),
            input,
        })
    }

    pub fn sign(&self, tx: TxEip1559) -> TxEnvelope {
        tally_crypto::sign_transaction(&self.key, tx)
    }

    /// A plain value transfer.
    pub fn transfer(&self, nonce: u64, to: Address, value: U256) -> TxEnvelope {
        self.tx(nonce, TxKind::Call(to), value, Bytes::new(), 21_000)
    }
}

/// A compiled contract from contracts/build.
pub struct Artifact {
    pub abi: alloy_json_abi::JsonAbi,
    pub bytecode: Bytes,
}

pub fn artifact(name: &str) -> Artifact {
    let path = repo_root()
        .join("contracts/build")
        .join(format!("{name}.json"));
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let v: Value = serde_json::from_str(&text).expect("artifact JSON");
    Artifact {
        abi: serde_json::from_value(v["abi"].clone()).expect("artifact abi"),
        bytecode: bytes(&v["bytecode"]),
    }
}

/// Polls `eth_blockNumber` until it reaches `n`.
pub async fn wait_block(rpc: &Rpc, n: u64, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while rpc.block_number().await < n {
        assert!(
            Instant::now() < deadline,
            "block {n} not reached in {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs `tally` subcommands against one node's RPC.
pub struct Cli {
    pub url: String,
}

impl Cli {
    /// Runs `tally args... --rpc URL` (without `--rpc` for commands that
    /// work offline, such as `settle new` and `verify`).
    pub fn run(&self, args: &[&str]) -> (bool, String, String) {
        let mut all: Vec<&str> = args.to_vec();
        let offline =
            args.get(..2) == Some(&["settle", "new"][..]) || args.first() == Some(&"verify");
        if !offline {
            all.extend(["--rpc", &self.url]);
        }
        let (status, stdout, stderr) = run_to_exit(&all, Duration::from_secs(60));
        (status.success(), stdout, stderr)
    }

    /// Runs a command that must succeed; panics with both streams if not.
    pub fn ok(&self, args: &[&str]) -> String {
        let (ok, stdout, stderr) = self.run(args);
        assert!(
            ok,
            "tally {args:?} failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        stdout
    }

    /// Runs a command that must fail; returns its stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let (ok, stdout, stderr) = self.run(args);
        assert!(
            !ok,
            "tally {args:?} succeeded, expected a refusal\nstdout:\n{stdout}"
        );
        stderr
    }
}
