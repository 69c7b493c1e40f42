//! Proof files (`tally-proof/1` JSON with base64 byte strings), as
//! `tally verify` and the browser checker read them: parsed, written back
//! (the round trip must hold), then checked against the chain specs the
//! seed proofs were made on, so the claim and finality checks run too.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tally_fuzz::proofs::{authority_spec, bft_spec, dev_spec, ed_key, pow_spec};
use tally_primitives::ChainSpec;
use tally_verify::{check, pow::POW_LIMIT_BITS, CheckOptions, Proof};

fn specs() -> &'static [ChainSpec] {
    static SPECS: OnceLock<Vec<ChainSpec>> = OnceLock::new();
    SPECS.get_or_init(|| {
        let keys: Vec<_> = (1..=4).map(ed_key).collect();
        vec![
            dev_spec(),
            authority_spec(&keys[0]),
            bft_spec(&keys),
            pow_spec(POW_LIMIT_BITS, 1),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(proof) = serde_json::from_slice::<Proof>(data) else {
        return;
    };
    let written = serde_json::to_vec(&proof).expect("a proof serialises");
    let again: Proof = serde_json::from_slice(&written).expect("a written proof reads back");
    assert_eq!(again, proof);
    for spec in specs() {
        let _ = check(&proof, spec, &CheckOptions::default());
    }
});
