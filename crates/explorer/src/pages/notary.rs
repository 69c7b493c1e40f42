//! `/notary`: checks a document against the notary. The browser hashes a
//! dropped file with SHA-256 (`notary.js`; documents never leave the
//! machine) and asks `GET /api/notary/<sha256>`; without JavaScript, or
//! outside a secure context, the hash is pasted into a plain form. The
//! answer says whether, when and by whom the document was stamped, and
//! whether its submitter revoked or superseded it.

use alloy_primitives::B256;
use serde_json::{json, Value};
use tally_rpc::{proofs::NotaryStamp, Backend};

use crate::{
    error::PageError,
    format,
    html::{self, Page},
    index::{self, Cells},
    query,
};

/// The stamps of `document` and the documents it supersedes.
struct Lookup {
    document: B256,
    head: u64,
    stamps: Vec<NotaryStamp>,
    /// `(superseded document, by submitter, reason)`.
    supersedes: Vec<(B256, String, String)>,
}

fn lookup(backend: &dyn Backend, text: &str) -> Result<Lookup, PageError> {
    let document = query::hash(text, "document hash (SHA-256)")?;
    let head = backend.head().number;
    let stamps = tally_rpc::proofs::notary_records(backend, document, head).map_err(|e| {
        PageError::new(
            http::StatusCode::SERVICE_UNAVAILABLE,
            "Notary not available",
            e.message().to_string(),
        )
    })?;
    let supersedes = index::query(
        backend,
        "SELECT document, submitter, reason FROM notary_revocations WHERE replacement = ?",
        vec![json!(document.to_string())],
    )
    .map(|r| {
        r.rows
            .iter()
            .filter_map(|row| {
                Some((
                    row.hash(0)?,
                    row.text(1)?.to_string(),
                    row.text(2).unwrap_or("").to_string(),
                ))
            })
            .collect()
    })
    .unwrap_or_default();
    Ok(Lookup {
        document,
        head,
        stamps,
        supersedes,
    })
}

/// What the lookup found, as HTML.
fn render(l: &Lookup) -> String {
    let mut out = String::new();
    if l.stamps.is_empty() {
        out.push_str(&format!(
            r#"<div class="verdict none"><h2>Not stamped</h2><p>No stamp of document <span class="mono break">{}</span> on this chain up to block {}.</p></div>"#,
            l.document,
            format::thousands(l.head)
        ));
    }
    for s in &l.stamps {
        let (class, verdict) = match &s.revocation {
            None => ("ok", "Stamped".to_string()),
            Some(r) if r.replacement.is_zero() => {
                ("fail", format!("Revoked at {}", format::utc(r.timestamp)))
            }
            Some(r) => (
                "warn",
                format!("Superseded at {}", format::utc(r.timestamp)),
            ),
        };
        let mut rows = vec![
            (
                "Stamped",
                format!(
                    "{} in block {}",
                    format::utc(s.timestamp),
                    html::block_link(s.block_number)
                ),
            ),
            ("By", html::addr_full(&s.submitter)),
            ("Label", html::esc(&s.label)),
            ("Transaction", html::tx_link(&s.tx_hash)),
            (
                "Batch",
                format!(
                    "document {} of {}, Merkle root {}",
                    s.index + 1,
                    s.count,
                    html::mono(&s.root.to_string())
                ),
            ),
        ];
        if let Some(r) = &s.revocation {
            rows.push(("Revoked in", html::block_link(r.block_number)));
            if !r.replacement.is_zero() {
                rows.push((
                    "Replaced by",
                    format!(
                        r#"<a class="mono break" href="/notary?document={0}">{0}</a>"#,
                        r.replacement
                    ),
                ));
            }
            rows.push(("Reason", html::esc(&r.reason)));
        }
        out.push_str(&format!(
            r#"<div class="verdict {class}"><h2>{}</h2>{}</div>"#,
            html::esc(&verdict),
            html::fields(&rows)
        ));
    }
    for (old, by, reason) in &l.supersedes {
        out.push_str(&format!(
            r#"<p class="hint">This document supersedes <a class="mono" href="/notary?document={old}">{}</a> (by {}: {}).</p>"#,
            format::short(&old.to_string()),
            html::esc(by),
            html::esc(reason)
        ));
    }
    out
}

pub fn page(backend: &dyn Backend, document: Option<&str>) -> Result<Page, PageError> {
    let result = match document.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => render(&lookup(backend, d)?),
        None => String::new(),
    };
    let body = format!(
        r#"{heading}
<section class="card">
<div class="dropzone" id="dropzone" hidden>
  <p><strong>Drop a file here</strong> or <label class="linkish" for="file">choose one</label>: it is hashed in your browser with SHA-256 and never uploaded.</p>
  <input type="file" id="file">
  <p class="hint" id="file-status" aria-live="polite"></p>
</div>
<p class="notice" id="insecure" hidden>This page is not in a secure context (it was opened over plain HTTP from a host other than localhost), so the browser does not let it hash files. Hash the file yourself — <code>sha256sum FILE</code> or <code>shasum -a 256 FILE</code> — and paste the hash below.</p>
<form class="hash-form" action="/notary" method="get">
  <label for="document">Document hash (SHA-256)</label>
  <div class="form-row"><input id="document" name="document" class="mono" value="{value}" placeholder="0x… (64 hex digits)" spellcheck="false"><button type="submit">Check</button></div>
</form>
</section>
<section class="card" id="notary-result" aria-live="polite">{result}</section>"#,
        heading = html::heading(
            "Notary",
            "Was this document stamped on the chain, when and by whom?"
        ),
        value = html::esc(document.unwrap_or("")),
    );
    let mut page = Page::new("Notary", body);
    page.scripts.push("notary.js");
    Ok(page)
}

/// `GET /api/notary/<sha256>`.
pub fn json(backend: &dyn Backend, document: &str) -> Result<Value, PageError> {
    let l = lookup(backend, document)?;
    let stamps: Vec<Value> = l
        .stamps
        .iter()
        .map(|s| {
            let revocation = s.revocation.as_ref().map(|r| {
                json!({
                    "kind": if r.replacement.is_zero() { "revoked" } else { "superseded" },
                    "blockNumber": r.block_number,
                    "timestamp": r.timestamp,
                    "replacement": (!r.replacement.is_zero()).then_some(r.replacement),
                    "reason": r.reason,
                })
            });
            json!({
                "submitter": s.submitter,
                "label": s.label,
                "blockNumber": s.block_number,
                "timestamp": s.timestamp,
                "time": format::utc(s.timestamp),
                "txHash": s.tx_hash,
                "root": s.root,
                "index": s.index,
                "count": s.count,
                "revocation": revocation,
            })
        })
        .collect();
    Ok(json!({
        "document": l.document,
        "checkedAtBlock": l.head,
        "stamped": !l.stamps.is_empty(),
        "stamps": stamps,
        "html": render(&l),
    }))
}
