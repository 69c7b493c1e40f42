//! `/block/<number or hash>`: a block's header, its transactions with
//! their outcome, and its BFT commit certificate where the chain has one.

use alloy_consensus::Transaction;
use alloy_primitives::hex;
use tally_primitives::SealedBlock;
use tally_rpc::Backend;

use crate::{
    error::PageError,
    format,
    html::{self, Page},
    query,
};

/// The block `id` names: a decimal number or a block hash.
fn find(backend: &dyn Backend, id: &str) -> Result<SealedBlock, PageError> {
    if let Some(number) = query::block_number(id) {
        return super::block_at(backend, number);
    }
    let hash = query::hash(id, "block number or block hash")?;
    backend.block_by_hash(hash)?.ok_or_else(|| {
        PageError::not_found(
            "Block not found",
            format!("this node knows no block with hash {hash}"),
        )
    })
}

pub fn page(backend: &dyn Backend, id: &str) -> Result<Page, PageError> {
    let block = find(backend, id)?;
    let h = &block.header;
    let receipts = backend.receipts(h.hash)?.unwrap_or_default();
    let canonical = backend.header_by_number(h.number)?.map(|c| c.hash) == Some(h.hash);
    let head = backend.head().number;
    let finality = if !canonical {
        html::badge("fail", "Not canonical (a side branch)")
    } else if h.number <= backend.finalized_number() {
        html::badge("ok", "Finalized")
    } else if h.number <= backend.safe_number() {
        html::badge("info", "Safe")
    } else {
        html::badge("muted", "Not final yet")
    };
    let nav = format!(
        r#"<div class="pager">{prev}{next}</div>"#,
        prev = if h.number > 0 {
            format!(
                r#"<a class="button" href="/block/{}">← Block {}</a>"#,
                h.number - 1,
                h.number - 1
            )
        } else {
            String::new()
        },
        next = if h.number < head {
            format!(
                r#"<a class="button" href="/block/{}">Block {} →</a>"#,
                h.number + 1,
                h.number + 1
            )
        } else {
            String::new()
        },
    );
    let gas_pct = if h.gas_limit > 0 {
        format!(" ({:.1}%)", h.gas_used as f64 * 100.0 / h.gas_limit as f64)
    } else {
        String::new()
    };
    let fields = html::fields(&[
        ("Number", format::thousands(h.number)),
        ("Hash", html::mono(&h.hash.to_string())),
        ("Status", finality),
        (
            "Parent",
            if h.number > 0 {
                format!(
                    r#"<a class="mono break" href="/block/{0}">{0}</a>"#,
                    h.parent_hash
                )
            } else {
                html::mono(&h.parent_hash.to_string())
            },
        ),
        (
            "Time",
            format!(
                "{} ({})",
                format::utc(h.timestamp),
                format::ago(h.timestamp, format::now())
            ),
        ),
        (
            "Transactions",
            format::thousands(block.transactions.len() as u64),
        ),
        ("Beneficiary", html::addr_full(&h.beneficiary)),
        (
            "Gas used",
            format!(
                "{} of {}{gas_pct}",
                format::thousands(h.gas_used),
                format::thousands(h.gas_limit)
            ),
        ),
        ("Base fee", html::esc(&format::gwei(u128::from(h.base_fee)))),
        ("State root", html::mono(&h.state_root.to_string())),
        (
            "Transactions root",
            html::mono(&h.transactions_root.to_string()),
        ),
        ("Receipts root", html::mono(&h.receipts_root.to_string())),
        (
            "Extra data",
            html::mono(&hex::encode_prefixed(&h.extra_data)),
        ),
        (
            "Seal",
            html::mono(&format::short(&hex::encode_prefixed(&h.seal))),
        ),
    ]);
    let rows: Vec<Vec<String>> = block
        .transactions
        .iter()
        .zip(&block.senders)
        .enumerate()
        .map(|(i, (tx, sender))| {
            let status = receipts
                .get(i)
                .map(|r| super::status_badge(r.success))
                .unwrap_or_default();
            let gas = receipts
                .get(i)
                .map(|r| format::thousands(r.gas_used))
                .unwrap_or_default();
            vec![
                i.to_string(),
                html::tx_link(tx.tx_hash()),
                html::addr_link(sender),
                super::recipient_cell(tx, *sender),
                html::esc(&format::eth(tx.value())),
                gas,
                status,
            ]
        })
        .collect();
    let txs = html::table(
        &[
            "#",
            "Transaction",
            "From",
            "To",
            "Value",
            "Gas used",
            "Status",
        ],
        &rows,
        "No transactions in this block.",
    );
    let mut body = format!(
        "{}{nav}{}{}",
        html::heading(
            &format!("Block {}", format::thousands(h.number)),
            &html::mono(&h.hash.to_string())
        ),
        html::card("Overview", &fields),
        html::card("Transactions", &txs),
    );
    if let Some(cert) = backend.bft_certificate(h.number).ok().flatten() {
        body.push_str(&html::card(
            "Commit certificate",
            &super::consensus::certificate(&cert),
        ));
    }
    Ok(Page::new(format!("Block {}", h.number), body))
}
