//! Where the assets contract keeps each asset, in the storage of
//! [`ASSETS`](crate::system::ASSETS) (layout in [`store`](super::super::store)).

use super::super::{
    store::{addr_word, slot, Store},
    SysError,
};
use alloy_primitives::{Address, U256};

/// Bits of an asset's flags word; the current snapshot id sits above them.
pub(crate) mod flag {
    pub const PAUSED: u64 = 1;
    pub const ALLOWLIST: u64 = 2;
    pub const PURPOSE: u64 = 4;
    pub const MAX_HOLDING: u64 = 8;
}
/// Bits of an account's flags for one asset.
pub(crate) mod account_flag {
    pub const ALLOWED: u8 = 1;
    pub const FROZEN: u8 = 2;
    pub const TAGGED: u8 = 4;
}
const SNAPSHOT_SHIFT: usize = 64;

pub(crate) fn field(name: &str, id: u64) -> U256 {
    slot(name, &[U256::from(id)])
}

pub(crate) fn count(s: &mut Store<'_>) -> Result<u64, SysError> {
    s.get_u64(slot("count", &[]))
}

pub(crate) fn set_count(s: &mut Store<'_>, n: u64) -> Result<(), SysError> {
    s.set_u64(slot("count", &[]), n)
}

/// The asset's policy bits and its current snapshot id, in one word so a
/// transfer reads them with one load.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Flags {
    pub bits: u64,
    pub snapshot: u64,
}

impl Flags {
    pub fn has(&self, bit: u64) -> bool {
        self.bits & bit != 0
    }
    pub fn with(mut self, bit: u64, on: bool) -> Self {
        if on {
            self.bits |= bit;
        } else {
            self.bits &= !bit;
        }
        self
    }
}

pub(crate) fn flags(s: &mut Store<'_>, id: u64) -> Result<Flags, SysError> {
    let w = s.get(field("flags", id))?;
    let low: U256 = w & U256::from(u64::MAX);
    let high: U256 = w >> SNAPSHOT_SHIFT;
    Ok(Flags {
        bits: low.to::<u64>(),
        snapshot: u64::try_from(high).map_err(|_| {
            SysError::State(format!(
                "asset {id}'s flags word {w:#x} is not one this code wrote"
            ))
        })?,
    })
}

pub(crate) fn set_flags(s: &mut Store<'_>, id: u64, f: Flags) -> Result<(), SysError> {
    let w = U256::from(f.bits) | (U256::from(f.snapshot) << SNAPSHOT_SHIFT);
    s.set(field("flags", id), w)
}

pub(crate) fn account_flags(s: &mut Store<'_>, id: u64, account: Address) -> Result<u8, SysError> {
    let v = s.get(slot("acct", &[U256::from(id), addr_word(account)]))?;
    Ok(u8::try_from(v).unwrap_or(0) & 7)
}

pub(crate) fn set_account_flags(
    s: &mut Store<'_>,
    id: u64,
    account: Address,
    bits: u8,
) -> Result<(), SysError> {
    s.set(
        slot("acct", &[U256::from(id), addr_word(account)]),
        U256::from(bits & 7),
    )
}

pub(crate) fn balance_slot(id: u64, account: Address) -> U256 {
    slot("bal", &[U256::from(id), addr_word(account)])
}

pub(crate) fn allowance_slot(id: u64, owner: Address, spender: Address) -> U256 {
    slot(
        "allowance",
        &[U256::from(id), addr_word(owner), addr_word(spender)],
    )
}

/// Everything about an asset except balances.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    pub token: Address,
    pub id: u64,
    pub name: String,
    pub symbol: String,
    pub decimals: u8,
    pub cap: U256,
    pub total_supply: U256,
    pub issuer: Address,
    /// `Address::ZERO` when the asset has none.
    pub regulator: Address,
    pub paused: bool,
    pub allowlist: bool,
    /// 0 for no limit.
    pub max_holding: U256,
    /// Empty when the asset is not purpose-bound.
    pub purpose: String,
    pub holders: u64,
    pub issued_block: u64,
}

pub(crate) fn read_meta(s: &mut Store<'_>, id: u64) -> Result<Meta, SysError> {
    let f = flags(s, id)?;
    Ok(Meta {
        token: super::token_address(id),
        id,
        name: s.get_string(field("name", id))?,
        symbol: s.get_string(field("symbol", id))?,
        decimals: u8::try_from(s.get_u64(field("decimals", id))?).unwrap_or(u8::MAX),
        cap: s.get(field("cap", id))?,
        total_supply: s.get(field("supply", id))?,
        issuer: s.get_addr(field("issuer", id))?,
        regulator: s.get_addr(field("regulator", id))?,
        paused: f.has(flag::PAUSED),
        allowlist: f.has(flag::ALLOWLIST),
        max_holding: if f.has(flag::MAX_HOLDING) {
            s.get(field("max", id))?
        } else {
            U256::ZERO
        },
        purpose: s.get_string(field("purpose", id))?,
        holders: s.get_u64(field("holders", id))?,
        issued_block: s.get_u64(field("block", id))?,
    })
}
