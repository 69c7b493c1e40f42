//! Harness of the `tally testnet` process tests: starts a detached testnet
//! in a temporary directory, finds each node's RPC URL and pid from the
//! files the command writes, starts single `tally node` processes (a
//! restarted node, an outsider), and stops everything on drop, even when the
//! test panics. Included by each `testnet_*.rs` next to `common`.

#![allow(dead_code)]

use std::{
    fs::OpenOptions,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use nix::{sys::signal::Signal, unistd::Pid};

use crate::common::{run_to_exit, tally_bin, Rpc};

/// One node of a started testnet.
pub struct NetNode {
    /// 1-based, as in `node-<index>`.
    pub index: usize,
    pub dir: PathBuf,
    pub config: PathBuf,
    pub rpc_url: String,
    /// The pid `tally testnet` recorded.
    pub pid: i32,
}

impl NetNode {
    pub fn rpc(&self) -> Rpc {
        Rpc::new(&self.rpc_url)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("node.log")).unwrap_or_default()
    }
}

/// A detached `tally testnet`, stopped on drop.
pub struct Testnet {
    pub dir: PathBuf,
    pub nodes: Vec<NetNode>,
    /// What `tally testnet` printed.
    pub stdout: String,
    _temp: tempfile::TempDir,
}

impl Testnet {
    /// `tally testnet --nodes N --dir <temp> --detach <extra>`; returns once
    /// the command reports every node up.
    pub fn start(nodes: usize, extra: &[&str]) -> Testnet {
        let temp = tempfile::Builder::new()
            .prefix("tally-testnet-")
            .tempdir()
            .expect("temp dir");
        let dir = temp.path().join("net");
        let dir_arg = dir.to_string_lossy().into_owned();
        let n = nodes.to_string();
        let mut args = vec!["testnet", "--nodes", &n, "--dir", &dir_arg, "--detach"];
        args.extend_from_slice(extra);
        let (status, stdout, stderr) = run_to_exit(&args, Duration::from_secs(120));
        let mut net = Testnet {
            dir: dir.clone(),
            nodes: Vec::new(),
            stdout: stdout.clone(),
            _temp: temp,
        };
        // Read the pids even on failure so drop can clean up.
        net.nodes = read_nodes(&dir);
        assert!(
            status.success(),
            "tally testnet failed ({status}); stdout:\n{stdout}\nstderr:\n{stderr}"
        );
        assert_eq!(net.nodes.len(), nodes, "pids file: {:?}", net.pids());
        net
    }

    pub fn node(&self, index: usize) -> &NetNode {
        &self.nodes[index - 1]
    }

    pub fn chain_path(&self) -> PathBuf {
        self.dir.join("chain.toml")
    }

    fn pids(&self) -> Vec<i32> {
        self.nodes.iter().map(|n| n.pid).collect()
    }

    /// SIGKILLs node `index` (no chance to flush or say goodbye) and waits
    /// until its RPC port no longer answers.
    pub async fn sigkill(&self, index: usize) {
        let node = self.node(index);
        nix::sys::signal::kill(Pid::from_raw(node.pid), Signal::SIGKILL).expect("SIGKILL node");
        let deadline = Instant::now() + Duration::from_secs(30);
        while node
            .rpc()
            .try_call("eth_blockNumber", serde_json::json!([]))
            .await
            .is_ok()
        {
            assert!(
                Instant::now() < deadline,
                "node {index} still answers after SIGKILL"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Testnet {
    fn drop(&mut self) {
        let dir = self.dir.to_string_lossy().into_owned();
        let stopped = std::panic::catch_unwind(|| {
            run_to_exit(&["testnet", "stop", "--dir", &dir], Duration::from_secs(60))
        });
        if !matches!(&stopped, Ok((s, _, _)) if s.success()) {
            for pid in self.pids() {
                let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
    }
}

fn read_nodes(dir: &Path) -> Vec<NetNode> {
    let pids = std::fs::read_to_string(dir.join("pids")).unwrap_or_default();
    pids.lines()
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            let index: usize = parts.next()?.parse().ok()?;
            let pid: i32 = parts.next()?.parse().ok()?;
            let node_dir = dir.join(format!("node-{index}"));
            let config = node_dir.join("node.toml");
            let text = std::fs::read_to_string(&config).ok()?;
            let value: toml::Value = toml::from_str(&text).ok()?;
            let rpc = value.get("rpc")?.as_str()?.to_string();
            Some(NetNode {
                index,
                dir: node_dir,
                config,
                rpc_url: format!("http://{rpc}"),
                pid,
            })
        })
        .collect()
}

/// A `tally node` started by the test, killed on drop.
pub struct NodeProcess {
    child: Child,
    pub log: PathBuf,
}

impl NodeProcess {
    /// `tally node --config <config> --chain <chain>`, output appended to
    /// `log`.
    pub fn spawn(config: &Path, chain: &Path, log: &Path) -> NodeProcess {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("open node log");
        let child = Command::new(tally_bin())
            .arg("node")
            .arg("--config")
            .arg(config)
            .arg("--chain")
            .arg(chain)
            .arg("--no-explorer")
            .env("RUST_LOG", "info,jsonrpsee=warn")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("dup log"))
            .stderr(file)
            .spawn()
            .expect("spawn tally node");
        NodeProcess {
            child,
            log: log.to_path_buf(),
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `rpc` answers; panics with the log if the node exits.
    pub async fn wait_rpc(&mut self, rpc: &Rpc) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("tally node exited ({status}); log:\n{}", self.log_text());
            }
            if rpc
                .try_call("eth_blockNumber", serde_json::json!([]))
                .await
                .is_ok()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "tally node did not answer RPC in 60 s; log:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP port free on loopback a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Polls `check` every 100 ms until it returns `Some`, or panics with
/// `what` after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within {timeout:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
