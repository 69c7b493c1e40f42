//! The wire forms of geth's remote-mining methods, as Tally serves them:
//! `eth_getWork` → `[sealHash, seedHash, target, blockNumber]` (32-byte
//! hex, the target a big-endian boundary), `eth_submitWork(nonce, sealHash,
//! mixDigest)` with the nonce as 8 bytes of hex, and
//! `eth_submitHashrate(rate, id)` with both as 32 bytes of hex.

use serde_json::Value;
use tally_primitives::{B256, U256};

/// One piece of work: the header to seal and how good a seal must be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Work {
    pub seal_hash: B256,
    /// A seal is valid when its PoW hash, read big-endian, is at or below this.
    pub target: U256,
    /// The block the work is for; nodes other than Tally may leave it out.
    pub number: Option<u64>,
}

impl Work {
    /// Reads an `eth_getWork` answer; the error says which element is bad.
    pub fn parse(answer: &[String]) -> Result<Work, String> {
        let hash = |i: usize, name: &str| -> Result<B256, String> {
            let text = answer.get(i).ok_or_else(|| {
                format!(
                    "expected [sealHash, seedHash, target, blockNumber], got {} elements",
                    answer.len()
                )
            })?;
            text.parse::<B256>()
                .map_err(|e| format!("{name} {text:?} is not 32 bytes of hex ({e})"))
        };
        let seal_hash = hash(0, "sealHash")?;
        let target = U256::from_be_bytes(hash(2, "target")?.0);
        let number = match answer.get(3) {
            None => None,
            Some(text) => Some(parse_quantity(text).ok_or_else(|| {
                format!("blockNumber {text:?} is not a hex quantity (expected e.g. 0x1a)")
            })?),
        };
        Ok(Work {
            seal_hash,
            target,
            number,
        })
    }

    /// Expected hashes to meet the target: 2^256 / (target + 1), for
    /// display only (the consensus crate's `work` needs compact bits).
    pub fn expected_hashes(&self) -> f64 {
        let target = f64::from(self.target);
        2f64.powi(256) / (target + 1.0)
    }
}

fn parse_quantity(text: &str) -> Option<u64> {
    let digits = text.strip_prefix("0x")?;
    if digits.is_empty() {
        return None;
    }
    u64::from_str_radix(digits, 16).ok()
}

/// `eth_submitWork` params: the nonce as `0x` and 16 hex digits (the
/// header's 8-byte big-endian seal), the seal hash, and a zero mix digest
/// (Tally's PoW has none).
pub fn submit_params(nonce: u64, seal_hash: B256) -> Vec<Value> {
    vec![
        Value::String(format!("0x{nonce:016x}")),
        Value::String(seal_hash.to_string()),
        Value::String(B256::ZERO.to_string()),
    ]
}

/// `eth_submitHashrate` params: hashes per second as a 32-byte number and
/// the miner's random id.
pub fn hashrate_params(rate: f64, id: B256) -> Vec<Value> {
    // `as` saturates, and a rate is never near u64::MAX anyway.
    let rate = U256::from(rate.max(0.0) as u64);
    vec![
        Value::String(B256::from(rate).to_string()),
        Value::String(id.to_string()),
    ]
}

/// `1234567.0` → `"1.23 MH/s"`.
pub fn format_rate(rate: f64) -> String {
    const UNITS: [&str; 5] = ["H/s", "kH/s", "MH/s", "GH/s", "TH/s"];
    let mut value = rate.max(0.0);
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.2} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn get_work_answer_is_read_as_geth_sends_it() {
        let seal = format!("0x{}", "ab".repeat(32));
        let seed = format!("0x{}", "00".repeat(32));
        let target = format!("0x0000{}", "ff".repeat(30));
        let work = Work::parse(&answer(&[&seal, &seed, &target, "0x1a"])).unwrap();
        assert_eq!(work.seal_hash, B256::repeat_byte(0xab));
        assert_eq!(work.target, U256::MAX >> 16);
        assert_eq!(work.number, Some(26));
        // 2^16 hashes on average for a target of 2^240 - 1.
        assert!((work.expected_hashes() - 65536.0).abs() < 1.0);
        let three = Work::parse(&answer(&[&seal, &seed, &target])).unwrap();
        assert_eq!(three.number, None);
    }

    #[test]
    fn bad_get_work_answers_name_the_element() {
        let seal = format!("0x{}", "ab".repeat(32));
        let e = Work::parse(&answer(&[&seal])).unwrap_err();
        assert!(e.contains("1 elements"), "{e}");
        let e = Work::parse(&answer(&[&seal, &seal, "0x12", "0x1"])).unwrap_err();
        assert!(e.contains("target"), "{e}");
        let e = Work::parse(&answer(&[&seal, &seal, &seal, "12"])).unwrap_err();
        assert!(e.contains("blockNumber"), "{e}");
    }

    #[test]
    fn submissions_use_fixed_width_hex() {
        let p = submit_params(0x0102, B256::repeat_byte(1));
        assert_eq!(p[0], "0x0000000000000102");
        assert_eq!(p[1], format!("0x{}", "01".repeat(32)));
        assert_eq!(p[2], format!("0x{}", "00".repeat(32)));
        let h = hashrate_params(4096.7, B256::repeat_byte(2));
        assert_eq!(h[0], format!("0x{}1000", "0".repeat(60)));
        assert_eq!(h[1], format!("0x{}", "02".repeat(32)));
    }

    #[test]
    fn rates_are_scaled() {
        assert_eq!(format_rate(12.0), "12 H/s");
        assert_eq!(format_rate(1_234_567.0), "1.23 MH/s");
        assert_eq!(format_rate(2.5e9), "2.50 GH/s");
    }
}
