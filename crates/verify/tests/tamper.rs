//! One changed byte anywhere in a proof's JSON, or in the user's document,
//! must not leave a proof that checks and says something else.
//!
//! How a changed byte can end:
//! - the JSON no longer parses into a proof (most bytes: structure, key
//!   names under `deny_unknown_fields`, hex that is no longer hex);
//! - it parses to the *same* proof: hex digits are case-insensitive, so
//!   `0xAB` and `0xab` are one value, and a BFT validator's misspelt
//!   `power` key is ignored for the default power 1 (which the test's
//!   validators have). Such a flip changes nothing, and the test skips it
//!   by comparing the parsed proof with the original;
//! - it parses to a different proof, which `check` must refuse,
//! - except where the format deliberately does not authenticate a field,
//!   each documented in docs/proofs.md ("Limits"):
//!   * a validator list in a BFT validator-set change is taken as given
//!     (a change's certified header proves the block before it, not the
//!     list), which is why such a proof is not anchored without a
//!     checkpoint;
//!   * the leaf count of a transaction's Merkle path only shapes the path:
//!     counts that give the same shape lead to the same root. The checker
//!     states neither the count nor the position for that reason, so its
//!     report must come out identical.
//!
//! A different proof that still checks must differ from the original only
//! in those fields, or the test fails.
//!
//! Proofs whose finality does not bind every byte on its own are checked
//! with a checkpoint that does: a chain without seals at the block's hash,
//! a PoW chain at its last descendant's (the last descendant is otherwise
//! protected by its work alone, which is trivial at the easy bits used
//! here).

mod common;

use std::sync::OnceLock;

use common::*;
use proptest::prelude::*;
use tally_primitives::ChainSpec;
use tally_verify::{check, pow::POW_LIMIT_BITS, CheckOptions, Claim, Finality, Proof, Verified};

struct Case {
    name: String,
    proof: Proof,
    json: Vec<u8>,
    spec: ChainSpec,
    opts: CheckOptions,
    verified: Verified,
}

fn cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        let w = world(6, 200);
        let mut out = Vec::new();
        let mut add = |name: String, proof: Proof, spec: &ChainSpec, opts: CheckOptions| {
            let verified = check(&proof, spec, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
            let json = serde_json::to_vec(&proof).unwrap();
            out.push(Case {
                name,
                proof,
                json,
                spec: spec.clone(),
                opts,
                verified,
            });
        };

        let key = ed_key(1);
        let spec = authority_spec(&key);
        let h = authority_sealed(
            header(&w, NUMBER, alloy_primitives::B256::ZERO, Default::default()),
            &key,
        );
        for (name, claim) in all_claims(&w) {
            let notary = matches!(claim, Claim::Notary(_));
            let opts = CheckOptions {
                document: match &claim {
                    Claim::Notary(n) => Some(n.document),
                    _ => None,
                },
                ..Default::default()
            };
            add(
                format!("{name}, dev authority"),
                make_proof(&spec, claim.clone(), &h, Finality::Authority),
                &spec,
                opts.clone(),
            );
            if notary {
                // Without the user's file, too: the document field alone.
                add(
                    format!("{name}, dev authority, no file"),
                    make_proof(&spec, claim, &h, Finality::Authority),
                    &spec,
                    CheckOptions::default(),
                );
            }
        }

        let dev = dev_spec();
        let plain = header(&w, NUMBER, alloy_primitives::B256::ZERO, Default::default());
        add(
            "notary, no seal, checkpoint".into(),
            make_proof(&dev, notary_claim(&w, 0), &plain, Finality::None),
            &dev,
            CheckOptions {
                checkpoint: Some(plain.hash()),
                document: None,
            },
        );

        let a: Vec<_> = (1..=4).map(ed_key).collect();
        let b: Vec<_> = (11..=14).map(ed_key).collect();
        let bft = bft_spec(&a);
        let bh = bft_header(&w, NUMBER, &b[..3]);
        add(
            "notary, bft with a change".into(),
            make_proof(
                &bft,
                notary_claim(&w, REVOKED),
                &bh,
                bft_finality(&w, &a, &b, &b, 5, &bh),
            ),
            &bft,
            CheckOptions::default(),
        );

        add(
            "trace, bft with the genesis set restated and a change".into(),
            make_proof(
                &bft,
                trace_claim(&w),
                &bh,
                with_genesis_entry(bft_finality(&w, &a, &b, &b, 5, &bh), &a),
            ),
            &bft,
            CheckOptions::default(),
        );

        let pow = pow_spec(POW_LIMIT_BITS, 2);
        let (block, later) = pow_chain(&w, &pow, 3);
        add(
            "trace, pow, checkpoint on the last descendant".into(),
            make_proof(&pow, trace_claim(&w), &block, pow_finality(&later)),
            &pow,
            CheckOptions {
                checkpoint: later.last().map(|h| h.hash()),
                document: None,
            },
        );
        out
    })
}

/// The proof with the fields the format does not authenticate (see the
/// module docs) taken from `original`.
fn with_unauthenticated_from(original: &Proof, mut p: Proof) -> Proof {
    if let (Claim::Transaction(o), Claim::Transaction(m)) = (&original.claim, &mut p.claim) {
        m.path.leaf_count = o.path.leaf_count;
    }
    if let (
        Finality::Bft {
            validator_set_changes: o,
            ..
        },
        Finality::Bft {
            validator_set_changes: m,
            ..
        },
    ) = (&original.finality, &mut p.finality)
    {
        for (oc, mc) in o.iter().zip(m.iter_mut()) {
            mc.validators = oc.validators.clone();
        }
    }
    p
}

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Unparsable,
    Identical,
    Refused,
    /// Checked, differing only in an unauthenticated field.
    Unauthenticated,
}

fn flip(case: &Case, at: usize, byte: u8) -> Result<Outcome, String> {
    let mut json = case.json.clone();
    if json[at] == byte {
        return Ok(Outcome::Identical);
    }
    json[at] = byte;
    let Ok(parsed) = serde_json::from_slice::<Proof>(&json) else {
        return Ok(Outcome::Unparsable);
    };
    if parsed == case.proof {
        return Ok(Outcome::Identical);
    }
    let Ok(v) = check(&parsed, &case.spec, &case.opts) else {
        return Ok(Outcome::Refused);
    };
    let shown = String::from_utf8_lossy(&json[at.saturating_sub(40)..(at + 40).min(json.len())])
        .into_owned();
    if with_unauthenticated_from(&case.proof, parsed.clone()) != case.proof {
        return Err(format!(
            "{}: byte {at} set to {:?} gives a different proof that checks: ...{shown}...",
            case.name, byte as char
        ));
    }
    if matches!(parsed.claim, Claim::Transaction(_)) && v != case.verified {
        return Err(format!(
            "{}: byte {at} changed an unauthenticated leaf count and the report: {v:?}",
            case.name
        ));
    }
    Ok(Outcome::Unauthenticated)
}

/// The change most likely to keep the JSON valid: another digit, another
/// hex digit of the same case, another letter.
fn plausible(b: u8) -> u8 {
    match b {
        b'0'..=b'8' | b'a'..=b'e' | b'A'..=b'E' => b + 1,
        b'9' => b'0',
        b'f' => b'a',
        b'F' => b'A',
        b'g'..=b'y' | b'G'..=b'Y' => b + 1,
        b'z' => b'a',
        b'Z' => b'A',
        _ => b ^ 0x01,
    }
}

/// Every byte of every proof, changed the most plausible way.
#[test]
fn every_byte_changed_plausibly_is_caught() {
    let mut tally = std::collections::BTreeMap::<String, usize>::new();
    for case in cases() {
        for at in 0..case.json.len() {
            let outcome =
                flip(case, at, plausible(case.json[at])).unwrap_or_else(|e| panic!("{e}"));
            *tally.entry(format!("{outcome:?}")).or_default() += 1;
        }
    }
    // Most plausible flips parse: the test exercises the checker, not
    // only the JSON parser.
    assert!(tally["Refused"] > tally["Unparsable"], "{tally:?}");
    println!("{tally:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Any byte of any proof set to any value.
    #[test]
    fn any_byte_set_to_anything_is_caught(
        which in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let case = &cases()[which.index(cases().len())];
        let at = at.index(case.json.len());
        if let Err(e) = flip(case, at, byte) {
            return Err(TestCaseError::fail(e));
        }
    }

    /// A file that differs from the notarized one (document 0) in any
    /// byte is refused.
    #[test]
    fn a_changed_document_is_refused(
        at in any::<prop::sample::Index>(),
        mask in 1u8..=255,
    ) {
        let case = cases()
            .iter()
            .find(|c| c.name == "notary, dev authority")
            .expect("the notary case");
        let Claim::Notary(n) = &case.proof.claim else { unreachable!() };
        let mut file = document(0);
        let at = at.index(file.len());
        file[at] ^= mask;
        let opts = CheckOptions { document: Some(sha256(&file)), ..Default::default() };
        let result = check(&case.proof, &case.spec, &opts);
        prop_assert!(result.is_err());
        prop_assert_eq!(
            result.unwrap_err().to_string(),
            format!("document hash {} differs from the file's {}", n.document, sha256(&file))
        );
    }
}
