//! Tally's types as Malachite sees them: the [`Context`] that lets
//! `malachitebft-core-driver` run Tendermint over block hashes signed with
//! validators' ed25519 node keys.
//!
//! The driver never signs or verifies anything: [`super::machine`] checks
//! every signature before a message reaches it and signs what it outputs.

use super::validators::{Validator, ValidatorSet};
use alloy_primitives::B512;
use mala::{NilOrVal, Round, SignedExtension, VoteType};
use malachitebft_core_types as mala;
use std::fmt;
use tally_crypto::node_key::{NodeKey, NodePublicKey};
use tally_primitives::B256;

/// A block height, as the driver counts them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Height(pub u64);

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl mala::Height for Height {
    const ZERO: Self = Height(0);
    // Height 0 is genesis, which is never agreed on.
    const INITIAL: Self = Height(1);

    fn increment_by(&self, n: u64) -> Self {
        Height(self.0.saturating_add(n))
    }

    fn decrement_by(&self, n: u64) -> Option<Self> {
        self.0.checked_sub(n).map(Height)
    }

    fn as_u64(&self) -> u64 {
        self.0
    }
}

/// A validator's address: its ed25519 public key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ValidatorKey(pub B256);

impl fmt::Display for ValidatorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl mala::Address for ValidatorKey {}

/// The value agreed on: a block hash. The block itself travels outside
/// consensus messages; the node executes it and reports its validity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlockHash(pub B256);

impl fmt::Display for BlockHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl mala::Value for BlockHash {
    type Id = BlockHash;

    fn id(&self) -> BlockHash {
        *self
    }
}

/// An unsigned proposal (the signature travels beside it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    pub height: Height,
    pub round: Round,
    pub value: BlockHash,
    pub pol_round: Round,
    pub proposer: ValidatorKey,
}

impl mala::Proposal<TallyContext> for Proposal {
    fn height(&self) -> Height {
        self.height
    }
    fn round(&self) -> Round {
        self.round
    }
    fn value(&self) -> &BlockHash {
        &self.value
    }
    fn take_value(self) -> BlockHash {
        self.value
    }
    fn pol_round(&self) -> Round {
        self.pol_round
    }
    fn validator_address(&self) -> &ValidatorKey {
        &self.proposer
    }
}

/// An unsigned prevote or precommit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vote {
    pub kind: VoteType,
    pub height: Height,
    pub round: Round,
    pub value: NilOrVal<BlockHash>,
    pub validator: ValidatorKey,
}

impl mala::Vote<TallyContext> for Vote {
    fn height(&self) -> Height {
        self.height
    }
    fn round(&self) -> Round {
        self.round
    }
    fn value(&self) -> &NilOrVal<BlockHash> {
        &self.value
    }
    fn take_value(self) -> NilOrVal<BlockHash> {
        self.value
    }
    fn vote_type(&self) -> VoteType {
        self.kind
    }
    fn validator_address(&self) -> &ValidatorKey {
        &self.validator
    }
    // Tally votes carry no extensions.
    fn extension(&self) -> Option<&SignedExtension<TallyContext>> {
        None
    }
    fn take_extension(&mut self) -> Option<SignedExtension<TallyContext>> {
        None
    }
    fn extend(self, _extension: SignedExtension<TallyContext>) -> Self {
        self
    }
}

/// Proposals travel whole (a block hash), never in parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoParts;

impl mala::ProposalPart<TallyContext> for NoParts {
    fn is_first(&self) -> bool {
        true
    }
    fn is_last(&self) -> bool {
        true
    }
}

/// ed25519 over the node key; signatures are kept as their 64 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ed25519;

impl mala::SigningScheme for Ed25519 {
    type DecodingError = String;
    type Signature = B512;
    type PublicKey = NodePublicKey;
    type PrivateKey = NodeKey;

    fn decode_signature(bytes: &[u8]) -> Result<B512, String> {
        B512::try_from(bytes)
            .map_err(|_| format!("signature of {} bytes, expected 64", bytes.len()))
    }

    fn encode_signature(signature: &B512) -> Vec<u8> {
        signature.to_vec()
    }

    fn decode_public_key(bytes: &[u8]) -> Result<NodePublicKey, String> {
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| format!("public key of {} bytes, expected 32", bytes.len()))?;
        NodePublicKey::from_bytes(&arr).map_err(|e| e.to_string())
    }

    fn encode_public_key(public_key: &NodePublicKey) -> Vec<u8> {
        public_key.to_bytes().to_vec()
    }
}

/// The [`mala::Context`] binding the types above together.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TallyContext;

impl mala::Context for TallyContext {
    type Address = ValidatorKey;
    type Height = Height;
    type ProposalPart = NoParts;
    type Proposal = Proposal;
    type Validator = Validator;
    type ValidatorSet = ValidatorSet;
    type Timeouts = mala::LinearTimeouts;
    type Value = BlockHash;
    type Vote = Vote;
    type Extension = ();
    type SigningScheme = Ed25519;

    fn select_proposer<'a>(
        &self,
        validator_set: &'a ValidatorSet,
        height: Height,
        round: Round,
    ) -> &'a Validator {
        validator_set.proposer(height.0, round.as_u32().unwrap_or(0))
    }

    fn new_proposal(
        &self,
        height: Height,
        round: Round,
        value: BlockHash,
        pol_round: Round,
        address: ValidatorKey,
    ) -> Proposal {
        Proposal {
            height,
            round,
            value,
            pol_round,
            proposer: address,
        }
    }

    fn new_prevote(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<BlockHash>,
        address: ValidatorKey,
    ) -> Vote {
        Vote {
            kind: VoteType::Prevote,
            height,
            round,
            value: value_id,
            validator: address,
        }
    }

    fn new_precommit(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<BlockHash>,
        address: ValidatorKey,
    ) -> Vote {
        Vote {
            kind: VoteType::Precommit,
            height,
            round,
            value: value_id,
            validator: address,
        }
    }
}
