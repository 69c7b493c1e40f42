//! `/sql?q=`: a SQL console over the node's index. A plain GET form, so it
//! works without JavaScript and every query has a link; the answer is a
//! table, and a refused or failing query shows the index's own message
//! beside the form (status 400, or 503 when the index is off).

use http::StatusCode;
use tally_rpc::{Backend, BackendError};

use crate::{
    error::PageError,
    format,
    html::{self, Page},
    index,
};

const EXAMPLES: [(&str, &str); 5] = [
    ("Latest blocks", "SELECT number, hash, tx_count, gas_used, datetime(timestamp, 'unixepoch') AS time\nFROM blocks ORDER BY number DESC LIMIT 20"),
    ("Top senders", "SELECT sender, count(*) AS txs, sum(gas_used) AS gas\nFROM transactions GROUP BY sender ORDER BY txs DESC LIMIT 10"),
    ("Token transfers", "SELECT block_number, token, sender, recipient, value\nFROM token_transfers ORDER BY block_number DESC, log_index DESC LIMIT 50"),
    ("Contracts", "SELECT address, creator, block_number FROM contracts ORDER BY block_number DESC"),
    ("Tables", "SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view') ORDER BY name"),
];

pub fn page(backend: &dyn Backend, q: Option<&str>) -> Result<Page, PageError> {
    let sql = q.unwrap_or("").trim();
    let (result, status) = if sql.is_empty() {
        (examples(), StatusCode::OK)
    } else {
        match index::query(backend, sql, vec![]) {
            Ok(rows) => (results(&rows), StatusCode::OK),
            Err(e) => {
                let status = PageError::from(e.clone()).status;
                (refusal(&e), status)
            }
        }
    };
    let body = format!(
        r#"{heading}
<section class="card">
<form class="sql-form" action="/sql" method="get">
<label for="sql-q">Query (read-only: one SELECT statement; limits on rows, size and time)</label>
<textarea id="sql-q" name="q" rows="6" spellcheck="false">{sql}</textarea>
<div class="form-row"><button type="submit">Run query</button><span class="hint">Schema: <code>tally sql --schema</code> or docs/sql.md. Addresses and hashes are lowercase 0x-hex text; amounts are decimal text.</span></div>
</form>
</section>
{result}"#,
        heading = html::heading(
            "SQL console",
            "Read-only SQL over this node's index of the ledger"
        ),
        sql = html::esc(sql),
    );
    let mut page = Page::new("SQL console", body);
    page.status = status;
    Ok(page)
}

fn results(rows: &index::Rows) -> String {
    let cells: Vec<Vec<String>> = rows
        .rows
        .iter()
        .map(|r| r.iter().map(|v| html::mono(&index::display(v))).collect())
        .collect();
    let headers: Vec<&str> = rows.columns.iter().map(String::as_str).collect();
    let mut summary = format!(
        "{} row{} in {:.1} ms",
        format::thousands(rows.rows.len() as u64),
        if rows.rows.len() == 1 { "" } else { "s" },
        rows.elapsed_ms
    );
    if rows.truncated {
        summary.push_str(" — truncated at the row or size limit: add a LIMIT or narrow the query");
    }
    format!(
        r#"<section class="card" id="sql-result"><div class="card-head"><h2>Result</h2><span class="hint">{}</span></div>{}</section>"#,
        html::esc(&summary),
        html::table(&headers, &cells, "The query returned no rows.")
    )
}

fn refusal(e: &BackendError) -> String {
    let message = match e {
        BackendError::InvalidParams(m)
        | BackendError::Unavailable(m)
        | BackendError::NotFound(m) => m.clone(),
        BackendError::Execution { message, .. } => message.clone(),
        other => other.to_string(),
    };
    format!(
        r#"<section class="card error-card" id="sql-error"><h2>The query was not run</h2><p class="message">{}</p></section>"#,
        html::esc(&message)
    )
}

fn examples() -> String {
    let items: String = EXAMPLES
        .iter()
        .map(|(name, sql)| {
            format!(
                r#"<li>{}<pre class="mono">{}</pre></li>"#,
                html::sql_link(sql, name),
                html::esc(sql)
            )
        })
        .collect();
    html::card("Examples", &format!(r#"<ul class="examples">{items}</ul>"#))
}
