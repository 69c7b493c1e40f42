//! Each claim kind and each kind of finality, checked on proofs built
//! without a node: what `check` reports, and that the proofs survive a
//! JSON round trip.

mod common;

use common::*;
use tally_verify::{check, CheckOptions, Finality, Proof, Verified};

fn round_trip(proof: &Proof) -> Proof {
    let text = serde_json::to_string_pretty(proof).unwrap();
    let back: Proof = serde_json::from_str(&text).unwrap();
    assert_eq!(&back, proof);
    back
}

fn ok(proof: &Proof, spec: &tally_primitives::ChainSpec, opts: &CheckOptions) -> Verified {
    check(&round_trip(proof), spec, opts).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_claim_kind_checks_under_a_dev_authority() {
    let w = world(5, 300);
    let key = ed_key(1);
    let spec = authority_spec(&key);
    let h = authority_sealed(header(&w, NUMBER, B256::ZERO, Bytes::new()), &key);
    for (name, claim) in all_claims(&w) {
        let proof = make_proof(&spec, claim, &h, Finality::Authority);
        let v = ok(&proof, &spec, &CheckOptions::default());
        assert_eq!(v.block_number, NUMBER, "{name}");
        assert_eq!(v.block_hash, h.hash(), "{name}");
        assert_eq!(v.timestamp, TIME, "{name}");
        assert!(v.anchored, "{name}");
        assert_eq!(
            v.finality,
            format!(
                "block 12 is final: its seal is the signature of the dev authority {} named in the chain spec",
                ed_public(&key)
            )
        );
        assert_eq!(
            v.trusted_root,
            format!(
                "trusted: the chain spec \"verify-authority\" (hash {})",
                spec.hash()
            )
        );
        assert!(!v.claim.is_empty(), "{name}");
    }
}

fn claim_lines(claim: tally_verify::Claim, w: &World) -> Vec<String> {
    let spec = dev_spec();
    let h = header(w, NUMBER, B256::ZERO, Bytes::new());
    let proof = make_proof(&spec, claim, &h, Finality::None);
    ok(&proof, &spec, &CheckOptions::default()).claim
}

#[test]
fn transaction_and_receipt_lines() {
    let w = world(3, 10);
    let lines = claim_lines(tx_claim(&w, 0, true), &w);
    assert_eq!(
        lines[0],
        format!(
            "transaction {} is in block 12 (2026-12-01T10:00:00Z (UTC))",
            w.txs[0].tx_hash()
        )
    );
    assert_eq!(
        lines[1],
        format!(
            "it was sent by {} to {}, value 1500000000000000000 wei (1.5 coins), nonce 0, \
             gas limit 21000, 0 bytes of input (EIP-1559 transaction)",
            sender(),
            Address::repeat_byte(0xbb)
        )
    );
    assert_eq!(claim_lines(tx_claim(&w, 1, false), &w).len(), 1);
    let receipt = claim_lines(receipt_claim(&w, 1), &w);
    assert_eq!(
        receipt,
        vec![format!(
            "transaction {} in block 12 (2026-12-01T10:00:00Z (UTC)) FAILED (status 0, reverted): \
             it used 22000 gas (43000 for the block up to it) and emitted 1 log",
            w.txs[1].tx_hash()
        )]
    );
    let ok_receipt = claim_lines(receipt_claim(&w, 2), &w);
    assert!(
        ok_receipt[0].contains("succeeded (status 1)"),
        "{ok_receipt:?}"
    );
    assert!(ok_receipt[0].contains("emitted 2 logs"), "{ok_receipt:?}");
}

#[test]
fn account_and_storage_lines() {
    let w = world(3, 50);
    let alice = claim_lines(account_claim(&w, ALICE), &w);
    assert_eq!(
        alice,
        vec![format!(
            "account {ALICE} after block 12 (2026-12-01T10:00:00Z (UTC)): nonce 3, balance \
             1000000000000000000000 wei (1000 coins), code hash {} (no code)",
            tally_primitives::EMPTY_CODE_HASH
        )]
    );
    let nobody = claim_lines(account_claim(&w, NOBODY), &w);
    assert_eq!(
        nobody,
        vec![format!(
            "account {NOBODY} does not exist after block 12 (2026-12-01T10:00:00Z (UTC)) \
             (no nonce, balance or code)"
        )]
    );
    let slots = claim_lines(storage_claim(&w), &w);
    assert_eq!(slots.len(), 3);
    assert!(slots[0].contains("holds 0x2a (42)"), "{slots:?}");
    assert!(slots[1].contains("is empty (zero)"), "{slots:?}");
    assert!(slots[2].starts_with(&format!(
        "slot {} of {CONTRACT} holds 0xffff",
        B256::from(w.slots[2].0)
    )));
}

#[test]
fn notary_lines_say_who_when_and_whether_revoked() {
    let w = world(4, 20);
    let submitter = sender();
    let stamped = |i: usize| {
        format!(
            "document {} was stamped by {submitter} in block 9 at 2026-12-01T09:50:00Z (UTC) \
             with label \"Q4 \\\"supplier\\\" contracts\"",
            w.documents[i]
        )
    };
    let live = claim_lines(notary_claim(&w, 0), &w);
    assert_eq!(
        live,
        vec![
            format!("{}; not revoked as of block 12", stamped(0)),
            format!("it is document 1 of the 4 in batch {}", w.batch_root),
        ]
    );
    let revoked = claim_lines(notary_claim(&w, REVOKED), &w);
    assert_eq!(
        revoked[1],
        "REVOKED by its submitter in block 11 at 2026-12-01T09:59:58Z (UTC): \
         \"signed by mistake\" (as of block 12)"
    );
    let superseded = claim_lines(notary_claim(&w, SUPERSEDED), &w);
    assert_eq!(
        superseded[1],
        format!(
            "SUPERSEDED by document {} by its submitter in block 12 at \
             2026-12-01T10:00:00Z (UTC): \"amended\" (as of block 12)",
            w.documents[0]
        )
    );
    assert_eq!(
        superseded[2],
        format!("it is document 3 of the 4 in batch {}", w.batch_root)
    );
}

#[test]
fn notary_proof_checks_the_users_file() {
    let w = world(4, 20);
    let key = ed_key(1);
    let spec = authority_spec(&key);
    let h = authority_sealed(header(&w, NUMBER, B256::ZERO, Bytes::new()), &key);
    let proof = make_proof(&spec, notary_claim(&w, 3), &h, Finality::Authority);
    let file = document(3);
    let opts = CheckOptions {
        document: Some(sha256(&file)),
        ..Default::default()
    };
    ok(&proof, &spec, &opts);
    let other = CheckOptions {
        document: Some(sha256(&document(2))),
        ..Default::default()
    };
    let err = check(&proof, &spec, &other).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "document hash {} differs from the file's {}",
            w.documents[3],
            sha256(&document(2))
        )
    );
}

#[test]
fn trace_lines_list_the_whole_history() {
    let w = world(3, 20);
    let lines = claim_lines(trace_claim(&w), &w);
    assert_eq!(
        lines,
        vec![
            format!(
                "product \"SKU-7/lot 42\" was registered in registry 3 by manufacturer {ALICE} \
                 in block 2 at 2026-12-01T09:43:20Z (UTC): \"cold-chain vaccine crate\""
            ),
            format!(
                "event 1: \"shipped\" by {} (shipper) in block 5 at 2026-12-01T09:51:40Z (UTC), \
                 location \"Rotterdam\", documents {}",
                Address::repeat_byte(0x51),
                w.documents[0]
            ),
            format!(
                "event 2: \"received\" by {} (warehouse) in block 10 at 2026-12-01T09:58:20Z (UTC)",
                Address::repeat_byte(0x52)
            ),
            "its history as of block 12 is complete with 2 events: the contract's head commits \
             to all of it"
                .to_string(),
        ]
    );
    // A document attached to an event can be checked against the history.
    let spec = dev_spec();
    let h = header(&w, NUMBER, B256::ZERO, Bytes::new());
    let proof = make_proof(&spec, trace_claim(&w), &h, Finality::None);
    let with_doc = CheckOptions {
        document: Some(w.documents[0]),
        ..Default::default()
    };
    let v = ok(&proof, &spec, &with_doc);
    assert_eq!(
        v.claim.last().unwrap(),
        &format!("document {} is attached to event 1", w.documents[0])
    );
    let stranger = CheckOptions {
        document: Some(w.documents[1]),
        ..Default::default()
    };
    assert!(check(&proof, &spec, &stranger).is_err());
}

#[test]
fn no_seal_is_anchored_only_by_a_checkpoint() {
    let w = world(3, 20);
    let spec = dev_spec();
    let h = header(&w, NUMBER, B256::ZERO, Bytes::new());
    let proof = make_proof(&spec, notary_claim(&w, 0), &h, Finality::None);
    let v = ok(&proof, &spec, &CheckOptions::default());
    assert!(!v.anchored);
    assert_eq!(
        v.finality,
        "block 12 carries no seal: chain spec \"verify-dev\" is a single-node dev chain, so \
         nothing in the proof shows the block is the chain's"
    );
    assert!(
        v.trusted_root.contains("give a checkpoint"),
        "{}",
        v.trusted_root
    );
    let cp = CheckOptions {
        checkpoint: Some(h.hash()),
        ..Default::default()
    };
    let v = ok(&proof, &spec, &cp);
    assert!(v.anchored);
    assert!(
        v.finality.ends_with("; block 12's hash is your checkpoint"),
        "{}",
        v.finality
    );
    assert_eq!(
        v.trusted_root,
        format!(
            "trusted: checkpoint {} (with the chain spec \"verify-dev\" (hash {}))",
            h.hash(),
            spec.hash()
        )
    );
    let wrong = CheckOptions {
        checkpoint: Some(B256::repeat_byte(1)),
        ..Default::default()
    };
    assert!(check(&proof, &spec, &wrong).is_err());
}

/// As the node builds it: the new list is proven from the governance
/// contract's storage at the certified block before the change, so the
/// chain spec alone anchors the block.
#[test]
fn bft_with_a_proven_validator_set_change() {
    let w = world(3, 50);
    let a: Vec<_> = (1..=4).map(ed_key).collect();
    let b: Vec<_> = (11..=14).map(ed_key).collect();
    let spec = bft_spec(&a);
    let h = bft_header(&w, NUMBER, &b[..3]);
    let finality = bft_finality(&w, &a, &b, &b[..3], 5, &h);
    let proof = make_proof(&spec, notary_claim(&w, 0), &h, finality);
    let v = ok(&proof, &spec, &CheckOptions::default());
    assert!(v.anchored);
    assert_eq!(
        v.finality,
        "block 12 is final: signed by validators holding 3 of 4 power (more than two thirds: 3 \
         needed), validator set rebuilt from the chain spec through 1 change, each list proven \
         from the governance contract's storage at the certified block before it"
    );
    assert_eq!(
        v.trusted_root,
        format!(
            "trusted: the chain spec \"verify-bft\" (hash {})",
            spec.hash()
        )
    );
}

/// A real, proven change whose list is swapped for the forger's keys
/// (keeping the real storage proofs) is refused, naming the slot.
#[test]
fn bft_swapped_list_is_refused() {
    let w = world(3, 50);
    let a: Vec<_> = (1..=4).map(ed_key).collect();
    let b: Vec<_> = (11..=14).map(ed_key).collect();
    let forger: Vec<_> = (61..=64).map(ed_key).collect();
    let spec = bft_spec(&a);
    let h = bft_header(&w, NUMBER, &forger[..3]);
    let Finality::Bft {
        mut validator_set_changes,
        ..
    } = bft_finality(&w, &a, &b, &b[..3], 5, &h)
    else {
        unreachable!()
    };
    validator_set_changes[0].validators = validators(&forger);
    let forged = Finality::Bft {
        certificate: certificate_by(&forger[..3], &h),
        validator_set_changes,
    };
    let proof = make_proof(&spec, notary_claim(&w, 0), &h, forged);
    let err = check(&proof, &spec, &CheckOptions::default())
        .expect_err("a swapped list must not check")
        .to_string();
    assert!(
        err.starts_with(
            "validator-set change at height 5: its list is not the governance contract's \
             after block 4: the proof of the governance contract's key of validator 0 does not \
             show the listed value"
        ),
        "{err}"
    );
    // A list one validator short of the stored one is refused too.
    let Finality::Bft {
        mut validator_set_changes,
        certificate,
    } = bft_finality(&w, &a, &b, &b[..3], 5, &h)
    else {
        unreachable!()
    };
    validator_set_changes[0].validators.pop();
    let short = Finality::Bft {
        certificate,
        validator_set_changes,
    };
    let proof = make_proof(&spec, notary_claim(&w, 0), &h, short);
    assert!(check(&proof, &spec, &CheckOptions::default()).is_err());
}

/// An older proof, without storage proofs of the new list.
#[test]
fn bft_with_an_unproven_validator_set_change() {
    let w = world(3, 50);
    let a: Vec<_> = (1..=4).map(ed_key).collect();
    let b: Vec<_> = (11..=14).map(ed_key).collect();
    let spec = bft_spec(&a);
    let h = bft_header(&w, NUMBER, &b[..3]);
    let finality = bft_finality_unproven(&w, &a, &b, &b[..3], 5, &h);
    let proof = make_proof(&spec, notary_claim(&w, 0), &h, finality);
    let v = ok(&proof, &spec, &CheckOptions::default());
    // The new list is not proven (anyone can attach a real certified
    // header to a list of their own): not anchored, and said so.
    assert!(!v.anchored);
    assert_eq!(
        v.finality,
        "block 12 is signed by validators holding 3 of 4 power (more than two thirds: 3 \
         needed) of a validator set rebuilt from the chain spec through 1 change, but the \
         validator list of 1 governance change (at height 5) is taken as given in the proof, \
         not proven: the block is final only if that list is the one governance installed"
    );
    assert_eq!(
        v.trusted_root,
        format!(
            "trusted: the chain spec \"verify-bft\" (hash {}), and the validator list of 1 \
             governance change (at height 5), taken as given in the proof (not proven): give a \
             checkpoint (block 12's hash, from a source you trust) to anchor it",
            spec.hash()
        )
    );
    // The block's hash as a checkpoint anchors it.
    let cp = CheckOptions {
        checkpoint: Some(h.hash()),
        ..Default::default()
    };
    let v = ok(&proof, &spec, &cp);
    assert!(v.anchored);
    assert!(
        v.finality.ends_with("; block 12's hash is your checkpoint"),
        "{}",
        v.finality
    );
    assert_eq!(
        v.trusted_root,
        format!(
            "trusted: checkpoint {} (with the chain spec \"verify-bft\" (hash {}))",
            h.hash(),
            spec.hash()
        )
    );
    // Without the change, the new validators are strangers.
    let Finality::Bft { certificate, .. } = &proof.finality else {
        unreachable!()
    };
    let mut no_change = proof.clone();
    no_change.finality = Finality::Bft {
        certificate: certificate.clone(),
        validator_set_changes: Vec::new(),
    };
    let err = check(&no_change, &spec, &CheckOptions::default()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("block 12's certificate: certificate for height 12 is signed by"),
        "{err}"
    );
    // The genesis set signs directly when nothing changed.
    let h = bft_header(&w, NUMBER, &a);
    let direct = Finality::Bft {
        certificate: certificate_by(&a, &h),
        validator_set_changes: Vec::new(),
    };
    let v = ok(
        &make_proof(&spec, tx_claim(&w, 0, false), &h, direct),
        &spec,
        &Default::default(),
    );
    assert!(v.anchored);
    assert!(
        v.finality.starts_with("block 12 is final: "),
        "{}",
        v.finality
    );
    assert!(v.finality.contains("4 of 4 power"), "{}", v.finality);
    assert!(v.finality.ends_with("through 0 changes"), "{}", v.finality);
}

/// The forgery the format allows: a real certified header of block 11
/// (public: every block's header carries its parent's certificate), a
/// change at height 12 listing keys no real set holds, and a block of the
/// forger's making signed by those keys. It checks, but is not anchored.
#[test]
fn bft_forged_change_is_not_anchored() {
    let w = world(3, 50);
    let a: Vec<_> = (1..=4).map(ed_key).collect();
    let forger: Vec<_> = (61..=63).map(ed_key).collect();
    let spec = bft_spec(&a);
    let h = bft_header(&w, NUMBER, &a[..3]);
    let finality = bft_finality_unproven(&w, &a, &forger, &forger, NUMBER, &h);
    let proof = make_proof(&spec, notary_claim(&w, 0), &h, finality);
    let v = ok(&proof, &spec, &CheckOptions::default());
    assert!(!v.anchored);
    assert!(!v.finality.contains("is final:"), "{}", v.finality);
    assert!(
        v.finality.contains(
            "the validator list of 1 governance change (at height 12) is taken as given in \
             the proof, not proven"
        ),
        "{}",
        v.finality
    );
    assert!(
        v.trusted_root
            .contains("taken as given in the proof (not proven)"),
        "{}",
        v.trusted_root
    );
    // Two forged changes: both named.
    let more: Vec<_> = (71..=73).map(ed_key).collect();
    let Finality::Bft {
        certificate,
        mut validator_set_changes,
    } = bft_finality_unproven(&w, &a, &forger, &more, 9, &h)
    else {
        unreachable!()
    };
    let parent = bft_header(&w, 11, &forger);
    validator_set_changes.push(tally_verify::ValidatorSetChange {
        height: 12,
        validators: validators(&more),
        certified_parent: Some(tally_verify::CertifiedHeader {
            header: rlp(&parent),
            certificate: certificate_by(&forger, &parent),
        }),
        list_proof: Vec::new(),
    });
    let two = Finality::Bft {
        certificate,
        validator_set_changes,
    };
    let v = ok(
        &make_proof(&spec, notary_claim(&w, 0), &h, two),
        &spec,
        &CheckOptions::default(),
    );
    assert!(!v.anchored);
    assert!(
        v.finality.contains(
            "the validator lists of 2 governance changes (at heights 9 and 12) are taken as \
             given in the proof, not proven: the block is final only if those lists are the \
             ones governance installed"
        ),
        "{}",
        v.finality
    );
    // Any checkpoint but the block's own hash is refused.
    let other = CheckOptions {
        checkpoint: Some(B256::repeat_byte(7)),
        ..Default::default()
    };
    assert!(check(&proof, &spec, &other).is_err());
}

fn certificate_by(
    keys: &[ed25519_dalek::SigningKey],
    h: &tally_primitives::Header,
) -> tally_primitives::CommitCertificate {
    certificate(keys, h.number, h.hash())
}

#[test]
fn pow_reports_confirmations_and_work() {
    use tally_verify::pow::POW_LIMIT_BITS;
    let w = world(3, 50);
    let spec = pow_spec(POW_LIMIT_BITS, 3);
    let (block, later) = pow_chain(&w, &spec, 4);
    let claim = || notary_claim(&w, 0);
    let two = make_proof(&spec, claim(), &block, pow_finality(&later[..2]));
    let v = ok(&two, &spec, &CheckOptions::default());
    assert!(!v.anchored);
    assert_eq!(
        v.finality,
        "block 12 has 2 confirmations (6 hashes of work expected, its own included): 2 of the 3 \
         confirmations the chain spec calls final; work shows effort, not that these blocks are \
         the canonical chain"
    );
    let four = make_proof(&spec, claim(), &block, pow_finality(&later));
    let v = ok(&four, &spec, &CheckOptions::default());
    assert!(
        v.finality
            .contains("final under the chain spec's finality depth of 3"),
        "{}",
        v.finality
    );
    // A checkpoint on a descendant anchors the block.
    let cp = CheckOptions {
        checkpoint: Some(later[3].hash()),
        ..Default::default()
    };
    let v = ok(&four, &spec, &cp);
    assert!(v.anchored);
    assert!(
        v.finality
            .ends_with("block 16, built on it in the proof, has your checkpoint's hash"),
        "{}",
        v.finality
    );
    // No descendants at all: the block's own seal.
    let none = make_proof(&spec, claim(), &block, pow_finality(&[]));
    let v = ok(&none, &spec, &CheckOptions::default());
    assert!(
        v.finality
            .starts_with("block 12 has 0 confirmations (2 hashes"),
        "{}",
        v.finality
    );
}

/// Timestamps in the future ease every later block's target (down to the
/// limit, the cheapest), and the proven block's own bits are held only to
/// the limit: blocks easier than the chain's initial difficulty are never
/// called final, however many.
#[test]
fn pow_below_the_initial_difficulty_is_not_final() {
    const INITIAL: u32 = 0x200f_ffff;
    let w = world(3, 50);
    let spec = pow_spec(INITIAL, 2);
    let on_time = |n: u64| header(&w, n, B256::ZERO, Bytes::new()).timestamp;
    let (block, _) = pow_chain(&w, &spec, 0);
    let claim = || notary_claim(&w, 0);
    // On schedule: the initial difficulty throughout, and final.
    let later = pow_descendants(&w, &spec, &block, &[on_time(13), on_time(14)]);
    let v = ok(
        &make_proof(&spec, claim(), &block, pow_finality(&later)),
        &spec,
        &CheckOptions::default(),
    );
    assert!(
        v.finality
            .contains(": final under the chain spec's finality depth of 2;"),
        "{}",
        v.finality
    );
    // Block 13 a day ahead: blocks 14 on get the limit's target.
    let day = 86_400;
    let later = pow_descendants(
        &w,
        &spec,
        &block,
        &[on_time(13) + day, on_time(14) + day, on_time(15) + day],
    );
    assert_eq!(later[1].bits, POW_LIMIT_BITS);
    let v = ok(
        &make_proof(&spec, claim(), &block, pow_finality(&later)),
        &spec,
        &CheckOptions::default(),
    );
    assert!(!v.anchored);
    assert!(!v.finality.contains(": final"), "{}", v.finality);
    assert!(
        v.finality.contains(
            "block 12 has 3 confirmations (36 hashes of work expected, its own included): not \
             final: the work is below the chain's initial difficulty (2 of the 4 blocks \
             checked, from block 14, have a target easier than the chain spec's initial bits \
             0x200fffff give)"
        ),
        "{}",
        v.finality
    );
    // The proven block itself at the limit (its parent is not in the proof).
    let mut easy = header(&w, NUMBER, B256::repeat_byte(0x99), Bytes::new());
    easy.bits = POW_LIMIT_BITS;
    let easy = mine(easy);
    let later = pow_descendants(&w, &spec, &easy, &[on_time(13), on_time(14)]);
    let v = ok(
        &make_proof(&spec, claim(), &easy, pow_finality(&later)),
        &spec,
        &CheckOptions::default(),
    );
    assert!(
        v.finality
            .contains("not final: the work is below the chain's initial difficulty (1 of the 3 blocks checked, from block 12,"),
        "{}",
        v.finality
    );
}

use alloy_primitives::{Address, Bytes, B256};
use tally_verify::pow::POW_LIMIT_BITS;
