//! The notary through the executor: batches stamped under their Merkle
//! root, the commitments the offline checker recomputes, revocations and
//! refusals.

use super::assets::dev_chain;
use super::chain::{revert_reason, user, Chain, User};
use alloy_primitives::{keccak256, B256, U256};
use alloy_sol_types::{SolCall, SolEvent};
use tally_executor::{
    system::{self, abi::ITallyNotary as N, NOTARY},
    StateSource,
};
use tally_primitives::merkle;
use tally_verify::records::notary::{
    batch_slot, record_commitment, revocation_commitment, revocation_slot,
};

fn docs(n: usize, seed: u8) -> Vec<B256> {
    (0..n)
        .map(|i| keccak256([&[seed][..], &(i as u64).to_be_bytes()].concat()))
        .collect()
}

fn slot(chain: &Chain, at: U256) -> B256 {
    chain.state.storage(&NOTARY, &at).unwrap().into()
}

fn stamp_tx(
    chain: &Chain,
    from: &User,
    documents: Vec<B256>,
    label: &str,
) -> (alloy_consensus::TxEnvelope, alloy_primitives::Address) {
    let c = N::stampCall {
        documents,
        label: label.into(),
    };
    (
        chain.tx(from, Some(NOTARY), c.abi_encode(), 10_000_000),
        from.address,
    )
}

#[test]
fn a_stamp_commits_to_its_batch_and_logs_every_document() {
    let mut chain = dev_chain();
    let alice = user(1);
    let documents = docs(5, 1);
    let root = merkle::root(&documents);
    let out = chain.block(vec![stamp_tx(
        &chain,
        &alice,
        documents.clone(),
        "invoices",
    )]);
    let receipt = &out.receipts[0];
    assert!(receipt.success);
    let (block, timestamp) = (chain.number, 1000 + chain.number - 1);

    // The slot the checker reads holds the record's commitment.
    assert_eq!(
        slot(&chain, batch_slot(root)),
        record_commitment(alice.address, timestamp, block, 5, "invoices")
    );
    // The views agree with it.
    let r = system::notary::batch(&chain.state, root).unwrap().unwrap();
    assert_eq!(
        (
            r.submitter,
            r.timestamp,
            r.block_number,
            r.count,
            r.label.as_str()
        ),
        (alice.address, timestamp, block, 5, "invoices")
    );
    let v = chain.view(NOTARY, N::batchCall { root });
    assert_eq!(
        (v.submitter, v.timestamp, v.blockNumber, v.count, v.label),
        (alice.address, timestamp, block, 5, "invoices".to_string())
    );
    assert_eq!(
        chain.view(
            NOTARY,
            N::merkleRootCall {
                documents: documents.clone()
            }
        ),
        root
    );

    // Stamped once, then Notarized per document in order.
    assert_eq!(receipt.logs.len(), 1 + documents.len());
    let stamped = N::Stamped::decode_log(&receipt.logs[0]).unwrap();
    assert_eq!(stamped.root, root);
    assert_eq!(stamped.submitter, alice.address);
    assert_eq!((stamped.count, stamped.label.as_str()), (5, "invoices"));
    for (i, (log, d)) in receipt.logs[1..].iter().zip(&documents).enumerate() {
        let n = N::Notarized::decode_log(log).unwrap();
        assert_eq!(log.address, NOTARY);
        assert_eq!((n.document, n.root, n.index), (*d, root, i as u64));
        // Each document's inclusion proof checks against the root.
        assert!(merkle::proof(&documents, i).unwrap().verify(&root, d));
    }

    // Unknown batches read as nothing / zeros.
    let other = B256::repeat_byte(9);
    assert!(system::notary::batch(&chain.state, other)
        .unwrap()
        .is_none());
    assert_eq!(chain.view(NOTARY, N::batchCall { root: other }).count, 0);
}

#[test]
fn a_batch_is_stamped_once() {
    let mut chain = dev_chain();
    let documents = docs(3, 2);
    let root = merkle::root(&documents);
    assert!(
        chain
            .block(vec![stamp_tx(&chain, &user(1), documents.clone(), "")])
            .receipts[0]
            .success
    );
    let block = chain.number;
    // Anyone's second stamp of it is refused with the first block.
    let c = N::stampCall {
        documents: documents.clone(),
        label: "again".into(),
    };
    let reason = chain.revert_of(user(2).address, NOTARY, c);
    assert_eq!(
        reason,
        format!("batch {root} is already stamped in block {block}")
    );
    let out = chain.block(vec![stamp_tx(&chain, &user(2), documents, "again")]);
    assert!(!out.receipts[0].success);
    assert!(out.receipts[0].logs.is_empty());
    let r = system::notary::batch(&chain.state, root).unwrap().unwrap();
    assert_eq!((r.submitter, r.label.as_str()), (user(1).address, ""));
    // A different order is a different batch.
    let mut reordered = docs(3, 2);
    reordered.swap(0, 1);
    assert!(
        chain
            .block(vec![stamp_tx(&chain, &user(2), reordered, "")])
            .receipts[0]
            .success
    );
}

#[test]
fn stamps_that_make_no_sense_are_refused() {
    let chain = dev_chain();
    let a = user(1).address;
    let reason = |documents: Vec<B256>, label: &str| {
        chain.revert_of(
            a,
            NOTARY,
            N::stampCall {
                documents,
                label: label.into(),
            },
        )
    };
    assert!(reason(vec![], "").contains("at least one document"));
    let mut with_zero = docs(4, 3);
    with_zero[2] = B256::ZERO;
    let r = reason(with_zero, "");
    assert!(
        r.contains("document 2 of the batch is the zero hash"),
        "{r}"
    );
    let r = reason(docs(1, 3), &"x".repeat(257));
    assert!(r.contains("at most 256 bytes, not 257"), "{r}");
    let r = reason(docs(20_001, 3), "");
    assert!(r.contains("at most 20000 documents, not 20001"), "{r}");
}

#[test]
fn a_submitter_revokes_and_supersedes_its_documents() {
    let mut chain = dev_chain();
    let (alice, bob) = (user(1), user(2));
    let documents = docs(2, 4);
    assert!(
        chain
            .block(vec![stamp_tx(
                &chain,
                &alice,
                documents.clone(),
                "contracts"
            )])
            .receipts[0]
            .success
    );

    // Nothing is revoked yet: the slot is absent.
    assert!(slot(&chain, revocation_slot(alice.address, documents[0])).is_zero());
    let v = chain.view(
        NOTARY,
        N::revocationCall {
            submitter: alice.address,
            document: documents[0],
        },
    );
    assert!(!v.revoked && v.blockNumber == 0);

    let tx = chain.sys_tx(
        &alice,
        NOTARY,
        N::revokeCall {
            document: documents[0],
            reason: "signed in error".into(),
        },
    );
    let out = chain.block(vec![(tx, alice.address)]);
    assert!(out.receipts[0].success);
    let (block, timestamp) = (chain.number, 1000 + chain.number - 1);
    let ev = N::Revoked::decode_log(&out.receipts[0].logs[0]).unwrap();
    assert_eq!(
        (
            ev.document,
            ev.submitter,
            ev.replacement,
            ev.reason.as_str()
        ),
        (documents[0], alice.address, B256::ZERO, "signed in error")
    );
    assert_eq!(
        slot(&chain, revocation_slot(alice.address, documents[0])),
        revocation_commitment(block, timestamp, B256::ZERO, "signed in error")
    );
    let r = system::notary::revocation(&chain.state, alice.address, documents[0])
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            r.block_number,
            r.timestamp,
            r.replacement,
            r.reason.as_str()
        ),
        (block, timestamp, B256::ZERO, "signed in error")
    );
    let v = chain.view(
        NOTARY,
        N::revocationCall {
            submitter: alice.address,
            document: documents[0],
        },
    );
    assert!(v.revoked);
    assert_eq!((v.blockNumber, v.timestamp), (block, timestamp));
    // Another submitter's statement is its own: Bob revoked nothing.
    assert!(
        system::notary::revocation(&chain.state, bob.address, documents[0])
            .unwrap()
            .is_none()
    );
    // Once only.
    let reason = chain.revert_of(
        alice.address,
        NOTARY,
        N::supersedeCall {
            document: documents[0],
            replacement: B256::repeat_byte(5),
            reason: String::new(),
        },
    );
    assert!(
        reason.contains(&format!("already revoked in block {block}")),
        "{reason}"
    );

    // Supersede the other one.
    let replacement = B256::repeat_byte(0x77);
    let reason = chain.revert_of(
        alice.address,
        NOTARY,
        N::supersedeCall {
            document: documents[1],
            replacement: B256::ZERO,
            reason: String::new(),
        },
    );
    assert!(reason.contains("non-zero replacement"), "{reason}");
    assert!(chain.send(
        &alice,
        NOTARY,
        N::supersedeCall {
            document: documents[1],
            replacement,
            reason: "v2".into(),
        }
    ));
    let (block, timestamp) = (chain.number, 1000 + chain.number - 1);
    assert_eq!(
        slot(&chain, revocation_slot(alice.address, documents[1])),
        revocation_commitment(block, timestamp, replacement, "v2")
    );
    let r = system::notary::revocation(&chain.state, alice.address, documents[1])
        .unwrap()
        .unwrap();
    assert_eq!((r.replacement, r.reason.as_str()), (replacement, "v2"));
    let reason = chain.revert_of(
        alice.address,
        NOTARY,
        N::revokeCall {
            document: documents[1],
            reason: "r".repeat(300),
        },
    );
    assert!(reason.contains("at most 256 bytes"), "{reason}");
}

#[test]
fn gas_of_a_stamp_of_a_thousand_documents() {
    let mut chain = dev_chain();
    let documents = docs(1_000, 6);
    let out = chain.block(vec![stamp_tx(&chain, &user(1), documents.clone(), "bulk")]);
    let receipt = &out.receipts[0];
    assert!(receipt.success);
    assert_eq!(receipt.logs.len(), 1_001);
    println!("stamp of 1,000 documents: {} gas", receipt.gas_used);
    // Dominated by the logs (about 1,750 each) and calldata (512 a hash).
    assert!(
        (2_000_000..3_000_000).contains(&receipt.gas_used),
        "{}",
        receipt.gas_used
    );
    // Gas above the calldata floor but short of the logs halts out of gas.
    let c = N::stampCall {
        documents: docs(1_000, 7),
        label: String::new(),
    };
    let out = chain.call_raw(user(1).address, NOTARY, c.abi_encode(), Some(1_500_000));
    assert!(!out.success && !out.reverted, "{out:?}");
    assert!(revert_reason(&out).is_none());
}
