//! End to end: eth_getProof answers can be checked without trusting the
//! node. Proofs of accounts (contract, EOA, absent) and storage slots
//! (present, absent), at the latest and at an older block, verify against
//! the stateRoot of that block's header, and a tampered answer does not.

mod common;

use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use alloy_sol_types::{sol, SolCall};
use common::*;
use serde_json::{json, Value};

sol! {
    function setValue(uint256 newValue) external;
}
use tally_primitives::Account;
use tally_state::{AccountProof, StorageProof};

/// Rebuilds the node's proof from the eth_getProof JSON. An all-default
/// account is how the RPC shows an absent one.
fn proof_from_json(v: &Value, state_root: B256) -> AccountProof {
    let account = Account {
        nonce: quantity(&v["nonce"]),
        balance: u256(&v["balance"]),
        code_hash: b256(&v["codeHash"]),
    };
    let account_proof = v["accountProof"].as_array().expect("accountProof");
    assert_eq!(account_proof.len(), 1, "one jmt proof per key: {v}");
    let storage = v["storageProof"]
        .as_array()
        .expect("storageProof")
        .iter()
        .map(|s| {
            let p = s["proof"].as_array().expect("proof");
            assert_eq!(p.len(), 1, "{s}");
            StorageProof {
                slot: b256(&s["key"]),
                value: u256(&s["value"]),
                proof: bytes(&p[0]),
            }
        })
        .collect();
    AccountProof {
        address: address(&v["address"]),
        account: (account != Account::default()).then_some(account),
        proof: bytes(&account_proof[0]),
        storage,
        root: state_root,
    }
}

async fn proof_at(rpc: &Rpc, who: Address, slots: &[B256], block: u64) -> (AccountProof, Value) {
    let n = format!("{block:#x}");
    let header = rpc.ok("eth_getBlockByNumber", json!([n, false])).await;
    let root = b256(&header["stateRoot"]);
    let v = rpc.ok("eth_getProof", json!([who, slots, n])).await;
    (proof_from_json(&v, root), v)
}

#[tokio::test(flavor = "multi_thread")]
async fn proofs_verify_against_block_state_roots() {
    let node = TestNode::start();
    let rpc = node.rpc();
    let w = wallets(2);
    // Tester(5): slot 0 holds `value`.
    let mut code = artifact("Tester").bytecode.to_vec();
    code.extend_from_slice(&U256::from(5u64).to_be_bytes::<32>());
    let r = rpc
        .send_and_mine(&w[0].tx(0, TxKind::Create, U256::ZERO, code.into(), 1_000_000))
        .await;
    let tester = address(&r["contractAddress"]);
    let deploy_block = quantity(&r["blockNumber"]);
    // setValue(7)
    let data = setValueCall {
        newValue: U256::from(7u64),
    }
    .abi_encode();
    let r = rpc
        .send_and_mine(&w[0].tx(
            1,
            TxKind::Call(tester),
            U256::ZERO,
            Bytes::from(data),
            100_000,
        ))
        .await;
    let set_block = quantity(&r["blockNumber"]);
    let value_slot = B256::ZERO;
    let absent_slot = B256::with_last_byte(0x77);

    for (block, expected) in [(deploy_block, 5u64), (set_block, 7)] {
        let (proof, v) = proof_at(&rpc, tester, &[value_slot, absent_slot], block).await;
        proof
            .verify(&proof.root)
            .unwrap_or_else(|e| panic!("proof of {tester} at block {block} invalid: {e}\n{v}"));
        assert_eq!(proof.storage[0].value, U256::from(expected), "{v}");
        assert_eq!(proof.storage[1].value, U256::ZERO, "{v}");
        assert_eq!(proof.account.as_ref().map(|a| a.nonce), Some(1));

        // Tampering with any answer breaks verification.
        let mut bad = proof.clone();
        bad.storage[0].value += U256::from(1u64);
        assert!(bad.verify(&proof.root).is_err(), "tampered slot verified");
        let mut bad = proof.clone();
        if let Some(a) = bad.account.as_mut() {
            a.balance += U256::from(1u64);
        }
        assert!(
            bad.verify(&proof.root).is_err(),
            "tampered balance verified"
        );
    }
    // The old proof does not verify against the new root.
    let (old, _) = proof_at(&rpc, tester, &[value_slot], deploy_block).await;
    let (new, _) = proof_at(&rpc, tester, &[value_slot], set_block).await;
    assert_ne!(old.root, new.root);
    assert!(old.verify(&new.root).is_err(), "stale proof verified");

    // An EOA and an account that does not exist.
    let (eoa, v) = proof_at(&rpc, w[1].address, &[], set_block).await;
    eoa.verify(&eoa.root)
        .unwrap_or_else(|e| panic!("EOA proof invalid: {e}\n{v}"));
    assert_eq!(
        eoa.account.map(|a| a.balance),
        Some(U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18)))
    );
    let nobody = Address::repeat_byte(0xab);
    let (absent, v) = proof_at(&rpc, nobody, &[value_slot], set_block).await;
    assert!(absent.account.is_none(), "{v}");
    absent
        .verify(&absent.root)
        .unwrap_or_else(|e| panic!("absence proof invalid: {e}\n{v}"));
}
