//! What executing a block changed in the world state.

use crate::Account;
use alloy_primitives::{
    map::{AddressMap, B256Map, HashMap},
    Bytes, U256,
};

/// The net effect of a block on state: the executor produces it, the state
/// layer commits it (and records the previous values as the block's changeset).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateChanges {
    /// New value of every touched account; `None` removes the account
    /// (self-destructed, or emptied under EIP-161).
    pub accounts: AddressMap<Option<Account>>,
    /// Storage writes per account. A zero value deletes the slot.
    pub storage: AddressMap<StorageChanges>,
    /// Code deployed in the block, by code hash.
    pub code: B256Map<Bytes>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StorageChanges {
    /// All storage of the account was cleared before `slots` apply
    /// (the account was destroyed or re-created in this block).
    pub wiped: bool,
    pub slots: HashMap<U256, U256>,
}

impl StateChanges {
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.storage.is_empty() && self.code.is_empty()
    }
}
