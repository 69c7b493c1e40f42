//! Read-only SQL for users: one SELECT, positional parameters, a row limit
//! and a time limit, on connections that cannot write.
//!
//! Three locks keep a query from changing anything: the connection is
//! opened read-only, `PRAGMA query_only` is on, and an authorizer refuses
//! every action but reading while the statement is compiled (so a refusal
//! names what was refused, before anything runs).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::limits::Limit;
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Batch, Connection, ErrorCode, OpenFlags};
use serde::{Deserialize, Serialize};

use crate::index::lock;
use crate::rows::hex_bytes;
use crate::{Index, QueryError};

/// Bounds on one query.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryLimits {
    /// Rows returned at most; more set [`QueryResult::truncated`].
    pub max_rows: usize,
    /// Running time at most; past it the query stops with
    /// [`QueryError::Timeout`].
    pub timeout: Duration,
    /// Bytes of returned values at most (a string counts its length, blobs
    /// as their hex; a number 8 and null 4): the row that would pass it and
    /// every later one are cut, setting [`QueryResult::truncated`]. Blobs
    /// double as hex, so without it 10,000 rows of 16 MiB values could be
    /// buffered.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: usize,
}

/// [`QueryLimits::max_bytes`] by default.
const DEFAULT_MAX_BYTES: usize = 64 << 20;

fn default_max_bytes() -> usize {
    DEFAULT_MAX_BYTES
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            max_rows: 10_000,
            timeout: Duration::from_secs(5),
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

/// A query's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueryResult {
    pub columns: Vec<String>,
    /// Integers and reals as JSON numbers, text as strings, NULL as null,
    /// blobs as 0x-hex strings.
    pub rows: Vec<Vec<serde_json::Value>>,
    /// More rows matched than [`QueryLimits::max_rows`], or their values
    /// passed [`QueryLimits::max_bytes`].
    pub truncated: bool,
    pub elapsed_ms: u64,
}

/// Read connections kept for reuse; more are opened when queries overlap.
const KEEP_READERS: usize = 4;

/// The largest string or blob a query may build (a log's data is far
/// smaller).
pub const MAX_VALUE_BYTES: i32 = 16 << 20;

/// The longest query text.
pub const MAX_SQL_BYTES: i32 = 1 << 20;

/// How often (in SQLite VM steps) the time limit is checked.
const PROGRESS_STEPS: i32 = 1_000;

impl Index {
    /// Runs one read-only statement with positional `?` parameters.
    ///
    /// Refuses writes, schema changes, ATTACH/DETACH, PRAGMA and
    /// transaction control ([`QueryError::NotAllowed`]), more than one
    /// statement, and stops at `limits.timeout`. The index is unaffected by
    /// any refusal or failure.
    pub fn query(
        &self,
        sql: &str,
        params: &[serde_json::Value],
        limits: QueryLimits,
    ) -> Result<QueryResult, QueryError> {
        let started = Instant::now();
        let mut conn = match lock(&self.readers).pop() {
            Some(conn) => conn,
            None => self.open_reader()?,
        };
        let result = run(&mut conn, sql, params, limits, started);
        let mut readers = lock(&self.readers);
        if readers.len() < KEEP_READERS {
            readers.push(conn);
        }
        result
    }

    fn open_reader(&self) -> Result<Connection, QueryError> {
        let open = || -> rusqlite::Result<Connection> {
            let conn = Connection::open_with_flags(
                &self.path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.pragma_update(None, "query_only", true)?;
            conn.busy_timeout(Duration::from_secs(1))?;
            // No single string or blob may pass this (SQLite's default is
            // 1 GB); the answer as a whole is bounded by
            // `QueryLimits::max_bytes`, checked as rows are read.
            conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)?;
            conn.set_limit(Limit::SQLITE_LIMIT_SQL_LENGTH, MAX_SQL_BYTES)?;
            conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0)?;
            Ok(conn)
        };
        open().map_err(|e| QueryError::Open {
            path: self.path.clone(),
            reason: e.to_string(),
        })
    }
}

fn run(
    conn: &mut Connection,
    sql: &str,
    params: &[serde_json::Value],
    limits: QueryLimits,
    started: Instant,
) -> Result<QueryResult, QueryError> {
    let denied: Arc<Mutex<Option<String>>> = Arc::default();
    let record = Arc::clone(&denied);
    conn.authorizer(Some(move |ctx: AuthContext<'_>| match refusal(&ctx) {
        None => Authorization::Allow,
        Some(what) => {
            let mut slot = lock(&record);
            slot.get_or_insert(what);
            Authorization::Deny
        }
    }))
    .map_err(sql_error)?;
    let deadline = started + limits.timeout;
    conn.progress_handler(PROGRESS_STEPS, Some(move || Instant::now() >= deadline))
        .map_err(sql_error)?;
    let refused = |e: rusqlite::Error| match lock(&denied).take() {
        Some(what) => QueryError::NotAllowed(format!(
            "{what} is not allowed: the index is read-only; only SELECT (or WITH … SELECT) \
             queries run"
        )),
        None => sql_error(e),
    };

    let mut batch = Batch::new(conn, sql);
    let mut stmt = match batch.next() {
        Ok(Some(stmt)) => stmt,
        Ok(None) => return Err(QueryError::Empty),
        Err(e) => return Err(refused(e)),
    };
    // Anything after the first statement is refused unseen, even if the
    // authorizer would refuse it for another reason.
    match batch.next() {
        Ok(None) => {}
        Ok(Some(_)) => return Err(QueryError::MultipleStatements),
        Err(e) => {
            return Err(match lock(&denied).take() {
                Some(_) => QueryError::MultipleStatements,
                None => sql_error(e),
            })
        }
    }
    if !stmt.readonly() {
        return Err(QueryError::NotAllowed(
            "this statement writes: the index is read-only; only SELECT queries run".into(),
        ));
    }

    let expected = stmt.parameter_count();
    if expected != params.len() {
        return Err(QueryError::ParameterCount {
            expected,
            given: params.len(),
        });
    }
    for (i, param) in params.iter().enumerate() {
        let value = to_sql(i + 1, param)?;
        stmt.raw_bind_parameter(i + 1, value).map_err(sql_error)?;
    }

    let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    let width = columns.len();
    let mut rows = Vec::new();
    let mut truncated = false;
    let mut bytes = 0usize;
    let mut cursor = stmt.raw_query();
    // Table-valued functions (pragma_table_info…) compile their own
    // statements as they run, so the authorizer can refuse while stepping.
    let failed = |e: rusqlite::Error| match e.sqlite_error_code() {
        Some(ErrorCode::OperationInterrupted) => QueryError::Timeout {
            limit: limits.timeout,
        },
        _ => refused(e),
    };
    while let Some(row) = cursor.next().map_err(failed)? {
        if rows.len() == limits.max_rows {
            truncated = true;
            break;
        }
        let mut out = Vec::with_capacity(width);
        let mut row_bytes = 0usize;
        for i in 0..width {
            let value = to_json(row.get_ref(i).map_err(sql_error)?);
            row_bytes = row_bytes.saturating_add(value_bytes(&value));
            out.push(value);
        }
        bytes = bytes.saturating_add(row_bytes);
        if bytes > limits.max_bytes {
            truncated = true;
            break;
        }
        rows.push(out);
    }
    Ok(QueryResult {
        columns,
        rows,
        truncated,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

/// What the authorizer refuses, named for the user; `None` allows it.
fn refusal(ctx: &AuthContext<'_>) -> Option<String> {
    Some(match ctx.action {
        AuthAction::Select | AuthAction::Read { .. } | AuthAction::Recursive => return None,
        // Functions are pure here: rusqlite is built without extension
        // loading, and the connection cannot write.
        AuthAction::Function { .. } => return None,
        // SQLite asks to write its schema table before it names the
        // schema change itself: name the change.
        AuthAction::Insert { table_name } if is_schema(table_name) => "CREATE".into(),
        AuthAction::Delete { table_name } if is_schema(table_name) => "DROP".into(),
        AuthAction::Update { table_name, .. } if is_schema(table_name) => "a schema change".into(),
        AuthAction::Insert { table_name } => format!("INSERT into {table_name}"),
        AuthAction::Update { table_name, .. } => format!("UPDATE of {table_name}"),
        AuthAction::Delete { table_name } => format!("DELETE from {table_name}"),
        AuthAction::CreateIndex { .. }
        | AuthAction::CreateTable { .. }
        | AuthAction::CreateTempIndex { .. }
        | AuthAction::CreateTempTable { .. }
        | AuthAction::CreateTempTrigger { .. }
        | AuthAction::CreateTempView { .. }
        | AuthAction::CreateTrigger { .. }
        | AuthAction::CreateView { .. }
        | AuthAction::CreateVtable { .. } => "CREATE".into(),
        AuthAction::DropIndex { .. }
        | AuthAction::DropTable { .. }
        | AuthAction::DropTempIndex { .. }
        | AuthAction::DropTempTable { .. }
        | AuthAction::DropTempTrigger { .. }
        | AuthAction::DropTempView { .. }
        | AuthAction::DropTrigger { .. }
        | AuthAction::DropView { .. }
        | AuthAction::DropVtable { .. } => "DROP".into(),
        AuthAction::AlterTable { .. } => "ALTER TABLE".into(),
        AuthAction::Attach { .. } => "ATTACH".into(),
        AuthAction::Detach { .. } => "DETACH".into(),
        AuthAction::Pragma { pragma_name, .. } => format!("PRAGMA {pragma_name}"),
        AuthAction::Transaction { .. } => "transaction control (BEGIN, COMMIT, ROLLBACK)".into(),
        AuthAction::Savepoint { .. } => "SAVEPOINT".into(),
        AuthAction::Reindex { .. } => "REINDEX".into(),
        AuthAction::Analyze { .. } => "ANALYZE".into(),
        _ => "this statement".into(),
    })
}

fn is_schema(table: &str) -> bool {
    [
        "sqlite_master",
        "sqlite_temp_master",
        "sqlite_schema",
        "sqlite_temp_schema",
    ]
    .iter()
    .any(|t| t.eq_ignore_ascii_case(table))
}

/// A JSON parameter as an SQLite value.
fn to_sql(index: usize, param: &serde_json::Value) -> Result<Value, QueryError> {
    use serde_json::Value as J;
    let refuse = |reason: &str| QueryError::Parameter {
        index,
        value: param.to_string(),
        reason: reason.into(),
    };
    Ok(match param {
        J::Null => Value::Null,
        J::Bool(b) => Value::Integer(i64::from(*b)),
        J::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Value::Integer(i),
            // Integers past i64 (as amounts are) compare as the decimal
            // text the index stores them as.
            (None, _) if n.is_u64() => Value::Text(n.to_string()),
            (None, Some(f)) => Value::Real(f),
            (None, None) => return Err(refuse("not a number SQLite can hold")),
        },
        J::String(s) => Value::Text(s.clone()),
        J::Array(_) | J::Object(_) => {
            return Err(refuse(
                "arrays and objects cannot be bound: give a number, a string, a bool or null",
            ))
        }
    })
}

fn to_json(value: ValueRef<'_>) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        ValueRef::Null => J::Null,
        ValueRef::Integer(i) => J::from(i),
        ValueRef::Real(f) => serde_json::Number::from_f64(f).map_or(J::Null, J::Number),
        ValueRef::Text(t) => J::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => J::String(hex_bytes(b)),
    }
}

/// The bytes a returned value counts for against
/// [`QueryLimits::max_bytes`]: a string's length (blobs as their hex), 8
/// for a number and 4 for null.
fn value_bytes(value: &serde_json::Value) -> usize {
    use serde_json::Value as J;
    match value {
        J::String(s) => s.len(),
        J::Null => 4,
        _ => 8,
    }
}

/// SQLite's own message (syntax errors, unknown tables and columns).
fn sql_error(e: rusqlite::Error) -> QueryError {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(msg)) => QueryError::Sql(msg),
        rusqlite::Error::SqlInputError { msg, offset, .. } => {
            QueryError::Sql(format!("{msg} (at character {offset})"))
        }
        rusqlite::Error::MultipleStatement => QueryError::MultipleStatements,
        e => QueryError::Sql(e.to_string()),
    }
}
