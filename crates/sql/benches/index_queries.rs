//! The SQL index on 1,000,000 ERC-20 transfers (issue 12's targets: one
//! address's transfer history under 50 ms, a token's top 10 holders under
//! 100 ms).
//!
//! The index is built once through the indexer's public path
//! ([`Index::sync`] over a [`BlockSource`] of real alloy transactions,
//! receipts and `Transfer` logs, as the node feeds it), with a progress
//! line and the indexing rate, and cached under `target/tmp/sql-bench/`
//! (delete it to rebuild). The queries then run through [`Index::query`],
//! the read-only path `tally sql`, `tally_sql` and the explorer use.
//!
//! The chain: 500 transfers a block (about what `tally bench` puts in an
//! instant-mode block), three tokens taking 60%, 30% and 10% of them,
//! 100,000 addresses. Half the parties are drawn uniformly, half
//! log-uniformly, so a few addresses are very busy (address 0, the
//! "exchange", which also distributes tokens, is in about 17% of all
//! transfers) and most have a handful. Amounts are 18-decimal values a
//! sender actually holds, so balances are real.
//!
//! `TALLY_BENCH_TRANSFERS` changes the size; `TALLY_BENCH_FRESH=1` builds
//! in a temporary directory instead of the cache; `TALLY_BENCH_BATCH_BLOCKS`
//! caps the blocks per write transaction (a node that keeps up writes a
//! few blocks per sync). Run without `--bench` (as
//! `cargo test --benches` does), it builds 20,000 transfers in a temporary
//! directory and runs each query once.

use std::collections::HashMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_primitives::{keccak256, Address, Bytes, Log, Signature, TxKind, B256, U256};
use criterion::Criterion;
use serde_json::{json, Value};
use tally_primitives::{Header, Receipt, SealedBlock};
use tally_sql::rows::TRANSFER_TOPIC;
use tally_sql::{BlockSource, Index, IndexOptions, IndexedBlock, QueryLimits, SourceError};

const TRANSFERS: u64 = 1_000_000;
const PER_BLOCK: u64 = 500;
const ADDRESSES: u32 = 100_000;
/// Bump when the generated chain changes, so a cached index is rebuilt.
const GENERATION: u32 = 1;
/// `keccak256("transfer(address,uint256)")[..4]`.
const TRANSFER_SELECTOR: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];
const ONE_TOKEN: u128 = 1_000_000_000_000_000_000;

// The queries. The `*_PAGE` ones are what the explorer's address and
// token pages run (crates/explorer/src/pages/{address,token}.rs).

/// An address page: its latest 50 transfers, as the explorer asks: each
/// side's latest 50, merged (UNION also drops the second copy of a
/// transfer to oneself).
const HISTORY_PAGE: &str = "\
SELECT * FROM (SELECT tx_hash, block_number, log_index, token, sender, recipient, value, token_id
    FROM token_transfers WHERE sender = ?1
    ORDER BY block_number DESC, log_index DESC LIMIT 50)
UNION SELECT * FROM (SELECT tx_hash, block_number, log_index, token, sender, recipient, value, token_id
    FROM token_transfers WHERE recipient = ?1
    ORDER BY block_number DESC, log_index DESC LIMIT 50)
ORDER BY block_number DESC, log_index DESC LIMIT 50";

/// The same with UNION ALL: two index range scans merged in block order,
/// stopping after 50 rows however busy the address is.
const HISTORY_UNION_ALL: &str = "\
SELECT tx_hash, block_number, log_index, token, sender, recipient, value, token_id
FROM token_transfers WHERE sender = ?1
UNION ALL
SELECT tx_hash, block_number, log_index, token, sender, recipient, value, token_id
FROM token_transfers WHERE recipient = ?1 AND sender != ?1
ORDER BY block_number DESC, log_index DESC LIMIT 50";

/// The same with OR: SQLite finds every matching row, then sorts them all
/// for the LIMIT.
const HISTORY_OR: &str = "\
SELECT tx_hash, block_number, log_index, token, sender, recipient, value, token_id
FROM token_transfers WHERE sender = ?1 OR recipient = ?1
ORDER BY block_number DESC, log_index DESC LIMIT 50";

/// How many transfers an address took part in.
const COUNT: &str = "\
SELECT (SELECT COUNT(*) FROM token_transfers WHERE sender = ?1)
     + (SELECT COUNT(*) FROM token_transfers WHERE recipient = ?1 AND sender != ?1)";

/// A token page's top holders, as the explorer asks: from the balances
/// the indexer keeps (`token_balances`), down the `(token, balance_real)`
/// index.
const HOLDERS_PAGE: &str = "\
SELECT holder, balance FROM token_balances
WHERE token = ?1 AND balance_real > 0 ORDER BY balance_real DESC LIMIT 10";

/// Before `token_balances`: what each address received minus what it
/// sent, summed as REAL over every transfer of the token.
const HOLDERS_SUMMED: &str = "\
SELECT holder, sum(delta) AS approx FROM (
    SELECT recipient AS holder, CAST(value AS REAL) AS delta FROM token_transfers
    WHERE token = ?1 AND standard = 'erc20'
    UNION ALL SELECT sender, -CAST(value AS REAL) FROM token_transfers
    WHERE token = ?1 AND standard = 'erc20')
WHERE holder <> '0x0000000000000000000000000000000000000000'
GROUP BY holder HAVING approx > 0 ORDER BY approx DESC LIMIT 10";

/// The same grouped per side first, so each side can stream in index
/// order instead of sorting.
const HOLDERS_GROUPED: &str = "\
WITH received AS (
    SELECT recipient AS holder, SUM(CAST(value AS REAL)) AS amount
    FROM token_transfers WHERE token = ?1 AND standard = 'erc20' GROUP BY recipient
), sent AS (
    SELECT sender AS holder, SUM(CAST(value AS REAL)) AS amount
    FROM token_transfers WHERE token = ?1 AND standard = 'erc20' GROUP BY sender
)
SELECT r.holder, r.amount - COALESCE(s.amount, 0) AS balance
FROM received r LEFT JOIN sent s ON s.holder = r.holder
WHERE r.holder != '0x0000000000000000000000000000000000000000' AND balance > 0
ORDER BY balance DESC
LIMIT 10";

fn address(i: u32) -> Address {
    Address::from_slice(&keccak256(i.to_be_bytes())[..20])
}

fn token(i: u8) -> Address {
    Address::from_slice(&keccak256([b't', i])[..20])
}

fn hex(a: Address) -> Value {
    json!(format!("{a:#x}"))
}

/// xorshift64: the chain is a function of nothing but the constants.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// An address index: uniform or log-uniform, half and half.
    fn party(&mut self) -> u32 {
        if self.below(2) == 0 {
            self.below(u64::from(ADDRESSES)) as u32
        } else {
            let i = f64::from(ADDRESSES).powf(self.unit()) as u32;
            i.saturating_sub(1).min(ADDRESSES - 1)
        }
    }
}

/// One token transfer: the transaction's signer and the log's parties.
struct Transfer {
    signer: Address,
    token: u8,
    from: Address,
    to: Address,
    amount: u128,
}

/// Builds the chain block by block, tracking balances so every transfer
/// moves tokens its sender has.
struct Generator {
    rng: Rng,
    balances: HashMap<(u8, u32), u128>,
    nonce: u64,
}

impl Generator {
    fn new() -> Self {
        Self {
            rng: Rng(0x9e37_79b9_7f4a_7c15),
            balances: HashMap::new(),
            nonce: 0,
        }
    }

    fn token(&mut self) -> u8 {
        match self.rng.below(10) {
            0..=5 => 0,
            6..=8 => 1,
            _ => 2,
        }
    }

    /// The treasury (address 0) is minted a supply of each token.
    fn mint(&mut self, t: u8) -> Transfer {
        let amount = 1_000_000_000 * ONE_TOKEN;
        *self.balances.entry((t, 0)).or_default() += amount;
        Transfer {
            signer: address(0),
            token: t,
            from: Address::ZERO,
            to: address(0),
            amount,
        }
    }

    fn held(&self, t: u8, who: u32) -> u128 {
        self.balances.get(&(t, who)).copied().unwrap_or(0)
    }

    fn transfer(&mut self) -> Transfer {
        let t = self.token();
        let mut to = self.rng.party();
        // One transfer in ten is a withdrawal from the exchange; the others
        // come from someone who holds the token (a few tries, then the
        // exchange).
        let mut from = 0;
        if self.rng.below(10) != 0 {
            for _ in 0..8 {
                let f = self.rng.party();
                if f != to && self.held(t, f) > 0 {
                    from = f;
                    break;
                }
            }
        }
        if to == from {
            to = (to + 1) % ADDRESSES;
        }
        let held = self.held(t, from);
        if held == 0 {
            return self.mint(t);
        }
        let amount = if from == 0 {
            (u128::from(self.rng.below(10_000)) + 1) * ONE_TOKEN
        } else {
            held / 100 * u128::from(self.rng.below(50) + 1)
        }
        .min(held);
        *self.balances.entry((t, from)).or_default() -= amount;
        *self.balances.entry((t, to)).or_default() += amount;
        Transfer {
            signer: address(from),
            token: t,
            from: address(from),
            to: address(to),
            amount,
        }
    }

    fn block(&mut self, parent: Option<&SealedBlock>, transfers: &[Transfer]) -> IndexedBlock {
        let number = parent.map_or(0, |p| p.number() + 1);
        let mut transactions = Vec::with_capacity(transfers.len());
        let mut senders = Vec::with_capacity(transfers.len());
        let mut receipts = Vec::with_capacity(transfers.len());
        let mut cumulative = 0;
        for t in transfers {
            let amount = U256::from(t.amount);
            let mut input = Vec::with_capacity(68);
            input.extend_from_slice(&TRANSFER_SELECTOR);
            input.extend_from_slice(t.to.into_word().as_slice());
            input.extend_from_slice(&amount.to_be_bytes::<32>());
            self.nonce += 1;
            let tx: TxEnvelope = TxEip1559 {
                chain_id: 1337,
                nonce: self.nonce,
                gas_limit: 96_000,
                max_fee_per_gas: 2_000_000_000,
                max_priority_fee_per_gas: 1,
                to: TxKind::Call(token(t.token)),
                input: Bytes::from(input),
                ..Default::default()
            }
            .into_signed(Signature::new(U256::from(1u64), U256::from(2u64), false))
            .into();
            let log = Log::new_unchecked(
                token(t.token),
                vec![TRANSFER_TOPIC, t.from.into_word(), t.to.into_word()],
                Bytes::from(amount.to_be_bytes::<32>().to_vec()),
            );
            cumulative += 51_000;
            receipts.push(Receipt {
                tx_type: 2,
                success: true,
                gas_used: 51_000,
                cumulative_gas_used: cumulative,
                logs: vec![log],
            });
            transactions.push(tx);
            senders.push(t.signer);
        }
        let header = Header {
            parent_hash: parent.map_or(B256::ZERO, SealedBlock::hash),
            number,
            timestamp: 1_700_000_000 + number,
            beneficiary: address(ADDRESSES + 1),
            gas_limit: 300_000_000,
            gas_used: cumulative,
            base_fee: 1_000_000_000,
            ..Default::default()
        };
        IndexedBlock {
            block: SealedBlock {
                header: header.seal_slow(),
                transactions,
                senders,
            },
            receipts,
        }
    }
}

/// The generated chain, in memory: the index reads it as it would the
/// node's chain database.
struct Chain(Vec<IndexedBlock>);

impl BlockSource for Chain {
    fn head(&self) -> Result<Option<(u64, B256)>, SourceError> {
        Ok(self.0.last().map(|b| (b.block.number(), b.block.hash())))
    }
    fn block(&self, number: u64) -> Result<Option<IndexedBlock>, SourceError> {
        Ok(usize::try_from(number)
            .ok()
            .and_then(|n| self.0.get(n))
            .cloned())
    }
}

fn generate(transfers: u64) -> Chain {
    let started = Instant::now();
    let mut g = Generator::new();
    let mut blocks = vec![g.block(None, &[])];
    let mints: Vec<Transfer> = (0..3).map(|t| g.mint(t)).collect();
    let mut made = mints.len() as u64;
    blocks.push(g.block(Some(&blocks[0].block), &mints));
    while made < transfers {
        let n = PER_BLOCK.min(transfers - made);
        let batch: Vec<Transfer> = (0..n).map(|_| g.transfer()).collect();
        made += n;
        let parent = &blocks[blocks.len() - 1].block;
        let block = g.block(Some(parent), &batch);
        blocks.push(block);
    }
    eprintln!(
        "generated {} blocks, {made} transfers in {:.1}s",
        blocks.len(),
        started.elapsed().as_secs_f64()
    );
    Chain(blocks)
}

/// The node's options, or with `TALLY_BENCH_BATCH_BLOCKS` blocks a batch:
/// a node keeping up with its chain writes a batch per sync, a few blocks,
/// not the 1,000 blocks of a catch-up.
fn options() -> IndexOptions {
    let mut options = IndexOptions::default();
    if let Some(blocks) = std::env::var("TALLY_BENCH_BATCH_BLOCKS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        options.batch.blocks = blocks;
        eprintln!("batches of at most {blocks} blocks");
    }
    options
}

/// This process's CPU time (user + system) from `/proc/self/stat`, so the
/// indexing rate can be told apart from what other processes took; `None`
/// off Linux.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which ends with the last ')'.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    // utime and stime are fields 14 and 15 of the line (11 and 12 here),
    // in clock ticks of 1/100 s on Linux.
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

/// Indexes the chain at `path` from nothing, printing progress.
fn build(path: &Path, transfers: u64) {
    let chain = generate(transfers);
    let index = Index::open_with(path, options()).expect("open the bench index");
    let started = Instant::now();
    let cpu_before = cpu_seconds();
    let mut last = started;
    let report = index
        .sync(&chain, &mut |p| {
            if last.elapsed() >= Duration::from_secs(2) {
                last = Instant::now();
                let at = p.indexed.unwrap_or(0);
                let done = at.saturating_sub(1) * PER_BLOCK;
                eprintln!(
                    "indexing: block {at} of {}, ~{done} transfers, {:.0} transfers/s",
                    p.head,
                    done as f64 / started.elapsed().as_secs_f64()
                );
            }
        })
        .expect("index the generated chain");
    let secs = started.elapsed().as_secs_f64();
    let cpu = match (cpu_before, cpu_seconds()) {
        (Some(before), Some(after)) => {
            let cpu = after - before;
            format!(
                " ({cpu:.1}s of CPU: {:.0} transfers per CPU second)",
                transfers as f64 / cpu
            )
        }
        _ => String::new(),
    };
    eprintln!(
        "indexed {} blocks, {transfers} transfers ({} rows) in {secs:.1}s: \
         {:.0} transfers/s, {:.0} rows/s{cpu}",
        report.indexed,
        report.rows,
        transfers as f64 / secs,
        report.rows as f64 / secs
    );
}

/// Where the index lives; the temporary directory, if any, must outlive it.
struct Fixture {
    index: Index,
    _temp: Option<tempfile::TempDir>,
}

fn fixture(transfers: u64, cached: bool) -> Fixture {
    if !cached {
        let temp = tempfile::tempdir().expect("temp dir");
        let path = temp.path().join("index.sqlite");
        build(&path, transfers);
        let index = Index::open(&path).expect("open the bench index");
        return Fixture {
            index,
            _temp: Some(temp),
        };
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sql-bench");
    let path = dir.join(format!("transfers-g{GENERATION}-{transfers}.sqlite"));
    if !path.exists() {
        std::fs::create_dir_all(&dir).expect("create the cache dir");
        // Built under another name and renamed when whole, so an
        // interrupted build is never taken for a cached one.
        let partial = dir.join("building.sqlite");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", partial.display()));
        }
        build(&partial, transfers);
        for suffix in ["-wal", "-shm", ""] {
            let from = format!("{}{suffix}", partial.display());
            if Path::new(&from).exists() {
                std::fs::rename(&from, format!("{}{suffix}", path.display()))
                    .expect("move the built index into place");
            }
        }
    } else {
        eprintln!(
            "using the cached index {} (delete it to rebuild)",
            path.display()
        );
    }
    let index = Index::open(&path).expect("open the bench index");
    Fixture { index, _temp: None }
}

fn run(index: &Index, sql: &str, params: &[Value]) -> usize {
    let limits = QueryLimits {
        timeout: Duration::from_secs(60),
        ..QueryLimits::default()
    };
    match index.query(sql, params, limits) {
        Ok(answer) => answer.rows.len(),
        Err(e) => panic!("{e}\n{sql}"),
    }
}

/// Prints a query's plan and one timed run, so the output shows which
/// indexes each query uses.
fn explain(index: &Index, name: &str, sql: &str, params: &[Value]) {
    let plan = index
        .query(
            &format!("EXPLAIN QUERY PLAN {sql}"),
            params,
            QueryLimits::default(),
        )
        .map(|a| {
            a.rows
                .iter()
                .filter_map(|r| r.get(3).and_then(Value::as_str).map(str::to_owned))
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .unwrap_or_else(|e| format!("(no plan: {e})"));
    let started = Instant::now();
    let rows = run(index, sql, params);
    eprintln!(
        "{name}: {rows} rows, first run {:.1} ms; plan: {plan}",
        started.elapsed().as_secs_f64() * 1e3
    );
}

fn scalar(index: &Index, sql: &str, params: &[Value]) -> Value {
    index
        .query(sql, params, QueryLimits::default())
        .ok()
        .and_then(|a| a.rows.into_iter().next())
        .and_then(|r| r.into_iter().next())
        .unwrap_or(Value::Null)
}

fn main() {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let transfers = std::env::var("TALLY_BENCH_TRANSFERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if bench_mode { TRANSFERS } else { 20_000 });
    // TALLY_BENCH_FRESH=1: build in a temporary directory, to measure
    // the indexing rate again without touching the cached index.
    let fresh = std::env::var_os("TALLY_BENCH_FRESH").is_some_and(|v| v != "0");
    let fixture = fixture(transfers, bench_mode && !fresh);
    let index = &fixture.index;
    let total = scalar(index, "SELECT COUNT(*) FROM token_transfers", &[]);
    eprintln!("the index holds {total} token transfers");

    // The exchange, a busy address and one from the long tail.
    let subjects = [
        ("exchange", address(0)),
        ("busy", address(20)),
        ("tail", address(77_777)),
    ];
    let mut c = Criterion::default()
        .configure_from_args()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    let forms = [
        ("page", HISTORY_PAGE),
        ("union_all", HISTORY_UNION_ALL),
        ("count", COUNT),
    ];
    let mut group = c.benchmark_group("address_history_latest_50");
    for (who, address) in subjects {
        let params = [hex(address)];
        let n = scalar(index, COUNT, &params);
        eprintln!("{who} address {address:#x}: {n} transfers");
        for (form, sql) in forms {
            explain(index, &format!("{form}/{who}"), sql, &params);
            group.bench_function(format!("{form}/{who}"), |b| {
                b.iter(|| black_box(run(index, sql, &params)))
            });
        }
    }
    group.finish();

    // Apart, with few samples: it takes up to a second on a busy address.
    let mut group = c.benchmark_group("address_history_latest_50_with_or");
    group.sample_size(10);
    for (who, address) in subjects {
        let params = [hex(address)];
        explain(index, &format!("or/{who}"), HISTORY_OR, &params);
        group.bench_function(who, |b| {
            b.iter(|| black_box(run(index, HISTORY_OR, &params)))
        });
    }
    group.finish();

    let forms = [
        ("page", HOLDERS_PAGE),
        ("summed", HOLDERS_SUMMED),
        ("grouped", HOLDERS_GROUPED),
    ];
    let mut group = c.benchmark_group("token_top_10_holders");
    group.sample_size(10);
    for (which, t) in [("token_60pct", token(0)), ("token_10pct", token(2))] {
        let params = [hex(t)];
        let n = scalar(
            index,
            "SELECT COUNT(*) FROM token_transfers WHERE token = ?1",
            &params,
        );
        eprintln!("{which} {t:#x}: {n} transfers");
        // The kept balances rank the holders as summing every transfer does.
        let top = |sql| -> Vec<Value> {
            let limits = QueryLimits {
                timeout: Duration::from_secs(60),
                ..QueryLimits::default()
            };
            let rows = index.query(sql, &params, limits).unwrap().rows;
            rows.into_iter().map(|r| r[0].clone()).collect()
        };
        assert_eq!(
            top(HOLDERS_PAGE),
            top(HOLDERS_SUMMED),
            "{which}: top holders differ"
        );
        for (form, sql) in forms {
            explain(index, &format!("{form}/{which}"), sql, &params);
            group.bench_function(format!("{form}/{which}"), |b| {
                b.iter(|| black_box(run(index, sql, &params)))
            });
        }
    }
    group.finish();
    c.final_summary();
}
