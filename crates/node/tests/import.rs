//! Blocks produced by one node import on another with identical roots, and a
//! tampered block is refused without touching the chain.

use alloy_consensus::TxEip1559;
use alloy_eips::eip2718::Encodable2718;
use jsonrpsee::{core::client::ClientT, http_client::HttpClientBuilder, rpc_params};
use std::{collections::BTreeMap, time::Duration};
use tally_node::{ImportError, Node, NodeConfig};
use tally_primitives::{alloy_primitives::TxKind, Address, ChainSpec, GenesisAccount, B256, U256};

fn spec() -> ChainSpec {
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
    ChainSpec::dev(alloc, 0)
}

async fn start(dir: &std::path::Path) -> Node {
    Node::start(NodeConfig {
        datadir: dir.to_path_buf(),
        spec: spec(),
        rpc_addr: "127.0.0.1:0".parse().unwrap(),
        beneficiary: Address::repeat_byte(0xbe),
        dev_block_time_ms: None,
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produced_blocks_import_elsewhere_with_identical_roots() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start(dir_a.path()).await;
    let b = start(dir_b.path()).await;
    assert_eq!(a.genesis(), b.genesis());

    let client = HttpClientBuilder::default()
        .build(format!("http://{}", a.rpc_addr()))
        .unwrap();
    let keys = tally_crypto::mnemonic::dev_accounts(4);
    for nonce in 0..5u64 {
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
    // Wait until all 20 transactions are mined.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let head = a.db().head().unwrap();
        let mined: usize = (1..=head.number)
            .map(|n| {
                a.db()
                    .block_by_number(n)
                    .unwrap()
                    .unwrap()
                    .transactions
                    .len()
            })
            .sum();
        if mined == 20 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {mined} of 20 transactions mined"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

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
        assert_eq!(imported.hash(), block.hash());
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
    // Re-importing a block that is already in the chain is refused.
    let again = a.db().block_by_number(1).unwrap().unwrap().to_block();
    assert!(matches!(
        b.import_block(again).await,
        Err(ImportError::NotOnHead { .. })
    ));
    a.stop().await;
    b.stop().await;
}
