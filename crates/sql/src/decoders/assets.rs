//! Assets (`contracts/ITallyAssets.sol`): every asset issued. Their token
//! movements are ERC-20 `Transfer` logs of the token addresses, which the
//! core `token_transfers` table already holds.

use alloy_sol_types::SolEvent;

use super::abi::ITallyAssets::AssetIssued;
use super::addresses::ASSETS;
use super::{Decoder, LogContext};
use crate::rows::{Cell, Row};

/// Decodes `AssetIssued` logs of the assets contract.
pub struct AssetsDecoder;

const SCHEMA: &str = "\
-- assets: every asset issued through the assets contract
-- (ITallyAssets.issue, event AssetIssued). Each is an ERC-20 token at its
-- own address: join token_transfers.token = assets.token for its movements.
CREATE TABLE IF NOT EXISTS assets (
    token        TEXT PRIMARY KEY, -- the asset's ERC-20 address
    id           INTEGER NOT NULL, -- the asset's number, from 1
    name         TEXT NOT NULL,
    symbol       TEXT NOT NULL,
    decimals     INTEGER NOT NULL,
    cap          TEXT NOT NULL,    -- the most that may exist, in base units, decimal
    issuer       TEXT NOT NULL,
    regulator    TEXT,             -- NULL when the issuer manages the policy alone
    block_number INTEGER NOT NULL,
    log_index    INTEGER NOT NULL,
    tx_hash      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS assets_block ON assets (block_number);
CREATE INDEX IF NOT EXISTS assets_issuer ON assets (issuer);
CREATE INDEX IF NOT EXISTS assets_symbol ON assets (symbol);
";

impl Decoder for AssetsDecoder {
    fn name(&self) -> &'static str {
        "assets"
    }

    fn schema(&self) -> &'static str {
        SCHEMA
    }

    fn tables(&self) -> &'static [&'static str] {
        &["assets"]
    }

    fn decode(&self, ctx: &LogContext<'_>, out: &mut Vec<Row>) {
        let data = &ctx.log.data;
        if ctx.log.address != ASSETS || data.topics().first() != Some(&AssetIssued::SIGNATURE_HASH)
        {
            return;
        }
        let Ok(e) = AssetIssued::decode_log_data(data) else {
            return;
        };
        let regulator = (!e.regulator.is_zero()).then(|| Cell::address(e.regulator));
        out.push(
            Row::new("assets", ctx.block_number)
                .cell("log_index", Cell::uint(ctx.log_index))
                .cell("tx_hash", Cell::hash(ctx.tx_hash))
                .cell("token", Cell::address(e.token))
                .cell("id", Cell::uint(e.id))
                .cell("name", Cell::text(e.name))
                .cell("symbol", Cell::text(e.symbol))
                .cell("decimals", Cell::Int(i64::from(e.decimals)))
                .cell("cap", Cell::amount(e.cap))
                .cell("issuer", Cell::address(e.issuer))
                .cell("regulator", Cell::opt(regulator)),
        );
    }
}
