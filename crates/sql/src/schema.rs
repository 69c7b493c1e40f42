//! The index's schema: the core tables, versioned with `PRAGMA
//! user_version` and migrated forward on open, and the decoders' tables,
//! recorded by name and version in `index_meta`.

use std::sync::OnceLock;

use rusqlite::{Connection, OptionalExtension, Transaction};

use crate::decoders::Decoder;

/// The core tables. Stable: a change is a new entry in [`MIGRATIONS`],
/// never an edit of this text once released.
const CORE: &str = "\
-- Tally SQL index. Addresses and hashes are lowercase 0x-hex TEXT
-- (WHERE sender = '0xf39f…'); 256-bit amounts are decimal TEXT (SQLite
-- integers stop at 2^63: compare with CAST(value AS REAL) or
-- length(value), value). Every table but index_meta has the number of the
-- block its row came from, and a reorg deletes the rows of abandoned blocks.

-- blocks: one row per canonical block.
CREATE TABLE blocks (
    number      INTEGER PRIMARY KEY,
    hash        TEXT NOT NULL UNIQUE,
    parent_hash TEXT NOT NULL,
    timestamp   INTEGER NOT NULL, -- seconds since the Unix epoch
    beneficiary TEXT NOT NULL,    -- receives the block's priority fees
    gas_used    INTEGER NOT NULL,
    gas_limit   INTEGER NOT NULL,
    base_fee    INTEGER NOT NULL, -- wei per gas
    tx_count    INTEGER NOT NULL
);

-- transactions: one row per transaction, with its receipt's outcome.
CREATE TABLE transactions (
    hash             TEXT PRIMARY KEY,
    block_number     INTEGER NOT NULL,
    idx              INTEGER NOT NULL, -- position in the block, from 0
    sender           TEXT NOT NULL,
    recipient        TEXT,             -- NULL for a contract creation
    value            TEXT NOT NULL,    -- wei, decimal
    nonce            INTEGER NOT NULL,
    gas_limit        INTEGER NOT NULL,
    gas_used         INTEGER NOT NULL,
    status           INTEGER NOT NULL, -- 1 success, 0 reverted
    type             INTEGER NOT NULL, -- EIP-2718 type: 0 legacy, 1 EIP-2930, 2 EIP-1559
    input_bytes      INTEGER NOT NULL, -- length of the call data
    selector         TEXT,             -- first 4 bytes of the call data; NULL when shorter
    contract_address TEXT              -- for a creation: the address it creates at (as
                                       -- eth_getTransactionReceipt gives it, even if reverted)
);
CREATE INDEX transactions_block ON transactions (block_number, idx);
CREATE INDEX transactions_sender ON transactions (sender, block_number);
CREATE INDEX transactions_recipient ON transactions (recipient, block_number);

-- logs: every log of every successful transaction.
CREATE TABLE logs (
    block_number INTEGER NOT NULL,
    log_index    INTEGER NOT NULL, -- position in the block, over all its transactions
    tx_hash      TEXT NOT NULL,
    tx_index     INTEGER NOT NULL,
    address      TEXT NOT NULL,    -- the emitting contract
    topic0       TEXT,             -- the event signature hash (NULL for anonymous events)
    topic1       TEXT,
    topic2       TEXT,
    topic3       TEXT,
    data         TEXT NOT NULL,    -- 0x-hex
    PRIMARY KEY (block_number, log_index)
) WITHOUT ROWID;
CREATE INDEX logs_address ON logs (address, block_number);
CREATE INDEX logs_topic0 ON logs (topic0, block_number);
CREATE INDEX logs_tx ON logs (tx_hash);

-- token_transfers: decoded Transfer(from, to, value) logs of ERC-20
-- tokens (Tally's assets included) and Transfer(from, to, tokenId) of
-- ERC-721 tokens. Mints come from, and burns go to, the zero address.
CREATE TABLE token_transfers (
    block_number INTEGER NOT NULL,
    log_index    INTEGER NOT NULL,
    tx_hash      TEXT NOT NULL,
    token        TEXT NOT NULL,    -- the token contract
    sender       TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    value        TEXT,             -- ERC-20: the amount in base units, decimal
    token_id     TEXT,             -- ERC-721: the token id, decimal
    standard     TEXT NOT NULL,    -- 'erc20' or 'erc721'
    PRIMARY KEY (block_number, log_index)
) WITHOUT ROWID;
CREATE INDEX token_transfers_token ON token_transfers (token, block_number);
CREATE INDEX token_transfers_sender ON token_transfers (sender, block_number);
CREATE INDEX token_transfers_recipient ON token_transfers (recipient, block_number);
CREATE INDEX token_transfers_tx ON token_transfers (tx_hash);

-- touched: the accounts whose balances a block may have changed: senders,
-- recipients, created contracts and the non-zero parties of token
-- transfers. One row per (block, address).
CREATE TABLE touched (
    block_number INTEGER NOT NULL,
    address      TEXT NOT NULL,
    PRIMARY KEY (block_number, address)
) WITHOUT ROWID;
CREATE INDEX touched_address ON touched (address, block_number);

-- contracts: contracts created by a successful creation transaction
-- (contracts created by other contracts are not seen here).
CREATE TABLE contracts (
    address      TEXT PRIMARY KEY,
    creator      TEXT NOT NULL,
    tx_hash      TEXT NOT NULL,
    block_number INTEGER NOT NULL
);
CREATE INDEX contracts_block ON contracts (block_number);
CREATE INDEX contracts_creator ON contracts (creator);

-- index_meta: the index's own bookkeeping (the decoders it was built with).
CREATE TABLE index_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// Version 2: balances kept as transfers are indexed (filled from the
/// existing transfers when an older index is opened).
const BALANCES: &str = "
-- token_balances: each holder's balance of each token, as its indexed
-- transfers add up: ERC-20 in base units, ERC-721 as the number of tokens
-- held. Kept with every indexed block and undone by reorgs. Holders with a
-- zero balance, and the zero address, have no row. A token whose events
-- do not add up (a Transfer emitted without moving balances) can show
-- what balanceOf would not, even a negative balance.
CREATE TABLE token_balances (
    token        TEXT NOT NULL,
    holder       TEXT NOT NULL,
    standard     TEXT NOT NULL, -- 'erc20' or 'erc721'
    balance      TEXT NOT NULL, -- decimal, exact
    balance_real REAL NOT NULL, -- the same as a float: ORDER BY balance_real DESC
    PRIMARY KEY (token, holder)
) WITHOUT ROWID;
CREATE INDEX token_balances_top ON token_balances (token, balance_real);
CREATE INDEX token_balances_holder ON token_balances (holder);
";

/// Version 3: no tx-hash indexes on `logs` and `token_transfers`. Each
/// was a random insert per row, which dirties a page of its own at every
/// commit; dropping both saved about 6% of indexing CPU (152 to 143 µs a
/// transfer, BENCHMARKS.md). A transaction's
/// logs and transfers are found through its block instead (docs/sql.md).
const LEAN: &str = "
-- (version 3) logs and token_transfers are not indexed by tx_hash: find a
-- transaction's rows by its block, e.g. logs l JOIN transactions t
-- ON l.block_number = t.block_number AND l.tx_index = t.idx.
DROP INDEX IF EXISTS logs_tx;
DROP INDEX IF EXISTS token_transfers_tx;
";

/// Version 4: `touched` is a view over the tables that already name the
/// accounts (transactions, contracts, token transfers), not a table of its
/// own. Its rows were a quarter of an ERC-20 transfer's B-tree entries,
/// each a random insert by address (BENCHMARKS.md, issue 12). The columns
/// and rows a query sees are the same; an address's rows are found
/// through the indexes on those tables.
const TOUCHED_VIEW: &str = "
-- (version 4) touched is a view: the same rows, from the tables above.
DROP TABLE IF EXISTS touched;
CREATE VIEW touched (block_number, address) AS
SELECT DISTINCT block_number, address FROM (
    SELECT block_number, sender AS address FROM transactions
    UNION ALL SELECT block_number, recipient FROM transactions WHERE recipient IS NOT NULL
    UNION ALL SELECT block_number, address FROM contracts
    UNION ALL SELECT block_number, sender FROM token_transfers
        WHERE sender != '0x0000000000000000000000000000000000000000'
    UNION ALL SELECT block_number, recipient FROM token_transfers
        WHERE recipient != '0x0000000000000000000000000000000000000000'
);
";

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[CORE, BALANCES, LEAN, TOUCHED_VIEW];

/// The first version with `token_balances`.
pub(crate) const BALANCES_VERSION: i64 = 2;

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The core tables, in the order a reorg clears them, with the column
/// holding the block number.
pub(crate) const CORE_TABLES: &[(&str, &str)] = &[
    ("blocks", "number"),
    ("transactions", "block_number"),
    ("logs", "block_number"),
    ("token_transfers", "block_number"),
    ("contracts", "block_number"),
];

/// The whole schema with comments (core tables and the built-in decoders'
/// tables), for `tally sql --schema` and `docs/sql.md`.
pub fn schema() -> &'static str {
    static SCHEMA: OnceLock<String> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let mut s = MIGRATIONS.concat();
        for d in crate::decoders::builtin() {
            s.push('\n');
            s.push_str(d.schema());
        }
        s
    })
}

/// The schema version stored in the file.
pub(crate) fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Applies the migrations after `from`; `from` must not exceed
/// [`SCHEMA_VERSION`].
pub(crate) fn migrate(tx: &Transaction<'_>, from: i64) -> rusqlite::Result<()> {
    for (i, ddl) in MIGRATIONS.iter().enumerate().skip(from.max(0) as usize) {
        tx.execute_batch(ddl)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
    }
    Ok(())
}

/// `name:version` of each decoder, sorted: what `index_meta` records.
fn decoder_set(decoders: &[Box<dyn Decoder>]) -> Vec<String> {
    let mut set: Vec<String> = decoders
        .iter()
        .map(|d| format!("{}:{}", d.name(), d.version()))
        .collect();
    set.sort();
    set
}

/// Creates the decoders' tables. When the set of decoders differs from the
/// one the index was built with, a changed decoder's tables are recreated
/// and every row is deleted, so the next sync rebuilds the whole index and
/// no table misses old blocks. Returns whether it cleared the index.
pub(crate) fn install_decoders(
    tx: &Transaction<'_>,
    decoders: &[Box<dyn Decoder>],
) -> rusqlite::Result<bool> {
    let current = decoder_set(decoders).join(",");
    let stored: Option<String> = tx
        .query_row(
            "SELECT value FROM index_meta WHERE key = 'decoders'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if stored.as_deref() == Some(current.as_str()) {
        return Ok(false);
    }
    let stored: Vec<&str> = stored
        .as_deref()
        .map_or(Vec::new(), |s| s.split(',').collect());
    for d in decoders {
        if !stored.contains(&format!("{}:{}", d.name(), d.version()).as_str()) {
            for table in d.tables() {
                tx.execute_batch(&format!("DROP TABLE IF EXISTS \"{table}\""))?;
            }
        }
        tx.execute_batch(d.schema())?;
    }
    let had_blocks: bool =
        tx.query_row("SELECT EXISTS (SELECT 1 FROM blocks)", [], |r| r.get(0))?;
    if had_blocks {
        for (table, _) in CORE_TABLES {
            tx.execute(&format!("DELETE FROM {table}"), [])?;
        }
        tx.execute("DELETE FROM token_balances", [])?;
        for d in decoders {
            for table in d.tables() {
                tx.execute(&format!("DELETE FROM \"{table}\""), [])?;
            }
        }
    }
    tx.execute(
        "INSERT INTO index_meta (key, value) VALUES ('decoders', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [&current],
    )?;
    Ok(had_blocks)
}
