//! Consensus messages on the wire: a signed proposal or a signed vote,
//! RLP after a one-byte tag. Decoding works on bytes only, refuses
//! oversized input and reports every problem as a value.

use alloy_primitives::B512;
use alloy_rlp::{Decodable, Encodable, RlpDecodable, RlpEncodable};
use tally_primitives::{bft::VoteKind, B256};

/// Largest encoded message accepted (a vote is about 180 bytes).
pub const MAX_MESSAGE_BYTES: usize = 512;

const TAG_PROPOSAL: u8 = 1;
const TAG_VOTE: u8 = 2;
/// `pol_round` on the wire when the proposal carries no proof-of-lock round.
const NO_POL_ROUND: u32 = u32::MAX;

/// A proposer's signed proposal of block `block_hash` for `height`/`round`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProposalMsg {
    pub height: u64,
    pub round: u32,
    /// The round of the lock being re-proposed; `None` for a fresh block.
    pub pol_round: Option<u32>,
    pub block_hash: B256,
    pub proposer: B256,
    /// Over [`tally_primitives::bft::proposal_sign_bytes`].
    pub signature: B512,
}

/// A validator's signed prevote or precommit; `value` zero is nil.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VoteMsg {
    pub kind: VoteKind,
    pub height: u64,
    pub round: u32,
    pub value: B256,
    pub validator: B256,
    /// Over [`tally_primitives::bft::vote_sign_bytes`].
    pub signature: B512,
}

/// What validators send one another.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ConsensusMessage {
    Proposal(ProposalMsg),
    Vote(VoteMsg),
}

/// Why bytes are not a consensus message.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    #[error("consensus message of {len} bytes exceeds the {MAX_MESSAGE_BYTES}-byte limit")]
    TooLarge { len: usize },
    #[error("empty consensus message")]
    Empty,
    #[error("unknown consensus message tag {0} (expected 1 proposal or 2 vote)")]
    UnknownTag(u8),
    #[error("consensus message is not valid RLP: {0}")]
    Rlp(String),
    #[error("consensus message has {0} trailing bytes")]
    Trailing(usize),
    #[error("vote kind {0} is neither 1 (prevote) nor 2 (precommit)")]
    BadVoteKind(u8),
    #[error(
        "proposal for round {round} names proof-of-lock round {pol_round}, which is not earlier"
    )]
    BadPolRound { round: u32, pol_round: u32 },
}

#[derive(RlpEncodable, RlpDecodable)]
struct ProposalWire {
    height: u64,
    round: u32,
    pol_round: u32,
    block_hash: B256,
    proposer: B256,
    signature: B512,
}

#[derive(RlpEncodable, RlpDecodable)]
struct VoteWire {
    kind: u8,
    height: u64,
    round: u32,
    value: B256,
    validator: B256,
    signature: B512,
}

impl ConsensusMessage {
    pub fn height(&self) -> u64 {
        match self {
            ConsensusMessage::Proposal(p) => p.height,
            ConsensusMessage::Vote(v) => v.height,
        }
    }

    pub fn round(&self) -> u32 {
        match self {
            ConsensusMessage::Proposal(p) => p.round,
            ConsensusMessage::Vote(v) => v.round,
        }
    }

    /// The key that signed the message.
    pub fn signer(&self) -> B256 {
        match self {
            ConsensusMessage::Proposal(p) => p.proposer,
            ConsensusMessage::Vote(v) => v.validator,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(200);
        match self {
            ConsensusMessage::Proposal(p) => {
                out.push(TAG_PROPOSAL);
                ProposalWire {
                    height: p.height,
                    round: p.round,
                    pol_round: p.pol_round.unwrap_or(NO_POL_ROUND),
                    block_hash: p.block_hash,
                    proposer: p.proposer,
                    signature: p.signature,
                }
                .encode(&mut out);
            }
            ConsensusMessage::Vote(v) => {
                out.push(TAG_VOTE);
                VoteWire {
                    kind: v.kind.code(),
                    height: v.height,
                    round: v.round,
                    value: v.value,
                    validator: v.validator,
                    signature: v.signature,
                }
                .encode(&mut out);
            }
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<ConsensusMessage, DecodeError> {
        if bytes.len() > MAX_MESSAGE_BYTES {
            return Err(DecodeError::TooLarge { len: bytes.len() });
        }
        let (&tag, mut body) = bytes.split_first().ok_or(DecodeError::Empty)?;
        let rlp = |e: alloy_rlp::Error| DecodeError::Rlp(e.to_string());
        let message = match tag {
            TAG_PROPOSAL => {
                let w = ProposalWire::decode(&mut body).map_err(rlp)?;
                let pol_round = (w.pol_round != NO_POL_ROUND).then_some(w.pol_round);
                if let Some(pol_round) = pol_round.filter(|p| *p >= w.round) {
                    return Err(DecodeError::BadPolRound {
                        round: w.round,
                        pol_round,
                    });
                }
                ConsensusMessage::Proposal(ProposalMsg {
                    height: w.height,
                    round: w.round,
                    pol_round,
                    block_hash: w.block_hash,
                    proposer: w.proposer,
                    signature: w.signature,
                })
            }
            TAG_VOTE => {
                let w = VoteWire::decode(&mut body).map_err(rlp)?;
                ConsensusMessage::Vote(VoteMsg {
                    kind: VoteKind::from_code(w.kind).ok_or(DecodeError::BadVoteKind(w.kind))?,
                    height: w.height,
                    round: w.round,
                    value: w.value,
                    validator: w.validator,
                    signature: w.signature,
                })
            }
            other => return Err(DecodeError::UnknownTag(other)),
        };
        if !body.is_empty() {
            return Err(DecodeError::Trailing(body.len()));
        }
        Ok(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn vote() -> ConsensusMessage {
        ConsensusMessage::Vote(VoteMsg {
            kind: VoteKind::Precommit,
            height: 9,
            round: 2,
            value: B256::repeat_byte(4),
            validator: B256::repeat_byte(5),
            signature: B512::repeat_byte(6),
        })
    }

    #[test]
    fn round_trips_and_refuses_bad_input() {
        let proposal = ConsensusMessage::Proposal(ProposalMsg {
            height: 3,
            round: 1,
            pol_round: Some(0),
            block_hash: B256::repeat_byte(1),
            proposer: B256::repeat_byte(2),
            signature: B512::repeat_byte(3),
        });
        for m in [proposal, vote()] {
            assert_eq!(ConsensusMessage::decode(&m.encode()), Ok(m.clone()));
            let mut long = m.encode();
            long.push(0);
            assert_eq!(
                ConsensusMessage::decode(&long),
                Err(DecodeError::Trailing(1))
            );
        }
        assert_eq!(ConsensusMessage::decode(&[]), Err(DecodeError::Empty));
        assert_eq!(
            ConsensusMessage::decode(&[9, 0xc0]),
            Err(DecodeError::UnknownTag(9))
        );
        assert_eq!(
            ConsensusMessage::decode(&vec![2; MAX_MESSAGE_BYTES + 1]),
            Err(DecodeError::TooLarge {
                len: MAX_MESSAGE_BYTES + 1
            })
        );
        let mut bad_kind = vote().encode();
        // The kind is the first field inside the list header (2 bytes).
        bad_kind[3] = 7;
        assert_eq!(
            ConsensusMessage::decode(&bad_kind),
            Err(DecodeError::BadVoteKind(7))
        );
        let late_pol = ConsensusMessage::Proposal(ProposalMsg {
            height: 3,
            round: 1,
            pol_round: Some(1),
            block_hash: B256::ZERO,
            proposer: B256::ZERO,
            signature: B512::ZERO,
        });
        assert!(matches!(
            ConsensusMessage::decode(&late_pol.encode()),
            Err(DecodeError::BadPolRound { .. })
        ));
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = ConsensusMessage::decode(&bytes);
        }
    }
}
