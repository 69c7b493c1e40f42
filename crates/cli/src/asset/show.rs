//! How `tally asset show`, `list`, `holders` and `history` print the
//! node's answers (amounts in the asset's units).

use alloy_primitives::{Address, B256, U256};
use serde::Deserialize;

use super::{amount::format_units, Asset};

/// `tally_getHolders`' answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldersPage {
    pub block: u64,
    pub start: u64,
    pub total: u64,
    pub holders: Vec<Holder>,
}

#[derive(Debug, Deserialize)]
pub struct Holder {
    pub address: Address,
    pub balance: U256,
}

/// `tally_getAssetHistory`'s answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct History {
    pub from_block: u64,
    pub to_block: u64,
    pub entries: Vec<Movement>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Movement {
    pub block_number: u64,
    pub transaction_hash: Option<B256>,
    pub kind: String,
    pub from: Option<Address>,
    pub to: Option<Address>,
    pub amount: Option<U256>,
    pub account: Option<Address>,
    pub by: Option<Address>,
    pub reason: Option<String>,
    pub details: Option<serde_json::Value>,
}

pub fn or_none(a: Address) -> String {
    if a.is_zero() {
        "none".into()
    } else {
        a.to_string()
    }
}

/// `allowlist, max holding 100 GLD, purpose "housing"`, or `open`.
pub fn policy(asset: &Asset, allowlist: bool, max_holding: U256, purpose: &str) -> String {
    let mut parts = Vec::new();
    if allowlist {
        parts.push("allowlist".to_string());
    }
    if !max_holding.is_zero() {
        parts.push(format!("max holding {}", asset.amount(max_holding)));
    }
    if !purpose.is_empty() {
        parts.push(format!("purpose {purpose:?}"));
    }
    if parts.is_empty() {
        "open (no allowlist, holding limit or purpose)".into()
    } else {
        parts.join(", ")
    }
}

pub fn print_asset(a: &Asset) {
    println!("asset:     {} ({}), number {}", a.symbol, a.name, a.id);
    println!("token:     {}", a.token);
    println!("issuer:    {}", a.issuer);
    println!("regulator: {}", or_none(a.regulator));
    println!("decimals:  {}", a.decimals);
    println!(
        "supply:    {} of a cap of {}",
        a.amount(a.total_supply),
        a.amount(a.cap)
    );
    println!("holders:   {}", a.holders);
    println!(
        "policy:    {}",
        policy(a, a.allowlist, a.max_holding, &a.purpose)
    );
    println!("paused:    {}", if a.paused { "yes" } else { "no" });
    println!("issued:    block {}", a.issued_block);
}

pub fn print_list(list: &[Asset]) {
    if list.is_empty() {
        println!("no assets");
        return;
    }
    println!(
        "{:>3}  {:<42}  {:<8} {:<20} {:>20} {:>7}  policy",
        "id", "token", "symbol", "name", "supply", "holders"
    );
    for a in list {
        let mut policy = policy(a, a.allowlist, a.max_holding, &a.purpose);
        if a.paused {
            policy = format!("PAUSED; {policy}");
        }
        println!(
            "{:>3}  {:<42}  {:<8} {:<20} {:>20} {:>7}  {policy}",
            a.id,
            a.token.to_string(),
            a.symbol,
            a.name,
            format_units(a.total_supply, a.decimals),
            a.holders,
        );
    }
}

/// Share of `part` in `whole`, as a percentage with one decimal.
pub fn percent(part: U256, whole: U256) -> String {
    if whole.is_zero() {
        return "-".into();
    }
    let tenths = part.saturating_mul(U256::from(1000u64)) / whole;
    let tenths = u64::try_from(tenths).unwrap_or(u64::MAX);
    format!("{}.{}%", tenths / 10, tenths % 10)
}

pub fn print_holders(a: &Asset, page: &HoldersPage) {
    let shown = page.holders.len() as u64;
    println!(
        "{} holders at block {}: {} (listing {}..{})",
        a.symbol,
        page.block,
        page.total,
        page.start,
        page.start + shown
    );
    if page.holders.is_empty() {
        return;
    }
    println!("{:<42}  {:>24}  {:>6}", "account", "balance", "share");
    for h in &page.holders {
        println!(
            "{:<42}  {:>24}  {:>6}",
            h.address.to_string(),
            format_units(h.balance, a.decimals),
            percent(h.balance, a.total_supply)
        );
    }
    println!(
        "supply at block {}: {}",
        page.block,
        a.amount(a.total_supply)
    );
}

fn short(a: Option<Address>) -> String {
    match a {
        None => "-".into(),
        Some(a) if a.is_zero() => "-".into(),
        Some(a) => a.to_string(),
    }
}

/// The entry's particulars beyond from/to/amount.
fn note(a: &Asset, m: &Movement) -> String {
    let mut parts = Vec::new();
    if let Some(account) = m.account {
        parts.push(format!("account {account}"));
    }
    if let Some(by) = m.by {
        parts.push(format!("by {by}"));
    }
    if let Some(reason) = &m.reason {
        parts.push(format!("reason {reason:?}"));
    }
    if let Some(d) = &m.details {
        if m.kind == "policy" {
            let max = d["maxHolding"]
                .as_str()
                .and_then(|s| s.parse::<U256>().ok())
                .unwrap_or_default();
            let allowlist = d["allowlist"].as_bool().unwrap_or(false);
            let purpose = d["purpose"].as_str().unwrap_or_default();
            parts.push(policy(a, allowlist, max, purpose));
        } else if m.kind == "issue" {
            parts.push(format!(
                "{} {}",
                d["symbol"].as_str().unwrap_or("?"),
                d["name"].as_str().unwrap_or("?")
            ));
        }
    }
    parts.join(", ")
}

pub fn print_history(a: &Asset, h: &History, default_range: bool) {
    println!(
        "{} history, blocks {}..={}: {} entries",
        a.symbol,
        h.from_block,
        h.to_block,
        h.entries.len()
    );
    if default_range && h.from_block > a.issued_block {
        println!(
            "(older entries, from block {}: use --from and --to; one query spans a limited range)",
            a.issued_block
        );
    }
    if h.entries.is_empty() {
        return;
    }
    println!(
        "{:>7}  {:<9}  {:<42}  {:<42}  {:>20}  note",
        "block", "kind", "from", "to", "amount"
    );
    for m in &h.entries {
        let amount = m
            .amount
            .map_or_else(|| "-".into(), |v| format_units(v, a.decimals));
        println!(
            "{:>7}  {:<9}  {:<42}  {:<42}  {:>20}  {}",
            m.block_number,
            m.kind,
            short(m.from),
            short(m.to),
            amount,
            note(a, m)
        );
    }
    if let Some(tx) = h.entries.last().and_then(|m| m.transaction_hash) {
        println!("last transaction: {tx}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_and_policies_read_plainly() {
        assert_eq!(percent(U256::from(1u64), U256::from(3u64)), "33.3%");
        assert_eq!(percent(U256::from(5u64), U256::ZERO), "-");
        let asset: Asset = serde_json::from_value(serde_json::json!({
            "token": Address::repeat_byte(1), "id": 1, "name": "Gold", "symbol": "GLD",
            "decimals": 2, "cap": "0x2710", "totalSupply": "0x0", "issuer": Address::ZERO,
            "regulator": Address::ZERO, "paused": false, "allowlist": true,
            "maxHolding": "0x3e8", "purpose": "", "holders": 0, "issuedBlock": 3
        }))
        .unwrap();
        assert_eq!(
            policy(&asset, true, asset.max_holding, ""),
            "allowlist, max holding 10 GLD"
        );
        assert!(policy(&asset, false, U256::ZERO, "").starts_with("open"));
    }
}
