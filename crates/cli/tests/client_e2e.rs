//! The client commands end to end against a real `tally dev` node.

use std::{
    io::Write,
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

const DEV0: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const DEV1_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const DEV1: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

/// A `tally dev` process, killed when dropped.
struct Node {
    child: Child,
    rpc: String,
    _dir: tempfile::TempDir,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_node() -> Node {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_tally"))
        .args([
            "dev",
            "--no-explorer",
            "--port",
            &port.to_string(),
            "--datadir",
        ])
        .arg(dir.path().join("chain"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn tally dev");
    let node = Node {
        child,
        rpc: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    };
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if tally(&node, &["status"], &[], "").status.success() {
            return node;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("tally dev did not answer on {} within 60s", node.rpc);
}

fn tally(node: &Node, args: &[&str], envs: &[(&str, &str)], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tally"))
        .args(args)
        .env("TALLY_RPC", &node.rpc)
        .env_remove("TALLY_KEYSTORE")
        .env_remove("TALLY_PASSWORD")
        .envs(envs.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tally");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Runs a command that must succeed and returns its stdout.
fn ok(node: &Node, args: &[&str]) -> String {
    let out = tally(node, args, &[], "");
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs a command that must fail and returns its stderr.
fn fails(node: &Node, args: &[&str]) -> String {
    let out = tally(node, args, &[], "");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn field<'a>(text: &'a str, name: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .unwrap_or_else(|| panic!("no {name:?} in {text}"))
        .trim()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn artifact(name: &str) -> String {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "../../contracts/build",
        &format!("{name}.json"),
    ]
    .iter()
    .collect();
    path.display().to_string()
}

#[test]
fn client_commands_against_a_dev_node() {
    let node = start_node();

    let status = ok(&node, &["status"]);
    assert_eq!(field(&status, "chain id:"), "31337", "{status}");
    assert!(status.contains("engine: dev"), "{status}");

    // A transfer from a dev account to a fresh address.
    let to = "0x000000000000000000000000000000000000bEEF";
    let sent = ok(
        &node,
        &[
            "tx",
            "send",
            "--to",
            to,
            "--value",
            "1.5eth",
            "--dev-account",
            "0",
        ],
    );
    assert_eq!(field(&sent, "status:"), "success", "{sent}");
    assert_eq!(field(&sent, "gas used:"), "21000", "{sent}");
    let block = field(&sent, "block:").to_string();
    assert_eq!(
        ok(&node, &["account", "balance", to, "--wei"]).trim(),
        "1500000000000000000"
    );
    assert_eq!(ok(&node, &["account", "nonce", DEV0]).trim(), "1");
    let shown = ok(&node, &["block", &block]);
    assert!(shown.contains(field(&sent, "hash:")), "{shown}");

    // A keystore account signs too.
    let keys = tempfile::tempdir().unwrap();
    let keys_arg = keys.path().display().to_string();
    let pw = [("TALLY_PASSWORD", "pw")];
    let out = tally(
        &node,
        &["key", "import", "--keystore", &keys_arg],
        &pw,
        DEV1_KEY,
    );
    assert!(out.status.success());
    let out = tally(
        &node,
        &[
            "tx",
            "send",
            "--from",
            DEV1,
            "--keystore",
            &keys_arg,
            "--to",
            to,
            "--value",
            "1wei",
        ],
        &pw,
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(ok(&node, &["account", "nonce", DEV1]).trim(), "1");

    // Deploy a token, read it, transfer, and see a revert reason.
    let token = artifact("TestToken");
    let deployed = ok(
        &node,
        &[
            "contract",
            "deploy",
            "--artifact",
            &token,
            "--args",
            r#"["Tally", "TLY", "1000"]"#,
            "--dev-account",
            "0",
        ],
    );
    let address = field(&deployed, "contract:").to_string();
    let call = |method: &str, args: &str| -> Vec<String> {
        vec![
            "contract".into(),
            "call".into(),
            "--artifact".into(),
            token.clone(),
            "--address".into(),
            address.clone(),
            method.into(),
            "--args".into(),
            args.into(),
        ]
    };
    assert_eq!(ok(&node, &strs(&call("symbol", "[]"))).trim(), "TLY");
    let mut transfer = call("transfer", &format!(r#"["{DEV1}", 250]"#));
    transfer.extend(["--dev-account".into(), "0".into()]);
    let sent = ok(&node, &strs(&transfer));
    assert_eq!(field(&sent, "status:"), "success", "{sent}");
    let balance = ok(&node, &strs(&call("balanceOf", &format!(r#"["{DEV1}"]"#))));
    assert_eq!(balance.trim(), "250");

    let mut too_much = call("transfer", &format!(r#"["{DEV1}", 5000]"#));
    too_much.extend(["--dev-account".into(), "0".into()]);
    let err = fails(&node, &strs(&too_much));
    assert!(
        err.contains("ERC20: transfer amount exceeds balance"),
        "{err}"
    );

    // A custom error from eth_call is decoded with the ABI.
    let tester = artifact("Tester");
    let deployed = ok(
        &node,
        &[
            "contract",
            "deploy",
            "--artifact",
            &tester,
            "--args",
            "[7]",
            "--dev-account",
            "2",
        ],
    );
    let tester_addr = field(&deployed, "contract:").to_string();
    let err = fails(
        &node,
        &[
            "contract",
            "call",
            "--artifact",
            &tester,
            "--address",
            &tester_addr,
            "failCustom",
        ],
    );
    assert!(err.contains(r#"CustomFailure("42", "custom")"#), "{err}");
}
