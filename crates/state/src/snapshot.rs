//! Consistent reads of the world state after any kept block.
//!
//! The current state lives in plain tables. For an older block `n`, the
//! value of a key is the "previous value" stored by the first history entry
//! of that key with block > n (the first block after n that changed it); if
//! there is none, nothing changed it since n and the current value holds.

use crate::StateError;
use alloy_primitives::{Address, Bytes, B256, U256};
use redb::{ReadOnlyTable, ReadTransaction, ReadableTable};
use std::collections::BTreeSet;
use tally_primitives::Account;
use tally_storage::{
    codec::{decode_account, decode_opt_account},
    keys,
    schema::*,
    StorageError,
};

/// Reads of accounts, storage and code, as the executor needs them.
pub trait StateReader {
    fn account(&self, a: &Address) -> Result<Option<Account>, StateError>;
    /// Zero when the slot is absent.
    fn storage(&self, a: &Address, slot: &U256) -> Result<U256, StateError>;
    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateError>;
}

/// The state as it was after block [`StateSnapshot::number`], over one redb
/// read transaction: later commits do not change what it returns.
pub struct StateSnapshot {
    number: u64,
    /// Reads go straight to the plain tables when the snapshot is the head.
    latest: bool,
    accounts: ReadOnlyTable<&'static [u8; 20], &'static [u8]>,
    storage: ReadOnlyTable<&'static [u8; 52], &'static [u8; 32]>,
    code: ReadOnlyTable<&'static [u8; 32], &'static [u8]>,
    account_history: ReadOnlyTable<&'static [u8; 28], &'static [u8]>,
    storage_history: ReadOnlyTable<&'static [u8; 60], &'static [u8; 32]>,
}

impl StateSnapshot {
    pub(crate) fn new(txn: &ReadTransaction, number: u64, head: u64) -> Result<Self, StateError> {
        Ok(StateSnapshot {
            number,
            latest: number == head,
            accounts: txn.open_table(ACCOUNTS)?,
            storage: txn.open_table(STORAGE)?,
            code: txn.open_table(CODE)?,
            account_history: txn.open_table(ACCOUNT_HISTORY)?,
            storage_history: txn.open_table(STORAGE_HISTORY)?,
        })
    }

    /// The block after which this state holds.
    pub fn number(&self) -> u64 {
        self.number
    }

    pub fn account(&self, a: &Address) -> Result<Option<Account>, StateError> {
        if !self.latest {
            let from = keys::account_history_key(a, self.number + 1);
            let to = keys::account_history_key(a, u64::MAX);
            if let Some(entry) = self.account_history.range::<&[u8; 28]>(&from..=&to)?.next() {
                let (_, v) = entry?;
                return decode_opt_account(v.value())
                    .map_err(|e| StorageError::corrupt("account history", a, e).into());
            }
        }
        read_account(&self.accounts, a)
    }

    pub fn storage(&self, a: &Address, slot: &U256) -> Result<U256, StateError> {
        if !self.latest {
            let from = keys::storage_history_key(a, slot, self.number + 1);
            let to = keys::storage_history_key(a, slot, u64::MAX);
            if let Some(entry) = self.storage_history.range::<&[u8; 60]>(&from..=&to)?.next() {
                let (_, v) = entry?;
                return Ok(U256::from_be_bytes(*v.value()));
            }
        }
        read_storage(&self.storage, a, slot)
    }

    pub fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateError> {
        read_code(&self.code, code_hash)
    }

    /// Every non-zero slot of `a` in this state, in slot order. Used when a
    /// block wipes an account's storage.
    pub fn storage_slots(&self, a: &Address) -> Result<Vec<U256>, StateError> {
        let mut slots = live_slots(&self.storage, a)?;
        if self.latest {
            return Ok(slots.into_iter().collect());
        }
        // Slots deleted after this block exist only in history.
        let from = keys::storage_history_key(a, &U256::ZERO, 0);
        let to = keys::storage_history_key(a, &U256::MAX, u64::MAX);
        for entry in self.storage_history.range::<&[u8; 60]>(&from..=&to)? {
            let (k, _) = entry?;
            let mut slot = [0u8; 52];
            slot.copy_from_slice(&k.value()[..52]);
            slots.insert(keys::storage_key_slot(&slot));
        }
        let mut out = Vec::with_capacity(slots.len());
        for slot in slots {
            if !self.storage(a, &slot)?.is_zero() {
                out.push(slot);
            }
        }
        Ok(out)
    }
}

/// The current account of `a` in a plain [`ACCOUNTS`] table.
pub(crate) fn read_account(
    t: &impl ReadableTable<&'static [u8; 20], &'static [u8]>,
    a: &Address,
) -> Result<Option<Account>, StateError> {
    match t.get(&keys::account_key(a))? {
        Some(v) => Ok(Some(
            decode_account(v.value()).map_err(|e| StorageError::corrupt("account", a, e))?,
        )),
        None => Ok(None),
    }
}

/// The current value of a slot in a plain [`STORAGE`] table (zero: absent).
pub(crate) fn read_storage(
    t: &impl ReadableTable<&'static [u8; 52], &'static [u8; 32]>,
    a: &Address,
    slot: &U256,
) -> Result<U256, StateError> {
    Ok(t.get(&keys::storage_key(a, slot))?
        .map(|v| U256::from_be_bytes(*v.value()))
        .unwrap_or_default())
}

pub(crate) fn read_code(
    t: &impl ReadableTable<&'static [u8; 32], &'static [u8]>,
    code_hash: &B256,
) -> Result<Option<Bytes>, StateError> {
    Ok(t.get(&code_hash.0)?
        .map(|v| Bytes::copy_from_slice(v.value())))
}

/// The slots of `a` present in a plain [`STORAGE`] table.
pub(crate) fn live_slots(
    t: &impl ReadableTable<&'static [u8; 52], &'static [u8; 32]>,
    a: &Address,
) -> Result<BTreeSet<U256>, StateError> {
    let from = keys::storage_key(a, &U256::ZERO);
    let to = keys::storage_key(a, &U256::MAX);
    let mut slots = BTreeSet::new();
    for entry in t.range::<&[u8; 52]>(&from..=&to)? {
        let (k, _) = entry?;
        slots.insert(keys::storage_key_slot(k.value()));
    }
    Ok(slots)
}

impl StateReader for StateSnapshot {
    fn account(&self, a: &Address) -> Result<Option<Account>, StateError> {
        StateSnapshot::account(self, a)
    }
    fn storage(&self, a: &Address, slot: &U256) -> Result<U256, StateError> {
        StateSnapshot::storage(self, a, slot)
    }
    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateError> {
        StateSnapshot::code(self, code_hash)
    }
}
