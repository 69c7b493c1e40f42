//! End to end: the web3.py script in tests/py runs unchanged against a real
//! `tally dev` node. Python 3 with web3 (tests/py/requirements.txt) is
//! required: without it this test fails (CI installs it) rather than passing
//! without having checked anything. `TALLY_PYTHON` picks the interpreter
//! (e.g. a virtualenv's), default `python3`.

mod common;

use std::{process::Command, time::Duration};

use common::*;

#[test]
fn web3_py_works_against_tally_dev() {
    let py = repo_root().join("tests/py");
    let python = std::env::var("TALLY_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let probe = Command::new(&python)
        .args(["-c", "import web3; print(web3.__version__)"])
        .output();
    match probe {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "the web3 module is missing for {python} ({}): run `{python} -m pip install -r {}` \
             (or set TALLY_PYTHON to an interpreter that has it)",
            String::from_utf8_lossy(&out.stderr).trim(),
            py.join("requirements.txt").display()
        ),
        Err(e) => panic!(
            "{python} is not on PATH ({e}); Python 3 with web3 (tests/py/requirements.txt) \
             is required for the web3.py compatibility test"
        ),
    }

    let node = TestNode::start();
    let mut cmd = Command::new(&python);
    cmd.arg(py.join("web3_check.py"))
        .env("TALLY_RPC", node.http_url());
    let (status, out, err) = run_command(cmd, Duration::from_secs(120));
    assert!(
        status.success(),
        "web3.py script failed ({status}):\nstdout:\n{out}\nstderr:\n{err}\nnode log:\n{}",
        node.stderr()
    );
    assert!(out.contains("all checks passed"), "{out}");
}
