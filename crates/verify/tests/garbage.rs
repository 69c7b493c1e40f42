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

/// The base's claim on a mined PoW header, with these descendants: the
/// block's own seal checks, so `check` reads the descendants.
fn pow_base(descendants: Vec<Bytes>) -> (Proof, tally_primitives::ChainSpec) {
    let w = world(4, 30);
    let spec = pow_spec(POW_LIMIT_BITS, 1);
    let mut h = header(&w, NUMBER, B256::ZERO, Bytes::new());
    h.bits = POW_LIMIT_BITS;
    let h = mine(h);
    let proof = make_proof(
        &spec,
        notary_claim(&w, 0),
        &h,
        Finality::Pow { descendants },
    );
    (proof, spec)
}

/// The base's claim on a BFT header, certified by a set changed at height
/// 5, whose certified header (block 4) is `parent` if given: the block's
/// certificate is by a real set, so `check` reads the certified header.
fn bft_base(parent: Option<Bytes>) -> (Proof, tally_primitives::ChainSpec) {
    let w = world(4, 30);
    let a: Vec<_> = (1..=4).map(ed_key).collect();
    let spec = bft_spec(&a);
    let h = bft_header(&w, NUMBER, &a);
    let Finality::Bft {
        certificate,
        mut validator_set_changes,
    } = bft_finality(&w, &a, &a, &a, 5, &h)
    else {
        unreachable!()
    };
    if let (Some(bytes), Some(p)) = (parent, validator_set_changes[0].certified_parent.as_mut()) {
        p.header = bytes;
    }
    let finality = Finality::Bft {
        certificate,
        validator_set_changes,
    };
    (make_proof(&spec, notary_claim(&w, 0), &h, finality), spec)
}

/// Ungarbled, the PoW and BFT bases check: garbage in their descendant or
/// certified header is what `check` refuses.
#[test]
fn the_bases_check() {
    let opts = CheckOptions::default();
    let (proof, spec) = base();
    check(&proof, &spec, &opts).unwrap();
    let (proof, spec) = bft_base(None);
    check(&proof, &spec, &opts).unwrap();
    let (mut block_proof, spec) = pow_base(Vec::new());
    check(&block_proof, &spec, &opts).unwrap();
    // A real descendant of the mined block.
    let block: tally_primitives::Header = alloy_rlp::decode_exact(&block_proof.header).unwrap();
    let w = world(4, 30);
    let later = pow_descendants(&w, &spec, &block, &[block.timestamp + 2]);
    block_proof.finality = pow_finality(&later);
    check(&block_proof, &spec, &opts).unwrap();
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
        // What the error must name, for the fields read after others.
        let mut names = "";
        match (field, &mut proof.claim) {
            (0, _) => proof.header = bytes,
            (1, Claim::Notary(n)) => n.record_proof = bytes,
            (2, Claim::Notary(n)) => n.revocation_proof = bytes,
            (3, _) => {
                (proof, spec) = pow_base(vec![bytes]);
                names = "descendant 0 of the proof";
            }
            (4, _) => {
                (proof, spec) = bft_base(Some(bytes));
                names = "validator-set change at height 5: the certified header";
            }
            _ => {
                let w = world(3, 5);
                let Claim::Account(mut a) = account_claim(&w, ALICE) else { unreachable!() };
                a.proof = bytes;
                proof.claim = Claim::Account(a);
            }
        }
        let result = check(&proof, &spec, &CheckOptions::default());
        prop_assert!(result.is_err());
        let e = result.unwrap_err().to_string();
        prop_assert!(e.starts_with(names), "{}", e);
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
