//! The node processes of a testnet: spawning them, recording their pids,
//! telling whether they still run, and stopping them.

use std::{
    fs::OpenOptions,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::Context;
use nix::{sys::signal::Signal, unistd::Pid};

use super::layout::{Layout, NodeEntry};

/// How long a node gets to stop after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(20);

fn pids_path(dir: &Path) -> std::path::PathBuf {
    dir.join("pids")
}

/// `(node index, pid)` of the nodes started last, empty if none.
pub fn read_pids(dir: &Path) -> anyhow::Result<Vec<(usize, i32)>> {
    let path = pids_path(dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(n, line)| {
            let mut parts = line.split_whitespace();
            let parsed = (|| Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?)))();
            parsed.with_context(|| {
                format!(
                    "{} line {}: expected \"<node> <pid>\", got {line:?}",
                    path.display(),
                    n + 1
                )
            })
        })
        .collect()
}

pub fn write_pids(dir: &Path, pids: &[(usize, i32)]) -> anyhow::Result<()> {
    let path = pids_path(dir);
    let text: String = pids.iter().map(|(i, p)| format!("{i} {p}\n")).collect();
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
}

pub fn remove_pids(dir: &Path) {
    let _ = std::fs::remove_file(pids_path(dir));
}

/// Whether `pid` is a live `tally node` of `node`. A recorded pid may have
/// ended and been reused by another program, or be a zombie nobody reaped
/// yet; on Linux `/proc` tells those apart.
pub fn is_running(pid: i32, node: &NodeEntry) -> bool {
    if nix::sys::signal::kill(Pid::from_raw(pid), None).is_err() {
        return false;
    }
    let proc_dir = Path::new("/proc").join(pid.to_string());
    if !Path::new("/proc/self").exists() {
        return true;
    }
    let zombie = std::fs::read_to_string(proc_dir.join("stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(true);
    let ours = std::fs::read(proc_dir.join("cmdline"))
        .map(|c| String::from_utf8_lossy(&c).contains(&*node.config_path.to_string_lossy()))
        .unwrap_or(false);
    !zombie && ours
}

/// Starts `tally node` for `node`, its output appended to `node.log`, in a
/// process group of its own: a Ctrl-C meant for `tally testnet` reaches only
/// the parent, which then stops the nodes in order. Without `index` the
/// node runs with `--no-index`.
pub fn spawn_node(layout: &Layout, node: &NodeEntry, index: bool) -> anyhow::Result<Child> {
    use std::os::unix::process::CommandExt;
    let log_path = node.dir.join("node.log");
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("opening {}", log_path.display()))?;
    let exe = std::env::current_exe().context("finding the tally executable")?;
    Command::new(exe)
        .arg("node")
        .arg("--config")
        .arg(&node.config_path)
        .arg("--chain")
        .arg(&layout.chain_path)
        // Every node would want port 8080: a testnet's nodes serve no
        // explorer (run `tally dev`, or a `tally node` by hand, for one).
        .arg("--no-explorer")
        .args((!index).then_some("--no-index"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(log.try_clone().context("duplicating the log file handle")?)
        .stderr(log)
        .process_group(0)
        .spawn()
        .with_context(|| format!("starting node {}", node.index))
}

/// A node to stop: our child (reaped here) or a pid from the pids file.
pub enum Proc<'a> {
    Child(&'a mut Child),
    Pid(i32, &'a NodeEntry),
}

impl Proc<'_> {
    fn pid(&self) -> i32 {
        match self {
            Proc::Child(c) => c.id() as i32,
            Proc::Pid(p, _) => *p,
        }
    }

    fn alive(&mut self) -> bool {
        match self {
            Proc::Child(c) => matches!(c.try_wait(), Ok(None)),
            Proc::Pid(p, node) => is_running(*p, node),
        }
    }
}

/// SIGTERMs every process, waits for them to stop cleanly, SIGKILLs any
/// still running after [`STOP_GRACE`]. Returns how many had to be killed.
pub fn terminate(procs: &mut [Proc<'_>]) -> usize {
    for p in procs.iter_mut() {
        if p.alive() {
            let _ = nix::sys::signal::kill(Pid::from_raw(p.pid()), Signal::SIGTERM);
        }
    }
    let deadline = Instant::now() + STOP_GRACE;
    while Instant::now() < deadline && procs.iter_mut().any(|p| p.alive()) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut killed = 0;
    for p in procs.iter_mut() {
        if p.alive() {
            let _ = nix::sys::signal::kill(Pid::from_raw(p.pid()), Signal::SIGKILL);
            killed += 1;
            if let Proc::Child(c) = p {
                let _ = c.wait();
            }
        }
    }
    killed
}
