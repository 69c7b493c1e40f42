//! Tally's block explorer: server-rendered HTML pages served by the node
//! (by default on http://127.0.0.1:8080), with no CDN and no build step.
//!
//! Data flow: [`start`] binds a port and serves HTTP/1.1 with hyper; each
//! request runs on tokio's blocking pool (the node's reads are synchronous
//! embedded-database reads) and goes through `routes`, which calls one
//! page of `pages` with the node's [`tally_rpc::Backend`]. Pages read
//! blocks, receipts, accounts, contract calls and BFT state from the
//! backend, and everything that needs a scan of the chain — an address's
//! transactions, token transfers and holders, notary records — from the
//! node's SQL index through [`tally_rpc::Backend::sql`]. A page renders to
//! a `String` of HTML (`html` holds the layout and the escaping helpers);
//! a bad input or a missing record becomes an error page with its HTTP
//! status (`error`), never a panic.
//!
//! - `pages::home`: latest blocks and transactions and a throughput chart
//!   (`chart`, inline SVG), refreshed by `assets/home.js` from
//!   `GET /api/latest`.
//! - `pages::block`, `pages::tx`, `pages::address`, `pages::token`:
//!   one record each; `decode` decodes calls, logs and revert data of the
//!   ERC-20/ERC-721 standards and Tally's system contracts; `token` reads
//!   ERC-20 metadata with `eth_call`-style calls.
//! - `pages::search`: redirects a block number, block or transaction hash,
//!   address or product ID to its page.
//! - `pages::sql`: a SQL console over the index (a plain GET form).
//! - `pages::consensus`: engine, producers, finality, BFT certificates.
//! - `pages::notary`: checks a document against the notary; the browser
//!   hashes a dropped file (`assets/notary.js`) and asks
//!   `GET /api/notary/<sha256>`.
//! - `pages::trace`: a product's traceability history.
//!
//! CSS and scripts are compiled into the binary (`include_str!`); every
//! page but the live refresh and the file hashing works without
//! JavaScript.

mod chart;
mod decode;
mod error;
mod format;
mod html;
mod index;
mod pages;
mod query;
mod routes;
mod server;
mod token;

pub use error::ExplorerError;
pub use server::{start, ExplorerHandle};
