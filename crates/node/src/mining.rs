//! The miner: threads that run the engine's [`Sealer`] on the block
//! template the chain thread built, cancelled when the head moves; and
//! what RPC reads of it (hash rate, the work offered to external miners).

use parking_lot::Mutex;
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};
use tally_consensus::Sealer;
use tally_primitives::{Address, Header, B256, U256};

/// External miners' reported rates are forgotten after this long, as geth does.
const HASHRATE_TTL: Duration = Duration::from_secs(10);

/// Work offered to external miners (`eth_getWork`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkPackage {
    /// The template's seal hash: what a seal commits to.
    pub seal_hash: B256,
    /// A seal's hash must be at or below this.
    pub target: B256,
    pub number: u64,
    pub bits: u32,
}

/// The miner's state as RPC sees it.
#[derive(Debug)]
pub(crate) struct MiningShared {
    /// Threads the built-in miner runs; 0 with only external miners.
    pub threads: usize,
    /// Whether this node builds blocks to be mined at all.
    pub enabled: bool,
    /// Mining paused (`miner_stop`) or running (`miner_start`).
    pub active: AtomicBool,
    pub coinbase: Address,
    /// Hashes tried by the built-in miner since start.
    pub hashes: Arc<AtomicU64>,
    pub work: Mutex<Option<WorkPackage>>,
    rate: Mutex<RateSample>,
    external: Mutex<HashMap<B256, (U256, Instant)>>,
}

#[derive(Debug)]
struct RateSample {
    at: Instant,
    hashes: u64,
    rate: f64,
}

impl MiningShared {
    pub fn new(enabled: bool, threads: usize, coinbase: Address) -> Self {
        MiningShared {
            threads,
            enabled,
            active: AtomicBool::new(enabled),
            coinbase,
            hashes: Arc::new(AtomicU64::new(0)),
            work: Mutex::new(None),
            rate: Mutex::new(RateSample {
                at: Instant::now(),
                hashes: 0,
                rate: 0.0,
            }),
            external: Mutex::new(HashMap::new()),
        }
    }

    /// The built-in miner's hashes per second, averaged since the last
    /// reading at least a second ago.
    pub fn hashrate(&self) -> f64 {
        let mut sample = self.rate.lock();
        let elapsed = sample.at.elapsed();
        if elapsed >= Duration::from_secs(1) {
            let now = self.hashes.load(Ordering::Relaxed);
            sample.rate = (now - sample.hashes.min(now)) as f64 / elapsed.as_secs_f64();
            sample.hashes = now;
            sample.at = Instant::now();
        }
        sample.rate
    }

    /// Records an external miner's rate (`eth_submitHashrate`).
    pub fn submit_hashrate(&self, id: B256, rate: U256) {
        let mut external = self.external.lock();
        external.retain(|_, (_, at)| at.elapsed() < HASHRATE_TTL);
        // Bounded: one entry per miner id, and ids expire.
        if external.len() < 1024 || external.contains_key(&id) {
            external.insert(id, (rate, Instant::now()));
        }
    }

    /// The sum of the external miners' recent rates.
    pub fn external_hashrate(&self) -> U256 {
        let mut external = self.external.lock();
        external.retain(|_, (_, at)| at.elapsed() < HASHRATE_TTL);
        external
            .values()
            .fold(U256::ZERO, |acc, (r, _)| acc.saturating_add(*r))
    }
}

/// The built-in miner's threads for the current template.
pub(crate) struct Miner {
    shared: Arc<MiningShared>,
    stop: Arc<AtomicBool>,
}

impl Miner {
    pub fn new(shared: Arc<MiningShared>) -> Self {
        Miner {
            shared,
            stop: Arc::new(AtomicBool::new(true)),
        }
    }

    /// Stops the threads searching the previous template (they notice
    /// within a few thousand hashes) and starts searching `header`. The
    /// first thread to find a seal hands it to `found` (which tells the
    /// chain thread).
    pub fn start(
        &mut self,
        header: Header,
        sealer: Arc<dyn Sealer>,
        found: Arc<dyn Fn(Header) + Send + Sync>,
    ) {
        self.cancel();
        if self.shared.threads == 0 {
            return;
        }
        let stop = Arc::new(AtomicBool::new(false));
        self.stop = stop.clone();
        let header = Arc::new(header);
        let workers = self.shared.threads as u32;
        for worker in 0..workers {
            let (header, sealer, stop, found) =
                (header.clone(), sealer.clone(), stop.clone(), found.clone());
            let hashes = self.shared.hashes.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("tally-miner-{worker}"))
                .spawn(move || {
                    match sealer.seal(&header, worker, workers, &stop, &hashes) {
                        Ok(Some(sealed)) => {
                            // One winner per template: the others stop.
                            if !stop.swap(true, Ordering::Relaxed) {
                                found(sealed);
                            }
                        }
                        Ok(None) => {}
                        Err(e) => tracing::error!("miner thread {worker} failed: {e}"),
                    }
                });
            if let Err(e) = spawned {
                tracing::error!("cannot start miner thread {worker}: {e}");
            }
        }
    }

    /// Stops the search of the current template.
    pub fn cancel(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Drop for Miner {
    fn drop(&mut self) {
        self.cancel();
    }
}
