//! Blocks produced by one node import on another with identical roots, and a
//! tampered block is refused without touching the chain.

use alloy_consensus::TxEip1559;
use alloy_eips::eip2718::Encodable2718;
use jsonrpsee::{core::client::ClientT, http_client::HttpClientBuilder, rpc_params};
use std::{collections::BTreeMap, time::Duration};
use tally_crypto::node_key::NodeKey;
use tally_node::{ImportError, Imported, Node, NodeConfig};
use tally_primitives::{
    alloy_primitives::TxKind, Address, ChainSpec, EngineSpec, GenesisAccount, B256, U256,
};

fn spec() -> ChainSpec {
    spec_with(None)
}

fn spec_with(authority: Option<B256>) -> ChainSpec {
    let alloc: BTreeMap<Address, GenesisAccount> = tally_crypto::mnemonic::dev_accounts(4)
        .into_iter()
        .map(|(_, a)| {
            (
                a,
                GenesisAccount {
                    balance: U256::from(10u128.pow(24)),
                    ..Default::default()
                },
            )
        })
        .collect();
    let mut spec = ChainSpec::dev(alloc, 0);
    spec.engine = EngineSpec::Dev {
        block_time_ms: 0,
        authority,
    };
    spec
}

async fn start(dir: &std::path::Path) -> Node {
    start_with(dir, spec(), None).await
}

async fn start_with(dir: &std::path::Path, spec: ChainSpec, key: Option<NodeKey>) -> Node {
    Node::start(NodeConfig {
        datadir: dir.to_path_buf(),
        spec,
        rpc_addr: "127.0.0.1:0".parse().unwrap(),
        rpc_limits: Default::default(),
        beneficiary: Address::repeat_byte(0xbe),
        dev_block_time_ms: None,
        node_key: key,
        network: None,
        mining: None,
        index: false,
    })
    .await
    .unwrap()
}

async fn send_transfers(node: &Node, rounds: u64) {
    let client = HttpClientBuilder::default()
        .build(format!("http://{}", node.rpc_addr()))
        .unwrap();
    let keys = tally_crypto::mnemonic::dev_accounts(4);
    for nonce in 0..rounds {
        for (i, (key, _)) in keys.iter().enumerate() {
            let tx = TxEip1559 {
                chain_id: 31337,
                nonce,
                gas_limit: 21_000,
                max_fee_per_gas: 2_000_000_000,
                max_priority_fee_per_gas: 1_000_000_000,
                to: TxKind::Call(Address::repeat_byte(i as u8 + 1)),
                value: U256::from(1000 + nonce),
                ..Default::default()
            };
            let raw = tally_crypto::sign_transaction(key, tx).encoded_2718();
            let _: B256 = client
                .request(
                    "eth_sendRawTransaction",
                    rpc_params![alloy_primitives::hex::encode_prefixed(raw)],
                )
                .await
                .unwrap();
        }
    }
}

async fn wait_mined(node: &Node, count: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let head = node.db().head().unwrap();
        let mined: usize = (1..=head.number)
            .map(|n| {
                node.db()
                    .block_by_number(n)
                    .unwrap()
                    .unwrap()
                    .transactions
                    .len()
            })
            .sum();
        if mined == count {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {mined} of {count} transactions mined"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authority_chain_blocks_are_signed_and_verified_by_followers() {
    let key = NodeKey::from_bytes(&[42u8; 32]);
    let authority = B256::from(key.public().to_bytes());
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let producer = start_with(dir_a.path(), spec_with(Some(authority)), Some(key)).await;
    let follower = start_with(dir_b.path(), spec_with(Some(authority)), None).await;
    // Different engine rules mean a different chain spec and genesis.
    let plain = tempfile::tempdir().unwrap();
    let other = start(plain.path()).await;
    assert_ne!(other.genesis().hash, producer.genesis().hash);
    other.stop().await;

    send_transfers(&producer, 2).await;
    wait_mined(&producer, 8).await;
    // A follower holding transactions never builds: it is not the authority.
    send_transfers(&follower, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(follower.db().head().unwrap().number, 0);

    let first = producer.db().block_by_number(1).unwrap().unwrap();
    assert_eq!(first.header.seal.len(), 64);
    // The same block re-sealed by someone else is refused.
    let mut forged = first.to_block();
    let stranger = NodeKey::from_bytes(&[9u8; 32]);
    forged.header.seal = stranger
        .sign(forged.header.seal_hash().as_slice())
        .to_bytes()
        .to_vec()
        .into();
    let err = follower.import_block(forged).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("not signed by the chain's authority"),
        "{err}"
    );

    let head = producer.db().head().unwrap();
    for n in 1..=head.number {
        let block = producer.db().block_by_number(n).unwrap().unwrap();
        follower.import_block(block.to_block()).await.unwrap();
    }
    assert_eq!(follower.db().head().unwrap(), head);
    producer.stop().await;
    follower.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produced_blocks_import_elsewhere_with_identical_roots() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start(dir_a.path()).await;
    let b = start(dir_b.path()).await;
    assert_eq!(a.genesis(), b.genesis());

    send_transfers(&a, 5).await;
    wait_mined(&a, 20).await;

    let head_a = a.db().head().unwrap();
    // A block whose state root lies is refused, and the chain is untouched.
    let mut forged = a.db().block_by_number(1).unwrap().unwrap().to_block();
    forged.header.state_root = B256::repeat_byte(7);
    let err = b.import_block(forged).await.unwrap_err();
    assert!(
        matches!(
            err,
            ImportError::Mismatch {
                field: "state root",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(b.db().head().unwrap().number, 0);

    for n in 1..=head_a.number {
        let block = a.db().block_by_number(n).unwrap().unwrap();
        let imported = b.import_block(block.to_block()).await.unwrap();
        assert_eq!(imported, Imported::Canonical(Box::new(block.clone())));
    }
    let head_b = b.db().head().unwrap();
    assert_eq!(head_b, head_a);
    let acct = |node: &Node, who| node.db().latest_state().unwrap().account(&who).unwrap();
    for i in 1..=4u8 {
        assert_eq!(
            acct(&a, Address::repeat_byte(i)),
            acct(&b, Address::repeat_byte(i))
        );
    }
    // Re-importing a block that is already in the chain changes nothing.
    let again = a.db().block_by_number(1).unwrap().unwrap().to_block();
    assert_eq!(b.import_block(again).await.unwrap(), Imported::Known);
    assert_eq!(b.db().head().unwrap(), head_b);
    a.stop().await;
    b.stop().await;
}
