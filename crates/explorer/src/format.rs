//! Numbers and times as people read them: token amounts with their
//! decimals, ether, gwei, thousands separators, UTC dates and ages.

use alloy_primitives::U256;

/// `value` in units of `10^decimals`, without trailing zeros and with
/// thousands separators: `1234500000000000000000, 18` → `1,234.5`.
pub fn units(value: U256, decimals: u8) -> String {
    let digits = value.to_string();
    let decimals = usize::from(decimals);
    let (int, frac) = if digits.len() > decimals {
        digits.split_at(digits.len() - decimals)
    } else {
        ("0", digits.as_str())
    };
    let frac = format!("{frac:0>decimals$}");
    let frac = frac.trim_end_matches('0');
    let int = group(int);
    if frac.is_empty() {
        int
    } else {
        format!("{int}.{frac}")
    }
}

/// Wei as ether: `1.5 ETH`.
pub fn eth(wei: U256) -> String {
    format!("{} ETH", units(wei, 18))
}

/// Wei as gwei: `1.5 gwei`.
pub fn gwei(wei: u128) -> String {
    format!("{} gwei", units(U256::from(wei), 9))
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    group(&n.to_string())
}

fn group(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `0x1234…cdef` for a long hex string; short ones unchanged.
pub fn short(hex: &str) -> String {
    match (hex.get(..6), hex.get(hex.len().saturating_sub(4)..)) {
        (Some(head), Some(tail)) if hex.len() > 14 => format!("{head}…{tail}"),
        _ => hex.to_string(),
    }
}

/// Unix seconds as `2024-05-01 12:00:00 UTC`.
pub fn utc(ts: u64) -> String {
    let days = ts / 86_400;
    let secs = ts % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// The date of a day counted from 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// How long before `now` the time `ts` was: `5 s ago`, `3 min ago`.
pub fn ago(ts: u64, now: u64) -> String {
    let s = now.saturating_sub(ts);
    match s {
        0..=59 => format!("{s} s ago"),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=86_399 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86_400),
    }
}

/// Seconds since the Unix epoch, now.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_people_write_them() {
        let wei = U256::from(1_234_500_000_000_000_000_000u128);
        assert_eq!(units(wei, 18), "1,234.5");
        assert_eq!(eth(U256::ZERO), "0 ETH");
        assert_eq!(units(U256::from(5u64), 18), "0.000000000000000005");
        assert_eq!(units(U256::from(1234u64), 0), "1,234");
        assert_eq!(gwei(1_000_000_000), "1 gwei");
        assert_eq!(units(U256::MAX, 0).len(), 78 + 25);
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn dates_and_ages() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_714_564_800), "2024-05-01 12:00:00 UTC");
        assert_eq!(ago(100, 105), "5 s ago");
        assert_eq!(ago(0, 7200), "2 h ago");
        assert_eq!(ago(10, 5), "0 s ago");
    }

    #[test]
    fn long_hex_is_shortened() {
        assert_eq!(short("0x1234567890abcdef1234"), "0x1234…1234");
        assert_eq!(short("0x12"), "0x12");
    }
}
