//! Proofs that must be refused, and the words of the refusal: each names
//! what failed.

mod common;

use alloy_primitives::{Bytes, B256, U256};
use common::*;
use tally_primitives::{ChainSpec, Header};
use tally_verify::{check, pow::POW_LIMIT_BITS, CheckOptions, Claim, Finality, Proof, VerifyError};

fn err(proof: &Proof, spec: &ChainSpec) -> String {
    match check(proof, spec, &CheckOptions::default()) {
        Ok(v) => panic!("accepted: {v:?}"),
        Err(e) => e.to_string(),
    }
}

struct Fixture {
    w: World,
    key: ed25519_dalek::SigningKey,
    spec: ChainSpec,
    header: Header,
}

fn fixture() -> Fixture {
    let w = world(5, 100);
    let key = ed_key(1);
    let spec = authority_spec(&key);
    let header = authority_sealed(header(&w, NUMBER, B256::ZERO, Bytes::new()), &key);
    Fixture {
        w,
        key,
        spec,
        header,
    }
}

impl Fixture {
    fn proof(&self, claim: Claim) -> Proof {
        make_proof(&self.spec, claim, &self.header, Finality::Authority)
    }
}

#[test]
fn envelope() {
    let f = fixture();
    let good = f.proof(tx_claim(&f.w, 0, false));
    let mut p = good.clone();
    p.format = "tally-proof/2".into();
    assert_eq!(
        err(&p, &f.spec),
        "unknown proof format \"tally-proof/2\", expected \"tally-proof/1\""
    );
    let mut p = good.clone();
    p.chain_id = 1;
    assert_eq!(
        err(&p, &f.spec),
        "the proof is for chain id 1, the chain spec for chain id 4242"
    );
    let mut other = f.spec.clone();
    other.gas_limit += 1;
    assert_eq!(
        err(&good, &other),
        format!(
            "the proof was made for chain spec {}, not {} (the spec given)",
            f.spec.hash(),
            other.hash()
        )
    );
    let mut p = good.clone();
    let mut bytes = p.header.to_vec();
    bytes.push(0);
    p.header = Bytes::from(bytes);
    assert!(err(&p, &f.spec)
        .starts_with("the proof's header: the header bytes are not a valid RLP header"));
    p.header = Bytes::new();
    assert!(err(&p, &f.spec)
        .starts_with("the proof's header: the header bytes are not a valid RLP header"));
}

#[test]
fn transactions_and_receipts() {
    let f = fixture();
    let Claim::Transaction(mut tx) = tx_claim(&f.w, 0, true) else {
        unreachable!()
    };
    let root = f.header.transactions_root;
    let mut moved = tx.clone();
    moved.path.index = 1;
    assert_eq!(
        err(&f.proof(Claim::Transaction(moved)), &f.spec),
        format!(
            "the transaction's Merkle path does not lead to the header's transactions root {root}"
        )
    );
    let Claim::Transaction(other) = tx_claim(&f.w, 1, true) else {
        unreachable!()
    };
    tx.raw = other.raw;
    let e = err(&f.proof(Claim::Transaction(tx.clone())), &f.spec);
    assert!(e.starts_with("the raw transaction hashes to"), "{e}");
    // Bytes that hash right but do not decode cannot be built; garbage
    // under its own hash is refused by the path instead.
    let Claim::Receipt(r) = receipt_claim(&f.w, 1) else {
        unreachable!()
    };
    let mut shifted = r.clone();
    shifted.path = tally_primitives::merkle::proof(
        &f.w.receipts
            .iter()
            .map(|r| r.leaf_hash())
            .collect::<Vec<_>>(),
        2,
    )
    .unwrap();
    assert_eq!(
        err(&f.proof(Claim::Receipt(shifted)), &f.spec),
        "the receipt's path is for position 2 of 3, the transaction's for position 1 of 3: \
         they must be the same"
    );
    let mut wrong = r.clone();
    wrong.receipt = Bytes::from(alloy_rlp::encode(&f.w.receipts[0]));
    assert_eq!(
        err(&f.proof(Claim::Receipt(wrong)), &f.spec),
        format!(
            "the receipt's Merkle path does not lead to the header's receipts root {}",
            f.header.receipts_root
        )
    );
}

#[test]
fn state_claims() {
    let f = fixture();
    let Claim::Account(mut a) = account_claim(&f.w, ALICE) else {
        unreachable!()
    };
    if let Some(acc) = a.account.as_mut() {
        acc.balance += U256::from(1u8);
    }
    let e = err(&f.proof(Claim::Account(a)), &f.spec);
    assert!(
        e.starts_with(&format!(
            "the proof of account {ALICE} does not check against the header's state root {}: the proof's leaf holds a value with hash",
            f.w.state_root
        )),
        "{e}"
    );
    // Claiming an account absent when it exists.
    let Claim::Account(mut gone) = account_claim(&f.w, ALICE) else {
        unreachable!()
    };
    gone.account = None;
    assert!(err(&f.proof(Claim::Account(gone)), &f.spec).contains("account"));
    let Claim::Storage(mut s) = storage_claim(&f.w) else {
        unreachable!()
    };
    s.slots[1].value = U256::from(1u8);
    let e = err(&f.proof(Claim::Storage(s.clone())), &f.spec);
    assert!(
        e.starts_with(&format!(
            "the proof of slot {} of {CONTRACT}",
            s.slots[1].slot
        )),
        "{e}"
    );
    s.slots.clear();
    assert_eq!(
        err(&f.proof(Claim::Storage(s)), &f.spec),
        format!("the storage claim for {CONTRACT} lists no slots")
    );
    let Claim::Account(mut junk) = account_claim(&f.w, ALICE) else {
        unreachable!()
    };
    junk.proof = Bytes::from_static(&[1, 2, 3]);
    assert!(err(&f.proof(Claim::Account(junk)), &f.spec).contains(": undecodable: "));
}

#[test]
fn notary_claims() {
    let f = fixture();
    let Claim::Notary(n) = notary_claim(&f.w, REVOKED) else {
        unreachable!()
    };
    // Hiding the revocation: the slot is not empty.
    let mut hidden = n.clone();
    hidden.revocation = None;
    let e = err(&f.proof(Claim::Notary(hidden)), &f.spec);
    assert!(
        e.starts_with(&format!(
            "the proof of the notary's revocation slot of document {} by {}",
            n.document,
            sender()
        )),
        "{e}"
    );
    let mut relabeled = n.clone();
    relabeled.record.label.push('!');
    let e = err(&f.proof(Claim::Notary(relabeled)), &f.spec);
    assert!(
        e.starts_with(&format!(
            "the proof of the notary's record of batch {}",
            n.root
        )),
        "{e}"
    );
    let mut other_doc = n.clone();
    other_doc.document = f.w.documents[0];
    assert_eq!(
        err(&f.proof(Claim::Notary(other_doc)), &f.spec),
        format!(
            "document {}'s Merkle path does not lead to the batch root {}",
            f.w.documents[0], n.root
        )
    );
    let mut counted = n.clone();
    counted.record.count += 1;
    assert_eq!(
        err(&f.proof(Claim::Notary(counted)), &f.spec),
        "the document's path is for a batch of 5 documents, the batch record says 6"
    );
    // A made-up revocation of a live document.
    let Claim::Notary(mut live) = notary_claim(&f.w, 0) else {
        unreachable!()
    };
    live.revocation = f.w.revocations.get(&REVOKED).cloned();
    assert!(err(&f.proof(Claim::Notary(live)), &f.spec).contains("revocation slot"));
    // A document given for a claim about something else.
    let p = f.proof(tx_claim(&f.w, 0, false));
    let opts = CheckOptions {
        document: Some(B256::ZERO),
        ..Default::default()
    };
    assert_eq!(
        check(&p, &f.spec, &opts).unwrap_err(),
        VerifyError::DocumentNotApplicable {
            kind: "transaction"
        }
    );
}

#[test]
fn trace_claims() {
    let f = fixture();
    let Claim::Trace(t) = trace_claim(&f.w) else {
        unreachable!()
    };
    // Dropping the last event, or changing one, breaks the chain.
    let mut short = t.clone();
    short.events.pop();
    let e = err(&f.proof(Claim::Trace(short)), &f.spec);
    assert!(
        e.starts_with("the proof of product \"SKU-7/lot 42\"'s history"),
        "{e}"
    );
    let mut moved = t.clone();
    moved.events[0].location = "Antwerp".into();
    assert!(err(&f.proof(Claim::Trace(moved)), &f.spec).contains("history"));
}

#[test]
fn dev_authority() {
    let f = fixture();
    let claim = || tx_claim(&f.w, 0, false);
    let stranger = ed_key(9);
    let forged = authority_sealed(f.header.clone(), &stranger);
    let p = make_proof(&f.spec, claim(), &forged, Finality::Authority);
    assert_eq!(
        err(&p, &f.spec),
        format!(
            "the header's seal is not the dev authority's signature (authority {})",
            ed_public(&f.key)
        )
    );
    let mut unsealed = f.header.clone();
    unsealed.seal = Bytes::new();
    let p = make_proof(&f.spec, claim(), &unsealed, Finality::Authority);
    assert_eq!(
        err(&p, &f.spec),
        "the header's seal is 0 bytes, not a 64-byte ed25519 signature"
    );
    let dev = dev_spec();
    let p = make_proof(&dev, claim(), &f.header, Finality::Authority);
    assert_eq!(
        err(&p, &dev),
        "chain spec \"verify-dev\" names no dev authority: its blocks carry no seal to check"
    );
    let bft = bft_spec(&[ed_key(1)]);
    let p = make_proof(&bft, claim(), &f.header, Finality::Authority);
    assert_eq!(
        err(&p, &bft),
        "the proof carries dev-authority finality, but chain spec \"verify-bft\" runs BFT consensus"
    );
}

#[test]
fn bft() {
    let w = world(3, 20);
    let a: Vec<_> = (1..=4).map(ed_key).collect();
    let b: Vec<_> = (11..=14).map(ed_key).collect();
    let spec = bft_spec(&a);
    let h = bft_header(&w, NUMBER, &b);
    let claim = || tx_claim(&w, 0, false);
    let with = |finality: Finality| make_proof(&spec, claim(), &h, finality);
    let good = bft_finality(&w, &a, &b, &b[..3], 5, &h);
    let Finality::Bft {
        certificate,
        validator_set_changes,
    } = good.clone()
    else {
        unreachable!()
    };
    check(&with(good), &spec, &CheckOptions::default()).unwrap();

    let two = bft_finality(&w, &a, &b, &b[..2], 5, &h);
    assert_eq!(
        err(&with(two), &spec),
        "block 12's certificate: certificate for height 12 carries power 2 of 4, below the \
         quorum 3 (more than two thirds)"
    );
    let mut wrong = certificate.clone();
    wrong.block_hash = B256::repeat_byte(1);
    let e = err(
        &with(Finality::Bft {
            certificate: wrong,
            validator_set_changes: validator_set_changes.clone(),
        }),
        &spec,
    );
    assert!(
        e.starts_with("block 12's certificate: certificate is for height 12 block 0x0101"),
        "{e}"
    );

    let change = |edit: &dyn Fn(&mut Vec<tally_verify::ValidatorSetChange>)| {
        let mut changes = validator_set_changes.clone();
        edit(&mut changes);
        err(
            &with(Finality::Bft {
                certificate: certificate.clone(),
                validator_set_changes: changes,
            }),
            &spec,
        )
    };
    assert_eq!(
        change(&|c| c[0].certified_parent = None),
        "validator-set change at height 5 has no certified header of block 4"
    );
    assert_eq!(
        change(&|c| c[0].height = 13),
        "validator-set change at height 13 is out of order (after height 1, for block 12)"
    );
    assert_eq!(
        change(&|c| c[0].height = 6),
        "validator-set change at height 6 carries block 4 instead of block 5"
    );
    assert_eq!(
        change(&|c| {
            let dup = c[0].clone();
            c.push(dup)
        }),
        "validator-set change at height 5 is out of order (after height 5, for block 12)"
    );
    let e = change(&|c| {
        if let Some(p) = c[0].certified_parent.as_mut() {
            p.certificate.signatures.truncate(2);
        }
    });
    assert!(
        e.starts_with("validator-set change at height 5: block 4's certificate: certificate for height 4 carries power 2 of 4"),
        "{e}"
    );
    assert_eq!(
        change(&|c| c[0].validators.clear()),
        "validator-set change at height 5: the validator set is empty"
    );
    let pow = pow_spec(POW_LIMIT_BITS, 1);
    let p = make_proof(&pow, claim(), &h, validator_finality(&certificate));
    assert_eq!(
        err(&p, &pow),
        "the proof carries BFT finality, but chain spec \"verify-pow\" runs proof of work"
    );
}

/// The set at height 1 is the spec's: a proof may restate it as a first
/// change at height 1 (older proofs do), but only as it is.
#[test]
fn bft_genesis_entry() {
    let w = world(3, 20);
    let a: Vec<_> = (1..=4).map(ed_key).collect();
    let b: Vec<_> = (11..=14).map(ed_key).collect();
    let spec = bft_spec(&a);
    let h = bft_header(&w, NUMBER, &b);
    let with = |finality: Finality| make_proof(&spec, tx_claim(&w, 0, false), &h, finality);
    let good = bft_finality(&w, &a, &b, &b[..3], 5, &h);
    let without = check(&with(good.clone()), &spec, &CheckOptions::default()).unwrap();
    let Finality::Bft {
        validator_set_changes,
        ..
    } = &good
    else {
        unreachable!()
    };
    assert!(validator_set_changes.iter().all(|c| c.height > 1));

    // Restated, in another order: the same report.
    let mut reversed = a.clone();
    reversed.reverse();
    let restated = with_genesis_entry(good.clone(), &reversed);
    let v = check(&with(restated.clone()), &spec, &CheckOptions::default()).unwrap();
    assert_eq!(v, without);

    let genesis_err =
        "the validator-set change at height 1 differs from the chain spec's validators";
    let edit = |f: &dyn Fn(&mut Vec<tally_verify::ValidatorSetChange>)| {
        let Finality::Bft {
            certificate,
            mut validator_set_changes,
        } = restated.clone()
        else {
            unreachable!()
        };
        f(&mut validator_set_changes);
        err(
            &with(Finality::Bft {
                certificate,
                validator_set_changes,
            }),
            &spec,
        )
    };
    assert_eq!(edit(&|c| c[0].validators.truncate(3)), genesis_err);
    assert_eq!(edit(&|c| c[0].validators[0].power = 2), genesis_err);
    assert_eq!(edit(&|c| c[0].validators = validators(&b)), genesis_err);
    // Only as the first entry.
    assert_eq!(
        edit(&|c| c.swap(0, 1)),
        "validator-set change at height 1 is out of order (after height 5, for block 12)"
    );
}

fn validator_finality(c: &tally_primitives::CommitCertificate) -> Finality {
    Finality::Bft {
        certificate: c.clone(),
        validator_set_changes: Vec::new(),
    }
}

#[test]
fn pow() {
    let w = world(3, 20);
    let spec = pow_spec(POW_LIMIT_BITS, 2);
    let (block, later) = pow_chain(&w, &spec, 3);
    let claim = || tx_claim(&w, 0, false);
    check(
        &make_proof(&spec, claim(), &block, pow_finality(&later)),
        &spec,
        &CheckOptions::default(),
    )
    .unwrap();

    // A descendant out of order.
    let swapped = vec![later[1].clone(), later[0].clone()];
    let e = err(
        &make_proof(&spec, claim(), &block, pow_finality(&swapped)),
        &spec,
    );
    assert!(
        e.starts_with("descendant 0 of the proof is block 14 with parent"),
        "{e}"
    );
    // A nonce that misses the target: search for one.
    let mut bad = block.clone();
    let target = tally_verify::pow::target_from_bits(bad.bits).unwrap();
    let seal_hash = bad.seal_hash();
    let miss = (0u64..)
        .find(|n| {
            !tally_verify::pow::meets_target(&tally_verify::pow::pow_hash(&seal_hash, *n), &target)
        })
        .unwrap();
    bad.seal = Bytes::copy_from_slice(&miss.to_be_bytes());
    let e = err(&make_proof(&spec, claim(), &bad, pow_finality(&[])), &spec);
    assert!(e.starts_with("block 12's PoW hash 0x"), "{e}");
    assert!(e.contains("is above its target 0x7fffff00"), "{e}");
    // A descendant with other bits than the rule gives.
    let mut off = later[0].clone();
    off.bits = 0x1f00_ffff;
    let off = mine(off);
    let e = err(
        &make_proof(&spec, claim(), &block, pow_finality(&[off])),
        &spec,
    );
    assert_eq!(
        e,
        "block 13 has difficulty bits 0x1f00ffff, the chain spec's difficulty rule gives 0x207fffff"
    );
    // A descendant whose timestamp goes back before its parent's (the
    // rule's bits for it do not depend on it: only the next block's do).
    let mut back = later[0].clone();
    back.timestamp = block.timestamp - 1;
    let back = mine(back);
    assert_eq!(
        err(
            &make_proof(&spec, claim(), &block, pow_finality(&[back])),
            &spec
        ),
        format!(
            "block 13's timestamp {} is before that of its parent, block 12 ({}): timestamps \
             may not go back",
            block.timestamp - 1,
            block.timestamp
        )
    );
    // Further down the chain, too; the same timestamp as the parent is fine.
    let times = [
        later[0].timestamp,
        later[0].timestamp,
        later[0].timestamp - 1,
    ];
    let same = pow_descendants(&w, &spec, &block, &times);
    check(
        &make_proof(&spec, claim(), &block, pow_finality(&same[..2])),
        &spec,
        &CheckOptions::default(),
    )
    .unwrap();
    let e = err(
        &make_proof(&spec, claim(), &block, pow_finality(&same)),
        &spec,
    );
    assert!(
        e.starts_with("block 15's timestamp ") && e.contains("its parent, block 14 ("),
        "{e}"
    );
    // Bits easier than the limit, and a seal that is no nonce.
    let mut easy = block.clone();
    easy.bits = 0x2100_ffff;
    let e = err(
        &make_proof(&spec, claim(), &mine_any(easy), pow_finality(&[])),
        &spec,
    );
    assert!(e.starts_with("block 12's difficulty bits 0x2100ffff are invalid: the target is easier than the limit"), "{e}");
    let mut short = block.clone();
    short.seal = Bytes::from_static(&[1, 2, 3]);
    assert_eq!(
        err(
            &make_proof(&spec, claim(), &short, pow_finality(&[])),
            &spec
        ),
        "block 12's seal is 3 bytes, not an 8-byte PoW nonce"
    );
    // A checkpoint that is none of the proof's blocks.
    let opts = CheckOptions {
        checkpoint: Some(B256::repeat_byte(3)),
        ..Default::default()
    };
    let p = make_proof(&spec, claim(), &block, pow_finality(&later));
    assert_eq!(
        check(&p, &spec, &opts).unwrap_err().to_string(),
        format!(
            "checkpoint {} is neither block 12's hash {} nor the hash of a block built on it in the proof",
            B256::repeat_byte(3),
            block.hash()
        )
    );
}

/// A header with any 8-byte seal (for bits the checker refuses anyway).
fn mine_any(mut h: Header) -> Header {
    h.seal = Bytes::copy_from_slice(&0u64.to_be_bytes());
    h
}
