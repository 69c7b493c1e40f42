//! Process level: `tally testnet --consensus bft --nodes 4` runs four
//! validators as real `tally node` processes. Killing one, the chain goes
//! on; killing a second, it halts (and says why) without forking;
//! restarting both, it resumes by itself. Every node has the same blocks,
//! `safe` and `finalized` are the head, and every block's commit
//! certificate verifies against the validator set.

mod common;
#[path = "common/testnet.rs"]
mod testnet;

use std::time::Duration;

use alloy_primitives::{Address, U256};
use common::*;
use serde_json::{json, Value};
use tally_primitives::{BftValidator, ChainSpec, CommitCertificate, EngineSpec, Header};
use testnet::{eventually, NodeProcess, Testnet};

const WAIT: Duration = Duration::from_secs(60);

async fn head(rpc: &Rpc) -> u64 {
    rpc.block_number().await
}

async fn hash_at(rpc: &Rpc, number: u64) -> Value {
    let b = rpc
        .ok(
            "eth_getBlockByNumber",
            json!([format!("{number:#x}"), false]),
        )
        .await;
    b["hash"].clone()
}

/// The validators of the testnet's chain spec.
fn validators(net: &Testnet) -> (u64, Vec<BftValidator>) {
    let spec = ChainSpec::load(&net.chain_path()).expect("chain spec");
    let EngineSpec::Bft(bft) = &spec.engine else {
        panic!("not a BFT spec");
    };
    (spec.chain_id, bft.validators.clone())
}

/// Block `number`'s exact header, through RPC.
async fn header_of(rpc: &Rpc, number: u64) -> Header {
    let raw = rpc
        .ok("tally_getRawHeader", json!([format!("{number:#x}")]))
        .await;
    let bytes = hex::decode(raw.as_str().unwrap().trim_start_matches("0x")).unwrap();
    alloy_rlp::decode_exact(&bytes).expect("header RLP")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_validators_survive_one_halt_at_two_and_resume() {
    let net = Testnet::start(4, &["--consensus", "bft", "--block-time", "0.2"]);
    let rpcs: Vec<Rpc> = (1..=4).map(|i| net.node(i).rpc()).collect();
    wait_block(&rpcs[0], 3, WAIT).await;

    // A transfer is final once committed: `finalized` and `safe` are the head.
    let sender = &wallets(1)[0];
    let tx = sender.transfer(0, Address::repeat_byte(0x42), U256::from(1000u64));
    let hash = rpcs[3].send_raw(&tx).await.expect("transaction accepted");
    let receipt = rpcs[0].wait_receipt(hash, WAIT).await;
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    let finalized = rpcs[0]
        .ok("eth_getBlockByNumber", json!(["finalized", false]))
        .await;
    assert!(
        quantity(&finalized["number"]) >= quantity(&receipt["blockNumber"]),
        "a committed block is final: {finalized}"
    );

    // One of four down: blocks go on.
    net.sigkill(4).await;
    let at = head(&rpcs[0]).await;
    wait_block(&rpcs[0], at + 5, WAIT).await;

    // Two of four down: the chain halts and never forks.
    net.sigkill(3).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let halted = head(&rpcs[0]).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let still = head(&rpcs[0]).await;
    assert!(
        still <= halted + 1,
        "with two of four validators down no block commits: {halted} then {still}"
    );
    let log = net.node(1).log();
    assert!(
        log.contains("the chain is halted") || log.contains("no decision in this round"),
        "a halted validator says why:\n{}",
        &log[log.len().saturating_sub(3000)..]
    );

    // Both back: it resumes by itself.
    let mut restarted = Vec::new();
    for i in [3, 4] {
        let node = net.node(i);
        let mut p = NodeProcess::spawn(&node.config, &net.chain_path(), &node.dir.join("node.log"));
        p.wait_rpc(&node.rpc()).await;
        restarted.push(p);
    }
    let target = still + 10;
    for rpc in &rpcs {
        wait_block(rpc, target, WAIT).await;
    }

    // Every node has the same blocks, each with a certificate that holds.
    let (chain_id, set) = validators(&net);
    for number in 1..=target {
        let expected = hash_at(&rpcs[0], number).await;
        for (i, rpc) in rpcs.iter().enumerate() {
            assert_eq!(
                hash_at(rpc, number).await,
                expected,
                "block {number} on node {}",
                i + 1
            );
        }
    }
    for number in [1, still, target] {
        let cert: Value = eventually("certificate", WAIT, || async {
            let c = rpcs[0]
                .ok(
                    "tally_getCommitCertificate",
                    json!([format!("{number:#x}")]),
                )
                .await;
            (!c.is_null()).then_some(c)
        })
        .await;
        let cert: CommitCertificate = serde_json::from_value(cert).expect("certificate JSON");
        let header = header_of(&rpcs[0], number).await;
        tally_consensus::bft::verify_block_certificate(chain_id, &header, &cert, &set)
            .unwrap_or_else(|e| panic!("certificate of block {number}: {e}"));
    }
}
