//! Read-only queries: refusals, limits, parameters, and an index that
//! goes on serving after each.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use tally_sql::{Index, QueryError, QueryLimits};

fn indexed() -> (tempfile::TempDir, Index) {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path().join("i.sqlite")).unwrap();
    let mut chain = Chain::default();
    chain.push(0, &[]);
    chain.push(
        0,
        &[
            (
                Tx::Pay {
                    from: 1,
                    to: 2,
                    value: 500,
                },
                0,
            ),
            (
                Tx::Pay {
                    from: 1,
                    to: 3,
                    value: 7,
                },
                0,
            ),
            (
                Tx::Pay {
                    from: 2,
                    to: 3,
                    value: 9,
                },
                0,
            ),
        ],
    );
    chain.extend(5, 0);
    index.sync(&chain, &mut no_progress()).unwrap();
    (dir, index)
}

fn refused(index: &Index, sql: &str) -> QueryError {
    let err = index.query(sql, &[], limits()).unwrap_err();
    // Whatever was refused, nothing changed and the index still answers.
    assert_eq!(
        scalar(index, "SELECT COUNT(*) FROM blocks", &[]),
        json!(7),
        "after {sql}"
    );
    err
}

#[test]
fn writes_schema_changes_attach_and_pragma_are_refused() {
    let (dir, index) = indexed();
    let cases = [
        (
            "INSERT INTO blocks (number) VALUES (99)",
            "INSERT into blocks",
        ),
        (
            "UPDATE transactions SET value = '0'",
            "UPDATE of transactions",
        ),
        ("DELETE FROM logs", "DELETE from logs"),
        (
            "REPLACE INTO touched VALUES (1, '0x')",
            "INSERT into touched",
        ),
        ("CREATE TABLE x (a)", "CREATE"),
        ("CREATE TEMP TABLE x (a)", "CREATE"),
        ("CREATE VIEW v AS SELECT 1", "CREATE"),
        ("CREATE INDEX i ON blocks (hash)", "CREATE"),
        ("DROP TABLE blocks", "DROP"),
        ("ALTER TABLE blocks ADD COLUMN x", "ALTER TABLE"),
        ("PRAGMA user_version", "PRAGMA user_version"),
        ("PRAGMA query_only = OFF", "PRAGMA query_only"),
        ("PRAGMA journal_mode = DELETE", "PRAGMA journal_mode"),
        ("BEGIN", "transaction control"),
        ("COMMIT", "transaction control"),
        ("SAVEPOINT s", "SAVEPOINT"),
        ("VACUUM", ""),
        ("ANALYZE", ""),
        ("REINDEX", "REINDEX"),
        (
            "WITH t AS (SELECT 1) DELETE FROM blocks",
            "DELETE from blocks",
        ),
    ];
    for (sql, what) in cases {
        match refused(&index, sql) {
            QueryError::NotAllowed(msg) => {
                assert!(msg.contains(what), "{sql}: {msg}");
                assert!(msg.contains("read-only"), "{sql}: {msg}");
            }
            other => panic!("{sql} gave {other:?}"),
        }
    }
    let attach = format!(
        "ATTACH '{}' AS other",
        dir.path().join("other.sqlite").display()
    );
    let err = refused(&index, &attach);
    assert!(
        matches!(&err, QueryError::NotAllowed(m) if m.starts_with("ATTACH is not allowed")),
        "{err}"
    );
    assert!(!dir.path().join("other.sqlite").exists());
    let err = refused(&index, "DETACH main");
    assert!(
        matches!(&err, QueryError::NotAllowed(m) if m.contains("DETACH")),
        "{err}"
    );
    let err = refused(&index, "SELECT * FROM pragma_table_info('blocks')");
    assert!(
        matches!(&err, QueryError::NotAllowed(m) if m.contains("PRAGMA")),
        "{err}"
    );
}

#[test]
fn only_one_statement_runs() {
    let (_dir, index) = indexed();
    for sql in [
        "SELECT 1; SELECT 2",
        "SELECT 1; DELETE FROM blocks",
        "SELECT 1; ATTACH 'x' AS y",
        "SELECT number FROM blocks;SELECT 1;",
    ] {
        let err = refused(&index, sql);
        assert!(
            matches!(err, QueryError::MultipleStatements),
            "{sql}: {err}"
        );
        assert!(err.to_string().contains("one statement"), "{err}");
    }
    // A trailing semicolon, blanks and comments are not a second statement.
    let ok = index.query("SELECT 1;  -- done\n", &[], limits()).unwrap();
    assert_eq!(ok.rows, vec![vec![json!(1)]]);
    assert!(matches!(
        refused(&index, "  -- nothing\n"),
        QueryError::Empty
    ));
    assert!(matches!(refused(&index, ""), QueryError::Empty));
}

#[test]
fn syntax_errors_and_unknown_names_pass_sqlites_message() {
    let (_dir, index) = indexed();
    let err = refused(&index, "SELEC number FROM blocks");
    assert!(
        matches!(&err, QueryError::Sql(m) if m.contains("syntax error")),
        "{err}"
    );
    let err = refused(&index, "SELECT nope FROM blocks");
    assert!(
        matches!(&err, QueryError::Sql(m) if m.contains("no such column: nope")),
        "{err}"
    );
    let err = refused(&index, "SELECT * FROM nowhere");
    assert!(
        matches!(&err, QueryError::Sql(m) if m.contains("no such table: nowhere")),
        "{err}"
    );
}

#[test]
fn a_runaway_query_stops_at_the_time_limit() {
    let (_dir, index) = indexed();
    let limit = Duration::from_millis(200);
    let started = Instant::now();
    let err = index
        .query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) \
             SELECT COUNT(*) FROM n",
            &[],
            QueryLimits {
                max_rows: 10,
                timeout: limit,
                ..QueryLimits::default()
            },
        )
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(err, QueryError::Timeout { limit: l } if l == limit),
        "{err}"
    );
    assert!(err.to_string().contains("200 ms"), "{err}");
    assert!(took >= limit && took < Duration::from_secs(5), "{took:?}");
    // The same (pooled) connection answers the next query.
    assert_eq!(
        scalar(&index, "SELECT MAX(number) FROM blocks", &[]),
        json!(6)
    );
}

#[test]
fn the_row_limit_truncates() {
    let (_dir, index) = indexed();
    let q = |max_rows| {
        index
            .query(
                "SELECT number FROM blocks ORDER BY number",
                &[],
                QueryLimits {
                    max_rows,
                    timeout: Duration::from_secs(5),
                    ..QueryLimits::default()
                },
            )
            .unwrap()
    };
    let cut = q(3);
    assert_eq!(cut.columns, vec!["number"]);
    assert_eq!(
        cut.rows,
        vec![vec![json!(0)], vec![json!(1)], vec![json!(2)]]
    );
    assert!(cut.truncated);
    let exact = q(7);
    assert_eq!(exact.rows.len(), 7);
    assert!(!exact.truncated);
    let none = q(0);
    assert!(none.rows.is_empty() && none.truncated);
}

#[test]
fn the_byte_limit_truncates() {
    let (_dir, index) = indexed();
    assert_eq!(QueryLimits::default().max_bytes, 64 << 20);
    let max_bytes = 5_000_000;
    let started = Instant::now();
    let cut = index
        .query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) \
             SELECT randomblob(1000000) FROM n",
            &[],
            QueryLimits {
                max_bytes,
                ..limits()
            },
        )
        .unwrap();
    assert!(cut.truncated);
    // Each blob comes back as 0x and 2,000,000 hex digits: two fit.
    assert_eq!(cut.rows.len(), 2);
    let bytes: usize = cut
        .rows
        .iter()
        .flatten()
        .map(|v| v.as_str().unwrap().len())
        .sum();
    assert_eq!(bytes, 2 * 2_000_002);
    assert!(bytes <= max_bytes);
    // It stopped reading rather than building all 200 blobs.
    assert!(started.elapsed() < Duration::from_secs(5));
    // A value larger than the whole budget gives no rows, still truncated.
    let none = index
        .query(
            "SELECT randomblob(1000000)",
            &[],
            QueryLimits {
                max_bytes: 1_000,
                ..limits()
            },
        )
        .unwrap();
    assert!(none.rows.is_empty() && none.truncated);
    // Within the budget nothing is cut.
    let all = index
        .query(
            "SELECT number FROM blocks",
            &[],
            QueryLimits {
                max_bytes: 7 * 8,
                ..limits()
            },
        )
        .unwrap();
    assert_eq!(all.rows.len(), 7);
    assert!(!all.truncated);
}

#[test]
fn positional_parameters_from_json() {
    let (_dir, index) = indexed();
    let sender = format!("{:#x}", account(1));
    let got = rows(
        &index,
        "SELECT recipient, value FROM transactions WHERE sender = ? AND block_number = ? \
         ORDER BY idx",
        &[json!(sender), json!(1)],
    );
    assert_eq!(
        got,
        vec![
            vec![json!(format!("{:#x}", account(2))), json!("500")],
            vec![json!(format!("{:#x}", account(3))), json!("7")],
        ]
    );
    // Numbered, reused, and every JSON scalar kind.
    let got = rows(
        &index,
        "SELECT ?1, ?1 + 1, ?2, ?3, ?4, ?5",
        &[
            json!(41),
            json!("text"),
            json!(null),
            json!(true),
            json!(1.5),
        ],
    );
    assert_eq!(
        got,
        vec![vec![
            json!(41),
            json!(42),
            json!("text"),
            json!(null),
            json!(1),
            json!(1.5)
        ]]
    );
    // A u64 beyond i64 binds as the decimal text amounts are stored as.
    assert_eq!(
        scalar(&index, "SELECT ?", &[json!(u64::MAX)]),
        json!(u64::MAX.to_string())
    );

    let err = index
        .query("SELECT ?, ?", &[json!(1)], limits())
        .unwrap_err();
    assert!(
        matches!(
            err,
            QueryError::ParameterCount {
                expected: 2,
                given: 1
            }
        ),
        "{err}"
    );
    let err = index.query("SELECT 1", &[json!(1)], limits()).unwrap_err();
    assert!(
        matches!(
            err,
            QueryError::ParameterCount {
                expected: 0,
                given: 1
            }
        ),
        "{err}"
    );
    let err = index
        .query("SELECT ?", &[json!([1, 2])], limits())
        .unwrap_err();
    assert!(
        matches!(err, QueryError::Parameter { index: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("[1,2]"), "{err}");
}

#[test]
fn values_come_back_as_json() {
    let (_dir, index) = indexed();
    let r = index
        .query(
            "SELECT 1, 2.5, 'x', NULL, x'00ff', hash FROM blocks WHERE number = 0",
            &[],
            limits(),
        )
        .unwrap();
    assert_eq!(r.columns.len(), 6);
    let row = &r.rows[0];
    assert_eq!(
        &row[..5],
        &[
            json!(1),
            json!(2.5),
            json!("x"),
            json!(null),
            json!("0x00ff")
        ]
    );
    let hash = row[5].as_str().unwrap();
    assert!(hash.starts_with("0x") && hash.len() == 66 && hash == hash.to_lowercase());
    // The schema can be read.
    let tables = rows(
        &index,
        "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name",
        &[],
    );
    assert!(
        tables.contains(&vec![json!("token_transfers")]),
        "{tables:?}"
    );
}

#[test]
fn queries_run_while_a_sync_writes() {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path().join("i.sqlite")).unwrap();
    let mut chain = Chain::default();
    chain.extend(300, 0);
    std::thread::scope(|s| {
        s.spawn(|| index.sync(&chain, &mut no_progress()).unwrap());
        for _ in 0..20 {
            let n = scalar(&index, "SELECT COUNT(*) FROM blocks", &[])
                .as_u64()
                .unwrap();
            let max = scalar(
                &index,
                "SELECT COALESCE(MAX(number) + 1, 0) FROM blocks",
                &[],
            );
            // Readers see whole batches: never a gap.
            assert!(max.as_u64().unwrap() >= n);
        }
    });
    assert_eq!(
        scalar(&index, "SELECT COUNT(*) FROM blocks", &[]),
        json!(300)
    );
}

#[test]
fn a_huge_value_is_refused() {
    let (_dir, index) = indexed();
    let err = index
        .query("SELECT length(zeroblob(100000000))", &[], limits())
        .unwrap_err();
    assert!(
        matches!(&err, QueryError::Sql(m) if m.contains("too big")),
        "{err}"
    );
    let long = format!("SELECT 1 -- {}", "x".repeat(2 << 20));
    let err = index.query(&long, &[], limits()).unwrap_err();
    assert!(
        matches!(&err, QueryError::Sql(m) if m.contains("too long")),
        "{err}"
    );
}
