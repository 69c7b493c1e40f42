//! `/search?q=`: sends a block number, a block or transaction hash, an
//! address, a notarized document's hash or a product ID (or its
//! `tally://trace/…` link) to its page; anything else gets a "not found"
//! page that says what can be searched.

use serde_json::json;
use tally_rpc::Backend;

use crate::{
    error::PageError,
    html::{self, Page},
    index, query,
    routes::Reply,
};

const HELP: &str = "Search by block number (1234), block hash or transaction hash (0x and 64 hex \
                    digits), address (0x and 40 hex digits), the SHA-256 of a notarized document, \
                    or a product ID.";

pub fn answer(backend: &dyn Backend, q: &str) -> Reply {
    match find(backend, q.trim()) {
        Ok(Some(to)) => Reply::Redirect(to),
        Ok(None) => Reply::Page(Ok(help(q))),
        Err(e) => {
            // The "not found" page keeps the search in the header's box.
            let mut page = html::error_page(&e);
            page.search = q.to_string();
            Reply::Page(Ok(page))
        }
    }
}

/// Where `q` leads; `None` for an empty search.
fn find(backend: &dyn Backend, q: &str) -> Result<Option<String>, PageError> {
    if q.is_empty() {
        return Ok(None);
    }
    if let Some(id) = trace_link(q) {
        return Ok(Some(format!("/trace/{}", query::encode(id))));
    }
    if let Some(n) = query::block_number(q) {
        if backend.header_by_number(n)?.is_some() {
            return Ok(Some(format!("/block/{n}")));
        }
        return Err(PageError::not_found(
            "Nothing found",
            format!(
                "there is no block {n} yet: the chain's head is block {}",
                backend.head().number
            ),
        ));
    }
    if query::is_address(q) {
        let address = query::address(q)?;
        return Ok(Some(format!("/address/{address}")));
    }
    if query::is_hash(q) {
        let hash = query::hash(q, "hash")?;
        if backend.tx_location(hash)?.is_some() || backend.pending_transaction(hash)?.is_some() {
            return Ok(Some(format!("/tx/{hash}")));
        }
        if backend.header_by_hash(hash)?.is_some() {
            return Ok(Some(format!("/block/{hash}")));
        }
        let stamped = index::query(
            backend,
            "SELECT 1 FROM notary_documents WHERE document = ? LIMIT 1",
            vec![json!(hash.to_string())],
        )
        .is_ok_and(|r| !r.rows.is_empty());
        if stamped {
            return Ok(Some(format!("/notary?document={hash}")));
        }
        return Err(PageError::not_found(
            "Nothing found",
            format!(
                "{hash} is neither a block, a transaction nor a notarized document on this chain"
            ),
        ));
    }
    let head = backend.head().number;
    if matches!(backend.trace_product(q, head), Ok(Some(_))) {
        return Ok(Some(format!("/trace/{}", query::encode(q))));
    }
    Err(PageError::not_found(
        "Nothing found",
        format!("nothing on this chain matches {q:?}. {HELP}"),
    ))
}

/// The product ID of a `tally://trace/<chain id>/<id>` link.
fn trace_link(q: &str) -> Option<&str> {
    let rest = q.strip_prefix("tally://trace/")?;
    let (_chain, id) = rest.split_once('/')?;
    (!id.is_empty()).then_some(id)
}

fn help(q: &str) -> Page {
    let body = format!(
        r#"{}<section class="card"><form class="big-search" action="/search" method="get">
<input type="search" name="q" value="{}" placeholder="Block, transaction, address, document hash or product ID" aria-label="Search" autofocus>
<button type="submit">Search</button></form><p class="hint">{}</p></section>"#,
        html::heading("Search", "Find anything on this chain"),
        html::esc(q),
        html::esc(HELP)
    );
    Page::new("Search", body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_links_give_their_product_id() {
        assert_eq!(trace_link("tally://trace/31337/SKU-12"), Some("SKU-12"));
        assert_eq!(trace_link("tally://trace/31337/"), None);
        assert_eq!(trace_link("SKU-12"), None);
    }
}
