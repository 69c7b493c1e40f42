//! `/tx/<hash>`: a transaction with its outcome — sender, recipient,
//! value, gas and fee — its call decoded when the explorer knows the
//! contract's ABI, its token transfers, its logs (decoded where known),
//! and for a failed one the revert reason, found by replaying it.

use std::collections::BTreeMap;

use alloy_consensus::{Transaction, Typed2718};
use alloy_primitives::{hex, Address, U256};
use tally_primitives::{Log, Receipt, SealedHeader, TxEnvelope};
use tally_rpc::{Backend, CallRequest, CallStatus};

use crate::{
    decode,
    error::PageError,
    format,
    html::{self, Page},
    query, token,
};

pub fn page(backend: &dyn Backend, id: &str) -> Result<Page, PageError> {
    let hash = query::hash(id, "transaction hash")?;
    let Some(location) = backend.tx_location(hash)? else {
        if let Some(pending) = backend.pending_transaction(hash)? {
            return Ok(pending_page(&pending.tx, pending.sender));
        }
        return Err(PageError::not_found(
            "Transaction not found",
            format!("this node has no transaction {hash}, mined or pending"),
        ));
    };
    let block = backend.block_by_hash(location.block_hash)?.ok_or_else(|| {
        PageError::internal(format!(
            "block {} of transaction {hash} is missing",
            location.block_hash
        ))
    })?;
    let missing = || PageError::internal(format!("transaction {hash} is not in its block"));
    let i = usize::try_from(location.index).map_err(|_| missing())?;
    let tx = block.transactions.get(i).ok_or_else(missing)?;
    let sender = *block.senders.get(i).ok_or_else(missing)?;
    let receipts = backend.receipts(location.block_hash)?.unwrap_or_default();
    let receipt = receipts.get(i).ok_or_else(missing)?;
    // Logs are numbered across the block, as eth_getLogs numbers them.
    let first_log: usize = receipts.iter().take(i).map(|r| r.logs.len()).sum();

    let mut body = html::heading("Transaction", &html::mono(&hash.to_string()));
    body.push_str(&html::card(
        "Overview",
        &overview(backend, tx, sender, receipt, &block.header),
    ));
    if !receipt.success {
        body.push_str(&html::card(
            "Why it failed",
            &failure(backend, tx, sender, block.header.number),
        ));
    }
    body.push_str(&html::card("Input", &input(tx)));
    let mut tokens = BTreeMap::new();
    let transfers = transfers(backend, &receipt.logs, &mut tokens, block.header.number);
    if !transfers.is_empty() {
        body.push_str(&html::card("Token transfers", &transfers));
    }
    body.push_str(&html::card(
        &format!("Logs ({})", receipt.logs.len()),
        &logs(&receipt.logs, first_log),
    ));
    Ok(Page::new(
        format!("Transaction {}", format::short(&hash.to_string())),
        body,
    ))
}

fn overview(
    backend: &dyn Backend,
    tx: &TxEnvelope,
    sender: Address,
    receipt: &Receipt,
    header: &SealedHeader,
) -> String {
    let price = tx.effective_gas_price(Some(header.base_fee));
    let fee = U256::from(price) * U256::from(receipt.gas_used);
    let confirmations = backend.head().number.saturating_sub(header.number) + 1;
    let to = match tx.to() {
        Some(to) => html::addr_full(&to),
        None => format!(
            "{} {}",
            html::badge("info", "Contract created"),
            html::addr_full(&sender.create(tx.nonce()))
        ),
    };
    html::fields(&[
        ("Status", super::status_badge(receipt.success)),
        (
            "Block",
            format!(
                "{} ({} confirmation{})",
                html::block_link(header.number),
                format::thousands(confirmations),
                if confirmations == 1 { "" } else { "s" }
            ),
        ),
        (
            "Time",
            format!(
                "{} ({})",
                format::utc(header.timestamp),
                format::ago(header.timestamp, format::now())
            ),
        ),
        ("From", html::addr_full(&sender)),
        ("To", to),
        ("Value", html::esc(&format::eth(tx.value()))),
        ("Transaction fee", html::esc(&format::eth(fee))),
        ("Gas price", html::esc(&format::gwei(price))),
        (
            "Gas used",
            format!(
                "{} of {} limit",
                format::thousands(receipt.gas_used),
                format::thousands(tx.gas_limit())
            ),
        ),
        ("Nonce", tx.nonce().to_string()),
        (
            "Type",
            format!(
                "{} ({})",
                tx.ty(),
                match tx.ty() {
                    0 => "legacy",
                    1 => "EIP-2930",
                    2 => "EIP-1559",
                    3 => "EIP-4844",
                    4 => "EIP-7702",
                    _ => "other",
                }
            ),
        ),
    ])
}

/// The revert reason of a failed transaction, by replaying it as a call
/// on the state before its block.
fn failure(backend: &dyn Backend, tx: &TxEnvelope, sender: Address, number: u64) -> String {
    let request = CallRequest {
        from: Some(sender),
        to: tx.to(),
        gas: Some(tx.gas_limit()),
        value: Some(tx.value()),
        input: tx.input().clone(),
        ..CallRequest::default()
    };
    let note = format!(
        r#"<p class="hint">Replayed as a call on the state before block {number}; a transaction earlier in the same block may have changed the outcome.</p>"#
    );
    let outcome = match backend.call_as_next_block(&request, number.saturating_sub(1)) {
        Ok(o) => o,
        Err(e) => {
            return format!(
                "{}{note}",
                html::notice(&format!("The replay could not run: {e}"))
            )
        }
    };
    let reason = match &outcome.status {
        CallStatus::Revert => match decode::revert_reason(&outcome.output) {
            Some(r) => format!("Reverted: {r}"),
            None if outcome.output.is_empty() => "Reverted without a reason".into(),
            None => format!(
                "Reverted with data {}",
                hex::encode_prefixed(&outcome.output)
            ),
        },
        CallStatus::Halt { reason } => format!("Halted: {reason}"),
        CallStatus::Success => {
            "The replay succeeded: the failure depended on the transactions before it in its block"
                .into()
        }
    };
    format!(r#"<p class="revert">{}</p>{note}"#, html::esc(&reason))
}

fn input(tx: &TxEnvelope) -> String {
    let data = tx.input();
    if data.is_empty() {
        return r#"<p class="empty">No call data: a plain transfer of value.</p>"#.into();
    }
    let raw = format!(
        r#"<details><summary>Raw input ({} bytes)</summary><pre class="mono break">{}</pre></details>"#,
        data.len(),
        hex::encode_prefixed(data)
    );
    if tx.to().is_none() {
        return format!(r#"<p class="hint">Contract creation code.</p>{raw}"#);
    }
    match decode::call(tx.to(), data) {
        Some(d) => format!(
            r#"<p class="decoded"><span class="badge info">{contract}</span> <code class="signature">{sig}</code></p>{args}{raw}"#,
            contract = html::esc(&d.contract),
            sig = html::esc(&d.signature()),
            args = decode::args_table(&d),
        ),
        None => {
            format!(r#"<p class="hint">The explorer does not know this contract's ABI.</p>{raw}"#)
        }
    }
}

/// ERC-20 and ERC-721 `Transfer`s among the logs, with token symbols.
fn transfers(
    backend: &dyn Backend,
    logs: &[Log],
    tokens: &mut BTreeMap<Address, token::TokenInfo>,
    number: u64,
) -> String {
    let mut rows = Vec::new();
    for log in logs {
        let Some(d) =
            decode::log(log).filter(|d| d.name == "Transfer" && d.contract.starts_with("ERC-"))
        else {
            continue;
        };
        let from = d
            .arg("from")
            .and_then(|v| v.as_address())
            .unwrap_or_default();
        let to = d.arg("to").and_then(|v| v.as_address()).unwrap_or_default();
        let info = tokens
            .entry(log.address)
            .or_insert_with(|| token::info(backend, log.address, number));
        let amount = match (
            d.arg("value").and_then(|v| v.as_uint()),
            d.arg("tokenId").and_then(|v| v.as_uint()),
        ) {
            (Some((value, _)), _) => html::esc(&info.amount(value)),
            (_, Some((id, _))) => format!("token id {}", html::mono(&id.to_string())),
            _ => String::new(),
        };
        let name = info
            .symbol
            .clone()
            .unwrap_or_else(|| format::short(&log.address.to_string()));
        rows.push(vec![
            html::addr_link(&from),
            html::addr_link(&to),
            amount,
            format!(
                r#"<a href="/token/{}">{}</a> {}"#,
                log.address,
                html::esc(&name),
                html::badge("muted", &d.contract)
            ),
        ]);
    }
    if rows.is_empty() {
        return String::new();
    }
    html::table(&["From", "To", "Amount", "Token"], &rows, "")
}

fn logs(logs: &[Log], first: usize) -> String {
    if logs.is_empty() {
        return r#"<p class="empty">No logs.</p>"#.into();
    }
    logs.iter()
        .enumerate()
        .map(|(i, log)| {
            let head = format!(
                r#"<div class="log-head"><span class="badge muted">#{}</span> {}"#,
                first + i,
                html::addr_full(&log.address)
            );
            match decode::log(log) {
                Some(d) => format!(
                    r#"<div class="log">{head} <span class="badge info">{}</span> <code class="signature">{}</code></div>{}</div>"#,
                    html::esc(&d.contract),
                    html::esc(&d.signature()),
                    decode::args_table(&d)
                ),
                None => {
                    let topics: Vec<Vec<String>> = log
                        .topics()
                        .iter()
                        .enumerate()
                        .map(|(t, topic)| vec![format!("topic{t}"), html::mono(&topic.to_string())])
                        .chain(std::iter::once(vec!["data".into(), html::mono(&hex::encode_prefixed(&log.data.data))]))
                        .collect();
                    format!(r#"<div class="log">{head}</div>{}</div>"#, html::table(&["", "Value"], &topics, ""))
                }
            }
        })
        .collect()
}

fn pending_page(tx: &TxEnvelope, sender: Address) -> Page {
    let fields = html::fields(&[
        ("Status", html::badge("muted", "Pending in the pool")),
        ("From", html::addr_full(&sender)),
        (
            "To",
            tx.to()
                .map(|a| html::addr_full(&a))
                .unwrap_or_else(|| html::badge("info", "Contract creation")),
        ),
        ("Value", html::esc(&format::eth(tx.value()))),
        ("Gas limit", format::thousands(tx.gas_limit())),
        ("Nonce", tx.nonce().to_string()),
    ]);
    let body = format!(
        "{}{}{}",
        html::heading(
            "Pending transaction",
            &html::mono(&tx.tx_hash().to_string())
        ),
        html::card("Overview", &fields),
        html::card("Input", &input(tx)),
    );
    Page::new("Pending transaction", body)
}
