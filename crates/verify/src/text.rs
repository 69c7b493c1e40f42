//! How the checker words what it proved: dates and amounts.

use alloy_primitives::U256;

/// Unix seconds as an ISO 8601 UTC time, `2026-12-01T10:00:00Z (UTC)`.
pub fn utc(timestamp: u64) -> String {
    let [y, m, d, hh, mm, ss] = utc_parts(timestamp);
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z (UTC)")
}

/// Unix seconds as UTC year, month, day, hour, minute, second.
pub fn utc_parts(timestamp: u64) -> [u64; 6] {
    let secs = timestamp % 86_400;
    let (y, m, d) = civil_from_days(timestamp / 86_400);
    [y, m, d, secs / 3600, secs % 3600 / 60, secs % 60]
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for non-negative days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01 so leap days end each 400-year era.
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

/// An amount of wei, with its value in whole coins (18 decimals) when it
/// is at least a millionth of one.
pub fn wei(amount: &U256) -> String {
    let unit = U256::from(10u64).pow(U256::from(18u64));
    if *amount < unit / U256::from(1_000_000u64) {
        return format!("{amount} wei");
    }
    let whole = amount / unit;
    let frac = (amount % unit) / U256::from(1_000_000_000_000u64);
    let frac = format!("{:06}", frac.to::<u64>());
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{amount} wei ({whole} coins)")
    } else {
        format!("{amount} wei ({whole}.{frac} coins)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z (UTC)");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z (UTC)");
        assert_eq!(utc(1_796_119_200), "2026-12-01T10:00:00Z (UTC)");
        assert_eq!(utc(4_102_444_799), "2099-12-31T23:59:59Z (UTC)");
        // Absurd timestamps still format.
        assert!(utc(u64::MAX).ends_with("Z (UTC)"));
    }

    #[test]
    fn amounts() {
        assert_eq!(wei(&U256::from(21_000u64)), "21000 wei");
        assert_eq!(
            wei(&U256::from(1_500_000_000_000_000_000u64)),
            "1500000000000000000 wei (1.5 coins)"
        );
        assert_eq!(
            wei(&(U256::from(10u64).pow(U256::from(22u64)))),
            "10000000000000000000000 wei (10000 coins)"
        );
        assert!(wei(&U256::MAX).len() > 78);
    }
}
