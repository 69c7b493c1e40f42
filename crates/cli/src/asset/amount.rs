//! Amounts of an asset as people write them: in the asset's units, with up
//! to its number of decimals (`12.5` of a 6-decimal asset is 12 500 000
//! base units), and back.

use alloy_primitives::U256;
use anyhow::{anyhow, bail};

/// Parses `input` (`12.5`, `1_000`, `0.000001`) into base units of an
/// asset with `decimals` decimals; `what` names the argument in errors.
pub fn parse_units(what: &str, input: &str, decimals: u8) -> anyhow::Result<U256> {
    let text = input.trim().replace('_', "");
    let bad = || {
        anyhow!(
            "invalid {what} {input:?}: expected an amount in the asset's units, like 100 or 12.5"
        )
    };
    let (whole, frac) = text.split_once('.').unwrap_or((text.as_str(), ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) {
        return Err(bad());
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > usize::from(decimals) {
        bail!(
            "invalid {what} {input:?}: the asset has {decimals} decimals, so at most \
             {decimals} digits after the point"
        );
    }
    let too_big = || anyhow!("invalid {what} {input:?}: larger than 2^256 base units");
    let pow = |n: usize| U256::from(10u8).pow(U256::from(n));
    // Only digits are left, so a parse error is an overflow.
    let whole = if whole.is_empty() {
        U256::ZERO
    } else {
        U256::from_str_radix(whole, 10).map_err(|_| too_big())?
    };
    let frac = if frac.is_empty() {
        U256::ZERO
    } else {
        U256::from_str_radix(frac, 10).map_err(|_| too_big())?
            * pow(usize::from(decimals) - frac.len())
    };
    whole
        .checked_mul(pow(usize::from(decimals)))
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(too_big)
}

/// Base units as the asset's units, trailing zeros removed: `12.5`.
pub fn format_units(value: U256, decimals: u8) -> String {
    let scale = U256::from(10u8).pow(U256::from(decimals));
    let whole = value / scale;
    let frac = value % scale;
    if frac.is_zero() {
        return whole.to_string();
    }
    let frac = format!(
        "{:0>width$}",
        frac.to_string(),
        width = usize::from(decimals)
    );
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_round_trip() {
        let p = |s: &str, d| parse_units("AMOUNT", s, d).map(|v| v.to::<u128>());
        assert_eq!(p("12.5", 6).unwrap(), 12_500_000);
        assert_eq!(p("1_000", 2).unwrap(), 100_000);
        assert_eq!(p(".5", 1).unwrap(), 5);
        assert_eq!(p("7", 0).unwrap(), 7);
        assert_eq!(p("1.50", 1).unwrap(), 15);
        let err = p("0.001", 2).unwrap_err().to_string();
        assert!(err.contains("2 decimals"), "{err}");
        assert!(p("1e5", 2).is_err() && p("", 2).is_err() && p("-1", 2).is_err());
        assert!(p(&"9".repeat(80), 0).is_err());
        assert_eq!(format_units(U256::from(12_500_000u64), 6), "12.5");
        assert_eq!(format_units(U256::from(100u64), 2), "1");
        assert_eq!(format_units(U256::from(1u64), 3), "0.001");
        assert_eq!(format_units(U256::from(42u64), 0), "42");
    }
}
