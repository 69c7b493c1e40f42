//! A block holds the gas its transactions use, not the gas limits their
//! senders set: a producer that packed by limits would fit four of these
//! transfers (limit 100,000, use 21,000) in a 420,000-gas block. A sender
//! whose next transaction no longer fits keeps the rest for the next block,
//! with none lost.

mod common;

use alloy_consensus::TxEip1559;
use common::*;
use std::collections::BTreeMap;
use tally_node::Node;
use tally_primitives::{alloy_primitives::TxKind, Address, B256, U256};

const BLOCK_GAS: u64 = 420_000;
const TX_GAS_LIMIT: u64 = 100_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_pack_by_gas_used_and_lose_no_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = authority_spec(1000);
    spec.gas_limit = BLOCK_GAS;
    let node = Node::start(config(dir.path(), spec, producer_key(), None))
        .await
        .unwrap();

    let raws: Vec<_> = (0..2)
        .flat_map(|from| {
            (0..10).map(move |nonce| {
                sign(
                    from,
                    TxEip1559 {
                        nonce,
                        gas_limit: TX_GAS_LIMIT,
                        to: TxKind::Call(Address::repeat_byte(0x77)),
                        value: U256::from(1u64),
                        ..Default::default()
                    },
                )
            })
        })
        .collect();
    let hashes: Vec<B256> = node
        .submit_transactions(&raws)
        .into_iter()
        .map(|r| r.expect("admitted"))
        .collect();

    wait_for("all 20 transfers mined", 30, || {
        hashes
            .iter()
            .all(|h| node.db().tx_location(*h).unwrap().is_some())
    })
    .await;

    let head = node.head().number;
    let mut per_block = Vec::new();
    let mut seen: BTreeMap<B256, u64> = BTreeMap::new();
    for n in 1..=head {
        let block = node.db().block_by_number(n).unwrap().unwrap();
        assert!(block.header.gas_used <= BLOCK_GAS, "block {n} over its gas");
        for tx in &block.transactions {
            assert!(seen.insert(*tx.tx_hash(), n).is_none(), "mined twice");
        }
        per_block.push(block.transactions.len());
    }
    assert_eq!(seen.len(), 20, "every transfer mined once: {per_block:?}");
    let most = per_block.iter().copied().max().unwrap();
    assert!(
        most > (BLOCK_GAS / TX_GAS_LIMIT) as usize,
        "blocks packed by gas limit: {per_block:?}"
    );
    // Each sender's transfers in nonce order across blocks.
    for from in 0..2 {
        let blocks: Vec<u64> = hashes[from * 10..from * 10 + 10]
            .iter()
            .map(|h| seen[h])
            .collect();
        assert!(blocks.windows(2).all(|w| w[0] <= w[1]), "{blocks:?}");
    }
    node.stop().await;
}
