//! Where the assets contract keeps each asset, in the storage of
//! [`ASSETS`](crate::system::ASSETS) (layout in [`store`](super::super::store)).

use super::super::{
    store::{addr_word, slot, Store},
    SysError,
};
use alloy_primitives::{Address, U256};

/// Bits of an asset's flags word (see [`Flags`]).
pub(crate) mod flag {
    pub const PAUSED: u64 = 1;
    pub const ALLOWLIST: u64 = 2;
    pub const PURPOSE: u64 = 4;
    pub const MAX_HOLDING: u64 = 8;
    /// Some account was once allowed, frozen or tagged for the asset:
    /// transfers must read accounts' flags.
    pub const ACCOUNT_FLAGS: u64 = 16;
}
/// Bits of an account's flags for one asset.
pub(crate) mod account_flag {
    pub const ALLOWED: u8 = 1;
    pub const FROZEN: u8 = 2;
    pub const TAGGED: u8 = 4;
}

/// The slot of one of asset `id`'s own fields: `ASSET_BASE | id << 16 |
/// offset`, with no hashing, so a transfer's reads of its asset (issuer,
/// flags) cost no keccak. Hashed slots (balances, flags of accounts) are
/// uniform over 2^256 and never land in this range in practice. Strings
/// (name, symbol, purpose: at most 64 bytes, so three slots) get room for
/// their chunks.
pub(crate) fn field(name: &str, id: u64) -> U256 {
    let offset: u64 = match name {
        "name" => 0x00,
        "symbol" => 0x10,
        "purpose" => 0x20,
        "decimals" => 0x30,
        "cap" => 0x31,
        "supply" => 0x32,
        "regulator" => 0x34,
        "flags" => 0x35,
        "max" => 0x36,
        "holders" => 0x37,
        "block" => 0x38,
        // Every caller names a field above; a new one must be added there.
        other => return slot(other, &[U256::from(id)]),
    };
    ASSET_BASE | (U256::from(id) << 16) | U256::from(offset)
}

/// The top of the asset fields' range: "a55e7" in the highest bits.
const ASSET_BASE: U256 = U256::from_limbs([0, 0, 0, 0xa55e_7000_0000_0000]);

/// The same slots, addressing asset `id`'s token account: each asset's
/// state lives in its own account's storage (like an ERC-20 contract's),
/// so its keys sit together on disk and a proof of a balance is a proof
/// against the token address. The registry keeps only the count.
pub(crate) fn at<'a>(s: &'a mut Store<'_>, id: u64) -> Store<'a> {
    s.other(super::token_address(id))
}

pub(crate) fn count(s: &mut Store<'_>) -> Result<u64, SysError> {
    s.get_u64(slot("count", &[]))
}

pub(crate) fn set_count(s: &mut Store<'_>, n: u64) -> Result<(), SysError> {
    s.set_u64(slot("count", &[]), n)
}

/// The asset's issuer, policy bits and current snapshot id, packed in one
/// word so a transfer learns all it needs about its asset with one load:
/// issuer in the high 160 bits, the snapshot id in bits 32..96, the policy
/// bits in 0..32. An unissued asset's word is zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Flags {
    pub bits: u64,
    pub snapshot: u64,
    pub issuer: Address,
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

const SNAPSHOT_SHIFT: usize = 32;
const ISSUER_SHIFT: usize = 96;

pub(crate) fn flags(s: &mut Store<'_>, id: u64) -> Result<Flags, SysError> {
    let mut at_token = at(s, id);
    let s = &mut at_token;
    let w = s.get(field("flags", id))?;
    let low: U256 = w & U256::from(u32::MAX);
    let snapshot: U256 = (w >> SNAPSHOT_SHIFT) & U256::from(u64::MAX);
    let issuer: U256 = w >> ISSUER_SHIFT;
    Ok(Flags {
        bits: low.to::<u64>(),
        snapshot: snapshot.to::<u64>(),
        issuer: super::super::store::word_addr(issuer),
    })
}

pub(crate) fn set_flags(s: &mut Store<'_>, id: u64, f: Flags) -> Result<(), SysError> {
    let mut at_token = at(s, id);
    let s = &mut at_token;
    if f.bits > u64::from(u32::MAX) {
        return Err(SysError::State(format!(
            "asset {id}: policy bits {:#x} do not fit 32 bits",
            f.bits
        )));
    }
    let w = U256::from(f.bits)
        | (U256::from(f.snapshot) << SNAPSHOT_SHIFT)
        | (addr_word(f.issuer) << ISSUER_SHIFT);
    s.set(field("flags", id), w)
}

pub(crate) fn account_flags(s: &mut Store<'_>, id: u64, account: Address) -> Result<u8, SysError> {
    let mut at_token = at(s, id);
    let s = &mut at_token;
    let v = s.get(slot("acct", &[U256::from(id), addr_word(account)]))?;
    Ok(u8::try_from(v).unwrap_or(0) & 7)
}

pub(crate) fn set_account_flags(
    s: &mut Store<'_>,
    id: u64,
    account: Address,
    bits: u8,
) -> Result<(), SysError> {
    let mut at_token = at(s, id);
    let s = &mut at_token;
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
    let mut at_token = at(s, id);
    let s = &mut at_token;
    let f = flags(s, id)?;
    Ok(Meta {
        token: super::token_address(id),
        id,
        name: s.get_string(field("name", id))?,
        symbol: s.get_string(field("symbol", id))?,
        decimals: u8::try_from(s.get_u64(field("decimals", id))?).unwrap_or(u8::MAX),
        cap: s.get(field("cap", id))?,
        total_supply: s.get(field("supply", id))?,
        issuer: f.issuer,
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
