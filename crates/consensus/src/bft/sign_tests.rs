use super::*;
use tally_primitives::{bft::CommitSignature, bft::SignedVoteRecord, BftValidator};

const CHAIN: u64 = 7;

fn keys(n: u8) -> Vec<NodeKey> {
    (1..=n).map(|i| NodeKey::from_bytes(&[i; 32])).collect()
}

fn set(keys: &[NodeKey]) -> ValidatorSet {
    let list: Vec<_> = keys
        .iter()
        .map(|k| BftValidator {
            key: validator_key(k),
            power: 1,
        })
        .collect();
    ValidatorSet::new(&list).unwrap()
}

fn cert(keys: &[NodeKey], hash: B256) -> CommitCertificate {
    let signatures = keys
        .iter()
        .map(|k| {
            let v = sign_vote(k, CHAIN, VoteKind::Precommit, 5, 1, hash);
            CommitSignature {
                validator: v.validator,
                signature: v.signature,
            }
        })
        .collect();
    CommitCertificate {
        height: 5,
        round: 1,
        block_hash: hash,
        signatures,
    }
}

/// The engine checks certificates over its own validator set with the
/// offline checker's rules (tested case by case in `tally-verify`).
#[test]
fn certificates_are_checked_by_the_shared_rules_over_the_engine_set() {
    let ks = keys(4);
    let vs = set(&ks);
    let hash = B256::repeat_byte(9);
    assert_eq!(
        verify_certificate(&cert(&ks[..3], hash), CHAIN, &vs),
        Ok(())
    );
    assert_eq!(
        verify_certificate(&cert(&ks[..2], hash), CHAIN, &vs),
        Err(CertError::Cert(
            tally_verify::bft::CertError::InsufficientPower {
                height: 5,
                power: 2,
                quorum: 3,
                total: 4
            }
        ))
    );
    assert!(verify_certificate(&cert(&ks[..3], hash), CHAIN + 1, &vs).is_err());
}

#[test]
fn votes_and_proposals_are_checked() {
    let ks = keys(4);
    let vs = set(&ks);
    let v = sign_vote(&ks[0], CHAIN, VoteKind::Prevote, 3, 0, B256::repeat_byte(2));
    assert_eq!(verify_vote(CHAIN, &v, &vs), Ok(()));
    let mut altered = v.clone();
    altered.value = B256::repeat_byte(3);
    assert!(matches!(
        verify_vote(CHAIN, &altered, &vs),
        Err(SignatureError::BadSignature { .. })
    ));
    let outsider = sign_vote(
        &NodeKey::from_bytes(&[50; 32]),
        CHAIN,
        VoteKind::Prevote,
        3,
        0,
        B256::ZERO,
    );
    assert!(matches!(
        verify_vote(CHAIN, &outsider, &vs),
        Err(SignatureError::NotAValidator { .. })
    ));
    let proposer = vs.proposer(3, 0).key.0;
    let pk = ks.iter().find(|k| validator_key(k) == proposer).unwrap();
    let other = ks.iter().find(|k| validator_key(k) != proposer).unwrap();
    let p = sign_proposal(pk, CHAIN, 3, 0, None, B256::repeat_byte(4));
    assert_eq!(verify_proposal(CHAIN, &p, &vs), Ok(()));
    let wrong = sign_proposal(other, CHAIN, 3, 0, None, B256::repeat_byte(4));
    assert!(matches!(
        verify_proposal(CHAIN, &wrong, &vs),
        Err(SignatureError::WrongProposer { .. })
    ));
}

#[test]
fn evidence_needs_two_valid_different_votes() {
    let ks = keys(4);
    let vs = set(&ks);
    let a = sign_vote(&ks[2], CHAIN, VoteKind::Prevote, 8, 1, B256::repeat_byte(1));
    let b = sign_vote(&ks[2], CHAIN, VoteKind::Prevote, 8, 1, B256::repeat_byte(2));
    let ev = Evidence {
        validator: a.validator,
        height: 8,
        round: 1,
        kind: VoteKind::Prevote.code(),
        first: SignedVoteRecord {
            value: a.value,
            signature: a.signature,
        },
        second: SignedVoteRecord {
            value: b.value,
            signature: b.signature,
        },
    };
    assert_eq!(verify_evidence(&ev, CHAIN, &vs), Ok(()));
    let same = Evidence {
        second: ev.first.clone(),
        ..ev.clone()
    };
    assert!(matches!(
        verify_evidence(&same, CHAIN, &vs),
        Err(EvidenceError::SameValue(_))
    ));
    let other_round = Evidence {
        round: 2,
        ..ev.clone()
    };
    assert!(matches!(
        verify_evidence(&other_round, CHAIN, &vs),
        Err(EvidenceError::BadSignature { .. })
    ));
    let other_kind = Evidence {
        kind: VoteKind::Precommit.code(),
        ..ev.clone()
    };
    assert!(verify_evidence(&other_kind, CHAIN, &vs).is_err());
    let bad_kind = Evidence { kind: 9, ..ev };
    assert_eq!(
        verify_evidence(&bad_kind, CHAIN, &vs),
        Err(EvidenceError::BadKind(9))
    );
}
