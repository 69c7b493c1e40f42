//! Opening the file: creation, restarts, migrations, refusals.

mod common;

use common::*;
use serde_json::json;
use tally_sql::{schema, Index, IndexError, SCHEMA_VERSION};

#[test]
fn creates_its_folder_and_reopens_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("sql").join("index.sqlite");
    let mut chain = Chain::default();
    chain.extend(8, 0);
    {
        let index = Index::open(&path).unwrap();
        assert_eq!(index.path(), path);
        index.sync(&chain, &mut no_progress()).unwrap();
    }
    let index = Index::open(&path).unwrap();
    let stats = index.stats();
    assert_eq!(
        (
            stats.head,
            stats.blocks,
            stats.blocks_indexed,
            stats.rows_written
        ),
        (Some(7), 8, 0, 0)
    );
    assert_eq!(stats.head_hash, Some(chain.blocks[7].block.hash()));
    assert_eq!(dump(&index), fresh_dump(&chain));
}

/// Turns the `touched` view back into the table, with the same rows, that
/// it was before schema version 4.
fn touched_as_a_table(conn: &rusqlite::Connection) {
    conn.execute_batch(
        "CREATE TABLE touched_rows AS SELECT * FROM touched;
         DROP VIEW touched;
         CREATE TABLE touched (
             block_number INTEGER NOT NULL,
             address      TEXT NOT NULL,
             PRIMARY KEY (block_number, address)
         ) WITHOUT ROWID;
         CREATE INDEX touched_address ON touched (address, block_number);
         INSERT INTO touched SELECT * FROM touched_rows;
         DROP TABLE touched_rows;",
    )
    .unwrap();
}

#[test]
fn an_index_from_before_token_balances_is_migrated_and_filled() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("i.sqlite");
    let mut chain = Chain::default();
    chain.extend(40, 0);
    {
        let index = Index::open(&path).unwrap();
        index.sync(&chain, &mut no_progress()).unwrap();
    }
    // Make it a version 1 file: the schema before token_balances.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        touched_as_a_table(&conn);
        conn.execute_batch("DROP TABLE token_balances; PRAGMA user_version = 1;")
            .unwrap();
    }
    let index = Index::open(&path).unwrap();
    let filled = stored_balances(&index);
    assert!(!filled.is_empty(), "40 blocks carry token transfers");
    assert_eq!(filled, balances_from_transfers(&index));
    assert_eq!(dump(&index), fresh_dump(&chain));
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}

#[test]
fn a_version_2_index_loses_its_tx_hash_indexes_and_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("i.sqlite");
    let mut chain = Chain::default();
    chain.extend(20, 0);
    {
        let index = Index::open(&path).unwrap();
        index.sync(&chain, &mut no_progress()).unwrap();
    }
    // Make it a version 2 file: with the tx-hash indexes.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        touched_as_a_table(&conn);
        conn.execute_batch(
            "CREATE INDEX logs_tx ON logs (tx_hash);
             CREATE INDEX token_transfers_tx ON token_transfers (tx_hash);
             PRAGMA user_version = 2;",
        )
        .unwrap();
    }
    let index = Index::open(&path).unwrap();
    assert_eq!(dump(&index), fresh_dump(&chain));
    let conn = rusqlite::Connection::open(&path).unwrap();
    let left: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema
             WHERE name IN ('logs_tx', 'token_transfers_tx')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}

#[test]
fn a_version_3_index_gets_touched_as_a_view_with_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("i.sqlite");
    let mut chain = Chain::default();
    chain.extend(30, 0);
    {
        let index = Index::open(&path).unwrap();
        index.sync(&chain, &mut no_progress()).unwrap();
    }
    // Make it a version 3 file: touched as a table of its own, filled.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        touched_as_a_table(&conn);
        conn.execute_batch("PRAGMA user_version = 3;").unwrap();
    }
    let before = dump(&Index::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let kind: String = conn
        .query_row(
            "SELECT type FROM sqlite_schema WHERE name = 'touched'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kind, "view");
    assert!(!before["touched"].is_empty(), "30 blocks touch accounts");
    assert_eq!(before, fresh_dump(&chain));
    // Blocks indexed after the migration show in the view too.
    chain.extend(5, 0);
    let index = Index::open(&path).unwrap();
    index.sync(&chain, &mut no_progress()).unwrap();
    assert_eq!(dump(&index), fresh_dump(&chain));
}

#[test]
fn the_file_is_in_wal_mode_at_the_current_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("i.sqlite");
    drop(Index::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("i.sqlite");
    drop(Index::open(&path).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let err = Index::open(&path)
        .err()
        .expect("a newer schema must be refused");
    assert!(
        matches!(err, IndexError::NewerSchema { found, supported, .. } if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains(&path.display().to_string()) && msg.contains("newer"),
        "{msg}"
    );
}

#[test]
fn a_corrupt_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("i.sqlite");
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    let err = Index::open(&path).err().expect("garbage must be refused");
    assert!(matches!(err, IndexError::Corrupt { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("delete the file"), "{msg}");
}

#[test]
fn a_path_that_cannot_be_a_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let err = Index::open(dir.path())
        .err()
        .expect("a folder is not an index");
    assert!(
        err.to_string().contains(&dir.path().display().to_string()),
        "{err}"
    );
}

#[test]
fn the_schema_text_is_the_schema() {
    let ddl = schema();
    for table in [
        "blocks",
        "transactions",
        "logs",
        "token_transfers",
        "contracts",
        "notary_batches",
        "notary_documents",
        "notary_revocations",
        "trace_products",
        "trace_events",
        "assets",
    ] {
        assert!(
            ddl.contains(&format!("CREATE TABLE {table} ("))
                || ddl.contains(&format!("CREATE TABLE IF NOT EXISTS {table} (")),
            "{table} missing from schema()"
        );
    }
    assert!(ddl.contains("-- "), "schema() is commented");
    // It builds a database with exactly the tables an index has.
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch(ddl).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path().join("i.sqlite")).unwrap();
    let names =
        "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name";
    let mut stmt = conn.prepare(names).unwrap();
    let from_ddl: Vec<Vec<serde_json::Value>> = stmt
        .query_map([], |r| {
            Ok(vec![
                json!(r.get::<_, String>(0)?),
                json!(r.get::<_, String>(1)?),
                json!(r.get::<_, Option<String>>(2)?),
            ])
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows(&index, names, &[]), from_ddl);
}
