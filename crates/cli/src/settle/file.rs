//! The instruction file `tally settle new` writes and `sign` fills in:
//! JSON a person can read and another party can check before signing.
//!
//! ```json
//! {
//!   "instruction": {
//!     "partyA": "0x…", "partyB": "0x…",
//!     "assetA": "0xa55e70…01", "amountA": "250",
//!     "assetB": "eth", "amountB": "1000000000000000000",
//!     "expiry": 1767225600, "nonce": "0x…"
//!   },
//!   "chainId": 31337, "digest": "0x…",
//!   "signatureA": "0x…", "signatureB": "0x…"
//! }
//! ```
//!
//! Amounts are decimal base units (wei for "eth"); `chainId` and `digest`
//! are recorded by the first signature, so a later signer for another
//! chain is refused.

use std::path::Path;

use alloy_primitives::{Address, Bytes, B256, U256};
use anyhow::{anyhow, bail, Context as _};
use serde::{Deserialize, Serialize};

use super::abi::ITallySettlement::Instruction;
use crate::client::parse::{format_ether, parse_address};

/// The file as stored.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettlementFile {
    pub instruction: InstructionJson,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<B256>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_a: Option<Bytes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_b: Option<Bytes>,
}

/// The instruction with assets and amounts as people write them.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InstructionJson {
    pub party_a: Address,
    pub party_b: Address,
    /// A token address, or "eth" for the chain's coin.
    pub asset_a: String,
    /// Decimal base units.
    pub amount_a: String,
    pub asset_b: String,
    pub amount_b: String,
    /// Unix seconds.
    pub expiry: u64,
    pub nonce: U256,
}

/// Which side of an instruction an account is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    A,
    B,
}

impl SettlementFile {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read instruction file {}", path.display()))?;
        let file: Self = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not an instruction file (expected the JSON `tally settle new` writes)",
                path.display()
            )
        })?;
        file.instruction()
            .with_context(|| format!("in {}", path.display()))?;
        Ok(file)
    }

    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
    }

    /// The instruction as the contract takes it.
    pub fn instruction(&self) -> anyhow::Result<Instruction> {
        let i = &self.instruction;
        Ok(Instruction {
            partyA: i.party_a,
            partyB: i.party_b,
            assetA: parse_asset(&i.asset_a).context("assetA")?,
            amountA: parse_units(&i.amount_a).context("amountA")?,
            assetB: parse_asset(&i.asset_b).context("assetB")?,
            amountB: parse_units(&i.amount_b).context("amountB")?,
            expiry: i.expiry,
            nonce: i.nonce,
        })
    }

    /// The side `account` is on, if it is a party.
    pub fn side_of(&self, account: Address) -> Option<Side> {
        if account == self.instruction.party_a {
            Some(Side::A)
        } else if account == self.instruction.party_b {
            Some(Side::B)
        } else {
            None
        }
    }

    pub fn signature(&self, side: Side) -> Option<&Bytes> {
        match side {
            Side::A => self.signature_a.as_ref(),
            Side::B => self.signature_b.as_ref(),
        }
        .filter(|s| !s.is_empty())
    }

    pub fn party(&self, side: Side) -> Address {
        match side {
            Side::A => self.instruction.party_a,
            Side::B => self.instruction.party_b,
        }
    }
}

impl Side {
    pub fn name(self) -> &'static str {
        match self {
            Side::A => "partyA",
            Side::B => "partyB",
        }
    }
}

/// Checks what the contract would refuse anyway, so `new` does not write
/// an instruction that can never settle.
pub fn check_new(ins: &Instruction, now: u64) -> anyhow::Result<()> {
    if ins.partyA.is_zero() || ins.partyB.is_zero() {
        bail!("the parties must be accounts, not the zero address");
    }
    if ins.partyA == ins.partyB {
        bail!(
            "--party-a and --party-b are both {}: a settlement needs two parties",
            ins.partyA
        );
    }
    if ins.amountA.is_zero() || ins.amountB.is_zero() {
        bail!("both amounts must be above zero: each leg must move something");
    }
    if ins.expiry <= now {
        bail!(
            "--expiry {} is not in the future (now is {now})",
            ins.expiry
        );
    }
    Ok(())
}

/// "eth" (the coin) or a token address.
pub fn parse_asset(text: &str) -> anyhow::Result<Address> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("eth") {
        return Ok(Address::ZERO);
    }
    parse_address(t).map_err(|_| {
        anyhow!(
            "invalid asset {text:?}: expected a token address (0xa55e70…) or \"eth\" for the coin"
        )
    })
}

/// How a file spells an asset.
pub fn asset_text(asset: Address) -> String {
    if asset.is_zero() {
        "eth".into()
    } else {
        asset.to_checksum(None)
    }
}

/// A decimal amount in base units.
pub fn parse_units(text: &str) -> anyhow::Result<U256> {
    let t = text.trim().replace('_', "");
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit()) {
        bail!("invalid amount {text:?}: expected a whole number of base units, like 250 (wei for eth)");
    }
    U256::from_str_radix(&t, 10).map_err(|_| anyhow!("invalid amount {text:?}: larger than 2^256"))
}

/// `--expiry`: unix seconds, or `+SECONDS` from `now`.
pub fn parse_expiry(text: &str, now: u64) -> anyhow::Result<u64> {
    let t = text.trim();
    let bad = || anyhow!("invalid --expiry {text:?}: expected unix seconds or +SECONDS from now");
    match t.strip_prefix('+') {
        Some(rest) => {
            let secs: u64 = rest.parse().map_err(|_| bad())?;
            now.checked_add(secs).ok_or_else(bad)
        }
        None => t.parse().map_err(|_| bad()),
    }
}

/// One leg, for people: "250 of 0xa55e…01" or "1.5 ETH".
pub fn leg_text(asset: Address, amount: U256) -> String {
    if asset.is_zero() {
        format!("{} ({amount} wei)", format_ether(amount))
    } else {
        format!("{amount} units of {}", asset.to_checksum(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SettlementFile {
        SettlementFile {
            instruction: InstructionJson {
                party_a: Address::repeat_byte(1),
                party_b: Address::repeat_byte(2),
                asset_a: "0xa55e700000000000000000000000000000000001".into(),
                amount_a: "250".into(),
                asset_b: "ETH".into(),
                amount_b: "1000000000000000000".into(),
                expiry: 2_000_000_000,
                nonce: U256::from(7),
            },
            chain_id: None,
            digest: None,
            signature_a: None,
            signature_b: Some(Bytes::new()),
        }
    }

    #[test]
    fn a_file_round_trips_and_converts() {
        let f = sample();
        let text = serde_json::to_string(&f).unwrap();
        assert!(
            text.contains("\"partyA\"") && text.contains("\"amountB\""),
            "{text}"
        );
        assert!(!text.contains("chainId"), "{text}");
        let back: SettlementFile = serde_json::from_str(&text).unwrap();
        assert_eq!(back, f);
        let ins = f.instruction().unwrap();
        assert_eq!(ins.assetB, Address::ZERO);
        assert_eq!(ins.amountA, U256::from(250));
        assert_eq!(f.side_of(Address::repeat_byte(2)), Some(Side::B));
        assert_eq!(f.side_of(Address::repeat_byte(3)), None);
        // An empty signature counts as none.
        assert!(f.signature(Side::B).is_none());
        check_new(&ins, 1_000).unwrap();
        assert!(check_new(&ins, 2_000_000_000).is_err());
    }

    #[test]
    fn inputs_are_checked_with_reasons() {
        assert_eq!(parse_expiry("+60", 1000).unwrap(), 1060);
        assert_eq!(parse_expiry("1700000000", 1000).unwrap(), 1_700_000_000);
        assert!(parse_expiry("tomorrow", 0)
            .unwrap_err()
            .to_string()
            .contains("+SECONDS"));
        assert!(parse_units("1.5")
            .unwrap_err()
            .to_string()
            .contains("whole number"));
        assert_eq!(parse_units("1_000").unwrap(), U256::from(1000));
        assert!(parse_asset("usd")
            .unwrap_err()
            .to_string()
            .contains("\"eth\""));
        let mut f = sample();
        f.instruction.amount_a = "-1".into();
        assert!(format!("{:#}", f.instruction().unwrap_err()).contains("amountA"));
        let unknown = r#"{"instruction": {}, "extra": 1}"#;
        assert!(serde_json::from_str::<SettlementFile>(unknown).is_err());
    }
}
