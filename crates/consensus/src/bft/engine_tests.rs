use super::*;
use crate::bft::sign::{sign_vote, validator_key};
use crate::MapView;
use tally_primitives::bft::{CommitSignature, VoteKind};

const CHAIN: u64 = 7;

fn keys() -> Vec<NodeKey> {
    (1..=4u8).map(|i| NodeKey::from_bytes(&[i; 32])).collect()
}

fn spec(ks: &[NodeKey]) -> BftSpec {
    BftSpec {
        block_time_ms: 1000,
        create_empty_blocks: true,
        timeout_ms: 1000,
        timeout_delta_ms: 500,
        validators: ks
            .iter()
            .map(|k| BftValidator {
                key: validator_key(k),
                power: 1,
            })
            .collect(),
        members: vec![],
        roles: Default::default(),
        governance_threshold_pct: 67,
        min_gas_price: 0,
    }
}

fn certify(ks: &[NodeKey], header: &SealedHeader) -> CommitCertificate {
    CommitCertificate {
        height: header.number,
        round: 0,
        block_hash: header.hash,
        signatures: ks
            .iter()
            .map(|k| {
                let v = sign_vote(k, CHAIN, VoteKind::Precommit, header.number, 0, header.hash);
                CommitSignature {
                    validator: v.validator,
                    signature: v.signature,
                }
            })
            .collect(),
    }
}

/// A block on `parent` sealed by the right proposer of `round`.
fn block(
    ks: &[NodeKey],
    parent: &SealedHeader,
    round: u32,
    cert: Option<CommitCertificate>,
) -> Header {
    let set = ValidatorSet::new(&spec(ks).validators).unwrap();
    let number = parent.number + 1;
    let proposer = set.proposer(number, round).key.0;
    let key = ks.iter().find(|k| validator_key(k) == proposer).unwrap();
    let mut header = Header {
        parent_hash: parent.hash,
        number,
        timestamp: parent.timestamp + 1,
        extra_data: BftExtra {
            round,
            last_commit: cert.into_iter().collect(),
            evidence: vec![],
        }
        .encode(),
        ..Default::default()
    };
    header.seal = seal(key, &header);
    header
}

#[test]
fn headers_need_the_parents_certificate_and_the_proposers_seal() {
    let ks = keys();
    let engine = BftEngine::new(CHAIN, &spec(&ks));
    let view = MapView::default();
    let genesis = Header {
        timestamp: 100,
        ..Default::default()
    }
    .seal_slow();
    let now = 200_000;
    let b1 = block(&ks, &genesis, 0, None);
    assert_eq!(engine.verify_header(&view, &genesis, &b1, now), Ok(()));
    let b1 = b1.seal_slow();

    let b2 = block(&ks, &b1, 1, Some(certify(&ks[..3], &b1)));
    assert_eq!(engine.verify_header(&view, &b1, &b2, now), Ok(()));
    assert_eq!(engine.weight(Weight(0), &b2), Weight(2));

    // No certificate, a weak one, one for another block.
    let bare = block(&ks, &b1, 0, None);
    assert!(engine.verify_header(&view, &b1, &bare, now).is_err());
    let weak = block(&ks, &b1, 0, Some(certify(&ks[..2], &b1)));
    let err = engine.verify_header(&view, &b1, &weak, now).unwrap_err();
    assert!(err.to_string().contains("below the quorum"), "{err}");
    let wrong = block(&ks, &b1, 0, Some(certify(&ks, &genesis)));
    assert!(engine.verify_header(&view, &b1, &wrong, now).is_err());

    // A seal by the wrong validator (claiming another round), in the future, bits.
    let mut misround = b2.clone();
    let mut extra = BftExtra::decode(&misround.extra_data).unwrap();
    extra.round += 1;
    misround.extra_data = extra.encode();
    let err = engine
        .verify_header(&view, &b1, &misround, now)
        .unwrap_err();
    assert!(err.to_string().contains("proposer"), "{err}");
    let future = Header {
        timestamp: now / 1000 + 100,
        ..b2.clone()
    };
    assert!(matches!(
        engine.verify_header(&view, &b1, &future, now),
        Err(SealError::TimestampInFuture { .. })
    ));
    let bits = Header {
        bits: 1,
        ..b2.clone()
    };
    assert!(engine.verify_header(&view, &b1, &bits, now).is_err());

    // Offline check of a block by its certificate.
    let c = certify(&ks[..3], &b1);
    assert_eq!(
        verify_block_certificate(CHAIN, &b1, &c, &spec(&ks).validators),
        Ok(())
    );
    assert!(verify_block_certificate(CHAIN, &b2, &c, &spec(&ks).validators).is_err());
}
