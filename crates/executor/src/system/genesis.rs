//! The genesis state of the system contracts.

use super::{governance, Slots, SysError, CONTRACTS};
use alloy_primitives::{Address, Bytes, B256, U256};
use std::collections::BTreeMap;
use tally_primitives::{ChainSpec, EngineSpec, GenesisAccount};

/// The code of every system account: `INVALID`, so a plain EVM would fail a
/// call, and non-empty, so the account is never removed as empty.
pub const SYSTEM_CODE: [u8; 1] = [0xfe];

/// Slots that collect writes into genesis storage.
#[derive(Default)]
pub(crate) struct CollectSlots(BTreeMap<Address, BTreeMap<U256, U256>>);

impl Slots for CollectSlots {
    fn load(&mut self, address: Address, slot: U256) -> Result<U256, SysError> {
        Ok(self
            .0
            .get(&address)
            .and_then(|s| s.get(&slot))
            .copied()
            .unwrap_or_default())
    }
    fn store(&mut self, address: Address, slot: U256, value: U256) -> Result<(), SysError> {
        let storage = self.0.entry(address).or_default();
        if value.is_zero() {
            storage.remove(&slot);
        } else {
            storage.insert(slot, value);
        }
        Ok(())
    }
    fn emit(&mut self, _: Address, _: Vec<B256>, _: Bytes) -> Result<(), SysError> {
        Ok(())
    }
    fn ensure_account(&mut self, address: Address) -> Result<(), SysError> {
        self.0.entry(address).or_default();
        Ok(())
    }
    fn charge(&mut self, _: u64) -> Result<(), SysError> {
        Ok(())
    }
    fn transfer_coin(&mut self, _: Address, _: Address, _: U256) -> Result<(), SysError> {
        Err(SysError::State("genesis cannot move coins".into()))
    }
}

/// The system accounts a chain starts with: for a BFT chain, the governance
/// and roles contracts holding the spec's validators, members, parameters,
/// threshold and roles, with roles enforced; none for other chains. The
/// state layer writes them beside `spec.alloc` (they do not change the
/// spec's hash).
pub fn genesis_accounts(spec: &ChainSpec) -> BTreeMap<Address, GenesisAccount> {
    let EngineSpec::Bft(bft) = &spec.engine else {
        return BTreeMap::new();
    };
    let mut slots = CollectSlots::default();
    // Collecting cannot fail: CollectSlots never errors.
    if let Err(e) = governance::write_genesis(&mut slots, bft, spec.gas_limit) {
        tracing::error!(?e, "writing the system contracts' genesis failed");
    }
    CONTRACTS
        .iter()
        .map(|(address, _)| {
            let account = GenesisAccount {
                balance: U256::ZERO,
                nonce: 1,
                code: Some(Bytes::from_static(&SYSTEM_CODE)),
                storage: slots.0.remove(address).unwrap_or_default(),
            };
            (*address, account)
        })
        .collect()
}
