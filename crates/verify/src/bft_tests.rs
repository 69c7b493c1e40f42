use super::*;
use alloy_primitives::B512;
use ed25519_dalek::{Signer, SigningKey};
use tally_primitives::bft::{vote_sign_bytes, CommitSignature, VoteKind};

const CHAIN: u64 = 7;

fn keys(n: u8) -> Vec<SigningKey> {
    (1..=n).map(|i| SigningKey::from_bytes(&[i; 32])).collect()
}

fn key_of(k: &SigningKey) -> B256 {
    B256::from(k.verifying_key().to_bytes())
}

fn set(keys: &[SigningKey]) -> Validators {
    let list: Vec<_> = keys
        .iter()
        .map(|k| BftValidator {
            key: key_of(k),
            power: 1,
        })
        .collect();
    Validators::new(&list).unwrap()
}

fn cert(keys: &[SigningKey], hash: B256) -> CommitCertificate {
    let bytes = vote_sign_bytes(CHAIN, VoteKind::Precommit, 5, 1, hash);
    CommitCertificate {
        height: 5,
        round: 1,
        block_hash: hash,
        signatures: keys
            .iter()
            .map(|k| CommitSignature {
                validator: key_of(k),
                signature: B512::from(k.sign(&bytes).to_bytes()),
            })
            .collect(),
    }
}

#[test]
fn certificates_need_quorum_members_once_and_good_signatures() {
    let ks = keys(4);
    let vs = set(&ks);
    let hash = B256::repeat_byte(9);
    assert_eq!(verify_certificate(&cert(&ks[..3], hash), CHAIN, &vs), Ok(3));
    assert_eq!(verify_certificate(&cert(&ks, hash), CHAIN, &vs), Ok(4));
    assert_eq!(
        verify_certificate(&cert(&ks[..2], hash), CHAIN, &vs),
        Err(CertError::InsufficientPower {
            height: 5,
            power: 2,
            quorum: 3,
            total: 4
        })
    );
    let mut dup = cert(&ks[..3], hash);
    dup.signatures[2] = dup.signatures[0].clone();
    assert!(matches!(
        verify_certificate(&dup, CHAIN, &vs),
        Err(CertError::DuplicateSigner { .. })
    ));
    let stranger = SigningKey::from_bytes(&[99; 32]);
    let mut unknown = cert(&ks[..3], hash);
    unknown
        .signatures
        .extend(cert(std::slice::from_ref(&stranger), hash).signatures);
    assert_eq!(
        verify_certificate(&unknown, CHAIN, &vs),
        Err(CertError::UnknownValidator {
            height: 5,
            validator: key_of(&stranger)
        })
    );
    let mut forged = cert(&ks[..3], hash);
    forged.signatures[1].signature = cert(&ks[1..2], B256::repeat_byte(1)).signatures[0].signature;
    assert_eq!(
        verify_certificate(&forged, CHAIN, &vs),
        Err(CertError::BadSignature {
            height: 5,
            validator: key_of(&ks[1])
        })
    );
    // Another chain's certificate, and the wrong block.
    assert!(verify_certificate(&cert(&ks[..3], hash), CHAIN + 1, &vs).is_err());
    assert!(matches!(
        verify_block_certificate(CHAIN, 5, B256::repeat_byte(8), &cert(&ks, hash), &vs),
        Err(CertError::WrongBlock { .. })
    ));
    assert!(matches!(
        verify_block_certificate(CHAIN, 6, hash, &cert(&ks, hash), &vs),
        Err(CertError::WrongBlock { .. })
    ));
    assert_eq!(
        verify_block_certificate(CHAIN, 5, hash, &cert(&ks, hash), &vs),
        Ok(4)
    );
}

#[test]
fn validator_lists_are_checked() {
    let ks = keys(2);
    let good = BftValidator {
        key: key_of(&ks[0]),
        power: 2,
    };
    assert_eq!(Validators::new(&[]), Err(ValidatorsError::Empty));
    assert_eq!(
        Validators::new(&[BftValidator {
            power: 0,
            ..good.clone()
        }]),
        Err(ValidatorsError::ZeroPower(good.key))
    );
    assert_eq!(
        Validators::new(&[good.clone(), good.clone()]),
        Err(ValidatorsError::Duplicate(good.key))
    );
    // The identity point is a small-order (weak) key.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert!(matches!(
        Validators::new(&[BftValidator {
            key: B256::from(identity),
            power: 1
        }]),
        Err(ValidatorsError::BadKey { .. })
    ));
    let huge = BftValidator {
        key: key_of(&ks[1]),
        power: MAX_TOTAL_POWER,
    };
    assert_eq!(
        Validators::new(&[good.clone(), huge]),
        Err(ValidatorsError::PowerOverflow)
    );
    let vs = Validators::new(std::slice::from_ref(&good)).unwrap();
    assert_eq!(vs.total_power(), 2);
    assert_eq!(vs.power_of(&good.key), Some(2));
    assert_eq!(vs.power_of(&B256::ZERO), None);
}

#[test]
fn quorum_matches_the_primitives_rule_and_never_overflows() {
    for total in [0u64, 1, 2, 3, 4, 7, 100, 1_000_000, MAX_TOTAL_POWER] {
        assert_eq!(
            quorum(total),
            tally_primitives::bft::quorum(total),
            "{total}"
        );
    }
    assert!(quorum(u64::MAX) > u64::MAX / 3 * 2);
}
