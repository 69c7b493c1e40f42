//! The notary (`contracts/ITallyNotary.sol`): stamped batches, the
//! documents in them, and revocations.

use alloy_sol_types::SolEvent;

use super::abi::ITallyNotary::{Notarized, Revoked, Stamped};
use super::addresses::NOTARY;
use super::{Decoder, LogContext};
use crate::rows::{Cell, Row};

/// Decodes `Stamped`, `Notarized` and `Revoked` logs of the notary.
pub struct NotaryDecoder;

const SCHEMA: &str = "\
-- notary_batches: one row per batch of document hashes stamped with the
-- notary (ITallyNotary.stamp, event Stamped). A root is stamped once.
CREATE TABLE IF NOT EXISTS notary_batches (
    block_number INTEGER NOT NULL,
    log_index    INTEGER NOT NULL,
    tx_hash      TEXT NOT NULL,
    timestamp    INTEGER NOT NULL, -- the block's time (Unix seconds)
    root         TEXT NOT NULL,    -- the batch's Merkle root
    submitter    TEXT NOT NULL,    -- who stamped it
    count        INTEGER NOT NULL, -- documents in the batch
    label        TEXT NOT NULL,
    PRIMARY KEY (block_number, log_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS notary_batches_root ON notary_batches (root);
CREATE INDEX IF NOT EXISTS notary_batches_submitter ON notary_batches (submitter);

-- notary_documents: one row per document of a batch (event Notarized).
CREATE TABLE IF NOT EXISTS notary_documents (
    block_number INTEGER NOT NULL,
    log_index    INTEGER NOT NULL,
    tx_hash      TEXT NOT NULL,
    document     TEXT NOT NULL, -- the document's SHA-256, 0x-hex
    root         TEXT NOT NULL, -- its batch (notary_batches.root)
    idx          INTEGER NOT NULL, -- its position in the batch
    PRIMARY KEY (block_number, log_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS notary_documents_document ON notary_documents (document);
CREATE INDEX IF NOT EXISTS notary_documents_root ON notary_documents (root);

-- notary_revocations: a submitter withdrew its stamps of a document
-- (ITallyNotary.revoke / supersede, event Revoked).
CREATE TABLE IF NOT EXISTS notary_revocations (
    block_number INTEGER NOT NULL,
    log_index    INTEGER NOT NULL,
    tx_hash      TEXT NOT NULL,
    timestamp    INTEGER NOT NULL,
    document     TEXT NOT NULL,
    submitter    TEXT NOT NULL,
    replacement  TEXT,          -- the superseding document; NULL for a plain revocation
    reason       TEXT NOT NULL,
    PRIMARY KEY (block_number, log_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS notary_revocations_document ON notary_revocations (document);
";

impl Decoder for NotaryDecoder {
    fn name(&self) -> &'static str {
        "notary"
    }

    fn schema(&self) -> &'static str {
        SCHEMA
    }

    fn tables(&self) -> &'static [&'static str] {
        &["notary_batches", "notary_documents", "notary_revocations"]
    }

    fn decode(&self, ctx: &LogContext<'_>, out: &mut Vec<Row>) {
        if ctx.log.address != NOTARY {
            return;
        }
        let data = &ctx.log.data;
        let base = |table| {
            Row::new(table, ctx.block_number)
                .cell("log_index", Cell::uint(ctx.log_index))
                .cell("tx_hash", Cell::hash(ctx.tx_hash))
        };
        match data.topics().first() {
            Some(&Stamped::SIGNATURE_HASH) => {
                if let Ok(e) = Stamped::decode_log_data(data) {
                    out.push(
                        base("notary_batches")
                            .cell("timestamp", Cell::uint(ctx.timestamp))
                            .cell("root", Cell::hash(e.root))
                            .cell("submitter", Cell::address(e.submitter))
                            .cell("count", Cell::uint(e.count))
                            .cell("label", Cell::text(e.label)),
                    );
                }
            }
            Some(&Notarized::SIGNATURE_HASH) => {
                if let Ok(e) = Notarized::decode_log_data(data) {
                    out.push(
                        base("notary_documents")
                            .cell("document", Cell::hash(e.document))
                            .cell("root", Cell::hash(e.root))
                            .cell("idx", Cell::uint(e.index)),
                    );
                }
            }
            Some(&Revoked::SIGNATURE_HASH) => {
                if let Ok(e) = Revoked::decode_log_data(data) {
                    let replacement = (!e.replacement.is_zero()).then(|| Cell::hash(e.replacement));
                    out.push(
                        base("notary_revocations")
                            .cell("timestamp", Cell::uint(ctx.timestamp))
                            .cell("document", Cell::hash(e.document))
                            .cell("submitter", Cell::address(e.submitter))
                            .cell("replacement", Cell::opt(replacement))
                            .cell("reason", Cell::text(e.reason)),
                    );
                }
            }
            _ => {}
        }
    }
}
