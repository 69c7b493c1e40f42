//! What the notary and traceability system contracts commit to in their
//! storage, shared by the executor (which writes it) and the checker
//! (which recomputes it from a proof's clear fields).
//!
//! Each record is one storage word holding the Keccak-256 of its ABI
//! encoding, so one storage proof covers every field of it, whatever the
//! length of its strings.

use alloy_primitives::{address, keccak256, Address, B256, U256};
use alloy_sol_types::SolValue;

/// The notary system contract (`contracts/ITallyNotary.sol`).
pub const NOTARY: Address = address!("0000000000000000000000000000000000001006");
/// The traceability system contract (`contracts/ITallyTrace.sol`).
pub const TRACE: Address = address!("0000000000000000000000000000000000001007");

/// A system contract's slot for `tag` and `keys`:
/// `keccak256(tag ‖ key₁ ‖ key₂ …)`, each key a 32-byte big-endian word.
pub fn system_slot(tag: &str, keys: &[U256]) -> U256 {
    let mut hasher = alloy_primitives::Keccak256::new();
    hasher.update(tag.as_bytes());
    for k in keys {
        hasher.update(k.to_be_bytes::<32>());
    }
    U256::from_be_bytes(hasher.finalize().0)
}

/// An address as a storage key word.
pub fn address_word(a: Address) -> U256 {
    U256::from_be_slice(a.as_slice())
}

/// Roles of parties in a traceability registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TraceRole {
    Manufacturer = 1,
    Shipper = 2,
    Warehouse = 3,
    Retailer = 4,
    Inspector = 5,
}

impl TraceRole {
    pub const ALL: [TraceRole; 5] = [
        TraceRole::Manufacturer,
        TraceRole::Shipper,
        TraceRole::Warehouse,
        TraceRole::Retailer,
        TraceRole::Inspector,
    ];

    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Option<TraceRole> {
        TraceRole::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn name(self) -> &'static str {
        match self {
            TraceRole::Manufacturer => "manufacturer",
            TraceRole::Shipper => "shipper",
            TraceRole::Warehouse => "warehouse",
            TraceRole::Retailer => "retailer",
            TraceRole::Inspector => "inspector",
        }
    }

    pub fn parse(s: &str) -> Option<TraceRole> {
        TraceRole::ALL.into_iter().find(|r| r.name() == s)
    }
}

pub mod notary {
    //! Notary storage: `slot("batch", root)` holds [`record_commitment`],
    //! `slot("revoked", submitter, document)` holds
    //! [`revocation_commitment`] once the submitter revokes or supersedes
    //! the document (absent otherwise).

    use super::*;

    pub fn batch_slot(root: B256) -> U256 {
        system_slot("batch", &[root.into()])
    }

    pub fn revocation_slot(submitter: Address, document: B256) -> U256 {
        system_slot("revoked", &[address_word(submitter), document.into()])
    }

    /// The stamp of a batch: who, when (block timestamp, unix seconds), in
    /// which block, how many documents, and its label.
    pub fn record_commitment(
        submitter: Address,
        timestamp: u64,
        block: u64,
        count: u64,
        label: &str,
    ) -> B256 {
        keccak256(
            (
                submitter,
                timestamp,
                block,
                count,
                keccak256(label.as_bytes()),
            )
                .abi_encode(),
        )
    }

    /// A revocation (`replacement` zero) or a supersession by `replacement`.
    pub fn revocation_commitment(
        block: u64,
        timestamp: u64,
        replacement: B256,
        reason: &str,
    ) -> B256 {
        keccak256((block, timestamp, replacement, keccak256(reason.as_bytes())).abi_encode())
    }
}

pub mod trace {
    //! Traceability storage: `slot("head", product_key(id))` holds the
    //! head of a hash chain that starts at the product's registration
    //! ([`registration_head`]) and takes in each event in order
    //! ([`next_head`]), so one storage proof covers a product's whole
    //! history.

    use super::*;

    /// The key of a product: Keccak-256 of its ID's UTF-8 bytes.
    pub fn product_key(product_id: &str) -> B256 {
        keccak256(product_id.as_bytes())
    }

    pub fn head_slot(product: B256) -> U256 {
        system_slot("head", &[product.into()])
    }

    pub fn registration_head(
        product: B256,
        registry: u64,
        manufacturer: Address,
        timestamp: u64,
        block: u64,
        description: &str,
    ) -> B256 {
        keccak256(
            (
                product,
                registry,
                manufacturer,
                timestamp,
                block,
                keccak256(description.as_bytes()),
            )
                .abi_encode(),
        )
    }

    pub fn next_head(
        prev: B256,
        party: Address,
        role: u8,
        timestamp: u64,
        block: u64,
        status: &str,
        location: &str,
        documents: &[B256],
    ) -> B256 {
        keccak256(
            (
                prev,
                party,
                u16::from(role),
                timestamp,
                block,
                keccak256(status.as_bytes()),
                keccak256(location.as_bytes()),
                keccak256(documents.to_vec().abi_encode()),
            )
                .abi_encode(),
        )
    }
}
