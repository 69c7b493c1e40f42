//! Checking a notary proof: a document from a batch of 1,000, in a state
//! of about 100,000 other leaves, under BFT finality (4 validators, the
//! header carrying its parent's certificate as real BFT headers do) and
//! under a dev authority. Prints each proof's JSON size and where it goes.
//!
//! `cargo bench -p tally-verify --bench verify`

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;

use alloy_primitives::{Bytes, B256};
use common::*;
use criterion::{criterion_group, criterion_main, Criterion};
use tally_verify::{check, CheckOptions, Claim, Finality, Proof};

const BATCH: usize = 1000;
const FILLER: usize = 100_000;

/// `"key":value` sizes of a JSON object's fields, as serialised.
fn field_sizes(value: &serde_json::Value) -> String {
    let Some(object) = value.as_object() else {
        return String::new();
    };
    object
        .iter()
        .map(|(k, v)| {
            let len = k.len() + 3 + serde_json::to_string(v).expect("serialises").len();
            format!("{k} {len}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn sizes(name: &str, proof: &Proof) {
    let json = serde_json::to_vec(proof).expect("serialises");
    let Claim::Notary(n) = &proof.claim else {
        unreachable!()
    };
    let finality = serde_json::to_vec(&proof.finality)
        .expect("serialises")
        .len();
    println!(
        "{name}: {} bytes of JSON (header {} bytes of RLP, batch path {} siblings, record \
         proof {} bytes, revocation proof {} bytes, finality {} bytes of JSON)",
        json.len(),
        proof.header.len(),
        n.path.siblings.len(),
        n.record_proof.len(),
        n.revocation_proof.len(),
        finality,
    );
    // Where the bytes are, field by field (each `"key":value`, without
    // the commas between them).
    let value = serde_json::to_value(proof).expect("serialises");
    println!("  proof: {}", field_sizes(&value));
    println!("  claim: {}", field_sizes(&value["claim"]));
    println!("  finality: {}", field_sizes(&value["finality"]));
}

fn bench(c: &mut Criterion) {
    let w = world(BATCH, FILLER);
    let doc = 417;
    let opts = CheckOptions {
        document: Some(sha256(&document(doc))),
        ..Default::default()
    };

    let validators: Vec<_> = (1..=4).map(ed_key).collect();
    let bft = bft_spec(&validators);
    let h = bft_header(&w, NUMBER, &validators[..3]);
    let bft_proof = make_proof(
        &bft,
        notary_claim(&w, doc),
        &h,
        Finality::Bft {
            certificate: certificate(&validators[..3], h.number, h.hash()),
            validator_set_changes: Vec::new(),
        },
    );
    check(&bft_proof, &bft, &opts).expect("the bft proof checks");

    // Through one governance change (4 validators hand over to 4 others),
    // the new list proven from the governance contract's storage.
    let next: Vec<_> = (11..=14).map(ed_key).collect();
    let h = bft_header(&w, NUMBER, &next[..3]);
    let changed_proof = make_proof(
        &bft,
        notary_claim(&w, doc),
        &h,
        bft_finality(&w, &validators, &next, &next[..3], 5, &h),
    );
    let v = check(&changed_proof, &bft, &opts).expect("the changed-set proof checks");
    assert!(v.anchored, "{}", v.finality);

    let key = ed_key(1);
    let dev = authority_spec(&key);
    let h = authority_sealed(header(&w, NUMBER, B256::ZERO, Bytes::new()), &key);
    let dev_proof = make_proof(&dev, notary_claim(&w, doc), &h, Finality::Authority);
    check(&dev_proof, &dev, &opts).expect("the authority proof checks");

    sizes("notary proof, BFT (4 validators, 3 signed)", &bft_proof);
    sizes("notary proof, dev authority", &dev_proof);
    sizes(
        "notary proof, BFT through 1 proven validator-set change",
        &changed_proof,
    );

    let mut g = c.benchmark_group("check notary proof");
    g.bench_function("bft", |b| {
        b.iter(|| check(black_box(&bft_proof), &bft, &opts).expect("checks"))
    });
    g.bench_function("dev authority", |b| {
        b.iter(|| check(black_box(&dev_proof), &dev, &opts).expect("checks"))
    });
    g.bench_function("bft, through 1 proven validator-set change", |b| {
        b.iter(|| check(black_box(&changed_proof), &bft, &opts).expect("checks"))
    });
    let text = serde_json::to_string(&bft_proof).expect("serialises");
    g.bench_function("bft, from JSON text", |b| {
        b.iter(|| {
            let p: Proof = serde_json::from_str(black_box(&text)).expect("parses");
            check(&p, &bft, &opts).expect("checks")
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
