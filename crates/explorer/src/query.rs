//! Reading what a URL carries: form-encoded query strings and path
//! segments, and the hashes, addresses and numbers typed into them. Every
//! refusal says what was expected.

use alloy_primitives::{Address, B256};

use crate::error::PageError;

/// The `key=value` pairs of a query string, decoded, in order.
pub fn pairs(query: &str) -> Result<Vec<(String, String)>, PageError> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(key)?, decode(value)?))
        })
        .collect()
}

/// The first value of `key`, if any.
pub fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// `application/x-www-form-urlencoded` decoding: `%XX` bytes and `+` for
/// a space, as browsers write form fields.
pub fn decode(text: &str) -> Result<String, PageError> {
    percent_decode(text, true)
}

/// A URL path segment: `%XX` bytes, and `+` stays a plus.
pub fn decode_path(text: &str) -> Result<String, PageError> {
    percent_decode(text, false)
}

fn percent_decode(text: &str, plus_is_space: bool) -> Result<String, PageError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' if plus_is_space => out.push(b' '),
            b'%' => {
                let byte = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| {
                        PageError::bad_request(
                            "Bad URL",
                            format!(
                                "bad percent-encoding at character {i} of {text:?}: expected %XX"
                            ),
                        )
                    })?;
                out.push(byte);
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| {
        PageError::bad_request("Bad URL", format!("{text:?} does not decode to UTF-8 text"))
    })
}

/// Percent-encodes `text` for a query string value or a path segment
/// (a space as `%20`, which both decode).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn is_hex(text: &str, digits: usize) -> bool {
    text.len() == digits + 2
        && text.starts_with("0x")
        && text[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `text` looks like a 32-byte hash (`0x` and 64 hex digits).
pub fn is_hash(text: &str) -> bool {
    is_hex(&text.to_ascii_lowercase(), 64)
}

/// Whether `text` looks like an address (`0x` and 40 hex digits).
pub fn is_address(text: &str) -> bool {
    is_hex(&text.to_ascii_lowercase(), 40)
}

/// A 32-byte hash; `what` names it in the refusal ("transaction hash").
pub fn hash(text: &str, what: &str) -> Result<B256, PageError> {
    let text = text.trim();
    if !is_hash(text) {
        return Err(PageError::bad_request(
            format!("Not a {what}"),
            format!("{text:?} is not a {what}: expected 0x followed by 64 hex digits"),
        ));
    }
    text.to_ascii_lowercase()
        .parse()
        .map_err(|e| PageError::bad_request(format!("Not a {what}"), format!("{text:?}: {e}")))
}

/// An address, with or without its EIP-55 checksum.
pub fn address(text: &str) -> Result<Address, PageError> {
    let text = text.trim();
    if !is_address(text) {
        return Err(PageError::bad_request(
            "Not an address",
            format!("{text:?} is not an address: expected 0x followed by 40 hex digits"),
        ));
    }
    text.to_ascii_lowercase()
        .parse()
        .map_err(|e| PageError::bad_request("Not an address", format!("{text:?}: {e}")))
}

/// A block number written in decimal (`123`, `#123`, `1,234`).
pub fn block_number(text: &str) -> Option<u64> {
    let digits: String = text.trim().trim_start_matches('#').replace([',', '_'], "");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_decode() {
        let p = pairs("q=SELECT+count(*)%20FROM+t&x=&q=again").unwrap();
        assert_eq!(get(&p, "q"), Some("SELECT count(*) FROM t"));
        assert_eq!(get(&p, "x"), Some(""));
        assert_eq!(get(&p, "y"), None);
        assert_eq!(decode("%E2%82%AC").unwrap(), "€");
        assert_eq!(decode_path("a+b%20c").unwrap(), "a+b c");
        for bad in ["%zz", "%4", "%ff"] {
            assert_eq!(decode(bad).unwrap_err().status, 400, "{bad}");
        }
    }

    #[test]
    fn encoding_round_trips() {
        for text in ["SELECT * FROM t WHERE a = 'x&y'", "€ 100%", "a+b=c"] {
            assert_eq!(decode(&encode(text)).unwrap(), text);
        }
    }

    #[test]
    fn hashes_addresses_and_numbers_are_checked() {
        let h = format!("0x{}", "Ab".repeat(32));
        assert_eq!(hash(&h, "block hash").unwrap(), B256::repeat_byte(0xab));
        let e = hash("0x1234", "transaction hash").unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.message.contains("64 hex digits"), "{}", e.message);
        let a = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
        assert_eq!(address(a).unwrap().to_string(), a);
        assert!(address("0xzz39Fd6e51aad88F6F4ce6aB8827279cffFb922").is_err());
        assert_eq!(block_number("#1,234"), Some(1234));
        assert_eq!(block_number("12a"), None);
        assert_eq!(block_number(""), None);
        assert_eq!(block_number("99999999999999999999999"), None);
    }
}
