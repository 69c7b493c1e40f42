//! `/trace/<product ID>`: a product's registration and its events, the
//! page a `tally trace qr` code (`tally://trace/<chain id>/<id>`) leads to
//! through the search box.

use tally_rpc::Backend;

use crate::{
    error::PageError,
    format,
    html::{self, Page},
};

fn role(code: u8) -> &'static str {
    match code {
        1 => "manufacturer",
        2 => "shipper",
        3 => "warehouse",
        4 => "retailer",
        5 => "inspector",
        _ => "other",
    }
}

pub fn page(backend: &dyn Backend, id: &str) -> Result<Page, PageError> {
    let head = backend.head().number;
    let product = backend.trace_product(id, head)?.ok_or_else(|| {
        PageError::not_found(
            "Product not found",
            format!("no product {id:?} is registered on this chain (up to block {head})"),
        )
    })?;
    let events = backend.trace_events(id, head)?;
    let fields = html::fields(&[
        ("Product ID", html::mono(id)),
        ("Description", html::esc(&product.description)),
        ("Manufacturer", html::addr_full(&product.manufacturer)),
        ("Registry", product.registry.to_string()),
        (
            "Registered",
            format!(
                "{} in block {}",
                format::utc(product.timestamp),
                html::block_link(product.block_number)
            ),
        ),
        ("Events", format::thousands(events.len() as u64)),
    ]);
    let rows: Vec<Vec<String>> = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let documents: Vec<String> = e
                .documents
                .iter()
                .map(|d| {
                    format!(
                        r#"<a class="mono" href="/notary?document={d}">{}</a>"#,
                        format::short(&d.to_string())
                    )
                })
                .collect();
            vec![
                i.to_string(),
                format!(
                    "{} ({})",
                    format::utc(e.timestamp),
                    html::block_link(e.block_number)
                ),
                html::badge("muted", role(e.role)),
                html::addr_link(&e.party),
                html::esc(&e.status),
                html::esc(&e.location),
                documents.join("<br>"),
            ]
        })
        .collect();
    let body = format!(
        "{}{}{}",
        html::heading("Product", &html::mono(id)),
        html::card("Registration", &fields),
        html::card(
            "History",
            &html::table(
                &[
                    "#",
                    "When",
                    "Role",
                    "Party",
                    "Status",
                    "Location",
                    "Documents"
                ],
                &rows,
                "No events yet."
            )
        ),
    );
    Ok(Page::new(format!("Product {id}"), body))
}
