//! BFT consensus bytes: a gossiped vote or proposal
//! (`ConsensusMessage::decode`), a header's `extra_data` (`BftExtra`, which
//! carries the parent's commit certificate and equivocation evidence), each
//! then checked against a validator set as the engine checks them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tally_consensus::bft::{
    verify_certificate, verify_evidence, verify_proposal, verify_vote, ConsensusMessage,
};
use tally_fuzz::{validator_set, CHAIN_ID};
use tally_primitives::BftExtra;

fuzz_target!(|data: &[u8]| {
    let set = validator_set();
    if let Ok(message) = ConsensusMessage::decode(data) {
        assert_eq!(
            ConsensusMessage::decode(&message.encode()),
            Ok(message.clone())
        );
        let _ = (message.height(), message.round(), message.signer());
        let _ = match &message {
            ConsensusMessage::Proposal(p) => verify_proposal(CHAIN_ID, p, set),
            ConsensusMessage::Vote(v) => verify_vote(CHAIN_ID, v, set),
        };
    }
    if let Ok(extra) = BftExtra::decode(data) {
        assert_eq!(BftExtra::decode(&extra.encode()), Ok(extra.clone()));
        if let Some(cert) = extra.last_commit() {
            let _ = verify_certificate(cert, CHAIN_ID, set);
        }
        for evidence in &extra.evidence {
            let _ = verify_evidence(evidence, CHAIN_ID, set);
        }
    }
});
