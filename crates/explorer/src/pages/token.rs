//! `/token/<address>`: an ERC-20 (or ERC-721) token — what it says about
//! itself through calls (name, symbol, decimals, supply), and from the SQL
//! index its top holders and latest transfers.

use alloy_primitives::{Address, U256};
use serde_json::json;
use tally_rpc::Backend;

use crate::{
    error::PageError,
    format,
    html::{self, Page},
    index::{self, Cells},
    query,
    token::{self, TokenInfo},
};

use super::address::key;

/// Holders and transfers listed.
const LIST: u64 = 25;

/// The largest holders, from the balances the index keeps as transfers
/// are indexed (exact; ERC-721: how many tokens each holds).
const HOLDERS: &str = "SELECT holder, balance FROM token_balances \
     WHERE token = ?1 AND balance_real > 0 ORDER BY balance_real DESC LIMIT ?2";

/// The standard of the token's latest transfer, and how many transfers
/// it has, counted up to [`COUNTED`] + 1: counting all of a busy token's
/// transfers would read a million index entries for one figure.
const STANDARD: &str = "SELECT \
     (SELECT standard FROM token_transfers WHERE token = ?1 ORDER BY block_number DESC LIMIT 1), \
     (SELECT count(*) FROM (SELECT 1 FROM token_transfers WHERE token = ?1 LIMIT 10001))";

/// Transfers counted exactly on the page; more show as "more than".
const COUNTED: u64 = 10_000;

/// How many accounts hold some of the token.
const HOLDER_COUNT: &str =
    "SELECT count(*) FROM token_balances WHERE token = ?1 AND balance_real > 0";

pub fn page(backend: &dyn Backend, id: &str) -> Result<Page, PageError> {
    let address = query::address(id)?;
    let head = backend.head().number;
    let info = token::info(backend, address, head);
    let standard = index::query(backend, STANDARD, vec![json!(key(&address))])
        .ok()
        .and_then(|r| {
            r.rows
                .first()
                .and_then(|row| Some((row.text(0)?.to_string(), row.int(1)?)))
        });
    if !info.is_token() && standard.is_none() {
        return Err(PageError::not_found(
            "Not a token",
            format!(
                "{address} answers none of ERC-20's name, symbol, decimals or totalSupply, and the \
                 index has no token transfers of it: see its address page at /address/{address}"
            ),
        ));
    }
    let erc721 = standard.as_ref().is_some_and(|(s, _)| s == "erc721");
    let title = info
        .name
        .clone()
        .or(info.symbol.clone())
        .unwrap_or_else(|| "Token".into());
    let mut body = html::heading(&title, &html::mono(&address.to_string()));
    body.push_str(&html::card(
        "Overview",
        &overview(backend, &address, &info, standard.as_ref()),
    ));
    body.push_str(&html::card(
        "Top holders",
        &holders(backend, &address, &info, erc721),
    ));
    body.push_str(&html::card(
        "Latest transfers",
        &transfers(backend, &address, &info),
    ));
    Ok(Page::new(format!("Token {title}"), body))
}

fn overview(
    backend: &dyn Backend,
    address: &Address,
    info: &TokenInfo,
    standard: Option<&(String, u64)>,
) -> String {
    let dash = || "—".to_string();
    let mut rows = vec![
        ("Contract", html::addr_full(address)),
        (
            "Name",
            info.name.as_deref().map(html::esc).unwrap_or_else(dash),
        ),
        (
            "Symbol",
            info.symbol.as_deref().map(html::esc).unwrap_or_else(dash),
        ),
        (
            "Decimals",
            info.decimals.map(|d| d.to_string()).unwrap_or_else(dash),
        ),
        (
            "Total supply",
            info.total_supply
                .map(|s| html::esc(&info.amount(s)))
                .unwrap_or_else(dash),
        ),
    ];
    if let Some((standard, count)) = standard {
        rows.push((
            "Standard",
            html::badge("info", &standard.to_uppercase().replace("ERC", "ERC-")),
        ));
        let shown = if *count > COUNTED {
            format!("more than {}", format::thousands(COUNTED))
        } else {
            format::thousands(*count)
        };
        rows.push(("Transfers indexed", shown));
        if let Some(n) = index::query(backend, HOLDER_COUNT, vec![json!(key(address))])
            .ok()
            .and_then(|r| r.rows.first().and_then(|row| row.int(0)))
        {
            rows.push(("Holders", format::thousands(n)));
        }
    }
    // Tally's native assets carry their issuer and regulator.
    if let Ok(found) = index::query(
        backend,
        "SELECT id, issuer, regulator, cap FROM assets WHERE token = ?",
        vec![json!(key(address))],
    ) {
        if let Some(r) = found.rows.first() {
            rows.push(("Native asset", format!("#{}", r.int(0).unwrap_or_default())));
            if let Some(issuer) = r.address(1) {
                rows.push(("Issuer", html::addr_full(&issuer)));
            }
            if let Some(regulator) = r.address(2) {
                rows.push(("Regulator", html::addr_full(&regulator)));
            }
            if let Some(cap) = r.amount(3).filter(|c| !c.is_zero()) {
                rows.push(("Cap", html::esc(&info.amount(cap))));
            }
        }
    }
    html::fields(&rows)
}

fn holders(backend: &dyn Backend, address: &Address, info: &TokenInfo, erc721: bool) -> String {
    let found = match index::query(backend, HOLDERS, vec![json!(key(address)), json!(LIST)]) {
        Ok(f) => f,
        Err(e) => return super::index_notice(&e),
    };
    let rows: Vec<Vec<String>> = found
        .rows
        .iter()
        .enumerate()
        .filter_map(|(rank, r)| {
            let holder = r.address(0)?;
            let exact = r.amount(1)?;
            let balance = if erc721 {
                format!("{exact} NFT")
            } else {
                let share = info
                    .total_supply
                    .filter(|s| !s.is_zero())
                    .map(|s| format!(" ({:.2}%)", u256_ratio(exact, s) * 100.0))
                    .unwrap_or_default();
                format!("{}{share}", info.amount(exact))
            };
            Some(vec![
                (rank + 1).to_string(),
                html::addr_full(&holder),
                html::esc(&balance),
            ])
        })
        .collect();
    html::table(
        &["#", "Holder", "Balance"],
        &rows,
        "No holders in the index yet.",
    )
}

/// `a / b` as a float, for percentages of a supply.
fn u256_ratio(a: U256, b: U256) -> f64 {
    let f = |x: U256| x.to_string().parse::<f64>().unwrap_or(0.0);
    f(a) / f(b)
}

fn transfers(backend: &dyn Backend, address: &Address, info: &TokenInfo) -> String {
    let found = match index::query(
        backend,
        "SELECT tx_hash, block_number, sender, recipient, value, token_id FROM token_transfers \
         WHERE token = ? ORDER BY block_number DESC, log_index DESC LIMIT ?",
        vec![json!(key(address)), json!(LIST)],
    ) {
        Ok(f) => f,
        Err(e) => return super::index_notice(&e),
    };
    let rows: Vec<Vec<String>> = found
        .rows
        .iter()
        .filter_map(|r| {
            let amount = match (r.amount(4), r.text(5)) {
                (Some(v), _) => html::esc(&info.amount(v)),
                (None, Some(id)) => format!("token id {}", html::mono(id)),
                _ => String::new(),
            };
            Some(vec![
                html::tx_link(&r.hash(0)?),
                html::block_link(r.int(1)?),
                html::addr_link(&r.address(2)?),
                html::addr_link(&r.address(3)?),
                amount,
            ])
        })
        .collect();
    html::table(
        &["Transaction", "Block", "From", "To", "Amount"],
        &rows,
        "No transfers in the index yet.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_of_large_amounts() {
        let supply = U256::from(10u64).pow(U256::from(24));
        assert!((u256_ratio(supply / U256::from(4u64), supply) - 0.25).abs() < 1e-12);
    }
}
