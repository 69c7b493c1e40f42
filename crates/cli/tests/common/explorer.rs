//! A chain worth exploring, for the explorer's page and browser tests: a
//! `tally dev` node with the explorer on a free port, an ERC-20 token
//! deployed and transferred, a transfer that reverts, and a document
//! stamped by the notary; the SQL index caught up with all of it.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use alloy_primitives::{address, Address, TxKind, B256, U256};
use alloy_sol_types::{sol, SolCall, SolConstructor};
use serde_json::json;
use sha2::Digest;

use crate::common::*;

sol! {
    contract ExplorerToken {
        constructor(string name_, string symbol_, uint256 initialSupply);
        function transfer(address to, uint256 value) external returns (bool);
    }
    interface ExplorerNotary {
        function stamp(bytes32[] documents, string label) external returns (bytes32 root);
    }
}

/// The notary system contract.
pub const NOTARY: Address = address!("0000000000000000000000000000000000001006");
/// The document the scene stamps.
pub const DOCUMENT: &[u8] = b"Tally explorer test: invoice 2024-0042, 1,234.50 EUR\n";
/// 1,234.5 TST in base units (18 decimals).
pub const AMOUNT: u128 = 1_234_500_000_000_000_000_000;

pub struct Scene {
    pub node: TestNode,
    pub alice: Wallet,
    pub bob: Wallet,
    pub token: Address,
    pub transfer_tx: B256,
    pub transfer_block: u64,
    pub transfer_block_hash: B256,
    pub failed_tx: B256,
    /// SHA-256 of [`DOCUMENT`].
    pub document: B256,
}

/// Starts the node and builds the scene; `extra` goes to `tally dev`.
pub async fn scene(extra: &[&str]) -> Scene {
    let node = TestNode::start_with(NodeOptions {
        explorer: true,
        extra_args: extra.iter().map(|s| s.to_string()).collect(),
        ..NodeOptions::default()
    });
    let rpc = node.rpc();
    let w = wallets(2);
    let (alice, bob) = (w[0].clone(), w[1].clone());

    let mut code = artifact("TestToken").bytecode.to_vec();
    code.extend(
        ExplorerToken::constructorCall {
            name_: "Test Token".into(),
            symbol_: "TST".into(),
            initialSupply: U256::from(1_000_000u64) * U256::from(10u64).pow(U256::from(18)),
        }
        .abi_encode(),
    );
    let deploy = alice.tx(0, TxKind::Create, U256::ZERO, code.into(), 3_000_000);
    let token = address(&rpc.send_and_mine(&deploy).await["contractAddress"]);

    let transfer = ExplorerToken::transferCall {
        to: bob.address,
        value: U256::from(AMOUNT),
    };
    let tx = alice.tx(
        1,
        TxKind::Call(token),
        U256::ZERO,
        transfer.abi_encode().into(),
        100_000,
    );
    let receipt = rpc.send_and_mine(&tx).await;
    let transfer_tx = *tx.tx_hash();

    // Bob sends more than he has: mined, and reverted.
    let too_much = ExplorerToken::transferCall {
        to: alice.address,
        value: U256::from(AMOUNT) * U256::from(2u64),
    };
    let bad = bob.tx(
        0,
        TxKind::Call(token),
        U256::ZERO,
        too_much.abi_encode().into(),
        100_000,
    );
    let failed_tx = rpc
        .send_raw(&bad)
        .await
        .expect("the node takes the reverting transfer");
    let failed = rpc.wait_receipt(failed_tx, Duration::from_secs(20)).await;
    assert_eq!(
        failed["status"], "0x0",
        "the oversized transfer should revert: {failed}"
    );

    let document = B256::from_slice(&sha2::Sha256::digest(DOCUMENT));
    let stamp = ExplorerNotary::stampCall {
        documents: vec![document],
        label: "invoices".into(),
    };
    let stamp_tx = alice.tx(
        2,
        TxKind::Call(NOTARY),
        U256::ZERO,
        stamp.abi_encode().into(),
        500_000,
    );
    let last = rpc.send_and_mine(&stamp_tx).await;

    wait_indexed(&rpc, quantity(&last["blockNumber"])).await;
    Scene {
        node,
        alice,
        bob,
        token,
        transfer_tx,
        transfer_block: quantity(&receipt["blockNumber"]),
        transfer_block_hash: b256(&receipt["blockHash"]),
        failed_tx,
        document,
    }
}

/// Waits until the SQL index holds block `n`.
pub async fn wait_indexed(rpc: &Rpc, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = rpc
            .ok(
                "tally_sql",
                json!(["SELECT coalesce(max(number), 0) FROM blocks"]),
            )
            .await;
        if answer["rows"][0][0].as_u64().unwrap_or(0) >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the index did not reach block {n}: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
