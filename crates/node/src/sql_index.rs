//! The SQL index of the canonical chain ([`tally_sql`]), kept in
//! `index.sqlite` in the datadir, and what RPC reads of it.
//!
//! The index runs on its own thread, never on the chain thread. At start it
//! catches up from whatever it holds; then each block the chain thread
//! publishes wakes it to sync again. The wake-up carries nothing: the index
//! reads the chain database by number and finds reorgs itself, so a missed
//! or lagged wake-up costs nothing but a moment's delay, and a failed sync
//! is logged and retried. Queries run on the RPC server's blocking pool, on
//! the index's own read-only connections.

use std::{
    path::Path,
    sync::{
        atomic::{AtomicBool, Ordering},
        mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError},
        Arc,
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use serde_json::{json, Value};
use tally_primitives::B256;
use tally_rpc::BackendError;
use tally_sql::{BlockSource, Index, IndexedBlock, QueryError, QueryLimits, SourceError};
use tally_state::ChainDb;
use tokio::sync::broadcast::error::RecvError;

use crate::chain::Chain;

/// The index's file in the datadir.
pub const INDEX_FILE: &str = "index.sqlite";

/// How often catch-up progress is logged.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
/// A sync runs at least this often even without a new block, so a lost
/// wake-up (the relay task gone) delays the index, never stops it.
const IDLE_SYNC: Duration = Duration::from_secs(30);
/// Syncs start at most this often. Under load a block arrives every few
/// milliseconds, and a sync per block pays a commit per block, which
/// rewrites every index page the block's rows touched; waiting gathers
/// the blocks into one batch. A block after a quiet spell is indexed at
/// once.
const MIN_SYNC_INTERVAL: Duration = Duration::from_millis(500);
/// While the chain is busy (the last sync wrote at least [`BUSY_ROWS`]),
/// syncs start at most this often instead: the index is then up to this
/// much behind, and each batch shares its pages among many more rows.
/// Batches of 10,000 transfers took a third less CPU per transfer than
/// batches of 1,000 (`cargo bench -p tally-sql --bench index_queries`),
/// and on a BFT testnet at 3,000 transfers/s a 10 s wait wrote about a
/// third less than a 2 s wait once the index held 120,000 transfers or
/// more (BENCHMARKS.md, issue 9's Update 4).
const BUSY_SYNC_INTERVAL: Duration = Duration::from_secs(10);
/// Rows in a sync that make the chain count as busy: about 1,000 ERC-20
/// transfers.
const BUSY_ROWS: u64 = 5_000;
/// The index thread's priority where `SCHED_IDLE` is not to be had, on
/// `thread_priority`'s 0–99 scale, where the node's threads are at 50
/// (nice 0): 22 is nice 10 on Linux, about a tenth of a node thread's share
/// of a busy core. Block production, consensus and RPC come first when the
/// cores are all busy, and the index catches up in the time they leave.
const INDEX_PRIORITY: u8 = 22;
/// The first retry after a failed sync; later ones back off to the cap.
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(60);

/// The canonical chain in the node's database, as the index reads it.
struct ChainSource {
    db: ChainDb,
    /// Set on shutdown: reads fail, so a long catch-up stops after the
    /// current block (whole blocks already written stay).
    stop: Arc<AtomicBool>,
}

fn source_error(e: tally_state::StateError) -> SourceError {
    SourceError::new(e)
}

impl ChainSource {
    fn check_stop(&self) -> Result<(), SourceError> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(SourceError::new("the node is shutting down"));
        }
        Ok(())
    }
}

impl BlockSource for ChainSource {
    fn head(&self) -> Result<Option<(u64, B256)>, SourceError> {
        self.check_stop()?;
        let head = self.db.head().map_err(source_error)?;
        Ok(Some((head.number, head.hash)))
    }

    fn block(&self, number: u64) -> Result<Option<IndexedBlock>, SourceError> {
        // The block and its receipts are two reads; a reorg between them
        // makes the receipts of the block read first disappear. Read again:
        // a few tries always suffice unless the chain reorgs continuously.
        const TRIES: usize = 4;
        for _ in 0..TRIES {
            self.check_stop()?;
            let Some(block) = self.db.block_by_number(number).map_err(source_error)? else {
                return Ok(None);
            };
            if let Some(receipts) = self.db.receipts(block.hash()).map_err(source_error)? {
                return Ok(Some(IndexedBlock { block, receipts }));
            }
        }
        Err(SourceError::new(format!(
            "block {number} has no receipts in the chain database, or it was replaced \
             {TRIES} times while being read"
        )))
    }

    fn hash(&self, number: u64) -> Result<Option<B256>, SourceError> {
        self.check_stop()?;
        Ok(self
            .db
            .header_by_number(number)
            .map_err(source_error)?
            .map(|h| h.hash))
    }
}

/// What RPC sees of the index.
#[derive(Clone)]
pub(crate) enum IndexAccess {
    /// The node runs without it (`--no-index`).
    Off,
    /// It could not be opened; the reason says how to fix it.
    Broken(Arc<str>),
    On(Arc<Index>),
}

impl IndexAccess {
    /// Opens `datadir/index.sqlite`. A failure is logged and leaves the
    /// node running without an index: the node is more than its index.
    pub fn open(datadir: &Path, enabled: bool) -> Self {
        if !enabled {
            return IndexAccess::Off;
        }
        let path = datadir.join(INDEX_FILE);
        match Index::open(&path) {
            Ok(index) => IndexAccess::On(Arc::new(index)),
            Err(e) => {
                tracing::error!("the SQL index is unavailable: {e}");
                IndexAccess::Broken(e.to_string().into())
            }
        }
    }

    fn index(&self) -> Result<&Arc<Index>, BackendError> {
        match self {
            IndexAccess::Off => Err(BackendError::no_sql_index()),
            IndexAccess::Broken(reason) => Err(BackendError::Unavailable(format!(
                "the SQL index is unavailable on this node: {reason}"
            ))),
            IndexAccess::On(index) => Ok(index),
        }
    }

    /// `tally_sql` and `GET /sql`: one read-only query with the default
    /// limits (10,000 rows, 5 seconds).
    pub fn query(&self, sql: &str, params: &[Value]) -> Result<Value, BackendError> {
        let index = self.index()?;
        let answer = index
            .query(sql, params, QueryLimits::default())
            .map_err(|e| match e {
                // The query was fine but too slow: not a bad parameter.
                QueryError::Timeout { .. } => BackendError::Execution {
                    message: e.to_string(),
                    data: None,
                },
                QueryError::Open { .. } => BackendError::Internal(e.to_string()),
                other => BackendError::InvalidParams(other.to_string()),
            })?;
        Ok(json!({
            "columns": answer.columns,
            "rows": answer.rows,
            "truncated": answer.truncated,
            "elapsedMs": answer.elapsed_ms,
        }))
    }

    /// The index's head, its lag behind `chain_head` and the rows it wrote
    /// since the node started; `None` without an index.
    fn gauges(&self, chain_head: u64) -> Option<(Option<u64>, u64, u64)> {
        let IndexAccess::On(index) = self else {
            return None;
        };
        let stats = index.stats();
        let lag = match stats.head {
            Some(head) => chain_head.saturating_sub(head),
            None => chain_head.saturating_add(1),
        };
        Some((stats.head, lag, stats.rows_written))
    }

    /// Adds `indexHead`, `indexLag` and `indexRowsWritten` to the
    /// `tally_metrics` object (nothing when the index is off).
    pub fn add_metrics(&self, chain_head: u64, metrics: &mut Value) {
        let (Some((head, lag, rows)), Some(object)) =
            (self.gauges(chain_head), metrics.as_object_mut())
        else {
            return;
        };
        object.insert("indexHead".into(), json!(head));
        object.insert("indexLag".into(), json!(lag));
        object.insert("indexRowsWritten".into(), json!(rows));
    }

    /// The same gauges in Prometheus text (nothing when the index is off).
    pub fn prometheus(&self, chain_head: u64) -> String {
        let Some((head, lag, rows)) = self.gauges(chain_head) else {
            return String::new();
        };
        // An empty index has no head block: -1, below genesis.
        let head = head.map_or(-1.0, |h| h as f64);
        format!(
            "# HELP tally_index_head_block Highest block in the SQL index (-1: empty).\n\
             # TYPE tally_index_head_block gauge\n\
             tally_index_head_block {head}\n\
             # HELP tally_index_lag_blocks Blocks the SQL index is behind the chain head.\n\
             # TYPE tally_index_lag_blocks gauge\n\
             tally_index_lag_blocks {lag}\n\
             # HELP tally_index_rows_written_total Rows the SQL index wrote since the node started.\n\
             # TYPE tally_index_rows_written_total counter\n\
             tally_index_rows_written_total {rows}\n"
        )
    }
}

/// The indexing thread and the task that wakes it.
pub(crate) struct IndexService {
    stop: Arc<AtomicBool>,
    relay: Option<tokio::task::JoinHandle<()>>,
    thread: Option<JoinHandle<()>>,
}

impl IndexService {
    /// Starts following `chain` (inside a tokio runtime).
    pub fn start(chain: &Chain, index: Arc<Index>) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        // One pending wake-up is enough: a sync reads up to the head.
        let (wake_tx, wake_rx) = mpsc::sync_channel(1);
        // Subscribed before the catch-up, so a block committed during it
        // leaves a wake-up behind.
        let relay = tokio::spawn(relay(chain.new_blocks.subscribe(), wake_tx));
        let source = ChainSource {
            db: chain.db.clone(),
            stop: stop.clone(),
        };
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("tally-sql-index".into())
            .spawn(move || follow(&index, &source, &wake_rx, &flag));
        let thread = match thread {
            Ok(t) => t,
            Err(e) => {
                relay.abort();
                return Err(e);
            }
        };
        Ok(IndexService {
            stop,
            relay: Some(relay),
            thread: Some(thread),
        })
    }

    /// Stops the thread after the block it is writing and waits for it, so
    /// the chain database is closed when the node has stopped.
    pub async fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(relay) = self.relay.take() {
            relay.abort();
            // The relay owns the wake-up sender: once it is gone, the
            // thread's wait ends at once.
            let _ = relay.await;
        }
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

impl Drop for IndexService {
    fn drop(&mut self) {
        // A node dropped without `stop`: the thread ends at its next read
        // or wake-up.
        self.stop.store(true, Ordering::Relaxed);
        if let Some(relay) = self.relay.take() {
            relay.abort();
        }
    }
}

/// Turns the node's new-block broadcast into wake-ups.
async fn relay(
    mut blocks: tokio::sync::broadcast::Receiver<Arc<tally_rpc::NewBlock>>,
    wake: SyncSender<()>,
) {
    loop {
        match blocks.recv().await {
            // Lagged: blocks were missed; the sync reads them anyway.
            Ok(_) | Err(RecvError::Lagged(_)) => match wake.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) => {}
                Err(TrySendError::Disconnected(())) => return,
            },
            Err(RecvError::Closed) => return,
        }
    }
}

/// The thread: catch up, then sync on every wake-up until stopped.
fn follow(index: &Index, source: &ChainSource, wake: &Receiver<()>, stop: &AtomicBool) {
    let mut caught_up = false;
    let mut failures: u32 = 0;
    let mut last_sync: Option<Instant> = None;
    let mut interval = MIN_SYNC_INTERVAL;
    lower_priority();
    loop {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        if let Some(last) = last_sync {
            // Wake-ups during the wait are covered by the sync after it.
            let wait = interval.saturating_sub(last.elapsed());
            if !wait.is_zero() && !pause(wake, stop, wait) {
                return;
            }
        }
        last_sync = Some(Instant::now());
        let result = if caught_up {
            index.sync(source, &mut |_| {})
        } else {
            catch_up(index, source)
        };
        match result {
            Ok(report) => {
                caught_up = true;
                failures = 0;
                interval = if report.rows >= BUSY_ROWS {
                    BUSY_SYNC_INTERVAL
                } else {
                    MIN_SYNC_INTERVAL
                };
                if report.unwound > 0 {
                    tracing::info!(
                        "SQL index followed a reorg: {} blocks unwound, {} indexed, at block {}",
                        report.unwound,
                        report.indexed,
                        report.head.unwrap_or(0)
                    );
                }
            }
            Err(_) if stop.load(Ordering::Relaxed) => return,
            Err(e) => {
                failures = failures.saturating_add(1);
                let delay = RETRY_FIRST
                    .saturating_mul(1 << failures.saturating_sub(1).min(6))
                    .min(RETRY_MAX);
                tracing::warn!(
                    "the SQL index could not follow the chain (retrying in {}s): {e}",
                    delay.as_secs()
                );
                if !pause(wake, stop, delay) {
                    return;
                }
                continue;
            }
        }
        match wake.recv_timeout(IDLE_SYNC) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Lowers the calling thread's (the index's) scheduling priority. On
/// Linux it becomes `SCHED_IDLE`: it runs when a core would otherwise
/// idle, and any node thread that wakes takes the core back at once. At
/// nice 10 it kept the core for the rest of its time slice (milliseconds
/// under Linux's EEVDF scheduler), which the chain thread and RPC then
/// waited out. Elsewhere, or if that fails, it runs at [`INDEX_PRIORITY`].
/// Failing both is harmless: the index then competes with the node as an
/// equal.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::unix::{
            set_thread_priority_and_policy, thread_native_id, NormalThreadSchedulePolicy,
            ThreadSchedulePolicy,
        };
        let idle = set_thread_priority_and_policy(
            thread_native_id(),
            thread_priority::ThreadPriority::Min,
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle),
        );
        match idle {
            Ok(()) => return,
            Err(e) => tracing::debug!("the SQL index thread cannot be SCHED_IDLE: {e:?}"),
        }
    }
    let set = thread_priority::ThreadPriorityValue::try_from(INDEX_PRIORITY)
        .map_err(|e| format!("{e:?}"))
        .and_then(|value| {
            thread_priority::set_current_thread_priority(
                thread_priority::ThreadPriority::Crossplatform(value),
            )
            .map_err(|e| format!("{e:?}"))
        });
    if let Err(e) = set {
        tracing::debug!("the SQL index thread keeps the node's priority: {e}");
    }
}

/// The first sync after start, with progress in the logs.
fn catch_up(
    index: &Index,
    source: &ChainSource,
) -> Result<tally_sql::SyncReport, tally_sql::IndexError> {
    let started = Instant::now();
    let from = index.stats().head;
    if let Some((head, _)) = source.head()? {
        if from != Some(head) {
            let at = from.map_or_else(|| "empty".to_string(), |n| format!("at block {n}"));
            tracing::info!("SQL index {at}, chain head {head}: catching up");
        }
    }
    let mut last_log = started;
    let report = index.sync(source, &mut |p| {
        if last_log.elapsed() >= PROGRESS_EVERY {
            last_log = Instant::now();
            let at = p.indexed.unwrap_or(0);
            tracing::info!("indexing: block {at} of {}", p.head);
        }
    })?;
    if report.indexed > 0 || report.unwound > 0 {
        tracing::info!(
            "SQL index caught up at block {}: {} blocks ({} rows) indexed, {} unwound, in {:.1}s",
            report.head.unwrap_or(0),
            report.indexed,
            report.rows,
            report.unwound,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(report)
}

/// Waits `delay` (ignoring wake-ups) unless the node stops; `false` when
/// it does.
fn pause(wake: &Receiver<()>, stop: &AtomicBool, delay: Duration) -> bool {
    let deadline = Instant::now() + delay;
    loop {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        match wake.recv_timeout(left) {
            Ok(()) => {}
            Err(RecvTimeoutError::Timeout) => return true,
            Err(RecvTimeoutError::Disconnected) => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scheduling policy of the calling thread, from procfs (field
    /// 41 of its stat line; 5 is `SCHED_IDLE`).
    #[cfg(target_os = "linux")]
    fn own_policy() -> i64 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        // Fields after the command name, which ends with the last ')':
        // the first of them is field 3.
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        rest.split_whitespace()
            .nth(41 - 3)
            .unwrap()
            .parse()
            .unwrap()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_index_thread_runs_only_when_a_core_is_idle() {
        let (policy, main) = std::thread::spawn(|| {
            lower_priority();
            own_policy()
        })
        .join()
        .map(|p| (p, own_policy()))
        .unwrap();
        assert_eq!((policy, main), (5, 0), "SCHED_IDLE for the index only");
    }
}
