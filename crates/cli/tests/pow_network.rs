//! Process level: proof-of-work networks from the `tally` binary.
//!
//! `tally init --consensus pow` writes a spec that loads as PoW with a
//! genesis time of now and node configs that mine to distinct funded
//! accounts; a `tally testnet --consensus pow` mines on every node, the
//! nodes agree on the chain below the head, and each miner's account holds
//! exactly the rewards of the blocks it mined; a node started with
//! `--miner-threads 0` makes no block by itself, and `tally mine` against
//! it does, its reported hash rate showing in `tally_miningInfo`.

mod common;
#[path = "common/testnet.rs"]
mod testnet;

use std::{
    collections::BTreeMap,
    fs::File,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use alloy_primitives::{Address, U256};
use common::*;
use serde_json::{json, Value};
use tally_primitives::{ChainSpec, EngineSpec, PowSpec};
use testnet::{eventually, Testnet};

const WAIT: Duration = Duration::from_secs(45);

fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

fn run_ok(args: &[&str]) -> String {
    let (status, stdout, stderr) = run_to_exit(args, Duration::from_secs(60));
    assert!(
        status.success(),
        "tally {args:?} failed ({status}); stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    stdout
}

/// `tally init` into `<tmp>/net`; returns the directory.
fn init(tmp: &Path, extra: &[&str]) -> PathBuf {
    let dir = tmp.join("net");
    let dir_arg = dir.to_string_lossy().into_owned();
    let mut args = vec!["init", "--out", &dir_arg];
    args.extend_from_slice(extra);
    run_ok(&args);
    dir
}

fn node_toml(dir: &Path, index: usize) -> toml::Value {
    let path = dir.join(format!("node-{index}/node.toml"));
    let text = std::fs::read_to_string(&path).expect("node.toml");
    toml::from_str(&text).expect("node.toml parses")
}

fn beneficiary(dir: &Path, index: usize) -> Address {
    node_toml(dir, index)["beneficiary"]
        .as_str()
        .expect("beneficiary set")
        .parse()
        .expect("beneficiary is an address")
}

#[test]
fn init_pow_writes_a_mining_network_anchored_now() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("net");
    let dir_arg = dir.to_string_lossy().into_owned();
    let stdout = run_ok(&[
        "init",
        "--consensus",
        "pow",
        "--out",
        &dir_arg,
        "--nodes",
        "3",
        "--block-time",
        "3",
    ]);
    for i in 1..=3 {
        assert!(
            stdout.contains(&format!("node-{i}/node.toml --chain ")),
            "prints the command of node {i}:\n{stdout}"
        );
    }
    assert!(stdout.contains("tally node --config "), "{stdout}");

    let raw: toml::Value =
        toml::from_str(&std::fs::read_to_string(dir.join("chain.toml")).unwrap()).unwrap();
    assert_eq!(raw["engine"]["kind"].as_str(), Some("pow"), "{raw}");
    let spec = ChainSpec::load(&dir.join("chain.toml")).expect("the spec loads");
    let EngineSpec::Pow(pow) = &spec.engine else {
        panic!("not a PoW spec: {:?}", spec.engine);
    };
    assert_eq!(pow.target_block_time_ms, 3000);
    assert_eq!(pow.block_reward, PowSpec::default().block_reward);
    assert!(
        spec.timestamp.abs_diff(unix_now()) < 120,
        "genesis time {} is not now ({})",
        spec.timestamp,
        unix_now()
    );
    assert_eq!(spec.chain_id, 31337);
    assert_eq!(spec.alloc.len(), 10);

    let accounts = tally_crypto::mnemonic::dev_accounts(3);
    for (i, (_, account)) in accounts.iter().enumerate() {
        let file = node_toml(&dir, i + 1);
        assert_eq!(file["mine"].as_bool(), Some(true), "node {}: {file}", i + 1);
        assert_eq!(file["miner_threads"].as_integer(), Some(1));
        assert_eq!(beneficiary(&dir, i + 1), *account);
        assert!(spec.alloc.contains_key(account), "miner account funded");
    }

    // The same directory again is refused rather than overwritten.
    let (status, _, stderr) = run_to_exit(
        &["init", "--consensus", "pow", "--out", &dir_arg],
        Duration::from_secs(30),
    );
    assert!(!status.success());
    assert!(stderr.contains("exists"), "{stderr}");
    // Timestamps are whole seconds: a faster PoW block time is refused.
    let other = tmp.path().join("fast").to_string_lossy().into_owned();
    let (status, _, stderr) = run_to_exit(
        &[
            "init",
            "--consensus",
            "pow",
            "--out",
            &other,
            "--block-time",
            "0.5",
        ],
        Duration::from_secs(30),
    );
    assert!(!status.success());
    assert!(stderr.contains("at least 1 second"), "{stderr}");
}

#[test]
fn init_dev_writes_a_producer_network_and_mine_is_refused_on_it() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = init(tmp.path(), &["--nodes", "1"]);
    let spec = ChainSpec::load(&dir.join("chain.toml")).expect("the spec loads");
    assert!(
        matches!(
            spec.engine,
            EngineSpec::Dev {
                authority: Some(_),
                ..
            }
        ),
        "{:?}",
        spec.engine
    );
    assert!(node_toml(&dir, 1).get("mine").is_none());

    let config = dir.join("node-1/node.toml").to_string_lossy().into_owned();
    let chain = dir.join("chain.toml").to_string_lossy().into_owned();
    let (status, _, stderr) = run_to_exit(
        &["node", "--config", &config, "--chain", &chain, "--mine"],
        Duration::from_secs(30),
    );
    assert!(!status.success(), "a dev node must not start with --mine");
    assert!(
        stderr.contains("only proof-of-work chains are mined"),
        "{stderr}"
    );
}

#[test]
fn bench_mine_reports_both_rates_and_their_ratio() {
    let stdout = run_ok(&["bench", "mine", "--seconds", "0.2"]);
    for line in ["miner (nonce search)", "plain SHA-256d", "miner / plain"] {
        assert!(stdout.contains(line), "{line:?} missing:\n{stdout}");
    }
    assert!(stdout.contains("H/s"), "{stdout}");
}

/// The hash of block `number` on `rpc` (null if it has none).
async fn hash_at(rpc: &Rpc, number: u64) -> Value {
    let block = rpc
        .ok(
            "eth_getBlockByNumber",
            json!([format!("{number:#x}"), false]),
        )
        .await;
    block["hash"].clone()
}

/// Blocks 1..=`upto` on `rpc` per miner.
async fn blocks_by_miner(rpc: &Rpc, upto: u64) -> BTreeMap<Address, u64> {
    let mut count = BTreeMap::new();
    for n in 1..=upto {
        let block = rpc
            .ok("eth_getBlockByNumber", json!([format!("{n:#x}"), false]))
            .await;
        *count.entry(address(&block["miner"])).or_insert(0) += 1;
    }
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pow_testnet_mines_on_every_node_and_pays_each_miner() {
    let net = Testnet::start(2, &["--consensus", "pow", "--block-time", "1"]);
    assert!(net.stdout.contains("miner"), "{}", net.stdout);
    let miners: Vec<Address> = (1..=2).map(|i| beneficiary(&net.dir, i)).collect();
    assert_ne!(miners[0], miners[1]);
    let reward = match ChainSpec::load(&net.chain_path()).expect("spec").engine {
        EngineSpec::Pow(pow) => pow.block_reward,
        other => panic!("not PoW: {other:?}"),
    };
    assert_eq!(reward, ether(50));

    // Each node mines as its node.toml says: one thread, its own account.
    let rpcs: Vec<Rpc> = net.nodes.iter().map(|n| n.rpc()).collect();
    for (rpc, miner) in rpcs.iter().zip(&miners) {
        assert_eq!(rpc.ok("eth_mining", json!([])).await, json!(true));
        let info = rpc.ok("tally_miningInfo", json!([])).await;
        assert_eq!(info["threads"], json!(1), "{info}");
        assert_eq!(address(&info["coinbase"]), *miner, "{info}");
    }
    // Every head advances, then a height below both heads is the same block
    // everywhere and each node has mined part of the chain up to it.
    let (rpcs, miners) = (&rpcs, &miners);
    let (height, by_miner) = eventually(
        "both nodes mine and agree below the head",
        WAIT,
        || async move {
            let mut heads = Vec::new();
            for rpc in rpcs {
                heads.push(rpc.block_number().await);
            }
            let height = heads.iter().min()?.checked_sub(3).filter(|h| *h >= 3)?;
            let first = hash_at(&rpcs[0], height).await;
            for rpc in &rpcs[1..] {
                if hash_at(rpc, height).await != first {
                    return None;
                }
            }
            let by_miner = blocks_by_miner(&rpcs[0], height).await;
            let mined = miners.iter().filter(|m| by_miner.contains_key(*m)).count();
            (mined == miners.len()).then_some((height, by_miner))
        },
    )
    .await;
    assert_eq!(
        by_miner.values().sum::<u64>(),
        height,
        "only the two miners' accounts mine: {by_miner:?}"
    );
    // No transactions, so an account holds its genesis funds plus the
    // rewards of its blocks, at that height, on both nodes.
    let at = format!("{height:#x}");
    for miner in miners {
        let expected = ether(10_000) + reward * U256::from(by_miner[miner]);
        for (i, rpc) in rpcs.iter().enumerate() {
            assert_eq!(
                rpc.balance(*miner, &at).await,
                expected,
                "balance of {miner} at #{height} on node {}",
                i + 1
            );
        }
    }

    // An offline proof of a miner's balance at that height: the headers
    // built on it come along, each checked against the difficulty rule.
    let proof = net.dir.join("miner.proof.json");
    let proof_arg = proof.to_string_lossy().into_owned();
    let chain = net.chain_path().to_string_lossy().into_owned();
    let url = net.nodes[0].rpc_url.clone();
    run_ok(&[
        "proof",
        "account",
        &miners[0].to_string(),
        "--block",
        &height.to_string(),
        "-o",
        &proof_arg,
        "--rpc",
        &url,
    ]);
    let out = run_ok(&["verify", &proof_arg, "--chain", &chain]);
    assert!(out.contains(&format!("block {height}")), "{out}");
    assert!(out.contains("work"), "{out}");
    let text = std::fs::read_to_string(&proof).expect("proof");
    let mut json: Value = serde_json::from_str(&text).expect("proof JSON");
    let descendants = json["finality"]["descendants"]
        .as_array()
        .expect("PoW descendants")
        .clone();
    assert!(!descendants.is_empty(), "{json}");
    // A descendant header with one changed byte breaks the chain of work.
    let first = descendants[0].as_str().expect("hex").to_string();
    let mid = first.len() / 2;
    let flipped = format!(
        "{}{}{}",
        &first[..mid],
        if &first[mid..mid + 1] == "0" {
            "1"
        } else {
            "0"
        },
        &first[mid + 1..]
    );
    json["finality"]["descendants"][0] = json!(flipped);
    std::fs::write(&proof, json.to_string()).expect("write");
    let (status, _, stderr) = run_to_exit(
        &["verify", &proof_arg, "--chain", &chain],
        Duration::from_secs(60),
    );
    assert!(!status.success(), "a changed PoW header verified");
    assert!(stderr.contains("does NOT verify"), "{stderr}");
}

/// A child process killed on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(args: &[&str], log: &Path) -> Proc {
    let file = File::create(log).expect("log file");
    let child = Command::new(tally_bin())
        .args(args)
        .env("RUST_LOG", "info,jsonrpsee=warn")
        .env("NO_COLOR", "1")
        .env_remove("TALLY_RPC")
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("dup log"))
        .stderr(file)
        .spawn()
        .expect("spawn tally");
    Proc(child)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_miner_mines_for_a_node_without_miner_threads() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = init(
        tmp.path(),
        &["--consensus", "pow", "--nodes", "1", "--block-time", "1"],
    );
    let config = dir.join("node-1/node.toml").to_string_lossy().into_owned();
    let chain = dir.join("chain.toml").to_string_lossy().into_owned();
    let rpc_addr = node_toml(&dir, 1)["rpc"].as_str().unwrap().to_string();
    let url = format!("http://{rpc_addr}");
    let node_log = tmp.path().join("node.log");
    let mut node = spawn(
        &[
            "node",
            "--config",
            &config,
            "--chain",
            &chain,
            "--mine",
            "--miner-threads",
            "0",
            "--no-explorer",
        ],
        &node_log,
    );
    let rpc = Rpc::new(&url);
    eventually("the node answers RPC", WAIT, || {
        let rpc = rpc.clone();
        let exited = node.0.try_wait().ok().flatten();
        let log = &node_log;
        async move {
            if let Some(status) = exited {
                panic!("tally node exited ({status}); log:\n{}", read(log));
            }
            rpc.try_call("eth_blockNumber", json!([]))
                .await
                .is_ok()
                .then_some(())
        }
    })
    .await;
    assert!(
        read(&node_log).contains("external miners"),
        "the banner names the role:\n{}",
        read(&node_log)
    );
    // No miner thread: nothing is mined until an external miner comes.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(rpc.block_number().await, 0, "log:\n{}", read(&node_log));

    let miner_log = tmp.path().join("miner.log");
    let mut miner = spawn(&["mine", "--rpc", &url, "--threads", "1"], &miner_log);
    let deadline = std::time::Instant::now() + WAIT;
    while rpc.block_number().await < 3 {
        if let Some(status) = miner.0.try_wait().expect("wait miner") {
            panic!(
                "tally mine exited ({status}); output:\n{}\nnode log:\n{}",
                read(&miner_log),
                read(&node_log)
            );
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no 3 blocks within {WAIT:?}; miner output:\n{}\nnode log:\n{}",
            read(&miner_log),
            read(&node_log)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let coinbase = beneficiary(&dir, 1);
    let by_miner = blocks_by_miner(&rpc, 3).await;
    assert_eq!(by_miner.get(&coinbase), Some(&3), "{by_miner:?}");
    // The miner reports its rate (every 5 s) and the node counts it.
    let info = eventually("the external hash rate", WAIT, || async {
        let info = rpc.ok("tally_miningInfo", json!([])).await;
        (u256(&info["externalHashrate"]) > U256::ZERO).then_some(info)
    })
    .await;
    assert_eq!(info["threads"], json!(0), "{info}");
    assert_eq!(info["mining"], json!(true), "{info}");

    // SIGTERM stops it cleanly, with a summary.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(miner.0.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM the miner");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = miner.0.try_wait().expect("wait miner") {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "tally mine did not stop on SIGTERM; output:\n{}",
            read(&miner_log)
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = read(&miner_log);
    assert!(status.success(), "{status}; output:\n{out}");
    assert!(out.contains("accepted"), "{out}");
    assert!(out.contains("Stopped:"), "{out}");
}
