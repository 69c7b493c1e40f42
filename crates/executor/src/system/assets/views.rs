//! Reads of the assets for the node, RPC and CLI, over any
//! [`StateSource`]: the state at any block gives the holders and
//! balances of that block.

use super::{ledger, state, token_id};
use crate::{
    system::{abi::ITallyAssets, read_at, ASSETS},
    StateSource, StateSourceError,
};
use alloy_primitives::{Address, U256};

/// Every asset issued, by number.
pub fn assets<S: StateSource + ?Sized>(state: &S) -> Result<Vec<state::Meta>, StateSourceError> {
    read_at(state, ASSETS, |s| {
        let n = state::count(s)?;
        (1..=n).map(|id| state::read_meta(s, id)).collect()
    })
}

/// The asset at `token`, if issued.
pub fn asset<S: StateSource + ?Sized>(
    state: &S,
    token: Address,
) -> Result<Option<state::Meta>, StateSourceError> {
    read_at(state, ASSETS, |s| match token_id(&token) {
        Some(id) if id <= state::count(s)? => state::read_meta(s, id).map(Some),
        _ => Ok(None),
    })
}

/// Holders with a non-zero balance, from position `start`, at most `count`.
pub fn holders<S: StateSource + ?Sized>(
    state: &S,
    token: Address,
    start: u64,
    count: u64,
) -> Result<Vec<(Address, U256)>, StateSourceError> {
    read_at(state, ASSETS, |s| {
        match ledger::load_id(s, token_id(&token).unwrap_or(0))? {
            Some(a) => ledger::holders(s, a.id, start, count),
            None => Ok(Vec::new()),
        }
    })
}

/// An account's standing with one asset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AccountFlags {
    pub allowed: bool,
    pub frozen: bool,
    pub tagged: bool,
}

pub fn flags_of<S: StateSource + ?Sized>(
    state: &S,
    token: Address,
    account: Address,
) -> Result<AccountFlags, StateSourceError> {
    read_at(state, ASSETS, |s| {
        let bits = state::account_flags(s, token_id(&token).unwrap_or(0), account)?;
        Ok(AccountFlags {
            allowed: bits & state::account_flag::ALLOWED != 0,
            frozen: bits & state::account_flag::FROZEN != 0,
            tagged: bits & state::account_flag::TAGGED != 0,
        })
    })
}

pub(crate) fn to_abi(m: &state::Meta) -> ITallyAssets::Info {
    ITallyAssets::Info {
        token: m.token,
        id: m.id,
        name: m.name.clone(),
        symbol: m.symbol.clone(),
        decimals: m.decimals,
        cap: m.cap,
        totalSupply: m.total_supply,
        issuer: m.issuer,
        regulator: m.regulator,
        paused: m.paused,
        policy: ITallyAssets::Policy {
            allowlist: m.allowlist,
            maxHolding: m.max_holding,
            purpose: m.purpose.clone(),
        },
        holders: m.holders,
        issuedBlock: m.issued_block,
    }
}
