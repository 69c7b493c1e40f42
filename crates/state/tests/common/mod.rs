//! Helpers shared by the integration tests: building blocks and a plain
//! in-memory model of the state to compare against.

#![allow(dead_code)]

use alloy_consensus::{SignableTransaction, TxEnvelope, TxLegacy};
use alloy_primitives::{Address, Bytes, Signature, TxKind, B256, U256};
use std::collections::BTreeMap;
use tally_primitives::{
    block::{receipts_root, transactions_root},
    Account, ChainSpec, GenesisAccount, Header, Receipt, SealedBlock, StateChanges, StorageChanges,
};
use tally_state::{trie, ChainDb};

pub fn addr(i: u8) -> Address {
    Address::repeat_byte(i + 1)
}

pub fn spec() -> ChainSpec {
    let mut alloc = BTreeMap::new();
    alloc.insert(
        addr(0),
        GenesisAccount {
            balance: U256::from(1_000_000u64),
            ..Default::default()
        },
    );
    alloc.insert(
        addr(1),
        GenesisAccount {
            balance: U256::from(5u64),
            nonce: 3,
            code: Some(Bytes::from_static(&[0x60, 0x00, 0x60, 0x00, 0xf3])),
            storage: [
                (U256::from(1), U256::from(11)),
                (U256::from(2), U256::from(22)),
            ]
            .into_iter()
            .collect(),
        },
    );
    ChainSpec::dev(alloc, 0)
}

pub fn tx(nonce: u64) -> TxEnvelope {
    let tx = TxLegacy {
        chain_id: Some(31337),
        nonce,
        gas_price: 1_000_000_000,
        gas_limit: 21_000,
        to: TxKind::Call(addr(2)),
        value: U256::from(nonce),
        input: Bytes::new(),
    };
    TxEnvelope::Legacy(tx.into_signed(Signature::test_signature()))
}

pub fn receipt(i: u64) -> Receipt {
    Receipt {
        tx_type: 0,
        success: true,
        gas_used: 21_000,
        cumulative_gas_used: 21_000 * (i + 1),
        logs: vec![],
    }
}

/// Prepares, seals and commits a block with `changes` and `txs` on the head.
pub fn commit(db: &ChainDb, changes: &StateChanges, txs: Vec<TxEnvelope>) -> SealedBlock {
    let head = db.head().unwrap();
    let (root, prepared) = db.prepare_state_root(head.number, changes).unwrap();
    let receipts: Vec<Receipt> = (0..txs.len() as u64).map(receipt).collect();
    let block = seal(&head, root, txs, &receipts);
    db.commit_block(&block, &receipts, changes, prepared)
        .unwrap();
    block
}

pub fn seal(
    parent: &tally_primitives::SealedHeader,
    state_root: B256,
    txs: Vec<TxEnvelope>,
    receipts: &[Receipt],
) -> SealedBlock {
    let header = Header {
        parent_hash: parent.hash,
        number: parent.number + 1,
        timestamp: parent.timestamp + 1,
        transactions_root: transactions_root(&txs),
        receipts_root: receipts_root(receipts),
        state_root,
        gas_limit: parent.gas_limit,
        base_fee: parent.base_fee,
        ..Default::default()
    }
    .seal_slow();
    SealedBlock {
        senders: txs.iter().map(|_| addr(0)).collect(),
        header,
        transactions: txs,
    }
}

pub fn account(nonce: u64, balance: u64) -> Account {
    Account {
        nonce,
        balance: U256::from(balance),
        ..Default::default()
    }
}

/// The world state as plain maps, with the same semantics as `ChainDb`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Model {
    pub accounts: BTreeMap<Address, Account>,
    pub storage: BTreeMap<(Address, U256), U256>,
}

impl Model {
    pub fn from_spec(spec: &ChainSpec) -> Model {
        let mut m = Model::default();
        for (a, g) in &spec.alloc {
            let code_hash = g
                .code
                .as_ref()
                .map(alloy_primitives::keccak256)
                .unwrap_or(tally_primitives::EMPTY_CODE_HASH);
            m.accounts.insert(
                *a,
                Account {
                    nonce: g.nonce,
                    balance: g.balance,
                    code_hash,
                },
            );
            for (k, v) in &g.storage {
                m.storage.insert((*a, *k), *v);
            }
        }
        m
    }

    pub fn apply(&mut self, c: &StateChanges) {
        for (a, acc) in &c.accounts {
            match acc {
                Some(acc) => self.accounts.insert(*a, *acc),
                None => self.accounts.remove(a),
            };
        }
        for (a, s) in &c.storage {
            if s.wiped {
                self.storage.retain(|(x, _), _| x != a);
            }
            for (slot, v) in &s.slots {
                if v.is_zero() {
                    self.storage.remove(&(*a, *slot));
                } else {
                    self.storage.insert((*a, *slot), *v);
                }
            }
        }
    }

    /// The state root of this state, built from scratch.
    pub fn root(&self) -> B256 {
        let accounts = self
            .accounts
            .iter()
            .filter_map(|(a, acc)| Some((trie::account_key(a), trie::account_value(&Some(*acc))?)));
        let storage = self
            .storage
            .iter()
            .filter_map(|((a, s), v)| Some((trie::storage_key(a, s), trie::storage_value(v)?)));
        trie::root_from_scratch(accounts.chain(storage))
    }

    /// Asserts that `state` holds exactly this model on the given addresses and slots.
    pub fn assert_matches(
        &self,
        state: &tally_state::StateSnapshot,
        addrs: &[Address],
        slots: &[U256],
    ) {
        for a in addrs {
            assert_eq!(
                state.account(a).unwrap(),
                self.accounts.get(a).copied(),
                "account {a} at block {}",
                state.number()
            );
            for s in slots {
                assert_eq!(
                    state.storage(a, s).unwrap(),
                    self.storage.get(&(*a, *s)).copied().unwrap_or_default(),
                    "slot {s} of {a} at block {}",
                    state.number()
                );
            }
        }
    }
}

pub fn storage_change(wiped: bool, slots: &[(u64, u64)]) -> StorageChanges {
    StorageChanges {
        wiped,
        slots: slots
            .iter()
            .map(|(k, v)| (U256::from(*k), U256::from(*v)))
            .collect(),
    }
}
