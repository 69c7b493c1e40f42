//! Process level: on a consortium testnet (`--consortium`, members = the
//! testnet's node keys) a node with another key, pointed at every member,
//! never gets a peer or a block, while the members stay connected; the
//! members log why they refused it, and the outsider's own log says it is
//! not a member.

mod common;
#[path = "common/testnet.rs"]
mod testnet;

use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use testnet::{eventually, free_port, NodeProcess, Testnet};

async fn peer_count(rpc: &Rpc) -> u64 {
    quantity(&rpc.ok("net_peerCount", json!([])).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_member_node_is_refused_and_told_why() {
    let net = Testnet::start(3, &["--consortium", "--block-time", "0.5"]);
    let spec = std::fs::read_to_string(net.chain_path()).expect("chain.toml");
    assert!(
        spec.contains("members"),
        "a consortium spec lists members:\n{spec}"
    );

    // The outsider dials every member: node 1 is the bootnode of nodes 2
    // and 3, and node 1's config lists nodes 2 and 3.
    let bootnodes: Vec<String> = net
        .nodes
        .iter()
        .map(|n| {
            let text = std::fs::read_to_string(&n.config).expect("node.toml");
            let v: toml::Value = toml::from_str(&text).expect("node.toml is TOML");
            v["bootnodes"][0].as_str().expect("a bootnode").to_string()
        })
        .collect();
    let outsider_dir = net.dir.join("outsider");
    std::fs::create_dir_all(&outsider_dir).expect("outsider dir");
    let rpc_port = free_port();
    let config = outsider_dir.join("node.toml");
    std::fs::write(
        &config,
        format!(
            "datadir = \".\"\nrpc = \"127.0.0.1:{rpc_port}\"\nlisten = \"/ip4/127.0.0.1/tcp/0\"\n\
             bootnodes = {bootnodes:?}\n"
        ),
    )
    .expect("write outsider config");
    let mut outsider =
        NodeProcess::spawn(&config, &net.chain_path(), &outsider_dir.join("node.log"));
    let orpc = Rpc::new(&format!("http://127.0.0.1:{rpc_port}"));
    outsider.wait_rpc(&orpc).await;
    let peer_id = eventually(
        "the outsider's peer id in its banner",
        Duration::from_secs(30),
        || {
            let log = outsider.log_text();
            async move {
                log.lines()
                    .find_map(|l| l.strip_prefix("Peer id: "))
                    .map(|p| p.trim().to_string())
            }
        },
    )
    .await;

    // A member refuses it and says why, naming it.
    let node1 = net.node(1);
    eventually("node 1 logs the refusal", Duration::from_secs(30), || {
        let log = node1.log();
        let peer_id = peer_id.clone();
        async move {
            log.lines()
                .any(|l| {
                    l.contains("connection refused: not a member of this chain")
                        && l.contains(&peer_id)
                })
                .then_some(())
        }
    })
    .await;

    // For several seconds: the outsider has no peer and no block, while the
    // members keep their peers and their chain grows.
    let members: Vec<Rpc> = net.nodes.iter().map(|n| n.rpc()).collect();
    let start_height = members[0].block_number().await;
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        // The outsider's side sees each refused dial as a connection that
        // the member closes within milliseconds: no peer may last.
        if peer_count(&orpc).await > 0 {
            eventually(
                "the outsider's peer is dropped",
                Duration::from_secs(1),
                || {
                    let orpc = orpc.clone();
                    async move { (peer_count(&orpc).await == 0).then_some(()) }
                },
            )
            .await;
        }
        for (i, m) in members.iter().enumerate() {
            assert!(peer_count(m).await >= 1, "member {} lost its peers", i + 1);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        members[0].block_number().await > start_height,
        "the members' chain keeps growing"
    );
    assert_eq!(orpc.block_number().await, 0, "the outsider received blocks");

    let log = outsider.log_text();
    assert!(
        log.contains("is not among the 3 members") && log.contains("NOT a member"),
        "the outsider's log says it is not a member:\n{log}"
    );
}
