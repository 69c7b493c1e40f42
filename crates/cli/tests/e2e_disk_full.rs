//! End to end: a full disk. A `tally dev` whose data directory lives on a
//! small tmpfs is driven until a block cannot be written. It must say
//! plainly that the disk is full, stop admitting transactions and exit
//! cleanly (it once logged "Previous I/O error" every 200 ms forever, took
//! transactions it would never mine and ignored SIGTERM); and once space is
//! freed, the chain it committed must be there on restart.
//!
//! Needs root (to mount the tmpfs), as CI and the development machines
//! run: without it the test fails saying so, rather than passing unchecked.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use alloy_primitives::{Address, Bytes, TxKind, U256};
use common::*;

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "cannot mount a tmpfs at {} ({}): this test needs root (CI runs as root)",
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Tmpfs(dir.to_path_buf())
    }

    fn available_kib(&self) -> u64 {
        let out = Command::new("df")
            .args(["--output=avail", "-k"])
            .arg(&self.0)
            .output()
            .expect("run df");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .and_then(|l| l.trim().parse().ok())
            .expect("df prints the available space")
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_stops_the_node_cleanly_and_loses_nothing() {
    let outer = tempfile::tempdir().expect("tempdir");
    let fs = Tmpfs::mount(outer.path(), "48m");
    let datadir = outer.path().join("chain");
    let mut node = TestNode::start_with(NodeOptions {
        datadir: Some(datadir.clone()),
        ..NodeOptions::default()
    });
    let rpc = node.rpc();
    let wallet = &wallets(2)[1];
    let to = TxKind::Call(Address::repeat_byte(0xaa));
    // A first block, mined while there is room.
    let first = wallet.tx(0, to, U256::from(1), Bytes::new(), 21_000);
    rpc.send_and_mine(&first).await;
    let mined = rpc.block_number().await;

    // Leave about 300 KiB free, then send 4 KB transactions until the node
    // cannot write a block.
    let filler = outer.path().join("filler");
    let keep = 300;
    let fill = fs.available_kib().saturating_sub(keep);
    std::fs::write(&filler, vec![0u8; (fill * 1024) as usize]).expect("fill the tmpfs");
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut refused = None;
    let mut nonce = 1;
    while Instant::now() < deadline {
        let data = Bytes::from(vec![nonce as u8 | 1; 4_000]);
        let tx = wallet.tx(nonce, to, U256::from(1), data, 200_000);
        let raw = serde_json::json!([Bytes::from(raw(&tx))]);
        match rpc.try_call("eth_sendRawTransaction", raw).await {
            Ok(Ok(_)) => nonce += 1,
            Ok(Err(e)) => {
                refused = Some(e.message);
                break;
            }
            // The node is gone: it stopped, as it should.
            Err(_) => break,
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // It exits by itself, with the reason, and does not hang.
    let status = node
        .wait_exit(Duration::from_secs(60))
        .expect("the node exits after its disk filled");
    assert!(
        !status.success(),
        "a node that cannot write exits with an error"
    );
    let log = node.stderr();
    assert!(
        log.contains("cannot write the chain database in") && log.contains("the disk is full"),
        "{log}"
    );
    assert!(
        log.matches("Previous I/O error occurred").count() <= 1,
        "the failure is reported once, not retried forever:\n{log}"
    );
    if let Some(message) = refused {
        // A transaction sent between the fault and the exit is refused
        // with the reason.
        assert!(message.contains("not accepting transactions"), "{message}");
    }

    // Space comes back: the chain committed before the fault is intact.
    std::fs::remove_file(&filler).expect("free the space");
    let node = TestNode::start_with(NodeOptions {
        datadir: Some(datadir),
        ..NodeOptions::default()
    });
    let rpc = node.rpc();
    let head = rpc.block_number().await;
    assert!(
        head >= mined,
        "head {head} is below block {mined} mined before"
    );
    let receipt = rpc
        .ok(
            "eth_getTransactionReceipt",
            serde_json::json!([first.tx_hash()]),
        )
        .await;
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    // And it mines again.
    let next = rpc.nonce(wallet.address, "latest").await;
    let again = wallet.tx(next, to, U256::from(1), Bytes::new(), 21_000);
    rpc.send_and_mine(&again).await;
    drop(fs);
}
