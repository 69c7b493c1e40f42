//! How fast this machine mines, against a plain SHA-256d loop: `tally
//! bench mine` reports both so the miner's overhead shows (the goal is at
//! least 70% of the plain rate).

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tally_primitives::{B256, U256};

use super::hash::search;

/// Hashes per second on one core.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HashRates {
    /// The miner's nonce search ([`super::hash::search`], what `PowSealer` runs).
    pub miner_per_core: f64,
    /// `Sha256::digest(Sha256::digest(input))` over the same 40-byte input.
    pub sha256d_per_core: f64,
}

impl HashRates {
    /// The miner's rate as a fraction of the plain loop's.
    pub fn miner_ratio(&self) -> f64 {
        if self.sha256d_per_core > 0.0 {
            self.miner_per_core / self.sha256d_per_core
        } else {
            0.0
        }
    }
}

/// Slices each loop's time is cut into, alternating the two, so a change
/// of clock speed or a noisy neighbour during the run hits both alike.
const SLICES: u32 = 4;
/// Nonces per call of the search: its setup is negligible next to these.
const MINER_CHUNK: u64 = 1 << 16;
/// Plain hashes between two looks at the clock.
const PLAIN_CHUNK: u64 = 1 << 12;

/// Runs the miner's search and a plain SHA-256d loop on this thread for
/// `duration` each and returns their rates.
pub fn measure(duration: Duration) -> HashRates {
    let slice = duration / SLICES;
    let seal_hash = B256::repeat_byte(0x42);
    let (mut miner, mut plain) = (Tally::default(), Tally::default());
    let mut next_nonce = 0u64;
    for _ in 0..SLICES {
        miner.add(|| {
            let stop = AtomicBool::new(false);
            let hashes = AtomicU64::new(0);
            let deadline = Instant::now() + slice;
            loop {
                // Target zero: no hash meets it, so the search never ends early.
                let nonces = next_nonce..=next_nonce + (MINER_CHUNK - 1);
                black_box(search(&seal_hash, &U256::ZERO, nonces, &stop, &hashes));
                next_nonce += MINER_CHUNK;
                if Instant::now() >= deadline {
                    return hashes.load(Ordering::Relaxed);
                }
            }
        });
        plain.add(|| {
            let mut input = [0u8; 40];
            input[..32].copy_from_slice(seal_hash.as_slice());
            let deadline = Instant::now() + slice;
            let mut count = 0u64;
            loop {
                for _ in 0..PLAIN_CHUNK {
                    input[32..].copy_from_slice(&count.to_be_bytes());
                    black_box(Sha256::digest(Sha256::digest(black_box(&input))));
                    count += 1;
                }
                if Instant::now() >= deadline {
                    return count;
                }
            }
        });
    }
    HashRates {
        miner_per_core: miner.rate(),
        sha256d_per_core: plain.rate(),
    }
}

#[derive(Default)]
struct Tally {
    hashes: u64,
    elapsed: Duration,
}

impl Tally {
    fn add(&mut self, run: impl FnOnce() -> u64) {
        let start = Instant::now();
        self.hashes += run();
        self.elapsed += start.elapsed();
    }

    fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.hashes as f64 / secs
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_both_loops() {
        let rates = measure(Duration::from_millis(40));
        assert!(rates.miner_per_core > 0.0, "{rates:?}");
        assert!(rates.sha256d_per_core > 0.0, "{rates:?}");
        assert!(rates.miner_ratio() > 0.0);
    }

    /// `cargo test -p tally-consensus --release -- --ignored --nocapture`
    #[test]
    #[ignore = "measures this machine for seconds; run by hand with --release"]
    fn report_hash_rates() {
        let rates = measure(Duration::from_secs(4));
        println!(
            "miner {:.0} H/s/core, plain SHA-256d {:.0} H/s/core, ratio {:.2}",
            rates.miner_per_core,
            rates.sha256d_per_core,
            rates.miner_ratio()
        );
        assert!(rates.miner_ratio() >= 0.7, "{rates:?}");
    }
}
