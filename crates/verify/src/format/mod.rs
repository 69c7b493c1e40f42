//! The `tally-proof/1` format (documented in `docs/proofs.md`).
//!
//! JSON with camelCase fields; hashes, addresses and signatures are 0x-hex
//! as in Ethereum's JSON-RPC, and the opaque byte strings (headers, state
//! proofs, receipts) are standard base64 with padding, a third smaller
//! than hex. A proof is self-contained: the checker needs nothing but it
//! and the chain spec.

use alloy_primitives::{Address, Bytes, B256, U256};
use serde::{Deserialize, Serialize};
use tally_primitives::{merkle::MerkleProof, BftValidator, CommitCertificate};

mod b64;

/// The format tag every proof carries.
pub const FORMAT: &str = "tally-proof/1";

/// A claim, the block it is proven at, and that block's finality evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Proof {
    /// Always [`FORMAT`].
    pub format: String,
    pub chain_id: u64,
    /// `ChainSpec::hash()` of the chain the proof was made on: the checker
    /// refuses a proof made for another spec than the one it trusts.
    pub spec_hash: B256,
    pub claim: Claim,
    /// The exact RLP of the header of the block the claim is proven at;
    /// the block hash is recomputed from it.
    #[serde(with = "b64")]
    pub header: Bytes,
    pub finality: Finality,
}

/// What a proof proves, against the header's roots.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Claim {
    /// A transaction is in the block (transactions root).
    Transaction(TxClaim),
    /// A transaction's receipt (receipts root), with the transaction.
    Receipt(ReceiptClaim),
    /// An account's nonce, balance and code hash, or its absence (state root).
    Account(AccountClaim),
    /// Storage slots of an account, present or absent (state root).
    Storage(StorageClaim),
    /// A document was notarized, and whether it was revoked (state root).
    Notary(NotaryClaim),
    /// A product's registration and full event history (state root).
    Trace(TraceClaim),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TxClaim {
    pub tx_hash: B256,
    /// The hash's path to the transactions root.
    pub path: MerkleProof,
    /// The transaction's EIP-2718 bytes (they hash to `txHash`), so the
    /// checker can show sender, recipient and value; optional.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "b64::option")]
    pub raw: Option<Bytes>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReceiptClaim {
    pub tx_hash: B256,
    /// The transaction hash's path to the transactions root; its index is
    /// the receipt's.
    pub tx_path: MerkleProof,
    /// The receipt's RLP (its Keccak-256 is the receipts-root leaf).
    #[serde(with = "b64")]
    pub receipt: Bytes,
    pub path: MerkleProof,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountClaim {
    pub address: Address,
    /// `None`: no such account, and `proof` shows its absence.
    pub account: Option<AccountFields>,
    /// Compact state proof (`state::compact`) of `keccak256(address)`.
    #[serde(with = "b64")]
    pub proof: Bytes,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountFields {
    pub nonce: u64,
    pub balance: U256,
    pub code_hash: B256,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StorageClaim {
    pub address: Address,
    pub slots: Vec<SlotProof>,
}

/// One storage slot and its proof; zero value: absent, and the proof
/// shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SlotProof {
    pub slot: B256,
    pub value: U256,
    /// Compact state proof (`state::compact`) of `keccak256(address ‖ slot)`.
    #[serde(with = "b64")]
    pub proof: Bytes,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NotaryClaim {
    /// SHA-256 of the document.
    pub document: B256,
    /// The root of the batch the document was stamped in
    /// (`tally_primitives::merkle::root` of the batch's documents).
    pub root: B256,
    pub path: MerkleProof,
    pub record: NotaryRecord,
    /// Proof of the notary's `batch` slot for `root`, which holds
    /// `records::notary::record_commitment` of `record`.
    #[serde(with = "b64")]
    pub record_proof: Bytes,
    /// The submitter's revocation or supersession of the document, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation: Option<Revocation>,
    /// Proof of the notary's `revoked` slot for (submitter, document):
    /// present with `revocation`'s commitment, or absent.
    #[serde(with = "b64")]
    pub revocation_proof: Bytes,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NotaryRecord {
    pub submitter: Address,
    /// Timestamp of the block the batch was stamped in, unix seconds.
    pub timestamp: u64,
    pub block_number: u64,
    /// Documents in the batch.
    pub count: u64,
    #[serde(default)]
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Revocation {
    pub block_number: u64,
    pub timestamp: u64,
    /// The document that supersedes this one; zero: plainly revoked.
    pub replacement: B256,
    #[serde(default)]
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TraceClaim {
    pub product_id: String,
    pub product: ProductRecord,
    /// Every event, oldest first.
    pub events: Vec<TraceEventRecord>,
    /// Proof of the traceability contract's `head` slot for the product,
    /// which holds the hash chain over `product` and `events`.
    #[serde(with = "b64")]
    pub head_proof: Bytes,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductRecord {
    pub registry: u64,
    pub manufacturer: Address,
    pub timestamp: u64,
    pub block_number: u64,
    #[serde(default)]
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TraceEventRecord {
    pub party: Address,
    /// `records::TraceRole` code.
    pub role: u8,
    pub timestamp: u64,
    pub block_number: u64,
    pub status: String,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub documents: Vec<B256>,
}

/// Why the block the claim is proven at is part of the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Finality {
    /// A single-node dev chain: blocks carry no seal, so nothing but a
    /// trusted checkpoint hash anchors the header.
    None,
    /// The header's seal is the ed25519 signature of the chain spec's dev
    /// authority over its seal hash.
    Authority,
    /// A BFT commit certificate of the block, checked against the
    /// validator set at its height, rebuilt from the chain spec's genesis
    /// validators (the set at height 1) through `validatorSetChanges`.
    #[serde(rename_all = "camelCase")]
    Bft {
        certificate: CommitCertificate,
        validator_set_changes: Vec<ValidatorSetChange>,
    },
    /// The block's PoW seal and the headers built on it (exact RLP, in
    /// order), each meeting the target the chain spec's difficulty rule
    /// gives it.
    #[serde(rename_all = "camelCase")]
    Pow {
        #[serde(with = "b64::list")]
        descendants: Vec<Bytes>,
    },
}

/// From `height` on, `validators` sign; `certifiedParent` is block
/// `height - 1` with its certificate by the set before, and `listProof`
/// the compact storage proofs, against that block's state root, that the
/// governance contract held exactly `validators` after it
/// ([`crate::validator_list`]: the count, then each key and power). The
/// set at height 1 is the chain spec's: proofs leave it out, and a first
/// entry at height 1 (without `certifiedParent`) must restate it. A change
/// without `listProof` is checked but its list is taken as given, which
/// leaves the proof unanchored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ValidatorSetChange {
    pub height: u64,
    pub validators: Vec<BftValidator>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certified_parent: Option<CertifiedHeader>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "b64::list")]
    pub list_proof: Vec<Bytes>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CertifiedHeader {
    /// Exact RLP of the header.
    #[serde(with = "b64")]
    pub header: Bytes,
    pub certificate: CommitCertificate,
}
