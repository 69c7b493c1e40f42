//! Native system contracts: Rust code at reserved addresses that the EVM
//! runs as stateful precompiles.
//!
//! A contract keeps its state in the EVM storage of its own address, so the
//! state root, `eth_getProof`, changesets and history cover it like any
//! Solidity contract. Its code is one `0xfe` byte with nonce 1 (written at
//! genesis), so the account is never removed as empty.
//!
//! A contract is a function over [`Slots`], the storage it may touch. Three
//! kinds of `Slots` run the same code: [`host::JournalSlots`] inside a
//! transaction (metered, journaled, reverted with the call),
//! [`OverlaySlots`] for the block's own changes before and after its
//! transactions (evidence, governance decisions), and [`ReadSlots`] over any
//! [`StateSource`] for the node's and RPC's reads. Genesis writes through a
//! fourth, [`genesis::CollectSlots`].
//!
//! Adding a contract: a module with a `call` function and one line in
//! [`CONTRACTS`].

pub mod abi;
pub mod assets;
pub mod ballots;
mod genesis;
pub mod governance;
mod host;
pub mod notary;
pub mod roles;
pub mod settlement;
mod store;
pub mod trace;

pub use genesis::{genesis_accounts, SYSTEM_CODE};
pub(crate) use host::SystemPrecompiles;

use crate::{overlay::Overlay, StateSource};
use alloy_primitives::{address, Address, Bytes, B256, U256};
use revm::Database;

/// The governance contract ([`abi::ITallyGovernance`]).
pub const GOVERNANCE: Address = tally_verify::validator_list::GOVERNANCE;
/// The roles contract ([`abi::ITallyRoles`]).
pub const ROLES: Address = address!("0000000000000000000000000000000000001002");
/// The assets registry ([`abi::ITallyAssets`]); each asset's ERC-20 face is
/// at its own token address ([`assets::token_address`]).
pub const ASSETS: Address = address!("0000000000000000000000000000000000001003");
/// Delivery versus payment ([`abi::ITallySettlement`]).
pub const SETTLEMENT: Address = address!("0000000000000000000000000000000000001004");
/// Shareholder ballots ([`abi::ITallyBallots`]).
pub const BALLOTS: Address = address!("0000000000000000000000000000000000001005");
/// The notary ([`abi::ITallyNotary`]) at 0x…1006 and traceability
/// ([`abi::ITallyTrace`]) at 0x…1007: their layout is fixed in
/// `tally-verify`, whose offline checker recomputes their commitments.
pub use tally_verify::records::{NOTARY, TRACE};

/// What a system contract learns about the call it serves.
#[derive(Clone, Debug)]
pub(crate) struct CallCtx {
    pub caller: Address,
    /// The address called: a contract's own, or an asset's token address.
    pub address: Address,
    /// The number of the block the call runs in.
    pub block: u64,
    /// The block's timestamp, unix seconds.
    pub timestamp: u64,
    pub chain_id: u64,
    pub is_static: bool,
}

/// The entry point of a system contract: ABI calldata in, ABI data out.
pub(crate) type ContractFn = fn(&mut dyn Slots, &CallCtx, &[u8]) -> Result<Vec<u8>, SysError>;

/// The registry: every system contract and its address.
pub(crate) const CONTRACTS: &[(Address, ContractFn)] = &[
    (GOVERNANCE, governance::call),
    (ROLES, roles::call),
    (ASSETS, assets::call),
    (SETTLEMENT, settlement::call),
    (BALLOTS, ballots::call),
    (NOTARY, notary::call),
    (TRACE, trace::call),
];

/// The contract at `address`: a registered one, or an asset's ERC-20 face
/// for any address in the token range (the face refuses unissued ones).
pub(crate) fn contract_at(address: &Address) -> Option<ContractFn> {
    CONTRACTS
        .iter()
        .find(|(a, _)| a == address)
        .map(|(_, f)| *f)
        .or_else(|| assets::token_id(address).map(|_| assets::token::call as ContractFn))
}

/// Why a system contract call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SysError {
    /// Reverts with `Error(string)` data, as Solidity's `require` does.
    Revert(String),
    /// The call's gas ran out.
    OutOfGas,
    /// Reading state failed: fatal for the block, not the call's fault.
    State(String),
}

pub(crate) fn revert<T>(reason: impl Into<String>) -> Result<T, SysError> {
    Err(SysError::Revert(reason.into()))
}

/// Storage the system contracts read and write.
pub(crate) trait Slots {
    fn load(&mut self, address: Address, slot: U256) -> Result<U256, SysError>;
    fn store(&mut self, address: Address, slot: U256, value: U256) -> Result<(), SysError>;
    /// Emits a log; slots outside a transaction drop it (there is no receipt
    /// to hold it).
    fn emit(&mut self, address: Address, topics: Vec<B256>, data: Bytes) -> Result<(), SysError>;
    /// Makes `address` a system account (code `0xfe`, nonce 1) unless it
    /// already has code, so its storage is never cleared as an empty
    /// account's and `eth_getCode` shows a contract there.
    fn ensure_account(&mut self, address: Address) -> Result<(), SysError>;
    /// Charges `gas` for work beyond storage and logs (signature recovery);
    /// slots outside a transaction are not metered.
    fn charge(&mut self, gas: u64) -> Result<(), SysError>;
    /// Moves `amount` of the chain's coin from `from` to `to`; reverts when
    /// `from` cannot cover it.
    fn transfer_coin(&mut self, from: Address, to: Address, amount: U256) -> Result<(), SysError>;
}

/// The refusal of a write outside a transaction.
fn outside_tx<T>(what: &str) -> Result<T, SysError> {
    Err(SysError::State(format!(
        "system contracts cannot {what} outside a transaction"
    )))
}

/// Read-only slots over a state; writing is a bug in the caller.
pub(crate) struct ReadSlots<'a, S: ?Sized>(pub &'a S);

impl<S: StateSource + ?Sized> Slots for ReadSlots<'_, S> {
    fn load(&mut self, address: Address, slot: U256) -> Result<U256, SysError> {
        self.0
            .storage(&address, &slot)
            .map_err(|e| SysError::State(e.0))
    }
    fn store(&mut self, address: Address, _: U256, _: U256) -> Result<(), SysError> {
        Err(SysError::State(format!(
            "system contract {address} written through a read-only state"
        )))
    }
    fn emit(&mut self, _: Address, _: Vec<B256>, _: Bytes) -> Result<(), SysError> {
        Ok(())
    }
    fn ensure_account(&mut self, address: Address) -> Result<(), SysError> {
        Err(SysError::State(format!(
            "system account {address} created through a read-only state"
        )))
    }
    fn charge(&mut self, _: u64) -> Result<(), SysError> {
        Ok(())
    }
    fn transfer_coin(&mut self, _: Address, _: Address, _: U256) -> Result<(), SysError> {
        outside_tx("move coins through a read-only state")
    }
}

/// Slots over the block's pending writes, between transactions (the EVM's
/// journal is empty then, so nothing caches what these write).
pub(crate) struct OverlaySlots<'o, 'a, S: ?Sized>(pub &'o mut Overlay<'a, S>);

impl<S: StateSource + ?Sized> Slots for OverlaySlots<'_, '_, S> {
    fn load(&mut self, address: Address, slot: U256) -> Result<U256, SysError> {
        Database::storage(self.0, address, slot).map_err(|e| SysError::State(e.0))
    }
    fn store(&mut self, address: Address, slot: U256, value: U256) -> Result<(), SysError> {
        self.0.set_storage(address, slot, value);
        Ok(())
    }
    fn emit(&mut self, _: Address, _: Vec<B256>, _: Bytes) -> Result<(), SysError> {
        Ok(())
    }
    fn ensure_account(&mut self, address: Address) -> Result<(), SysError> {
        self.0
            .ensure_system_account(address)
            .map_err(|e| SysError::State(e.0))
    }
    fn charge(&mut self, _: u64) -> Result<(), SysError> {
        Ok(())
    }
    fn transfer_coin(&mut self, _: Address, _: Address, _: U256) -> Result<(), SysError> {
        outside_tx("move coins between transactions")
    }
}

/// Runs a read of the contract at `at` over `state`, for the node and RPC.
pub(crate) fn read_at<S: StateSource + ?Sized, T>(
    state: &S,
    at: Address,
    f: impl FnOnce(&mut store::Store<'_>) -> Result<T, SysError>,
) -> Result<T, crate::StateSourceError> {
    let mut slots = ReadSlots(state);
    f(&mut store::Store::new(&mut slots, at)).map_err(read_error)
}

/// A failure of a read-only system contract read, as a state error.
pub(crate) fn read_error(e: SysError) -> crate::StateSourceError {
    match e {
        SysError::State(m) | SysError::Revert(m) => crate::StateSourceError(m),
        SysError::OutOfGas => crate::StateSourceError("system contract read ran out of gas".into()),
    }
}

pub use governance::{
    evidence, members, params, proposal, proposals, validators, votes_needed, ChainParams,
    EvidenceView, ProposalAction, ProposalStatus, ProposalView,
};
pub use roles::{check_sender, permissioned, role_mask, PermissionError};
pub use settlement::{digest as settlement_digest, settled_at};

/// The smallest gas price the pool should admit, wei (0 on chains without
/// governance).
pub fn min_gas_price<S: StateSource + ?Sized>(state: &S) -> Result<u64, crate::StateSourceError> {
    governance::views::min_gas_price(state)
}
