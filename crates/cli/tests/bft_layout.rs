//! Process level: `tally init --consensus bft` writes a BFT consortium
//! chain that parses and validates as a chain spec, with the validators and
//! members asked for; bad flag combinations fail with a message naming the
//! fix and write nothing. No node is started.

use std::{path::Path, process::Command};

use tally_primitives::{ChainSpec, EngineSpec};

fn tally(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tally"))
        .args(args)
        .output()
        .expect("run tally")
}

fn init(out: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["init", "--out", out.to_str().expect("utf-8 temp path")];
    all.extend_from_slice(args);
    tally(&all)
}

#[test]
fn init_bft_writes_a_valid_consortium_spec() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("net");
    let run = init(
        &out,
        &[
            "--consensus",
            "bft",
            "--validators",
            "3",
            "--members",
            "a,b,c,d",
        ],
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "init failed: {stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        stdout.contains("3 validators: tolerates f = 0 faulty validators"),
        "{stdout}"
    );
    assert!(stdout.contains("node 1: RPC"), "{stdout}");
    assert!(
        stdout.contains("validator, member a, account 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
        "{stdout}"
    );
    assert!(
        stdout.contains("member (not a validator), member d"),
        "{stdout}"
    );
    assert_eq!(stdout.matches("tally node --config").count(), 4, "{stdout}");

    let spec = ChainSpec::load(&out.join("chain.toml")).expect("a valid chain spec");
    assert_eq!(spec.name, "tally-bft-testnet");
    let EngineSpec::Bft(bft) = &spec.engine else {
        panic!("not a BFT spec: {:?}", spec.engine);
    };
    assert_eq!(bft.validators.len(), 3);
    assert_eq!(bft.members.len(), 4);
    let names: Vec<&str> = bft.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "d"]);
    assert_eq!(bft.block_time_ms, 1000);
    assert!(bft.create_empty_blocks);
    // The allowlist is every member's node, validators first.
    let nodes: Vec<_> = bft.members.iter().map(|m| m.node_key).collect();
    assert_eq!(spec.members, nodes);
    for (v, m) in bft.validators.iter().zip(&bft.members) {
        assert_eq!(v.key, m.node_key);
    }
    for (i, m) in bft.members.iter().enumerate() {
        let text = std::fs::read_to_string(out.join(format!("node-{}/node.toml", i + 1)))
            .expect("node.toml");
        let file: toml::Value = toml::from_str(&text).expect("node.toml is TOML");
        let beneficiary = file["beneficiary"].as_str().expect("a beneficiary");
        assert_eq!(
            beneficiary.parse::<tally_primitives::Address>().ok(),
            Some(m.account)
        );
        assert!(spec.alloc.contains_key(&m.account), "member account funded");
    }
}

#[test]
fn init_bft_takes_no_empty_blocks_and_block_time() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("net");
    let run = init(
        &out,
        &[
            "--consensus",
            "bft",
            "-n",
            "2",
            "--no-empty-blocks",
            "--block-time",
            "0.25",
        ],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let spec = ChainSpec::load(&out.join("chain.toml")).expect("a valid chain spec");
    let EngineSpec::Bft(bft) = &spec.engine else {
        panic!("not a BFT spec");
    };
    assert_eq!(bft.block_time_ms, 250);
    assert!(!bft.create_empty_blocks);
    assert_eq!(bft.validators.len(), 2);
    let names: Vec<&str> = bft.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["org1", "org2"]);
}

#[test]
fn bad_bft_flags_fail_clearly_and_write_nothing() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--consensus", "bft", "--members", "a,b,c", "--nodes", "4"],
            "--nodes 4 does not match the 3 names of --members",
        ),
        (
            &["--consensus", "bft", "--validators", "0"],
            "--validators must be between 1 and the number of nodes (4), got 0",
        ),
        (
            &[
                "--consensus",
                "bft",
                "--members",
                "a,b",
                "--validators",
                "5",
            ],
            "--validators must be between 1 and the number of nodes (2), got 5",
        ),
        (
            &["--consensus", "bft", "--block-time", "0.01"],
            "--block-time of a BFT chain must be at least 0.1 seconds",
        ),
        (
            &["--consensus", "bft", "--members", "a,a"],
            "--members names `a` twice",
        ),
        (
            &["--validators", "3"],
            "--validators only apply to a BFT chain; add --consensus bft",
        ),
        (
            &["--consensus", "pow", "--members", "a,b"],
            "--members only apply to a BFT chain",
        ),
        (
            &["--no-empty-blocks"],
            "--no-empty-blocks only apply to a BFT chain",
        ),
    ];
    let tmp = tempfile::tempdir().expect("temp dir");
    for (i, (args, message)) in cases.iter().enumerate() {
        let out = tmp.path().join(format!("net-{i}"));
        let run = init(&out, args);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(!run.status.success(), "{args:?} was accepted");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
}
