//! The home page: the chain at a glance (head, finality, pool, index),
//! the latest blocks and transactions and the throughput chart. The same
//! fragments are served as JSON at `/api/latest`, which `home.js` polls to
//! refresh the page in place.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use tally_rpc::Backend;

use crate::{
    chart::{self, Point},
    error::PageError,
    format,
    html::{self, Page},
    index::{self, Cells},
};

/// Blocks in the throughput chart.
const CHART_BLOCKS: u64 = 60;
/// Rows of the latest blocks and latest transactions.
const LATEST: usize = 10;
/// How far back to look for the latest transactions.
const TX_SCAN_BLOCKS: u64 = 200;

struct Fragments {
    head: u64,
    stats: String,
    blocks: String,
    txs: String,
    chart: String,
}

fn fragments(backend: &dyn Backend) -> Result<Fragments, PageError> {
    let head = backend.head();
    let points = points(backend, head.number)?;
    let now = format::now();
    let mut block_rows = Vec::new();
    for p in points.iter().rev().take(LATEST) {
        let Some(h) = backend.header_by_number(p.number)? else {
            continue;
        };
        block_rows.push(vec![
            html::block_link(p.number),
            html::block_hash_link(&h.hash),
            format!(
                r#"<span title="{}">{}</span>"#,
                format::utc(h.timestamp),
                format::ago(h.timestamp, now)
            ),
            format::thousands(p.txs),
            format::thousands(h.gas_used),
            html::addr_link(&h.beneficiary),
        ]);
    }
    let blocks = html::table(
        &["Block", "Hash", "Age", "Txs", "Gas used", "Beneficiary"],
        &block_rows,
        "No blocks yet.",
    );
    let txs = html::table(
        &["Transaction", "Block", "From", "To", "Value"],
        &latest_txs(backend, head.number)?,
        "No transactions yet: send one and it shows up here.",
    );
    let index_state = match index::head(backend) {
        Some(n) => format!("block {}", format::thousands(n)),
        None => "off or empty".into(),
    };
    let stat = |label: &str, value: String| {
        format!(
            r#"<div class="stat"><span class="label">{label}</span><span class="value">{value}</span></div>"#
        )
    };
    let stats = [
        stat("Head", html::block_link(head.number)),
        stat("Safe", html::block_link(backend.safe_number())),
        stat("Finalized", html::block_link(backend.finalized_number())),
        stat(
            "Pending txs",
            format::thousands(backend.pending_transaction_hashes().len() as u64),
        ),
        stat("Peers", format::thousands(backend.peer_count() as u64)),
        stat("SQL index", html::esc(&index_state)),
    ]
    .concat();
    Ok(Fragments {
        head: head.number,
        stats,
        blocks,
        txs,
        chart: chart::render(&points),
    })
}

/// The chart's points for the last blocks: counts from the index where it
/// has them, from the blocks themselves past its head (or without it).
fn points(backend: &dyn Backend, head: u64) -> Result<Vec<Point>, PageError> {
    let first = head.saturating_sub(CHART_BLOCKS - 1);
    let mut known = BTreeMap::new();
    if let Ok(rows) = index::query(
        backend,
        "SELECT number, timestamp, tx_count FROM blocks WHERE number >= ? AND number <= ?",
        vec![json!(first), json!(head)],
    ) {
        for r in &rows.rows {
            if let (Some(number), Some(timestamp), Some(txs)) = (r.int(0), r.int(1), r.int(2)) {
                known.insert(
                    number,
                    Point {
                        number,
                        timestamp,
                        txs,
                    },
                );
            }
        }
    }
    let mut points = Vec::new();
    for number in first..=head {
        if let Some(p) = known.get(&number) {
            points.push(*p);
        } else if let Some(block) = backend.block_by_number(number)? {
            points.push(Point {
                number,
                timestamp: block.header.timestamp,
                txs: block.transactions.len() as u64,
            });
        }
    }
    Ok(points)
}

/// The last transactions, newest first, from the last blocks.
fn latest_txs(backend: &dyn Backend, head: u64) -> Result<Vec<Vec<String>>, PageError> {
    let mut rows = Vec::new();
    let stop = head.saturating_sub(TX_SCAN_BLOCKS);
    let mut number = head;
    while rows.len() < LATEST && number > stop {
        if let Some(block) = backend.block_by_number(number)? {
            for (tx, sender) in block.transactions.iter().zip(&block.senders).rev() {
                if rows.len() == LATEST {
                    break;
                }
                use alloy_consensus::Transaction;
                rows.push(super::tx_row(
                    tx.tx_hash(),
                    number,
                    sender,
                    super::recipient_cell(tx, *sender),
                    tx.value(),
                ));
            }
        }
        number -= 1;
    }
    Ok(rows)
}

pub fn page(backend: &dyn Backend) -> Result<Page, PageError> {
    let f = fragments(backend)?;
    let body = format!(
        r#"{heading}
<div class="stats" id="stats">{stats}</div>
<section class="card"><div class="card-head"><h2>Throughput</h2><span class="live" id="live" data-head="{head}">live</span></div><div id="chart">{chart}</div></section>
<div class="grid2">
<section class="card"><h2>Latest blocks</h2><div id="latest-blocks">{blocks}</div></section>
<section class="card"><h2>Latest transactions</h2><div id="latest-txs">{txs}</div></section>
</div>"#,
        heading = html::heading(
            "Tally chain",
            "Blocks, transactions, tokens and records of this node, as they happen"
        ),
        stats = f.stats,
        head = f.head,
        chart = f.chart,
        blocks = f.blocks,
        txs = f.txs,
    );
    let mut page = Page::new("Latest blocks", body);
    page.scripts.push("home.js");
    Ok(page)
}

/// `GET /api/latest`: the head and the home page's fragments.
pub fn latest_json(backend: &dyn Backend) -> Result<Value, PageError> {
    let f = fragments(backend)?;
    Ok(json!({
        "head": f.head,
        "stats": f.stats,
        "blocks": f.blocks,
        "transactions": f.txs,
        "chart": f.chart,
    }))
}
