//! Parsing of user input (amounts, addresses, hex, block ids) and
//! formatting of amounts. Every error names the input and what was
//! expected.

use alloy_primitives::{Address, Bytes, B256, U256};
use anyhow::{anyhow, bail, Context as _};
use serde_json::Value;

/// Decimal places of each unit suffix accepted in amounts.
const UNITS: &[(&str, u8)] = &[
    ("ether", 18),
    ("eth", 18),
    ("gwei", 9),
    ("mwei", 6),
    ("kwei", 3),
    ("wei", 0),
];

/// Parses an amount in wei: `1000`, `0x3e8`, or a decimal with a unit
/// suffix: `1eth`, `1.5 ether`, `5gwei`, `21000wei`.
pub fn parse_amount(input: &str) -> anyhow::Result<U256> {
    let text = input.trim().to_ascii_lowercase().replace('_', "");
    let bad = || {
        anyhow!("invalid amount {input:?}: expected wei (1000 or 0x3e8) or a number with a unit (1eth, 1.5ether, 5gwei)")
    };
    if text.is_empty() {
        return Err(bad());
    }
    if let Some(hex) = text.strip_prefix("0x") {
        return U256::from_str_radix(hex, 16).map_err(|_| bad());
    }
    let (number, decimals) = UNITS
        .iter()
        .find_map(|(unit, d)| text.strip_suffix(unit).map(|n| (n.trim(), *d)))
        .unwrap_or((text.as_str(), 0));
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) {
        return Err(bad());
    }
    if frac.len() > usize::from(decimals) {
        bail!("invalid amount {input:?}: more than {decimals} decimal places is less than 1 wei");
    }
    let scale = U256::from(10u8).pow(U256::from(decimals));
    let too_big = || anyhow!("invalid amount {input:?}: larger than 2^256 wei");
    // Only digits are left, so a parse error is an overflow.
    let whole = if whole.is_empty() {
        U256::ZERO
    } else {
        U256::from_str_radix(whole, 10).map_err(|_| too_big())?
    };
    let frac_value = if frac.is_empty() {
        U256::ZERO
    } else {
        let pad = U256::from(10u8).pow(U256::from(usize::from(decimals) - frac.len()));
        U256::from_str_radix(frac, 10).map_err(|_| bad())? * pad
    };
    whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(frac_value))
        .ok_or_else(too_big)
}

/// Formats wei as ether with trailing zeros removed: `1.5 ETH`.
pub fn format_ether(wei: U256) -> String {
    format_units(wei, 18, "ETH")
}

pub fn format_gwei(wei: U256) -> String {
    format_units(wei, 9, "gwei")
}

fn format_units(value: U256, decimals: u8, unit: &str) -> String {
    let scale = U256::from(10u8).pow(U256::from(decimals));
    let whole = value / scale;
    let frac = value % scale;
    if frac.is_zero() {
        return format!("{whole} {unit}");
    }
    let frac = format!(
        "{:0>width$}",
        frac.to_string(),
        width = usize::from(decimals)
    );
    format!("{whole}.{} {unit}", frac.trim_end_matches('0'))
}

/// Parses a 20-byte hex address (checksum not enforced: mixed case from a
/// wallet is accepted either way, and a wrong checksum is still rejected
/// when the case is mixed).
pub fn parse_address(input: &str) -> anyhow::Result<Address> {
    let text = input.trim();
    let with_prefix = if text.starts_with("0x") || text.starts_with("0X") {
        text.to_string()
    } else {
        format!("0x{text}")
    };
    let addr: Address = with_prefix.parse().map_err(|_| {
        anyhow!("invalid address {input:?}: expected 40 hex characters, like 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
    })?;
    let hex_part = &with_prefix[2..];
    let mixed = hex_part.chars().any(|c| c.is_ascii_uppercase())
        && hex_part.chars().any(|c| c.is_ascii_lowercase());
    if mixed && addr.to_checksum(None)[2..] != *hex_part {
        bail!(
            "invalid address {input:?}: bad EIP-55 checksum (expected {})",
            addr.to_checksum(None)
        );
    }
    Ok(addr)
}

/// Parses a 32-byte hash, with or without `0x`.
pub fn parse_b256(input: &str) -> anyhow::Result<B256> {
    let bytes = parse_hex("hash", input)?;
    B256::try_from(bytes.as_ref()).map_err(|_| {
        anyhow!(
            "invalid hash {input:?}: expected 64 hex characters (32 bytes), got {} bytes",
            bytes.len()
        )
    })
}

/// Parses hex bytes, with or without `0x`; empty input is empty bytes.
pub fn parse_hex(what: &str, input: &str) -> anyhow::Result<Bytes> {
    let text = input.trim();
    let hex_part = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    hex::decode(hex_part)
        .map(Bytes::from)
        .with_context(|| format!("invalid {what} {input:?}: expected hex bytes like 0xdeadbeef"))
}

/// A block to read: by number, by hash, or by tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockRef {
    Number(u64),
    Hash(B256),
    Tag(String),
}

impl BlockRef {
    /// As the block parameter of `eth_getBalance` and friends.
    pub fn to_param(&self) -> Value {
        match self {
            BlockRef::Number(n) => Value::String(format!("{n:#x}")),
            BlockRef::Hash(h) => serde_json::json!({ "blockHash": h }),
            BlockRef::Tag(t) => Value::String(t.clone()),
        }
    }
}

/// Parses `latest`, `earliest`, `pending`, `safe`, `finalized`, a decimal
/// or `0x` number, or a 32-byte block hash.
pub fn parse_block(input: &str) -> anyhow::Result<BlockRef> {
    let text = input.trim().to_ascii_lowercase();
    let bad = || {
        anyhow!("invalid block {input:?}: expected a number, a 0x block hash, or latest/earliest/pending/safe/finalized")
    };
    match text.as_str() {
        "latest" | "earliest" | "pending" | "safe" | "finalized" => Ok(BlockRef::Tag(text)),
        _ if text.starts_with("0x") && text.len() == 66 => {
            text.parse().map(BlockRef::Hash).map_err(|_| bad())
        }
        _ if text.starts_with("0x") => u64::from_str_radix(&text[2..], 16)
            .map(BlockRef::Number)
            .map_err(|_| bad()),
        _ => text.parse().map(BlockRef::Number).map_err(|_| bad()),
    }
}

/// Reads a hex quantity (`"0x1a"`) from a JSON answer.
pub fn quantity(value: &Value) -> Option<U256> {
    let s = value.as_str()?;
    U256::from_str_radix(s.strip_prefix("0x")?, 16).ok()
}

pub fn quantity_u64(value: &Value) -> Option<u64> {
    quantity(value).and_then(|v| u64::try_from(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eth(n: u64) -> U256 {
        U256::from(n) * U256::from(10u64).pow(U256::from(18))
    }

    #[test]
    fn amounts_in_every_unit() {
        assert_eq!(parse_amount("1000").unwrap(), U256::from(1000));
        assert_eq!(parse_amount("0x3e8").unwrap(), U256::from(1000));
        assert_eq!(parse_amount("1eth").unwrap(), eth(1));
        assert_eq!(parse_amount("1 ether").unwrap(), eth(1));
        assert_eq!(parse_amount("1.5ETH").unwrap(), eth(3) / U256::from(2));
        assert_eq!(parse_amount(".5eth").unwrap(), eth(1) / U256::from(2));
        assert_eq!(parse_amount("5gwei").unwrap(), U256::from(5_000_000_000u64));
        assert_eq!(parse_amount("1_000wei").unwrap(), U256::from(1000));
        assert_eq!(parse_amount("0.000000001gwei").unwrap(), U256::from(1));
    }

    #[test]
    fn bad_amounts_name_the_input() {
        for bad in ["", "eth", "1.2.3eth", "-1", "abc", "1e18", "0xzz", "1.5"] {
            let err = parse_amount(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("{bad:?}")), "{bad}: {err}");
        }
        let err = parse_amount("0.0000000001gwei").unwrap_err().to_string();
        assert!(err.contains("less than 1 wei"), "{err}");
        let huge = format!("{}eth", "9".repeat(80));
        assert!(parse_amount(&huge)
            .unwrap_err()
            .to_string()
            .contains("2^256"));
    }

    #[test]
    fn formats_ether_and_gwei() {
        assert_eq!(format_ether(eth(10_000)), "10000 ETH");
        assert_eq!(format_ether(U256::from(1)), "0.000000000000000001 ETH");
        assert_eq!(format_ether(eth(3) / U256::from(2)), "1.5 ETH");
        assert_eq!(format_gwei(U256::from(1_500_000_000u64)), "1.5 gwei");
    }

    #[test]
    fn addresses_checksum_and_errors() {
        let a = parse_address("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266").unwrap();
        assert_eq!(
            a,
            parse_address("f39fd6e51aad88f6f4ce6ab8827279cfffb92266").unwrap()
        );
        assert_eq!(
            a,
            parse_address("0xF39FD6E51AAD88F6F4CE6AB8827279CFFFB92266").unwrap()
        );
        let err = parse_address("0xF39fd6e51aad88F6F4ce6aB8827279cffFb92266")
            .unwrap_err()
            .to_string();
        assert!(err.contains("checksum"), "{err}");
        let err = parse_address("0x1234").unwrap_err().to_string();
        assert!(err.contains("\"0x1234\""), "{err}");
    }

    #[test]
    fn hex_and_blocks() {
        assert_eq!(parse_hex("data", "0xdead").unwrap().as_ref(), &[0xde, 0xad]);
        assert_eq!(parse_hex("data", "").unwrap().len(), 0);
        let err = parse_hex("--data", "0xabc").unwrap_err().to_string();
        assert!(err.contains("--data") && err.contains("0xabc"), "{err}");

        assert_eq!(
            parse_block("latest").unwrap(),
            BlockRef::Tag("latest".into())
        );
        assert_eq!(parse_block("17").unwrap(), BlockRef::Number(17));
        assert_eq!(parse_block("0x11").unwrap(), BlockRef::Number(17));
        let h = format!("0x{}", "ab".repeat(32));
        assert!(matches!(parse_block(&h).unwrap(), BlockRef::Hash(_)));
        assert!(parse_block("tomorrow").is_err());
        assert_eq!(
            BlockRef::Number(17).to_param(),
            Value::String("0x11".into())
        );
    }
}
