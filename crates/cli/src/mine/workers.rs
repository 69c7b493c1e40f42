//! The hashing threads of `tally mine`: each searches its own share of the
//! nonces ([`nonce_range`]) of the current work with the consensus crate's
//! [`search`], the same loop the node's built-in miner runs. New work stops
//! the old search at once (the stop flag is read every few thousand
//! hashes); a found nonce stops the others too, since one seal per work is
//! all a node takes.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Condvar, Mutex, MutexGuard,
    },
    thread::JoinHandle,
};

use tally_consensus::pow::hash::{nonce_range, search};
use tally_primitives::B256;
use tokio::sync::mpsc;

use super::work::Work;

/// A nonce that meets `work`'s target.
#[derive(Clone, Debug)]
pub struct Found {
    pub work: Arc<Work>,
    pub nonce: u64,
}

struct Slot {
    /// Bumped on every change of `work`, so a worker tells new work from
    /// the work it already finished.
    generation: u64,
    work: Option<Arc<Work>>,
    /// Set to stop the search of the current `work`.
    stop: Arc<AtomicBool>,
    quit: bool,
}

struct Shared {
    slot: Mutex<Slot>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Slot> {
        // A worker that panicked held no invariant worth refusing over.
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The hashing threads; [`Workers::stop`] (or drop) ends them.
pub struct Workers {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    hashes: Arc<AtomicU64>,
}

impl Workers {
    /// Starts `threads` idle workers; found nonces go to `found`.
    pub fn start(threads: usize, found: mpsc::Sender<Found>) -> std::io::Result<Workers> {
        let shared = Arc::new(Shared {
            slot: Mutex::new(Slot {
                generation: 0,
                work: None,
                stop: Arc::new(AtomicBool::new(false)),
                quit: false,
            }),
            changed: Condvar::new(),
        });
        let hashes = Arc::new(AtomicU64::new(0));
        let count = u32::try_from(threads).unwrap_or(u32::MAX);
        let mut workers = Workers {
            shared,
            threads: Vec::with_capacity(threads),
            hashes,
        };
        for index in 0..count {
            let (shared, hashes, found) = (
                workers.shared.clone(),
                workers.hashes.clone(),
                found.clone(),
            );
            let handle = std::thread::Builder::new()
                .name(format!("miner-{index}"))
                .spawn(move || work_loop(index, count, &shared, &hashes, &found))?;
            workers.threads.push(handle);
        }
        Ok(workers)
    }

    /// Hashes tried since start.
    pub fn hashes(&self) -> u64 {
        self.hashes.load(Ordering::Relaxed)
    }

    /// Replaces the work being searched (`None`: idle until there is work).
    pub fn set_work(&self, work: Option<Work>) {
        let mut slot = self.shared.lock();
        slot.stop.store(true, Ordering::Relaxed);
        slot.stop = Arc::new(AtomicBool::new(false));
        slot.work = work.map(Arc::new);
        slot.generation += 1;
        self.shared.changed.notify_all();
    }

    /// Stops the search and waits for the threads to end.
    pub fn stop(mut self) {
        self.quit();
    }

    fn quit(&mut self) {
        {
            let mut slot = self.shared.lock();
            slot.quit = true;
            slot.stop.store(true, Ordering::Relaxed);
            self.shared.changed.notify_all();
        }
        for handle in self.threads.drain(..) {
            let _ = handle.join();
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.quit();
    }
}

fn work_loop(
    index: u32,
    count: u32,
    shared: &Shared,
    hashes: &AtomicU64,
    found: &mpsc::Sender<Found>,
) {
    let Some(nonces) = nonce_range(index, count) else {
        return;
    };
    let mut seen = 0u64;
    loop {
        let (work, stop) = {
            let mut slot = shared.lock();
            while !slot.quit && slot.generation == seen {
                slot = shared.changed.wait(slot).unwrap_or_else(|p| p.into_inner());
            }
            if slot.quit {
                return;
            }
            seen = slot.generation;
            match &slot.work {
                Some(work) => (work.clone(), slot.stop.clone()),
                None => continue,
            }
        };
        if let Some(nonce) = search(&work.seal_hash, &work.target, nonces.clone(), &stop, hashes) {
            stop.store(true, Ordering::Relaxed);
            // Blocks only while the main loop is behind by a full channel;
            // an error means it has ended, and so will we at `quit`.
            let _ = found.blocking_send(Found { work, nonce });
        }
    }
}

/// A random id for `eth_submitHashrate`, so a node can tell miners apart.
pub fn miner_id() -> B256 {
    B256::from(rand::random::<[u8; 32]>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tally_consensus::pow::{hash::meets_target, pow_hash};
    use tally_primitives::U256;

    fn work(byte: u8, target: U256) -> Work {
        Work {
            seal_hash: B256::repeat_byte(byte),
            target,
            number: Some(1),
        }
    }

    /// The next nonce found for `seal`; a second thread may have found one
    /// for earlier work in the moment before the first one stopped it.
    fn next(rx: &mut mpsc::Receiver<Found>, seal: u8) -> Found {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            match rx.try_recv() {
                Ok(found) if found.work.seal_hash == B256::repeat_byte(seal) => return found,
                Ok(_) => {}
                Err(mpsc::error::TryRecvError::Empty) => {
                    assert!(std::time::Instant::now() < deadline, "no nonce found");
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn finds_a_valid_nonce_for_each_new_work() {
        let (tx, mut rx) = mpsc::channel(4);
        let workers = Workers::start(2, tx).unwrap();
        // One hash in 256 meets it.
        let easy = U256::MAX >> 8;
        for byte in [1u8, 2] {
            workers.set_work(Some(work(byte, easy)));
            let found = next(&mut rx, byte);
            assert!(meets_target(
                &pow_hash(&found.work.seal_hash, found.nonce),
                &easy
            ));
        }
        assert!(workers.hashes() > 0);
        workers.stop();
    }

    #[test]
    fn new_work_stops_a_search_that_cannot_succeed() {
        let (tx, mut rx) = mpsc::channel(4);
        let workers = Workers::start(2, tx).unwrap();
        // Target zero is never met: the threads would search forever.
        workers.set_work(Some(work(3, U256::ZERO)));
        std::thread::sleep(Duration::from_millis(50));
        let before = workers.hashes();
        assert!(before > 0);
        workers.set_work(Some(work(4, U256::MAX)));
        next(&mut rx, 4);
        // Idle without work: the count stands still.
        workers.set_work(None);
        std::thread::sleep(Duration::from_millis(20));
        let idle = workers.hashes();
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(workers.hashes(), idle);
        // Stopping joins the threads, even mid-search.
        workers.set_work(Some(work(5, U256::ZERO)));
        workers.stop();
    }
}
