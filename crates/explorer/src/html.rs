//! HTML building: escaping, the page layout (header with search, footer),
//! and the small components every page uses (cards, tables, links to
//! blocks, transactions and addresses, badges). Everything that comes
//! from the chain or the user goes through [`esc`].

use alloy_primitives::{Address, B256};
use http::StatusCode;

use crate::{error::PageError, format, query};

/// A rendered page body and what the layout needs around it.
pub struct Page {
    pub title: String,
    pub body: String,
    /// Scripts of `/static/`, loaded at the end of the body.
    pub scripts: Vec<&'static str>,
    /// The text to leave in the header's search box.
    pub search: String,
    /// 200 unless the page shows a refusal beside its content (the SQL
    /// console with an error).
    pub status: StatusCode,
}

impl Page {
    pub fn new(title: impl Into<String>, body: String) -> Self {
        Page {
            title: title.into(),
            body,
            scripts: Vec::new(),
            search: String::new(),
            status: StatusCode::OK,
        }
    }
}

/// What the header and footer show about the node.
pub struct Chrome {
    pub chain_id: u64,
    pub engine: String,
    pub client: String,
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const NAV: [(&str, &str); 5] = [
    ("/", "Home"),
    ("/consensus", "Consensus"),
    ("/notary", "Notary"),
    ("/sql", "SQL"),
    ("/search", "Search"),
];

/// The whole document around `page`.
pub fn layout(page: &Page, chrome: &Chrome) -> String {
    let nav: String = NAV
        .iter()
        .map(|(href, name)| format!(r#"<a href="{href}">{name}</a>"#))
        .collect();
    let scripts: String = page
        .scripts
        .iter()
        .map(|s| format!(r#"<script src="/static/{s}" defer></script>"#))
        .collect();
    format!(
        r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Tally Explorer</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/style.css">
</head>
<body>
<header class="topbar">
  <div class="wrap topbar-inner">
    <a class="brand" href="/"><img src="/static/favicon.svg" alt="" width="28" height="28">Tally<span>Explorer</span></a>
    <nav class="nav">{nav}</nav>
    <form class="search" action="/search" method="get" role="search">
      <input type="search" name="q" value="{search}" placeholder="Block number, block or tx hash, address" aria-label="Search by block number, block or transaction hash, or address">
      <button type="submit">Search</button>
    </form>
  </div>
</header>
<main class="wrap">
{body}
</main>
<footer class="wrap footer">
  <span>Chain id {chain_id}</span><span>Consensus: {engine}</span><span>{client}</span>
</footer>
{scripts}
</body>
</html>
"##,
        title = esc(&page.title),
        search = esc(&page.search),
        body = page.body,
        chain_id = chrome.chain_id,
        engine = esc(&chrome.engine),
        client = esc(&chrome.client),
    )
}

/// The page shown for an error, with its status in the title.
pub fn error_page(e: &PageError) -> Page {
    let body = format!(
        r#"<section class="card error-card">
  <p class="status">{status}</p>
  <h1>{title}</h1>
  <p class="message">{message}</p>
  <p><a class="button" href="/">Back to the latest blocks</a></p>
</section>"#,
        status = e.status.as_u16(),
        title = esc(&e.title),
        message = esc(&capitalized(&e.message)),
    );
    let mut page = Page::new(e.title.clone(), body);
    page.status = e.status;
    page
}

/// `text` with its first letter in upper case (messages are written in
/// lower case to read well inside other messages).
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A card with a heading.
pub fn card(title: &str, body: &str) -> String {
    format!(
        r#"<section class="card"><h2>{}</h2>{body}</section>"#,
        esc(title)
    )
}

/// A page heading with a subtitle (already HTML).
pub fn heading(title: &str, sub: &str) -> String {
    format!(
        r#"<div class="page-head"><h1>{}</h1><div class="sub">{sub}</div></div>"#,
        esc(title)
    )
}

/// A two-column list of fields: names are text, values HTML.
pub fn fields(rows: &[(&str, String)]) -> String {
    let items: String = rows
        .iter()
        .map(|(k, v)| format!("<dt>{}</dt><dd>{v}</dd>", esc(k)))
        .collect();
    format!(r#"<dl class="fields">{items}</dl>"#)
}

/// A table: headers are text, cells HTML; `empty` is shown without rows.
pub fn table(headers: &[&str], rows: &[Vec<String>], empty: &str) -> String {
    if rows.is_empty() {
        return format!(r#"<p class="empty">{}</p>"#, esc(empty));
    }
    let head: String = headers
        .iter()
        .map(|h| format!("<th>{}</th>", esc(h)))
        .collect();
    let body: String = rows
        .iter()
        .map(|r| {
            let cells: String = r.iter().map(|c| format!("<td>{c}</td>")).collect();
            format!("<tr>{cells}</tr>")
        })
        .collect();
    format!(
        r#"<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"#
    )
}

/// A notice inside a page (not an error page): the index is off, ...
pub fn notice(text: &str) -> String {
    format!(r#"<p class="notice">{}</p>"#, esc(text))
}

pub fn block_link(number: u64) -> String {
    format!(
        r#"<a href="/block/{number}">{}</a>"#,
        format::thousands(number)
    )
}

/// A transaction hash, shortened, linking to its page.
pub fn tx_link(hash: &B256) -> String {
    let h = hash.to_string();
    format!(
        r#"<a class="mono" href="/tx/{h}" title="{h}">{}</a>"#,
        format::short(&h)
    )
}

/// A block hash, shortened, linking to its page.
pub fn block_hash_link(hash: &B256) -> String {
    let h = hash.to_string();
    format!(
        r#"<a class="mono" href="/block/{h}" title="{h}">{}</a>"#,
        format::short(&h)
    )
}

/// An address, shortened, linking to its page.
pub fn addr_link(address: &Address) -> String {
    let a = address.to_string();
    format!(
        r#"<a class="mono" href="/address/{a}" title="{a}">{}</a>"#,
        format::short(&a)
    )
}

/// An address in full (for a record's own fields), linking to its page.
pub fn addr_full(address: &Address) -> String {
    format!(r#"<a class="mono" href="/address/{address}">{address}</a>"#)
}

/// A value in full, monospace, wrapping anywhere.
pub fn mono(text: &str) -> String {
    format!(r#"<span class="mono break">{}</span>"#, esc(text))
}

/// A coloured label: `ok`, `fail`, `info` or `muted`.
pub fn badge(kind: &str, text: &str) -> String {
    format!(r#"<span class="badge {kind}">{}</span>"#, esc(text))
}

/// A link to the SQL console with `sql` filled in.
pub fn sql_link(sql: &str, text: &str) -> String {
    format!(
        r#"<a href="/sql?q={}">{}</a>"#,
        query::encode(sql),
        esc(text)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_everywhere() {
        assert_eq!(
            esc(r#"<script>"x" & 'y'</script>"#),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
        let mut page = Page::new("<b>", "<p>body</p>".into());
        page.search = "\"><script>".into();
        let chrome = Chrome {
            chain_id: 1,
            engine: "<dev>".into(),
            client: "tally".into(),
        };
        let html = layout(&page, &chrome);
        assert!(html.contains("<title>&lt;b&gt; · Tally Explorer</title>"));
        assert!(html.contains("value=\"&quot;&gt;&lt;script&gt;\""));
        assert!(html.contains("Consensus: &lt;dev&gt;"));
        assert!(html.contains("<p>body</p>"));
    }

    #[test]
    fn tables_say_when_they_are_empty() {
        assert!(table(&["a"], &[], "No blocks yet").contains("No blocks yet"));
        let t = table(&["a", "b"], &[vec!["1".into(), "<i>2</i>".into()]], "");
        assert!(t.contains("<th>a</th><th>b</th>") && t.contains("<td><i>2</i></td>"));
    }
}
