//! The index: a SQLite file written by [`Index::sync`] from a
//! [`BlockSource`] and read by [`Index::query`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use alloy_primitives::B256;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction};

use crate::balances::{self, Deltas};
use crate::decoders::{self, Decoder};
use crate::rows::{block_rows, Row};
use crate::schema::{self, CORE_TABLES, SCHEMA_VERSION};
use crate::{BlockSource, IndexError, Progress, SyncReport};

/// How much one write transaction holds. Each batch commits whole blocks,
/// so a crash leaves a prefix of the chain; bigger batches write faster,
/// smaller ones report progress more often.
///
/// Most indexes are keyed by hash or address, so a batch's rows land all
/// over them and a commit rewrites every page it touched: the cost of a
/// batch grows with the index, not with its rows. Big batches share those
/// pages among many rows: building an index of 1,000,000 ERC-20 transfers
/// in 500,000-row batches took 2.4 times less time than in 50,000-row
/// ones (`cargo bench -p tally-sql --bench index_queries`, BENCHMARKS.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchLimits {
    /// Blocks per transaction (at least one).
    pub blocks: u64,
    /// Rows per transaction: a batch closes after the block that reaches it.
    pub rows: u64,
}

impl Default for BatchLimits {
    fn default() -> Self {
        Self {
            blocks: 1_000,
            rows: 500_000,
        }
    }
}

/// How an [`Index`] is opened.
pub struct IndexOptions {
    pub batch: BatchLimits,
    /// The system-contract decoders; [`decoders::builtin`] by default.
    pub decoders: Vec<Box<dyn Decoder>>,
}

impl Default for IndexOptions {
    fn default() -> Self {
        Self {
            batch: BatchLimits::default(),
            decoders: decoders::builtin(),
        }
    }
}

/// Counters for metrics: read from memory, no SQL.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndexStats {
    /// The highest indexed block (`None`: empty).
    pub head: Option<u64>,
    pub head_hash: Option<B256>,
    /// Blocks in the index (head + 1 once genesis is in).
    pub blocks: u64,
    /// Blocks written since the index was opened.
    pub blocks_indexed: u64,
    /// Blocks removed by reorgs and unwinds since the index was opened.
    pub blocks_unwound: u64,
    /// Rows inserted since the index was opened (all tables but
    /// `token_balances`, which is updated in place).
    pub rows_written: u64,
}

/// A block's number and hash.
type BlockId = (u64, B256);

/// The writer's connection and what it knows of the index's contents.
struct Writer {
    conn: Connection,
    statements: InsertSql,
    /// The lowest and highest indexed block: the index always holds a
    /// contiguous, linked run of canonical blocks.
    first: Option<u64>,
    head: Option<BlockId>,
}

/// The SQL index of one chain.
///
/// One writer ([`Index::sync`], serialised) and any number of concurrent
/// readers ([`Index::query`], each on its own read-only connection); WAL
/// mode lets queries run while a sync writes.
pub struct Index {
    pub(crate) path: PathBuf,
    writer: Mutex<Writer>,
    pub(crate) readers: Mutex<Vec<Connection>>,
    stats: Mutex<IndexStats>,
    batch: BatchLimits,
    decoders: Vec<Box<dyn Decoder>>,
}

// The node shares one index between its import task and its RPC handlers.
const _: fn() = || {
    fn shared<T: Send + Sync>() {}
    shared::<Index>();
};

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock leaves SQLite consistent (an open
    // transaction rolls back on drop), so the state is still usable.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Index {
    /// Opens the index at `path`, creating it (and its folder) or migrating
    /// it to this build's schema, with the built-in decoders.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, IndexError> {
        Self::open_with(path, IndexOptions::default())
    }

    /// As [`Index::open`], with chosen batch limits and decoders.
    pub fn open_with(path: impl AsRef<Path>, options: IndexOptions) -> Result<Self, IndexError> {
        let path = path.as_ref().to_path_buf();
        let open_err = |reason: String| IndexError::Open {
            path: path.clone(),
            reason,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| open_err(format!("cannot create {}: {e}", dir.display())))?;
        }
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| open_err(e.to_string()))?;
        let mut writer =
            prepare_writer(conn, &options.decoders).map_err(|e| classify_open_error(&path, e))?;
        let (first, head) = bounds(&writer.conn).map_err(|e| classify_open_error(&path, e))?;
        writer.first = first;
        writer.head = head;
        let stats = IndexStats {
            head: head.map(|h| h.0),
            head_hash: head.map(|h| h.1),
            blocks: count(first, head),
            ..IndexStats::default()
        };
        tracing::debug!(path = %path.display(), head = ?stats.head, "opened the SQL index");
        let batch = BatchLimits {
            blocks: options.batch.blocks.max(1),
            rows: options.batch.rows.max(1),
        };
        Ok(Self {
            path,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            stats: Mutex::new(stats),
            batch,
            decoders: options.decoders,
        })
    }

    /// The file the index lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Counters for metrics; cheap (no SQL).
    pub fn stats(&self) -> IndexStats {
        *lock(&self.stats)
    }

    /// Brings the index to the source's canonical chain: first removes the
    /// blocks the source no longer has at their number (a reorg or an
    /// unwind), then indexes forward to the source's head in batches, one
    /// SQLite transaction each, calling `progress` after each. Whatever
    /// stops it (an error, a crash, a kill), the index holds whole blocks
    /// of one linked chain and the next call resumes from there.
    pub fn sync(
        &self,
        source: &(impl BlockSource + ?Sized),
        progress: &mut dyn FnMut(Progress),
    ) -> Result<SyncReport, IndexError> {
        // The source may reorg while we read it; each pass starts again
        // from the fork check. A few passes always suffice unless the
        // chain reorgs faster than we index; the next call goes on then.
        const PASSES: usize = 8;
        let mut w = lock(&self.writer);
        let mut report = SyncReport::default();
        for _ in 0..PASSES {
            let head = source.head()?;
            let fork = self.find_fork(&w, source)?;
            if fork != w.head.map(|h| h.0) {
                report.unwound += self.unwind(&mut w, fork)?;
            }
            let Some((target, _)) = head else {
                break;
            };
            match self.index_forward(&mut w, source, target, &mut report, progress)? {
                Pass::Done => break,
                Pass::Restart => continue,
            }
        }
        report.head = w.head.map(|h| h.0);
        Ok(report)
    }

    /// The highest indexed block whose hash the source still has at its
    /// number. Canonical chains share a prefix, so "matches" holds below
    /// some point and fails above it: gallop back from the head, then
    /// bisect, a few source reads even for a deep reorg.
    fn find_fork(
        &self,
        w: &Writer,
        source: &(impl BlockSource + ?Sized),
    ) -> Result<Option<u64>, IndexError> {
        let (Some(first), Some((head, _))) = (w.first, w.head) else {
            return Ok(None);
        };
        let matches = |n: u64| -> Result<bool, IndexError> {
            let ours = stored_hash(&w.conn, n)?;
            Ok(ours.is_some() && source.hash(n)? == ours)
        };
        if matches(head)? {
            return Ok(Some(head));
        }
        // `bad` never matches; find some `good` below it that does.
        let mut bad = head;
        let mut step = 1u64;
        let good = loop {
            let probe = bad.saturating_sub(step).max(first);
            if matches(probe)? {
                break probe;
            }
            if probe == first {
                return Ok(None);
            }
            bad = probe;
            step = step.saturating_mul(2);
        };
        let (mut good, mut bad) = (good, bad);
        while bad - good > 1 {
            let mid = good + (bad - good) / 2;
            if matches(mid)? {
                good = mid;
            } else {
                bad = mid;
            }
        }
        Ok(Some(good))
    }

    /// Deletes every row of the blocks above `keep` (all of them for
    /// `None`), in one transaction. Returns how many blocks went.
    fn unwind(&self, w: &mut Writer, keep: Option<u64>) -> Result<u64, IndexError> {
        let removed = count(w.first, w.head) - count(w.first, keep.map(|n| (n, B256::ZERO)));
        // Rows are numbered from `keep + 1`; `-1` removes genesis too.
        let above = keep.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let tx = w.conn.transaction()?;
        // Balances first, while the transfers that made them are there.
        if keep.is_some() {
            balances::undo_above(&tx, above)?.apply(&tx)?;
        } else {
            tx.execute("DELETE FROM token_balances", [])?;
        }
        for (table, column) in CORE_TABLES {
            tx.execute(&format!("DELETE FROM {table} WHERE {column} > ?1"), [above])?;
        }
        for d in &self.decoders {
            for table in d.tables() {
                tx.execute(
                    &format!("DELETE FROM \"{table}\" WHERE block_number > ?1"),
                    [above],
                )?;
            }
        }
        let head = match keep {
            Some(n) => stored_hash(&tx, n)?.map(|h| (n, h)),
            None => None,
        };
        tx.commit()?;
        tracing::info!(from = ?w.head.map(|h| h.0), to = ?keep, removed, "SQL index unwound abandoned blocks");
        w.head = head;
        if head.is_none() {
            w.first = None;
        }
        let mut stats = lock(&self.stats);
        stats.head = head.map(|h| h.0);
        stats.head_hash = head.map(|h| h.1);
        stats.blocks = count(w.first, head);
        stats.blocks_unwound += removed;
        Ok(removed)
    }

    /// Indexes the blocks after the head up to `target`, batch by batch.
    fn index_forward(
        &self,
        w: &mut Writer,
        source: &(impl BlockSource + ?Sized),
        target: u64,
        report: &mut SyncReport,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Pass, IndexError> {
        loop {
            let next = w.head.map_or(0, |h| h.0 + 1);
            if next > target {
                return Ok(Pass::Done);
            }
            let tx = w.conn.transaction()?;
            let mut batch = Batch {
                head: w.head,
                first: w.first,
                blocks: 0,
                rows: 0,
                balances: Deltas::default(),
            };
            let outcome = self.write_batch(&tx, &mut w.statements, source, target, &mut batch);
            // Whole blocks written before a failure or a reorg are good:
            // keep them, so the next attempt resumes after them.
            if batch.blocks > 0 {
                std::mem::take(&mut batch.balances).apply(&tx)?;
                tx.commit()?;
                w.head = batch.head;
                w.first = batch.first;
                report.indexed += batch.blocks;
                report.rows += batch.rows;
                let mut stats = lock(&self.stats);
                stats.head = batch.head.map(|h| h.0);
                stats.head_hash = batch.head.map(|h| h.1);
                stats.blocks = count(batch.first, batch.head);
                stats.blocks_indexed += batch.blocks;
                stats.rows_written += batch.rows;
                drop(stats);
                progress(Progress {
                    indexed: batch.head.map(|h| h.0),
                    head: target,
                });
            } else {
                drop(tx);
            }
            match outcome? {
                BatchEnd::Full => continue,
                BatchEnd::Target => return Ok(Pass::Done),
                BatchEnd::Reorged => return Ok(Pass::Restart),
            }
        }
    }

    fn write_batch(
        &self,
        tx: &Transaction<'_>,
        statements: &mut InsertSql,
        source: &(impl BlockSource + ?Sized),
        target: u64,
        batch: &mut Batch,
    ) -> Result<BatchEnd, IndexError> {
        loop {
            let number = batch.head.map_or(0, |h| h.0 + 1);
            if number > target {
                return Ok(BatchEnd::Target);
            }
            if batch.blocks >= self.batch.blocks || batch.rows >= self.batch.rows {
                return Ok(BatchEnd::Full);
            }
            let Some(block) = source.block(number)? else {
                // Gone since we read the head: a reorg to a shorter chain
                // (start over) or a source that lost a block (an error).
                return match source.head()? {
                    Some((head, _)) if head >= number => {
                        Err(IndexError::MissingBlock { number, head })
                    }
                    _ => Ok(BatchEnd::Reorged),
                };
            };
            if block.block.number() != number {
                return Err(IndexError::Malformed {
                    number,
                    reason: format!("the source returned block {}", block.block.number()),
                });
            }
            if let Some((_, parent)) = batch.head {
                if block.block.header.parent_hash != parent {
                    return Ok(BatchEnd::Reorged);
                }
            }
            let rows = block_rows(&block, &self.decoders)?;
            let mut written = 0;
            let mut moved = Deltas::default();
            for row in &rows {
                let inserted = insert(tx, statements.get(row), row)?;
                if inserted > 0 && row.table == "token_transfers" {
                    moved.add_row(row);
                }
                written += inserted;
            }
            batch.balances.merge(moved);
            batch.head = Some((number, block.block.hash()));
            batch.first = batch.first.or(Some(number));
            batch.blocks += 1;
            batch.rows += written;
        }
    }
}

enum Pass {
    Done,
    Restart,
}

enum BatchEnd {
    Full,
    Target,
    Reorged,
}

struct Batch {
    head: Option<BlockId>,
    first: Option<u64>,
    blocks: u64,
    rows: u64,
    /// The balance changes of the batch's whole blocks.
    balances: Deltas,
}

/// Blocks from `first` to `head`.
fn count(first: Option<u64>, head: Option<BlockId>) -> u64 {
    match (first, head) {
        (Some(f), Some((h, _))) if h >= f => h - f + 1,
        _ => 0,
    }
}

/// The INSERT statement of each kind of row (table and columns), built
/// once: a batch inserts hundreds of thousands of rows.
#[derive(Default)]
struct InsertSql(HashMap<&'static str, Vec<(Vec<&'static str>, String)>>);

impl InsertSql {
    fn get(&mut self, row: &Row) -> &str {
        let kinds = self.0.entry(row.table).or_default();
        let same = |columns: &[&str]| {
            columns.len() == row.cells.len()
                && columns.iter().zip(&row.cells).all(|(a, (b, _))| a == b)
        };
        let i = match kinds.iter().position(|(columns, _)| same(columns)) {
            Some(i) => i,
            None => {
                let columns: Vec<&'static str> = row.cells.iter().map(|(c, _)| *c).collect();
                let marks: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
                // `OR IGNORE`: a row that already exists (a contract address
                // created twice, say) is not worth stopping the index for.
                let sql = format!(
                    "INSERT OR IGNORE INTO \"{}\" ({}) VALUES ({})",
                    row.table,
                    columns.join(", "),
                    marks.join(", ")
                );
                kinds.push((columns, sql));
                kinds.len() - 1
            }
        };
        &kinds[i].1
    }
}

fn insert(tx: &Transaction<'_>, sql: &str, row: &Row) -> rusqlite::Result<u64> {
    let mut stmt = tx.prepare_cached(sql)?;
    let values = row.cells.iter().map(|(_, v)| v);
    let changed = stmt.execute(rusqlite::params_from_iter(values))?;
    Ok(changed as u64)
}

fn stored_hash(conn: &Connection, number: u64) -> rusqlite::Result<Option<B256>> {
    let Ok(n) = i64::try_from(number) else {
        return Ok(None);
    };
    let hash: Option<String> = conn
        .query_row("SELECT hash FROM blocks WHERE number = ?1", [n], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(hash.and_then(|h| h.parse().ok()))
}

/// The lowest and the highest indexed block.
fn bounds(conn: &Connection) -> rusqlite::Result<(Option<u64>, Option<BlockId>)> {
    let (first, last): (Option<i64>, Option<i64>) =
        conn.query_row("SELECT MIN(number), MAX(number) FROM blocks", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let first = first.and_then(|n| u64::try_from(n).ok());
    let Some(last) = last.and_then(|n| u64::try_from(n).ok()) else {
        return Ok((None, None));
    };
    Ok((first, stored_hash(conn, last)?.map(|h| (last, h))))
}

/// [`prepare_writer`]'s page cache, in KiB: room for the dirty pages of a
/// full batch ([`BatchLimits::default`]) on an index of millions of rows.
const WRITER_CACHE_KIB: i64 = 256 * 1024;

/// The page size of a new index file, in bytes.
const PAGE_SIZE: i64 = 32 * 1024;

/// WAL bytes between automatic checkpoints: 256 MiB.
const WAL_CHECKPOINT_BYTES: i64 = 256 * 1024 * 1024;

/// An error opening the file, or a newer schema, as the user should read it.
enum OpenError {
    Sqlite(rusqlite::Error),
    Newer(i64),
}

impl From<rusqlite::Error> for OpenError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(e)
    }
}

fn classify_open_error(path: &Path, e: impl Into<OpenError>) -> IndexError {
    match e.into() {
        OpenError::Newer(found) => IndexError::NewerSchema {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        },
        OpenError::Sqlite(e) => match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => IndexError::Corrupt {
                path: path.to_path_buf(),
                reason: e.to_string(),
            },
            _ => IndexError::Open {
                path: path.to_path_buf(),
                reason: e.to_string(),
            },
        },
    }
}

/// Sets the writer up: WAL, migrations, decoder tables.
fn prepare_writer(
    mut conn: Connection,
    decoders: &[Box<dyn Decoder>],
) -> Result<Writer, OpenError> {
    // Reading the version first is what detects a file that is not a
    // database (SQLite opens files lazily).
    let found = schema::version(&conn)?;
    if found > SCHEMA_VERSION {
        return Err(OpenError::Newer(found));
    }
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    if found == 0 {
        // A new file: 32 KiB pages. Every insert seeks down each of a
        // row's indexes, and wider pages make those B-trees shallower:
        // indexing took about a fifth less CPU than with SQLite's 4 KiB, for
        // about the same bytes written (BENCHMARKS.md, issue 12). An
        // existing file keeps its page size (changing it means a VACUUM).
        conn.pragma_update(None, "page_size", PAGE_SIZE)?;
    }
    // WAL: readers never block the writer nor see half a batch.
    // synchronous=NORMAL may lose the last batches on power loss but never
    // corrupts; the index resumes from whatever it kept.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode, "the SQL index could not switch to WAL mode");
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // The writer's page cache, a ceiling SQLite fills only as needed. A
    // batch's dirty pages must fit, or SQLite spills them to the WAL
    // mid-batch and reads them back again and again (with the default
    // 2 MiB, most of the writer's time went there).
    conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
    // Checkpoint (copy the WAL into the file) after 256 MiB of WAL rather
    // than SQLite's 4 MiB: the same index pages are rewritten by commit
    // after commit, and each checkpoint writes them once however often
    // they changed. With a commit every few blocks (a node keeping up),
    // indexing took about 30% less CPU. The WAL file stays that size.
    // SQLite counts it in pages, and a file made before 32 KiB pages
    // keeps its 4 KiB ones.
    let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    conn.pragma_update(
        None,
        "wal_autocheckpoint",
        WAL_CHECKPOINT_BYTES / page_size.max(512),
    )?;
    conn.pragma_update(None, "foreign_keys", false)?;
    let tx = conn.transaction()?;
    // Read again inside the write transaction: another process may have
    // migrated in between.
    let found = schema::version(&tx)?;
    if found > SCHEMA_VERSION {
        return Err(OpenError::Newer(found));
    }
    schema::migrate(&tx, found)?;
    if (1..schema::BALANCES_VERSION).contains(&found) {
        let holders = balances::fill(&tx)?;
        tracing::info!(
            holders,
            "SQL index: token balances filled from the indexed transfers"
        );
    }
    if schema::install_decoders(&tx, decoders)? {
        tracing::warn!("the SQL index's decoders changed: it is rebuilt from block 0");
    }
    tx.commit()?;
    Ok(Writer {
        conn,
        statements: InsertSql::default(),
        first: None,
        head: None,
    })
}
