//! Arbitrary bytes wherever a proof carries bytes, and arbitrary numbers in
//! its Merkle paths: `check` refuses them with an error and never panics.

mod common;

use alloy_primitives::{Bytes, B256};
use common::*;
use proptest::prelude::*;
use tally_verify::{check, pow::POW_LIMIT_BITS, CheckOptions, Claim, Finality, Proof};

fn base() -> (Proof, tally_primitives::ChainSpec) {
    let w = world(4, 30);
    let key = ed_key(1);
    let spec = authority_spec(&key);
    let h = authority_sealed(header(&w, NUMBER, B256::ZERO, Bytes::new()), &key);
    (
        make_proof(&spec, notary_claim(&w, 0), &h, Finality::Authority),
        spec,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn random_bytes_are_refused(
        bytes in proptest::collection::vec(any::<u8>(), 0..700),
        field in 0usize..6,
    ) {
        let (mut proof, spec) = base();
        let bytes = Bytes::from(bytes);
        let mut spec = spec;
        match (field, &mut proof.claim) {
            (0, _) => proof.header = bytes,
            (1, Claim::Notary(n)) => n.record_proof = bytes,
            (2, Claim::Notary(n)) => n.revocation_proof = bytes,
            (3, _) => {
                spec = pow_spec(POW_LIMIT_BITS, 1);
                proof.spec_hash = spec.hash();
                proof.finality = Finality::Pow { descendants: vec![bytes] };
            }
            (4, _) => {
                let a: Vec<_> = (1..=4).map(ed_key).collect();
                spec = bft_spec(&a);
                proof.spec_hash = spec.hash();
                let w = world(3, 5);
                let h = bft_header(&w, NUMBER, &a);
                let Finality::Bft { certificate, mut validator_set_changes } =
                    bft_finality(&w, &a, &a, &a, 5, &h) else { unreachable!() };
                if let Some(p) = validator_set_changes[0].certified_parent.as_mut() {
                    p.header = bytes;
                }
                proof.finality = Finality::Bft { certificate, validator_set_changes };
            }
            _ => {
                let w = world(3, 5);
                let Claim::Account(mut a) = account_claim(&w, ALICE) else { unreachable!() };
                a.proof = bytes;
                proof.claim = Claim::Account(a);
            }
        }
        prop_assert!(check(&proof, &spec, &CheckOptions::default()).is_err());
    }

    #[test]
    fn absurd_merkle_paths_are_refused(
        index in any::<u64>(),
        leaf_count in prop_oneof![any::<u64>(), Just(u64::MAX), 0u64..10],
        siblings in proptest::collection::vec(any::<[u8; 32]>(), 0..70),
    ) {
        let (mut proof, spec) = base();
        let Claim::Notary(n) = &mut proof.claim else { unreachable!() };
        n.path.index = index;
        n.path.leaf_count = leaf_count;
        n.path.siblings = siblings.into_iter().map(B256::from).collect();
        prop_assert!(check(&proof, &spec, &CheckOptions::default()).is_err());
    }
}
