//! `/address/<address>`: an account's balance, nonce and code, and from
//! the SQL index its transactions, token balances and token transfers.

use alloy_primitives::Address;
use serde_json::json;
use tally_rpc::Backend;

use crate::{
    error::PageError,
    format,
    html::{self, Page},
    index::{self, Cells},
    query, token,
};

/// Rows of each list on the page; the SQL console has the rest.
const LIST: u64 = 50;

/// An address as the index writes it.
pub fn key(address: &Address) -> String {
    address.to_string().to_lowercase()
}

pub fn page(backend: &dyn Backend, id: &str) -> Result<Page, PageError> {
    let address = query::address(id)?;
    let head = backend.head().number;
    let account = backend.account(address, head)?.unwrap_or_default();
    let code = backend.code(address, head)?;
    let mut rows = vec![
        ("Balance", html::esc(&format::eth(account.balance))),
        ("Nonce", format::thousands(account.nonce)),
    ];
    let mut title = "Address";
    if code.is_empty() {
        rows.push(("Kind", html::badge("muted", "Account (no code)")));
    } else {
        title = "Contract";
        rows.push((
            "Kind",
            html::badge("info", &format!("Contract ({} bytes of code)", code.len())),
        ));
        if let Ok(found) = index::query(
            backend,
            "SELECT creator, tx_hash, block_number FROM contracts WHERE address = ?",
            vec![json!(key(&address))],
        ) {
            if let Some(r) = found.rows.first() {
                if let (Some(creator), Some(tx)) = (r.address(0), r.hash(1)) {
                    rows.push((
                        "Created by",
                        format!("{} in {}", html::addr_link(&creator), html::tx_link(&tx)),
                    ));
                }
            }
        }
        let info = token::info(backend, address, head);
        if info.is_token() {
            let name = info
                .name
                .clone()
                .or(info.symbol.clone())
                .unwrap_or_else(|| "token".into());
            rows.push((
                "Token",
                format!(r#"<a href="/token/{address}">{}</a>"#, html::esc(&name)),
            ));
        }
    }
    let mut body = html::heading(title, &html::mono(&address.to_string()));
    body.push_str(&html::card("Overview", &html::fields(&rows)));
    body.push_str(&html::card(
        "Token balances",
        &balances(backend, &address, head),
    ));
    body.push_str(&html::card(
        "Transactions",
        &transactions(backend, &address),
    ));
    body.push_str(&html::card(
        "Token transfers",
        &transfers(backend, &address),
    ));
    Ok(Page::new(
        format!("{title} {}", format::short(&address.to_string())),
        body,
    ))
}

fn transactions(backend: &dyn Backend, address: &Address) -> String {
    let sql = format!(
        "SELECT * FROM (SELECT hash, block_number, idx, sender, recipient, value, status, \
         contract_address FROM transactions WHERE sender = ?1 \
         ORDER BY block_number DESC, idx DESC LIMIT {LIST}) \
         UNION SELECT * FROM (SELECT hash, block_number, idx, sender, recipient, value, status, \
         contract_address FROM transactions WHERE recipient = ?1 \
         ORDER BY block_number DESC, idx DESC LIMIT {LIST}) \
         UNION SELECT * FROM (SELECT hash, block_number, idx, sender, recipient, value, status, \
         contract_address FROM transactions \
         WHERE hash IN (SELECT tx_hash FROM contracts WHERE address = ?1)) \
         ORDER BY block_number DESC, idx DESC LIMIT {LIST}"
    );
    let found = match index::query(backend, &sql, vec![json!(key(address))]) {
        Ok(f) => f,
        Err(e) => return super::index_notice(&e),
    };
    let rows: Vec<Vec<String>> = found
        .rows
        .iter()
        .filter_map(|r| {
            let (hash, block, sender) = (r.hash(0)?, r.int(1)?, r.address(3)?);
            let to = match (r.address(4), r.address(7)) {
                (Some(to), _) => html::addr_link(&to),
                (None, Some(created)) => format!(
                    "{} {}",
                    html::badge("info", "create"),
                    html::addr_link(&created)
                ),
                (None, None) => String::new(),
            };
            let direction = if sender == *address {
                html::badge("muted", "out")
            } else {
                html::badge("ok", "in")
            };
            let mut row = super::tx_row(&hash, block, &sender, to, r.amount(5).unwrap_or_default());
            row.insert(2, direction);
            row.push(super::status_badge(r.int(6) == Some(1)));
            Some(row)
        })
        .collect();
    let more = more_link(
        rows.len() as u64,
        &format!(
            "SELECT hash, block_number, sender, recipient, value, status FROM transactions \
             WHERE sender = '{0}' OR recipient = '{0}' ORDER BY block_number DESC, idx DESC",
            key(address)
        ),
    );
    format!(
        "{}{more}",
        html::table(
            &["Transaction", "Block", "", "From", "To", "Value", "Status"],
            &rows,
            "No transactions in the index for this address."
        )
    )
}

/// A link to the whole list in the SQL console when this one is full.
fn more_link(shown: u64, sql: &str) -> String {
    if shown < LIST {
        return String::new();
    }
    format!(
        r#"<p class="hint">Showing the latest {LIST}. {}</p>"#,
        html::sql_link(sql, "See all in the SQL console")
    )
}

fn balances(backend: &dyn Backend, address: &Address, head: u64) -> String {
    let found = match index::query(
        backend,
        "SELECT token, standard, balance FROM token_balances WHERE holder = ?1 \
         AND balance_real > 0 ORDER BY balance_real DESC LIMIT 100",
        vec![json!(key(address))],
    ) {
        Ok(f) => f,
        Err(e) => return super::index_notice(&e),
    };
    let rows: Vec<Vec<String>> = found
        .rows
        .iter()
        .filter_map(|r| {
            let tok = r.address(0)?;
            let info = token::info(backend, tok, head);
            let balance = r.amount(2)?;
            let shown = match r.text(1) {
                Some("erc721") => format!("{balance} NFT"),
                _ => info.amount(balance),
            };
            let name = info
                .name
                .clone()
                .unwrap_or_else(|| format::short(&tok.to_string()));
            Some(vec![
                format!(r#"<a href="/token/{tok}">{}</a>"#, html::esc(&name)),
                html::esc(info.symbol.as_deref().unwrap_or("")),
                html::esc(&shown),
                html::badge("muted", r.text(1).unwrap_or("")),
            ])
        })
        .collect();
    html::table(
        &["Token", "Symbol", "Balance", "Standard"],
        &rows,
        "No token balances.",
    )
}

fn transfers(backend: &dyn Backend, address: &Address) -> String {
    let sql = format!(
        "SELECT * FROM (SELECT tx_hash, block_number, log_index, token, sender, recipient, \
         value, token_id FROM token_transfers WHERE sender = ?1 \
         ORDER BY block_number DESC, log_index DESC LIMIT {LIST}) \
         UNION SELECT * FROM (SELECT tx_hash, block_number, log_index, token, sender, recipient, \
         value, token_id FROM token_transfers WHERE recipient = ?1 \
         ORDER BY block_number DESC, log_index DESC LIMIT {LIST}) \
         ORDER BY block_number DESC, log_index DESC LIMIT {LIST}"
    );
    let found = match index::query(backend, &sql, vec![json!(key(address))]) {
        Ok(f) => f,
        Err(e) => return super::index_notice(&e),
    };
    let rows: Vec<Vec<String>> = found
        .rows
        .iter()
        .filter_map(|r| {
            let amount = match (r.text(6), r.text(7)) {
                (Some(v), _) => html::mono(v),
                (None, Some(id)) => format!("token id {}", html::mono(id)),
                _ => String::new(),
            };
            Some(vec![
                html::tx_link(&r.hash(0)?),
                html::block_link(r.int(1)?),
                format!(
                    r#"<a class="mono" href="/token/{0}">{1}</a>"#,
                    r.address(3)?,
                    format::short(r.text(3)?)
                ),
                html::addr_link(&r.address(4)?),
                html::addr_link(&r.address(5)?),
                amount,
            ])
        })
        .collect();
    html::table(
        &[
            "Transaction",
            "Block",
            "Token",
            "From",
            "To",
            "Amount (base units)",
        ],
        &rows,
        "No token transfers.",
    )
}
