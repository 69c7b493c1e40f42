//! Why a proof does not check: each message names what failed, with the
//! values involved, so a user can tell a wrong file from a wrong chain spec
//! from a forged proof.

use alloy_primitives::B256;

use crate::{
    bft::CertError, bft::ValidatorsError, state::StateProofError, validator_list::ListProofError,
};

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum VerifyError {
    // The envelope.
    #[error("unknown proof format {found:?}, expected {expected:?}")]
    Format {
        found: String,
        expected: &'static str,
    },
    #[error("the proof is for chain id {proof}, the chain spec for chain id {spec}")]
    ChainId { proof: u64, spec: u64 },
    #[error("the proof was made for chain spec {proof}, not {spec} (the spec given)")]
    SpecHash { proof: B256, spec: B256 },
    #[error("{what}: the header bytes are not a valid RLP header: {reason}")]
    HeaderRlp { what: String, reason: String },
    #[error("{what}: the header bytes are not the canonical RLP of the header they decode to")]
    HeaderNotCanonical { what: String },

    // Transactions and receipts.
    #[error(
        "the transaction's Merkle path does not lead to the header's transactions root {root}"
    )]
    TxPath { root: B256 },
    #[error(
        "the raw transaction hashes to {computed}, not the claimed transaction hash {claimed}"
    )]
    RawTxHash { computed: B256, claimed: B256 },
    #[error("the raw transaction is not a valid EIP-2718 transaction: {reason}")]
    RawTxDecode { reason: String },
    #[error("the raw transaction's signature recovers no sender: {reason}")]
    RawTxSender { reason: String },
    #[error("the receipt's Merkle path does not lead to the header's receipts root {root}")]
    ReceiptPath { root: B256 },
    #[error("the receipt's path is for position {receipt_index} of {receipt_count}, the transaction's for position {tx_index} of {tx_count}: they must be the same")]
    ReceiptPosition {
        tx_index: u64,
        tx_count: u64,
        receipt_index: u64,
        receipt_count: u64,
    },
    #[error("the receipt bytes are not a valid receipt: {reason}")]
    ReceiptDecode { reason: String },

    // State.
    #[error("the proof of {what} does not check against the header's state root {root}: {source}")]
    StateProof {
        what: String,
        root: B256,
        source: StateProofError,
    },
    #[error("the storage claim for {address} lists no slots")]
    NoSlots { address: alloy_primitives::Address },

    // Notary and traceability.
    #[error("document hash {claimed} differs from the file's {file}")]
    DocumentMismatch { claimed: B256, file: B256 },
    #[error("document {document}'s Merkle path does not lead to the batch root {root}")]
    DocumentPath { document: B256, root: B256 },
    #[error("the document's path is for a batch of {path_count} documents, the batch record says {record_count}")]
    BatchCount { path_count: u64, record_count: u64 },
    #[error("the file's hash {file} is not among the documents of product {product:?}'s events")]
    DocumentNotInHistory { file: B256, product: String },
    #[error("a document hash was given, but a {kind} proof says nothing about documents")]
    DocumentNotApplicable { kind: &'static str },

    // Finality.
    #[error("the proof carries {finality} finality, but chain spec {spec:?} runs {engine}")]
    EngineMismatch {
        finality: &'static str,
        spec: String,
        engine: &'static str,
    },
    #[error("chain spec {spec:?} names no dev authority: its blocks carry no seal to check")]
    NoAuthority { spec: String },
    #[error("the chain spec's dev authority {key} is not an ed25519 public key")]
    AuthorityKey { key: B256 },
    #[error("the header's seal is {len} bytes, not a 64-byte ed25519 signature")]
    AuthoritySealLength { len: usize },
    #[error("the header's seal is not the dev authority's signature (authority {key})")]
    AuthoritySeal { key: B256 },
    #[error("checkpoint {checkpoint} is neither block {number}'s hash {hash} nor the hash of a block built on it in the proof")]
    Checkpoint {
        checkpoint: B256,
        number: u64,
        hash: B256,
    },
    #[error("the chain spec's validators: {0}")]
    SpecValidators(ValidatorsError),
    #[error("validator-set change at height {height}: {source}")]
    ChangeValidators {
        height: u64,
        source: ValidatorsError,
    },
    #[error("validator-set change at height {height}: its list is not the governance contract's after block {parent}: {source}")]
    ChangeList {
        height: u64,
        parent: u64,
        source: ListProofError,
    },
    #[error("the validator-set change at height 1 differs from the chain spec's validators")]
    GenesisSetDiffers,
    #[error("validator-set change at height {height} is out of order (after height {last}, for block {number})")]
    ChangeOrder { height: u64, last: u64, number: u64 },
    #[error("validator-set change at height {height} has no certified header of block {parent}")]
    ChangeNoParent { height: u64, parent: u64 },
    #[error(
        "validator-set change at height {height} carries block {found} instead of block {expected}"
    )]
    ChangeParentNumber {
        height: u64,
        found: u64,
        expected: u64,
    },
    #[error("{what}: {source}")]
    Certificate { what: String, source: CertError },
    #[error("block {number}'s seal is {len} bytes, not an 8-byte PoW nonce")]
    PowSealLength { number: u64, len: usize },
    #[error("block {number}'s difficulty bits {bits:#010x} are invalid: {reason}")]
    PowBits {
        number: u64,
        bits: u32,
        reason: String,
    },
    #[error("block {number} has difficulty bits {found:#010x}, the chain spec's difficulty rule gives {expected:#010x}")]
    PowWrongBits {
        number: u64,
        found: u32,
        expected: u32,
    },
    #[error("block {number}'s PoW hash {hash} is above its target {target}")]
    PowHash {
        number: u64,
        hash: B256,
        target: B256,
    },
    #[error("block {number}'s timestamp {timestamp} is before that of its parent, block {parent} ({parent_timestamp}): timestamps may not go back")]
    PowTimestamp {
        number: u64,
        timestamp: u64,
        parent: u64,
        parent_timestamp: u64,
    },
    #[error("descendant {index} of the proof is block {found} with parent {parent}, expected block {expected} with parent {expected_parent}")]
    PowLink {
        index: usize,
        found: u64,
        parent: B256,
        expected: u64,
        expected_parent: B256,
    },
}
