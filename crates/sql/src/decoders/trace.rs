//! Traceability (`contracts/ITallyTrace.sol`): registered products and the
//! events of their history.

use alloy_sol_types::SolEvent;

use super::abi::ITallyTrace::{ProductRegistered, TraceEvent};
use super::addresses::TRACE;
use super::{Decoder, LogContext};
use crate::rows::{hex_hash, Cell, Row};

/// Decodes `ProductRegistered` and `TraceEvent` logs of the trace contract.
pub struct TraceDecoder;

const SCHEMA: &str = "\
-- trace_products: products registered by a manufacturer of a registry
-- (ITallyTrace.registerProduct, event ProductRegistered).
CREATE TABLE IF NOT EXISTS trace_products (
    block_number INTEGER NOT NULL,
    log_index    INTEGER NOT NULL,
    tx_hash      TEXT NOT NULL,
    timestamp    INTEGER NOT NULL,
    product      TEXT NOT NULL,    -- keccak256 of product_id, as the event indexes it
    product_id   TEXT NOT NULL,    -- the ID as registered
    registry     INTEGER NOT NULL,
    manufacturer TEXT NOT NULL,
    description  TEXT NOT NULL,
    PRIMARY KEY (block_number, log_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS trace_products_product_id ON trace_products (product_id);
CREATE INDEX IF NOT EXISTS trace_products_product ON trace_products (product);
CREATE INDEX IF NOT EXISTS trace_products_registry ON trace_products (registry);

-- trace_events: one row per event in a product's history
-- (ITallyTrace.appendEvent, event TraceEvent).
CREATE TABLE IF NOT EXISTS trace_events (
    block_number INTEGER NOT NULL,
    log_index    INTEGER NOT NULL,
    tx_hash      TEXT NOT NULL,
    timestamp    INTEGER NOT NULL,
    product      TEXT NOT NULL,    -- trace_products.product
    idx          INTEGER NOT NULL, -- the event's number in the product's history, from 0
    party        TEXT NOT NULL,
    role         INTEGER NOT NULL, -- 1 manufacturer, 2 shipper, 3 warehouse, 4 retailer, 5 inspector
    status       TEXT NOT NULL,
    location     TEXT NOT NULL,
    documents    TEXT NOT NULL,    -- JSON array of 0x-hex document hashes
    PRIMARY KEY (block_number, log_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS trace_events_product ON trace_events (product, idx);
CREATE INDEX IF NOT EXISTS trace_events_party ON trace_events (party);
";

impl Decoder for TraceDecoder {
    fn name(&self) -> &'static str {
        "trace"
    }

    fn schema(&self) -> &'static str {
        SCHEMA
    }

    fn tables(&self) -> &'static [&'static str] {
        &["trace_products", "trace_events"]
    }

    fn decode(&self, ctx: &LogContext<'_>, out: &mut Vec<Row>) {
        if ctx.log.address != TRACE {
            return;
        }
        let data = &ctx.log.data;
        let base = |table| {
            Row::new(table, ctx.block_number)
                .cell("log_index", Cell::uint(ctx.log_index))
                .cell("tx_hash", Cell::hash(ctx.tx_hash))
                .cell("timestamp", Cell::uint(ctx.timestamp))
        };
        match data.topics().first() {
            Some(&ProductRegistered::SIGNATURE_HASH) => {
                if let Ok(e) = ProductRegistered::decode_log_data(data) {
                    out.push(
                        base("trace_products")
                            .cell("product", Cell::hash(e.product))
                            .cell("product_id", Cell::text(e.productId))
                            .cell("registry", Cell::uint(e.registry))
                            .cell("manufacturer", Cell::address(e.manufacturer))
                            .cell("description", Cell::text(e.description)),
                    );
                }
            }
            Some(&TraceEvent::SIGNATURE_HASH) => {
                if let Ok(e) = TraceEvent::decode_log_data(data) {
                    let documents: Vec<String> = e.documents.iter().map(|d| hex_hash(*d)).collect();
                    let documents = serde_json::Value::from(documents).to_string();
                    out.push(
                        base("trace_events")
                            .cell("product", Cell::hash(e.product))
                            .cell("idx", Cell::uint(e.index))
                            .cell("party", Cell::address(e.party))
                            .cell("role", Cell::Int(i64::from(e.role)))
                            .cell("status", Cell::text(e.status))
                            .cell("location", Cell::text(e.location))
                            .cell("documents", Cell::text(documents)),
                    );
                }
            }
            _ => {}
        }
    }
}
