//! A revm database over a state snapshot plus the block's pending writes.

use alloy_primitives::{
    map::{AddressMap, B256Map, HashMap},
    Address, Bytes, B256, U256,
};
use revm::{
    bytecode::Bytecode,
    database_interface::DBErrorMarker,
    state::{Account as EvmAccount, AccountInfo},
    Database, DatabaseCommit,
};
use tally_primitives::{Account, StateChanges, StorageChanges, EMPTY_CODE_HASH};

/// Read access to the state the block builds on.
pub trait StateSource {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateSourceError>;
    fn storage(&self, address: &Address, slot: &U256) -> Result<U256, StateSourceError>;
    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateSourceError>;
    /// Hash of an earlier block, for the BLOCKHASH opcode.
    fn block_hash(&self, number: u64) -> Result<Option<B256>, StateSourceError>;
}

/// A failed state read, with the underlying error's message.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct StateSourceError(pub String);

impl DBErrorMarker for StateSourceError {}

/// Pending writes of the block on top of a [`StateSource`], with a read cache.
pub(crate) struct Overlay<'a, S: ?Sized> {
    base: &'a S,
    /// Accounts written in this block: `None` means deleted.
    accounts: AddressMap<Option<Account>>,
    storage: AddressMap<StorageChanges>,
    new_code: B256Map<Bytes>,
    /// Analysed bytecode, so a contract called by many transactions is
    /// loaded and analysed once per block.
    code_cache: B256Map<Bytecode>,
    base_accounts: AddressMap<Option<Account>>,
    base_storage: HashMap<(Address, U256), U256>,
}

impl<'a, S: StateSource + ?Sized> Overlay<'a, S> {
    pub(crate) fn new(base: &'a S) -> Self {
        Overlay {
            base,
            accounts: Default::default(),
            storage: Default::default(),
            new_code: Default::default(),
            code_cache: Default::default(),
            base_accounts: Default::default(),
            base_storage: Default::default(),
        }
    }

    fn read_account(&mut self, address: Address) -> Result<Option<Account>, StateSourceError> {
        if let Some(a) = self.accounts.get(&address) {
            return Ok(*a);
        }
        if let Some(a) = self.base_accounts.get(&address) {
            return Ok(*a);
        }
        let a = self.base.account(&address)?;
        self.base_accounts.insert(address, a);
        Ok(a)
    }

    /// Adds `amount` to `address`'s balance outside any transaction (block
    /// rewards), creating the account if needed.
    pub(crate) fn credit(
        &mut self,
        address: Address,
        amount: U256,
    ) -> Result<(), StateSourceError> {
        if amount.is_zero() {
            return Ok(());
        }
        let mut account = self.read_account(address)?.unwrap_or(Account {
            nonce: 0,
            balance: U256::ZERO,
            code_hash: EMPTY_CODE_HASH,
        });
        account.balance = account.balance.checked_add(amount).ok_or_else(|| {
            StateSourceError(format!(
                "balance of {address} overflows with reward {amount}"
            ))
        })?;
        self.accounts.insert(address, Some(account));
        Ok(())
    }

    /// Writes a storage slot outside any transaction (the system contracts'
    /// block-level changes). Only valid between transactions, when revm's
    /// journal holds nothing that could shadow it.
    pub(crate) fn set_storage(&mut self, address: Address, slot: U256, value: U256) {
        self.storage
            .entry(address)
            .or_default()
            .slots
            .insert(slot, value);
    }

    /// Gives `address` the system code (see `system::genesis::SYSTEM_CODE`)
    /// and nonce 1 unless it has code already.
    pub(crate) fn ensure_system_account(
        &mut self,
        address: Address,
    ) -> Result<(), StateSourceError> {
        let mut account = self.read_account(address)?.unwrap_or_default();
        if account.code_hash != EMPTY_CODE_HASH {
            return Ok(());
        }
        let code = Bytes::from_static(&crate::system::SYSTEM_CODE);
        let hash = alloy_primitives::keccak256(&code);
        account.code_hash = hash;
        account.nonce = account.nonce.max(1);
        self.new_code.insert(hash, code);
        self.accounts.insert(address, Some(account));
        Ok(())
    }

    pub(crate) fn into_changes(self) -> StateChanges {
        StateChanges {
            accounts: self.accounts,
            storage: self.storage,
            code: self.new_code,
        }
    }
}

impl<S: StateSource + ?Sized> Database for Overlay<'_, S> {
    type Error = StateSourceError;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        Ok(self.read_account(address)?.map(|a| AccountInfo {
            balance: a.balance,
            nonce: a.nonce,
            code_hash: a.code_hash,
            account_id: None,
            code: None,
        }))
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        if code_hash == EMPTY_CODE_HASH || code_hash == B256::ZERO {
            return Ok(Bytecode::default());
        }
        if let Some(code) = self.code_cache.get(&code_hash) {
            return Ok(code.clone());
        }
        let raw = match self.new_code.get(&code_hash) {
            Some(c) => c.clone(),
            None => self.base.code(&code_hash)?.ok_or_else(|| {
                StateSourceError(format!("code {code_hash} is referenced but missing"))
            })?,
        };
        let code = Bytecode::new_raw(raw);
        self.code_cache.insert(code_hash, code.clone());
        Ok(code)
    }

    fn storage(&mut self, address: Address, slot: U256) -> Result<U256, Self::Error> {
        if let Some(s) = self.storage.get(&address) {
            if let Some(v) = s.slots.get(&slot) {
                return Ok(*v);
            }
            if s.wiped {
                return Ok(U256::ZERO);
            }
        }
        if let Some(v) = self.base_storage.get(&(address, slot)) {
            return Ok(*v);
        }
        let v = self.base.storage(&address, &slot)?;
        self.base_storage.insert((address, slot), v);
        Ok(v)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, Self::Error> {
        Ok(self.base.block_hash(number)?.unwrap_or_default())
    }
}

impl<S: StateSource + ?Sized> DatabaseCommit for Overlay<'_, S> {
    fn commit(&mut self, changes: AddressMap<EvmAccount>) {
        for (address, account) in changes {
            if !account.is_touched() {
                continue;
            }
            if account.is_selfdestructed() {
                self.accounts.insert(address, None);
                self.storage.insert(
                    address,
                    StorageChanges {
                        wiped: true,
                        slots: HashMap::default(),
                    },
                );
                continue;
            }
            if account.is_created() {
                // A (re-)created account starts with empty storage.
                let entry = self.storage.entry(address).or_default();
                entry.wiped = true;
                entry.slots.clear();
            }
            if let Some(code) = &account.info.code {
                if account.info.code_hash != EMPTY_CODE_HASH && !code.is_empty() {
                    self.new_code
                        .entry(account.info.code_hash)
                        .or_insert_with(|| code.original_bytes());
                    self.code_cache
                        .entry(account.info.code_hash)
                        .or_insert_with(|| code.clone());
                }
            }
            let mut changed_slots = account.changed_storage_slots().peekable();
            if changed_slots.peek().is_some() {
                let entry = self.storage.entry(address).or_default();
                for (slot, value) in changed_slots {
                    entry.slots.insert(*slot, value.present_value());
                }
            }
            // EIP-161: touched accounts left empty are removed.
            let info = &account.info;
            let new = Account {
                nonce: info.nonce,
                balance: info.balance,
                code_hash: info.code_hash,
            };
            self.accounts
                .insert(address, (!new.is_empty()).then_some(new));
        }
    }
}
