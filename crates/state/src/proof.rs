//! Merkle proofs of accounts and storage slots against a state root
//! (`eth_getProof`).
//!
//! Proofs are jmt `SparseMerkleProof<Sha256>`s serialised with borsh: the
//! leaf (if any) on the key's path and the sibling hashes up to the root.
//! A key that is absent is proven by the empty subtree or by the one other
//! leaf that occupies its path. They are checked by `tally_verify::state`,
//! the same code the offline proof checker runs, after conversion to the
//! compact encoding offline proofs carry ([`AccountProof::compact_proofs`]).

use crate::{
    trie::{self, NodeReader},
    ChainDb, StateError,
};
use alloy_primitives::{Address, Bytes, B256, U256};
use jmt::KeyHash;
use tally_primitives::Account;
use tally_storage::schema::TRIE_NODES;
use tally_verify::state::{compact_from_jmt, verify_account, verify_slot, StateProofError};

/// An account, some of its storage slots, and proofs of both against `root`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountProof {
    pub address: Address,
    /// `None`: the account does not exist, and `proof` shows it.
    pub account: Option<Account>,
    /// borsh-encoded jmt proof for `keccak256(address)`.
    pub proof: Bytes,
    pub storage: Vec<StorageProof>,
    /// The state root the proofs were made against.
    pub root: B256,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageProof {
    pub slot: B256,
    /// Zero: the slot is absent, and `proof` shows it.
    pub value: U256,
    /// borsh-encoded jmt proof for `keccak256(address ++ slot)`.
    pub proof: Bytes,
}

impl AccountProof {
    /// Checks the account and every slot (present or absent) against `state_root`.
    pub fn verify(&self, state_root: &B256) -> Result<(), StateError> {
        let invalid = |what: String, e: StateProofError| StateError::InvalidProof {
            what,
            reason: e.to_string(),
        };
        let what = format!("account {}", self.address);
        compact_from_jmt(&self.proof)
            .and_then(|p| verify_account(&p, state_root, &self.address, &self.account))
            .map_err(|e| invalid(what, e))?;
        for s in &self.storage {
            let slot = U256::from_be_bytes(s.slot.0);
            compact_from_jmt(&s.proof)
                .and_then(|p| verify_slot(&p, state_root, &self.address, &slot, &s.value))
                .map_err(|e| invalid(format!("slot {} of {}", s.slot, self.address), e))?;
        }
        Ok(())
    }

    /// The account's proof and each slot's, in order, in the compact
    /// encoding `tally-proof/1` carries (`tally_verify::state::compact_from_jmt`):
    /// one hash per non-empty sibling instead of jmt's whole nodes.
    pub fn compact_proofs(&self) -> Result<(Bytes, Vec<Bytes>), StateError> {
        let convert = |what: String, proof: &Bytes| {
            compact_from_jmt(proof).map_err(|e| StateError::InvalidProof {
                what,
                reason: e.to_string(),
            })
        };
        let account = convert(format!("account {}", self.address), &self.proof)?;
        let slots = self
            .storage
            .iter()
            .map(|s| convert(format!("slot {} of {}", s.slot, self.address), &s.proof))
            .collect::<Result<_, _>>()?;
        Ok((account, slots))
    }
}

impl ChainDb {
    /// The account `address` and `slots` after block `number`, with proofs
    /// against that block's state root.
    pub fn account_proof(
        &self,
        address: Address,
        slots: &[B256],
        number: u64,
    ) -> Result<AccountProof, StateError> {
        let state = self.state_at(number)?;
        let root = self
            .header_by_number(number)?
            .ok_or(StateError::MissingBlock(number))?
            .state_root;
        let txn = self.inner.store.begin_read()?;
        let mut reader = NodeReader::new(txn.open_table(TRIE_NODES)?);
        if !trie::tree_kept(&reader, number)? {
            return Err(StateError::TreeNotKept { number });
        }
        let account = state.account(&address)?;
        let key = trie::account_key(&address);
        reader.with_value(key, trie::account_value(&account));
        let mut storage = Vec::with_capacity(slots.len());
        let mut keys = Vec::with_capacity(slots.len());
        for s in slots {
            let slot = U256::from_be_bytes(s.0);
            let value = state.storage(&address, &slot)?;
            let k = trie::storage_key(&address, &slot);
            reader.with_value(k, trie::storage_value(&value));
            keys.push(k);
            storage.push((*s, value));
        }
        let tree = reader.tree();
        let prove = |k: KeyHash| -> Result<Bytes, StateError> {
            let (_, proof) = tree
                .get_with_proof(k, trie::version_of(number))
                .map_err(StateError::trie)?;
            Ok(Bytes::from(
                borsh::to_vec(&proof).map_err(StateError::trie)?,
            ))
        };
        let proof = prove(key)?;
        let storage = storage
            .into_iter()
            .zip(keys)
            .map(|((slot, value), k)| {
                Ok(StorageProof {
                    slot,
                    value,
                    proof: prove(k)?,
                })
            })
            .collect::<Result<_, StateError>>()?;
        Ok(AccountProof {
            address,
            account,
            proof,
            storage,
            root,
        })
    }
}
