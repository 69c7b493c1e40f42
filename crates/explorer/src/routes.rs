//! Which page answers which URL, and how pages become HTTP responses:
//! HTML pages inside the layout, JSON for `/api/…`, redirects for search,
//! the embedded assets under `/static/`, and an error page (or a JSON
//! `{error}`) with the right status for everything that fails.

use bytes::Bytes;
use http::{
    header::{
        CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, X_CONTENT_TYPE_OPTIONS,
    },
    HeaderValue, Method, Response, StatusCode,
};
use http_body_util::Full;
use serde_json::{json, Value};
use tally_rpc::Backend;

use crate::{
    error::PageError,
    html::{self, Chrome, Page},
    pages, query,
};

/// What a route answers.
pub enum Reply {
    Page(Result<Page, PageError>),
    Json(Result<Value, PageError>),
    /// 303 to this path.
    Redirect(String),
    Static(&'static str, &'static str),
}

/// Scripts and styles may come only from the explorer itself.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
                   script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; \
                   frame-ancestors 'none'";

/// Answers one request.
pub fn handle(
    backend: &dyn Backend,
    method: &Method,
    path: &str,
    query: &str,
) -> Response<Full<Bytes>> {
    if method != Method::GET && method != Method::HEAD {
        let e = PageError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed",
            format!("the explorer only answers GET requests, not {method}"),
        );
        return respond(backend, Reply::Page(Err(e)));
    }
    let reply = match query::pairs(query) {
        Ok(pairs) => route(backend, path, &pairs),
        Err(e) if path.starts_with("/api/") => Reply::Json(Err(e)),
        Err(e) => Reply::Page(Err(e)),
    };
    let mut resp = respond(backend, reply);
    if method == Method::HEAD {
        *resp.body_mut() = Full::new(Bytes::new());
    }
    resp
}

fn route(backend: &dyn Backend, path: &str, q: &[(String, String)]) -> Reply {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    match segments.as_slice() {
        [] => Reply::Page(pages::home::page(backend)),
        ["api", "latest"] => Reply::Json(pages::home::latest_json(backend)),
        ["api", "notary", document] => Reply::Json(pages::notary::json(backend, document)),
        ["block", id] => Reply::Page(pages::block::page(backend, id)),
        ["tx", hash] => Reply::Page(pages::tx::page(backend, hash)),
        ["address", address] => Reply::Page(pages::address::page(backend, address)),
        ["token", address] => Reply::Page(pages::token::page(backend, address)),
        ["search"] => pages::search::answer(backend, query::get(q, "q").unwrap_or("")),
        ["sql"] => Reply::Page(pages::sql::page(backend, query::get(q, "q"))),
        ["consensus"] => Reply::Page(pages::consensus::page(backend)),
        ["notary"] => Reply::Page(pages::notary::page(backend, query::get(q, "document"))),
        ["trace", id] => {
            Reply::Page(query::decode_path(id).and_then(|id| pages::trace::page(backend, &id)))
        }
        ["static", "style.css"] => Reply::Static(
            "text/css; charset=utf-8",
            include_str!("../assets/style.css"),
        ),
        ["static", "home.js"] => Reply::Static(
            "text/javascript; charset=utf-8",
            include_str!("../assets/home.js"),
        ),
        ["static", "notary.js"] => Reply::Static(
            "text/javascript; charset=utf-8",
            include_str!("../assets/notary.js"),
        ),
        ["static", "favicon.svg"] | ["favicon.ico"] => {
            Reply::Static("image/svg+xml", include_str!("../assets/favicon.svg"))
        }
        _ => Reply::Page(Err(PageError::not_found(
            "Page not found",
            format!(
                "there is no page at {path}: try the search box, or start from the latest blocks"
            ),
        ))),
    }
}

fn respond(backend: &dyn Backend, reply: Reply) -> Response<Full<Bytes>> {
    match reply {
        Reply::Page(page) => {
            let page = page.unwrap_or_else(|e| html::error_page(&e));
            let status = page.status;
            let chrome = Chrome {
                chain_id: backend.chain_id(),
                engine: backend.engine_name(),
                client: backend.client_version(),
            };
            build(
                status,
                "text/html; charset=utf-8",
                html::layout(&page, &chrome).into(),
                false,
            )
        }
        Reply::Json(answer) => {
            let (status, value) = match answer {
                Ok(v) => (StatusCode::OK, v),
                Err(e) => (e.status, json!({ "error": e.message })),
            };
            build(status, "application/json", value.to_string().into(), false)
        }
        Reply::Redirect(to) => {
            let mut resp = build(
                StatusCode::SEE_OTHER,
                "text/plain; charset=utf-8",
                Bytes::new(),
                false,
            );
            if let Ok(v) = HeaderValue::from_str(&to) {
                resp.headers_mut().insert(LOCATION, v);
            }
            resp
        }
        Reply::Static(content_type, body) => build(
            StatusCode::OK,
            content_type,
            Bytes::from_static(body.as_bytes()),
            true,
        ),
    }
}

fn build(
    status: StatusCode,
    content_type: &'static str,
    body: Bytes,
    cache: bool,
) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static(if cache {
            "public, max-age=300"
        } else {
            "no-store"
        }),
    );
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    resp
}
