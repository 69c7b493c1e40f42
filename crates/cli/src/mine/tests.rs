//! The miner loop against an in-process fake node: it takes work, submits
//! seals that meet the target in the wire form geth's methods use, moves
//! on to new work, reports its rate, and fails clearly on a node that does
//! not offer remote mining.

use std::sync::{Arc, Mutex};

use jsonrpsee::{
    server::{Server, ServerHandle},
    types::ErrorObjectOwned,
    RpcModule,
};
use tally_consensus::pow::{hash::meets_target, pow_hash};
use tally_primitives::U256;

use super::*;

/// One hash in 256 meets it: a seal takes a millisecond or so.
fn easy() -> U256 {
    U256::MAX >> 8
}

#[derive(Default)]
struct FakeNode {
    /// The block the work is for; a valid seal moves it on.
    number: u64,
    accepted: Vec<(B256, u64)>,
    invalid: usize,
    hashrates: Vec<(B256, B256)>,
}

impl FakeNode {
    fn seal_hash(&self) -> B256 {
        B256::from(U256::from(self.number + 1000))
    }
}

fn rpc_error(message: String) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(-32602, message, None::<()>)
}

async fn serve(with_work: bool) -> (String, Arc<Mutex<FakeNode>>, ServerHandle) {
    let state = Arc::new(Mutex::new(FakeNode {
        number: 1,
        ..Default::default()
    }));
    let mut module = RpcModule::new(state.clone());
    module
        .register_method("eth_blockNumber", |_, _, _| "0x0")
        .unwrap();
    if with_work {
        module
            .register_method("eth_getWork", |_, node, _| {
                let node = node.lock().unwrap();
                vec![
                    node.seal_hash().to_string(),
                    B256::ZERO.to_string(),
                    B256::from(easy()).to_string(),
                    format!("{:#x}", node.number),
                ]
            })
            .unwrap();
        module
            .register_method("eth_submitWork", |params, node, _| {
                let (nonce, seal_hash, mix): (String, B256, B256) = params.parse()?;
                let digits = nonce.strip_prefix("0x").unwrap_or_default();
                if digits.len() != 16 || mix != B256::ZERO {
                    return Err(rpc_error(format!("bad nonce {nonce} or mix {mix}")));
                }
                let nonce = u64::from_str_radix(digits, 16)
                    .map_err(|e| rpc_error(format!("nonce {nonce}: {e}")))?;
                let mut node = node.lock().unwrap();
                let valid = seal_hash == node.seal_hash()
                    && meets_target(&pow_hash(&seal_hash, nonce), &easy());
                if valid {
                    node.accepted.push((seal_hash, nonce));
                    node.number += 1;
                } else {
                    node.invalid += 1;
                }
                Ok::<bool, ErrorObjectOwned>(valid)
            })
            .unwrap();
        module
            .register_method("eth_submitHashrate", |params, node, _| {
                let (rate, id): (B256, B256) = params.parse()?;
                node.lock().unwrap().hashrates.push((rate, id));
                Ok::<bool, ErrorObjectOwned>(true)
            })
            .unwrap();
    }
    let server = Server::builder().build("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", server.local_addr().unwrap());
    (url, state, server.start(module))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mines_block_after_block_with_valid_seals() {
    let (url, node, _server) = serve(true).await;
    let watched = node.clone();
    let five_blocks = async move {
        while watched.lock().unwrap().accepted.len() < 5 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let summary = tokio::time::timeout(Duration::from_secs(30), mine(&url, 2, five_blocks))
        .await
        .expect("five blocks within 30 s")
        .unwrap();
    let node = node.lock().unwrap();
    assert!(summary.accepted >= 5, "{summary:?}");
    assert!(summary.hashes > 0);
    // Each seal was for the work of its time: one per block, in order.
    let seals: Vec<B256> = node.accepted.iter().map(|(h, _)| *h).collect();
    let expected: Vec<B256> = (1..=seals.len() as u64)
        .map(|n| B256::from(U256::from(n + 1000)))
        .collect();
    assert_eq!(seals, expected);
    // A second thread's find for work already sealed is not sent again
    // (the fake would count it invalid).
    assert_eq!(node.invalid as u64, summary.rejected);
}

#[tokio::test]
async fn a_node_without_remote_mining_is_a_clear_error() {
    let (url, _node, _server) = serve(false).await;
    let e = mine(&url, 1, std::future::pending()).await.unwrap_err();
    assert!(
        e.to_string().contains("does not offer eth_getWork") && e.to_string().contains(&url),
        "{e}"
    );
    let e = mine("http://127.0.0.1:9", 1, std::future::pending())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("cannot reach node"), "{e}");
}
