//! The PoW hash, SHA-256d over a header's seal hash and a nonce, and the
//! nonce search the miner's threads run.
//!
//! The input is 40 bytes (32-byte seal hash, 8-byte big-endian nonce), so
//! each SHA-256 is a single 64-byte block whose padding never changes. The
//! search keeps both blocks in place, rewrites only the nonce bytes and the
//! first digest, and calls SHA-256's block function directly: no
//! allocation, no buffering, no padding work per hash. (The nonce sits in
//! the only block, so there is no block-level midstate to reuse; the
//! `sha2` API offers none at round level.) The result stays in SHA-256's
//! state words and is compared with the target's words as they are.

use std::ops::RangeInclusive;
use std::slice;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use sha2::compress256;
use sha2::digest::{consts::U64, generic_array::GenericArray};
use tally_primitives::{B256, U256};

use super::target::target_words;

pub use tally_verify::pow::SEAL_LEN;

/// Hashes between two looks at the stop flag and two additions to the hash
/// counter: atomics are slow next to a hash, and at a few million hashes a
/// second a stop still lands within about a millisecond.
pub const BATCH: u64 = 4096;

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
const H0: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

type Block = GenericArray<u8, U64>;

/// SHA-256d of `seal_hash ‖ nonce` with the padded blocks kept between hashes.
struct Sha256d {
    /// seal hash (0..32), nonce (32..40), 0x80, zeros, bit length 320.
    first: Block,
    /// first digest (0..32), 0x80, zeros, bit length 256.
    second: Block,
}

impl Sha256d {
    fn new(seal_hash: &B256) -> Self {
        let mut first = Block::default();
        first[..32].copy_from_slice(seal_hash.as_slice());
        first[40] = 0x80;
        first[56..].copy_from_slice(&320u64.to_be_bytes());
        let mut second = Block::default();
        second[32] = 0x80;
        second[56..].copy_from_slice(&256u64.to_be_bytes());
        Sha256d { first, second }
    }

    /// The hash as SHA-256 state words: word 0 holds the most significant
    /// bytes of the big-endian result.
    #[inline(always)]
    fn hash(&mut self, nonce: u64) -> [u32; 8] {
        self.first[32..40].copy_from_slice(&nonce.to_be_bytes());
        let mut state = H0;
        compress256(&mut state, slice::from_ref(&self.first));
        for (chunk, word) in self.second[..32].chunks_exact_mut(4).zip(state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        let mut state = H0;
        compress256(&mut state, slice::from_ref(&self.second));
        state
    }
}

fn words_to_b256(words: [u32; 8]) -> B256 {
    let mut out = B256::ZERO;
    for (chunk, word) in out.0.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// The PoW hash of a header with this seal hash and nonce:
/// SHA-256(SHA-256(seal_hash ‖ nonce as 8 bytes big-endian)), as
/// [`tally_verify::pow::pow_hash`] computes it the plain way.
pub fn pow_hash(seal_hash: &B256, nonce: u64) -> B256 {
    words_to_b256(Sha256d::new(seal_hash).hash(nonce))
}

pub use tally_verify::pow::meets_target;

/// The first nonce in `nonces` (in order) whose PoW hash meets `target`,
/// or `None` once `stop` is set or the range is exhausted. Adds the hashes
/// tried to `hashes` every [`BATCH`] hashes and on return.
pub fn search(
    seal_hash: &B256,
    target: &U256,
    nonces: RangeInclusive<u64>,
    stop: &AtomicBool,
    hashes: &AtomicU64,
) -> Option<u64> {
    let target = target_words(*target);
    let mut sha = Sha256d::new(seal_hash);
    let (mut start, last) = nonces.into_inner();
    if start > last {
        return None;
    }
    loop {
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        let end = last.min(start.saturating_add(BATCH - 1));
        let mut nonce = start;
        loop {
            // Arrays compare lexicographically: word by word from the most
            // significant, exactly the big-endian number comparison.
            if sha.hash(nonce) <= target {
                hashes.fetch_add(nonce - start + 1, Ordering::Relaxed);
                return Some(nonce);
            }
            if nonce == end {
                break;
            }
            nonce += 1;
        }
        hashes.fetch_add(end - start + 1, Ordering::Relaxed);
        if end == last {
            return None;
        }
        start = end + 1;
    }
}

/// Worker `worker`'s share of the 2^64 nonces when `workers` split them
/// into contiguous ranges; `None` when the worker has no share (an index
/// past the count).
pub fn nonce_range(worker: u32, workers: u32) -> Option<RangeInclusive<u64>> {
    let workers = u128::from(workers.max(1));
    let worker = u128::from(worker);
    if worker >= workers {
        return None;
    }
    let span = 1u128 << 64;
    let start = span * worker / workers;
    let end = span * (worker + 1) / workers - 1;
    Some(u64::try_from(start).ok()?..=u64::try_from(end).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The plain hash the offline proof checker computes: the miner's fast
    /// one must agree with it.
    fn reference(seal_hash: &B256, nonce: u64) -> B256 {
        tally_verify::pow::pow_hash(seal_hash, nonce)
    }

    #[test]
    fn fast_pow_hash_equals_the_checkers_plain_one() {
        for (seal, nonce) in [
            (B256::ZERO, 0u64),
            (B256::repeat_byte(0xab), 1),
            (B256::with_last_byte(7), u64::MAX),
            (B256::repeat_byte(0x11), 0x0102_0304_0506_0708),
        ] {
            assert_eq!(pow_hash(&seal, nonce), reference(&seal, nonce));
        }
        // A reused hasher (the search's state between nonces) agrees too.
        let seal = B256::repeat_byte(0x5a);
        let mut sha = Sha256d::new(&seal);
        for nonce in [9u64, 3, u64::MAX, 0] {
            assert_eq!(words_to_b256(sha.hash(nonce)), reference(&seal, nonce));
        }
    }

    proptest! {
        #[test]
        fn fast_and_plain_agree_on_any_input(seal in any::<[u8; 32]>(), nonce in any::<u64>()) {
            let seal = B256::from(seal);
            prop_assert_eq!(pow_hash(&seal, nonce), reference(&seal, nonce));
        }
    }

    #[test]
    fn search_finds_the_first_nonce_that_meets_the_target() {
        let seal = B256::repeat_byte(3);
        // A target one hash in 256 meets.
        let target = U256::MAX >> 8;
        let stop = AtomicBool::new(false);
        let hashes = AtomicU64::new(0);
        let found = search(&seal, &target, 0..=u64::MAX, &stop, &hashes).unwrap();
        assert!(meets_target(&pow_hash(&seal, found), &target));
        assert!((0..found).all(|n| !meets_target(&pow_hash(&seal, n), &target)));
        assert_eq!(hashes.load(Ordering::Relaxed), found + 1);
    }

    #[test]
    fn search_stops_and_counts_in_batches() {
        let seal = B256::repeat_byte(4);
        let stop = AtomicBool::new(false);
        let hashes = AtomicU64::new(0);
        // Target zero is never met: the range runs out.
        assert_eq!(
            search(&seal, &U256::ZERO, 10..=(10 + 3 * BATCH), &stop, &hashes),
            None
        );
        assert_eq!(hashes.load(Ordering::Relaxed), 3 * BATCH + 1);
        // Stopped before it starts: no hash at all.
        stop.store(true, Ordering::Relaxed);
        assert_eq!(search(&seal, &U256::MAX, 0..=5, &stop, &hashes), None);
        assert_eq!(hashes.load(Ordering::Relaxed), 3 * BATCH + 1);
        // An empty range and the last nonce.
        let go = AtomicBool::new(false);
        #[allow(clippy::reversed_empty_ranges)]
        let empty = 5..=4;
        assert_eq!(search(&seal, &U256::MAX, empty, &go, &hashes), None);
        assert_eq!(
            search(&seal, &U256::MAX, u64::MAX..=u64::MAX, &go, &hashes),
            Some(u64::MAX)
        );
    }

    #[test]
    fn nonce_ranges_partition_the_space() {
        assert_eq!(nonce_range(0, 1), Some(0..=u64::MAX));
        assert_eq!(nonce_range(0, 0), Some(0..=u64::MAX));
        assert_eq!(nonce_range(1, 1), None);
        for workers in [2u32, 3, 7, 64] {
            let ranges: Vec<_> = (0..workers)
                .map(|w| nonce_range(w, workers).unwrap())
                .collect();
            assert_eq!(*ranges[0].start(), 0);
            assert_eq!(*ranges.last().unwrap().end(), u64::MAX);
            for pair in ranges.windows(2) {
                assert_eq!(*pair[0].end() + 1, *pair[1].start());
            }
        }
    }
}
