use super::*;
use tally_primitives::BftValidator;

const CHAIN: u64 = 7;

fn keys() -> Vec<NodeKey> {
    (1..=4u8).map(|i| NodeKey::from_bytes(&[i; 32])).collect()
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

fn config() -> BftConfig {
    BftConfig {
        chain_id: CHAIN,
        timeout_ms: 1000,
        timeout_delta_ms: 500,
    }
}

/// The proposer of (height, round) and some other validator.
fn proposer_and_other(ks: &[NodeKey], height: u64, round: u32) -> (NodeKey, NodeKey) {
    let vs = set(ks);
    let p = vs.proposer(height, round).key.0;
    let proposer = ks.iter().find(|k| validator_key(k) == p).unwrap().clone();
    let other = ks.iter().find(|k| validator_key(k) != p).unwrap().clone();
    (proposer, other)
}

fn broadcasts(out: &[Output]) -> Vec<ConsensusMessage> {
    out.iter()
        .filter_map(|o| match o {
            Output::Broadcast(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

fn prevote_values(msgs: &[ConsensusMessage]) -> Vec<B256> {
    msgs.iter()
        .filter_map(|m| match m {
            ConsensusMessage::Vote(v) if v.kind == VoteKind::Prevote => Some(v.value),
            _ => None,
        })
        .collect()
}

#[test]
fn bad_messages_are_refused_with_a_reason() {
    let ks = keys();
    let (proposer, me) = proposer_and_other(&ks, 1, 0);
    let mut m = BftMachine::new(config(), Some(me));
    m.start_height(1, set(&ks));

    let mut vote = sign_vote(&ks[0], CHAIN, VoteKind::Prevote, 1, 0, B256::repeat_byte(1));
    vote.signature.0[0] ^= 1;
    let err = m
        .handle(Input::Message(ConsensusMessage::Vote(vote)))
        .unwrap_err();
    assert!(matches!(
        err,
        MessageError::Signature(SignatureError::BadSignature { .. })
    ));
    assert!(err.to_string().contains("bad signature"), "{err}");

    let outsider = NodeKey::from_bytes(&[77; 32]);
    let vote = sign_vote(&outsider, CHAIN, VoteKind::Prevote, 1, 0, B256::ZERO);
    assert!(matches!(
        m.handle(Input::Message(ConsensusMessage::Vote(vote))),
        Err(MessageError::Signature(
            SignatureError::NotAValidator { .. }
        ))
    ));

    let far = sign_vote(&ks[0], CHAIN, VoteKind::Prevote, 3, 0, B256::ZERO);
    assert_eq!(
        m.handle(Input::Message(ConsensusMessage::Vote(far))),
        Err(MessageError::TooFarAhead {
            height: 3,
            current: 1
        })
    );

    let late_round = sign_vote(&ks[0], CHAIN, VoteKind::Prevote, 1, 1000, B256::ZERO);
    assert!(matches!(
        m.handle(Input::Message(ConsensusMessage::Vote(late_round))),
        Err(MessageError::RoundTooFarAhead { .. })
    ));

    let zero = sign_proposal(&proposer, CHAIN, 1, 0, None, B256::ZERO);
    assert!(matches!(
        m.handle(Input::Message(ConsensusMessage::Proposal(zero))),
        Err(MessageError::ZeroBlockHash { .. })
    ));

    // A different chain's vote does not verify here.
    let other_chain = sign_vote(&ks[0], CHAIN + 1, VoteKind::Prevote, 1, 0, B256::ZERO);
    assert!(m
        .handle(Input::Message(ConsensusMessage::Vote(other_chain)))
        .is_err());

    // Oversized input never reaches the machine.
    assert!(matches!(
        ConsensusMessage::decode(&[1u8; 4096]),
        Err(super::super::message::DecodeError::TooLarge { .. })
    ));
}

#[test]
fn proposals_wait_for_the_nodes_verdict_and_next_height_is_buffered() {
    let ks = keys();
    let (proposer, me) = proposer_and_other(&ks, 1, 0);
    let mut m = BftMachine::new(config(), Some(me.clone()));
    let out = m.start_height(1, set(&ks));
    assert!(out.contains(&Output::ScheduleTimeout {
        height: 1,
        round: 0,
        step: TimeoutStep::Propose,
        after_ms: 1000
    }));

    // A message for height 2 waits until height 2 starts.
    let (p2, _) = proposer_and_other(&ks, 2, 0);
    let early = sign_proposal(&p2, CHAIN, 2, 0, None, B256::repeat_byte(8));
    assert_eq!(
        m.handle(Input::Message(ConsensusMessage::Proposal(early))),
        Ok(vec![])
    );

    let hash = B256::repeat_byte(5);
    let p = sign_proposal(&proposer, CHAIN, 1, 0, None, hash);
    let out = m
        .handle(Input::Message(ConsensusMessage::Proposal(p)))
        .unwrap();
    assert_eq!(
        out,
        vec![Output::NeedValidity {
            height: 1,
            round: 0,
            block_hash: hash,
            proposer: validator_key(&proposer)
        }]
    );
    let out = m
        .handle(Input::ProposalValidity {
            height: 1,
            round: 0,
            block_hash: hash,
            valid: true,
        })
        .unwrap();
    assert_eq!(prevote_values(&broadcasts(&out)), vec![hash]);

    let out = m.start_height(2, set(&ks));
    assert!(
        out.iter().any(|o| matches!(o, Output::NeedValidity { height: 2, block_hash, .. } if *block_hash == B256::repeat_byte(8))),
        "{out:?}"
    );
}

#[test]
fn invalid_proposal_gets_a_nil_prevote() {
    let ks = keys();
    let (proposer, me) = proposer_and_other(&ks, 1, 0);
    let mut m = BftMachine::new(config(), Some(me));
    m.start_height(1, set(&ks));
    let hash = B256::repeat_byte(5);
    let p = sign_proposal(&proposer, CHAIN, 1, 0, None, hash);
    m.handle(Input::Message(ConsensusMessage::Proposal(p)))
        .unwrap();
    let out = m
        .handle(Input::ProposalValidity {
            height: 1,
            round: 0,
            block_hash: hash,
            valid: false,
        })
        .unwrap();
    assert_eq!(prevote_values(&broadcasts(&out)), vec![B256::ZERO]);
}

#[test]
fn after_restore_the_machine_never_signs_a_conflicting_vote() {
    let ks = keys();
    let (proposer, me) = proposer_and_other(&ks, 1, 0);
    let x = B256::repeat_byte(0x11);
    let y = B256::repeat_byte(0x22);

    // Before the crash: prevote for X.
    let mut before = BftMachine::new(config(), Some(me.clone()));
    before.start_height(1, set(&ks));
    let px = sign_proposal(&proposer, CHAIN, 1, 0, None, x);
    before
        .handle(Input::Message(ConsensusMessage::Proposal(px)))
        .unwrap();
    let out = before
        .handle(Input::ProposalValidity {
            height: 1,
            round: 0,
            block_hash: x,
            valid: true,
        })
        .unwrap();
    let persisted = broadcasts(&out);
    assert_eq!(prevote_values(&persisted), vec![x]);
    assert_eq!(before.signed_records(), persisted);

    // After the restart the (equivocating) proposer shows this node Y only.
    let mut after = BftMachine::new(config(), Some(me.clone()));
    after.restore(persisted.clone());
    let mut out = after.start_height(1, set(&ks));
    let py = sign_proposal(&proposer, CHAIN, 1, 0, None, y);
    out.extend(
        after
            .handle(Input::Message(ConsensusMessage::Proposal(py)))
            .unwrap(),
    );
    out.extend(
        after
            .handle(Input::ProposalValidity {
                height: 1,
                round: 0,
                block_hash: y,
                valid: true,
            })
            .unwrap(),
    );
    // Nothing new signed; the recorded prevote for X goes out again.
    assert!(broadcasts(&out).is_empty(), "{out:?}");
    assert!(
        out.contains(&Output::Rebroadcast(persisted[0].clone())),
        "{out:?}"
    );
    assert_eq!(after.signed_records(), persisted);

    // Records of another key are not ours to replay.
    let mut stranger = BftMachine::new(config(), Some(proposer));
    stranger.restore(persisted);
    assert!(stranger.signed_records().is_empty());
}

#[test]
fn follower_never_signs() {
    let ks = keys();
    let (proposer, _) = proposer_and_other(&ks, 1, 0);
    let mut m = BftMachine::new(config(), None);
    let mut out = m.start_height(1, set(&ks));
    let p = sign_proposal(&proposer, CHAIN, 1, 0, None, B256::repeat_byte(3));
    out.extend(
        m.handle(Input::Message(ConsensusMessage::Proposal(p)))
            .unwrap(),
    );
    out.extend(
        m.handle(Input::ProposalValidity {
            height: 1,
            round: 0,
            block_hash: B256::repeat_byte(3),
            valid: true,
        })
        .unwrap(),
    );
    out.extend(
        m.handle(Input::TimeoutElapsed {
            height: 1,
            round: 0,
            step: TimeoutStep::Propose,
        })
        .unwrap(),
    );
    assert!(!m.is_validator());
    assert!(broadcasts(&out).is_empty());
    assert!(m.signed_records().is_empty());
}
