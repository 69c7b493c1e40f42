//! The proof-of-work engine and its sealer, the nonce search.

use std::sync::{
    atomic::{AtomicBool, AtomicU64},
    Arc,
};

use tally_primitives::{Address, Bytes, Header, PowSpec, SealedHeader, B256, U256};

use super::asert::next_bits;
use super::error::PowError;
use super::hash::{meets_target, nonce_range, pow_hash, search, SEAL_LEN};
use super::reward::block_reward;
use super::target::{target_from_bits, target_to_b256, work, POW_LIMIT};
use crate::{
    median_time_past, verify_parent_link, ChainView, Effect, Engine, Event, Millis, SealError,
    Sealer, Weight,
};

/// What a mining node needs beyond the chain spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinerSettings {
    /// Where this node's block rewards go. The node puts it in the headers
    /// it builds; the engine only needs to know that it mines.
    pub coinbase: Address,
}

/// Checks the parts of a PoW spec the engine's arithmetic relies on.
pub fn validate_spec(spec: &PowSpec) -> Result<(), PowError> {
    if spec.target_block_time_ms < 1000 {
        return Err(PowError::BlockTime {
            ms: spec.target_block_time_ms,
        });
    }
    if spec.halflife_s == 0 {
        return Err(PowError::ZeroHalflife);
    }
    let bits = spec.initial_bits;
    let target = target_from_bits(bits).map_err(|e| PowError::InitialBits {
        bits,
        reason: e.to_string(),
    })?;
    if target.is_zero() {
        return Err(PowError::InitialBits {
            bits,
            reason: "the target is zero: no hash meets it".into(),
        });
    }
    if target > POW_LIMIT {
        return Err(PowError::InitialBits {
            bits,
            reason: format!("the target is easier than the limit {POW_LIMIT:#x}"),
        });
    }
    Ok(())
}

/// Proof of work: SHA-256d under a compact target that ASERT steers toward
/// the spec's block time; the chain with the most cumulative work wins.
#[derive(Debug)]
pub struct PowEngine {
    spec: PowSpec,
    genesis: SealedHeader,
    miner: Option<MinerSettings>,
    /// The canonical head and its timestamp, once the node told us.
    head: Option<(B256, u64)>,
    /// The parent of the build we asked for and have not seen fail: at
    /// most one per head.
    building: Option<B256>,
}

impl PowEngine {
    /// The future-time rule: at most `max_future_s` ahead of `clock_s`.
    fn check_future(&self, header: &Header, clock_s: u64) -> Result<(), SealError> {
        let limit = self.spec.max_future_s;
        if header.timestamp > clock_s.saturating_add(limit) {
            return Err(SealError::TimestampInFuture {
                number: header.number,
                timestamp: header.timestamp,
                now: clock_s,
                limit,
            });
        }
        Ok(())
    }

    /// An engine for the chain starting at `genesis`. With `miner` this
    /// node mines; without, it only verifies.
    ///
    /// Takes the spec as it is: the rules stay total on any spec (an
    /// undecodable `initial_bits` counts as [`POW_LIMIT`], a zero half-life
    /// as one second), but a spec read from outside should go through
    /// [`PowEngine::try_new`], which refuses such specs with a reason.
    pub fn new(spec: PowSpec, genesis: SealedHeader, miner: Option<MinerSettings>) -> Self {
        PowEngine {
            spec,
            genesis,
            miner,
            head: None,
            building: None,
        }
    }

    /// [`PowEngine::new`] after checking the spec ([`validate_spec`]) and
    /// that `genesis` is block 0 carrying the spec's `initial_bits`.
    pub fn try_new(
        spec: PowSpec,
        genesis: SealedHeader,
        miner: Option<MinerSettings>,
    ) -> Result<Self, PowError> {
        validate_spec(&spec)?;
        if genesis.number != 0 {
            return Err(PowError::GenesisNumber {
                number: genesis.number,
            });
        }
        if genesis.bits != spec.initial_bits {
            return Err(PowError::GenesisBits {
                found: genesis.bits,
                expected: spec.initial_bits,
            });
        }
        Ok(PowEngine::new(spec, genesis, miner))
    }

    pub fn spec(&self) -> &PowSpec {
        &self.spec
    }

    pub fn miner(&self) -> Option<&MinerSettings> {
        self.miner.as_ref()
    }

    /// Whether this node mines.
    pub fn is_producer(&self) -> bool {
        self.miner.is_some()
    }

    /// The compact target of the block after `parent`.
    pub fn next_bits(&self, parent: &Header) -> u32 {
        next_bits(&self.spec, &self.genesis, parent)
    }

    fn build(&mut self, now: Millis) -> Vec<Effect> {
        if !self.is_producer() {
            return Vec::new();
        }
        let Some((parent, parent_ts)) = self.head else {
            return Vec::new();
        };
        if self.building == Some(parent) {
            return Vec::new();
        }
        self.building = Some(parent);
        // Whole seconds, never before the parent; `prepare` then lifts it
        // above the median time past if needed.
        let timestamp = (now / 1000).max(parent_ts);
        vec![Effect::BuildBlock { parent, timestamp }]
    }
}

/// Checks `header`'s seal: an 8-byte nonce whose PoW hash meets the target
/// its own `bits` encode. Whether those bits are the right ones is
/// [`Engine::verify_header`]'s business.
pub fn verify_seal(header: &Header) -> Result<(), SealError> {
    let bad = |reason: String| SealError::BadSeal {
        number: header.number,
        reason,
    };
    let nonce: [u8; SEAL_LEN] = header.seal.as_ref().try_into().map_err(|_| {
        bad(format!(
            "expected an {SEAL_LEN}-byte nonce, found {} bytes",
            header.seal.len()
        ))
    })?;
    let target = target_from_bits(header.bits)
        .map_err(|e| bad(format!("undecodable difficulty bits: {e}")))?;
    let hash = pow_hash(&header.seal_hash(), u64::from_be_bytes(nonce));
    if !meets_target(&hash, &target) {
        return Err(bad(format!(
            "hash {hash} above target {}",
            target_to_b256(target)
        )));
    }
    Ok(())
}

/// Searches nonces for the headers a mining node builds: each worker takes
/// a contiguous slice of the 2^64 nonces.
#[derive(Clone, Copy, Debug, Default)]
pub struct PowSealer;

impl Sealer for PowSealer {
    fn is_instant(&self) -> bool {
        false
    }

    fn seal(
        &self,
        header: &Header,
        worker: u32,
        workers: u32,
        stop: &AtomicBool,
        hashes: &AtomicU64,
    ) -> Result<Option<Header>, SealError> {
        let target = target_from_bits(header.bits).map_err(|e| SealError::BadSeal {
            number: header.number,
            reason: format!("cannot mine undecodable difficulty bits: {e}"),
        })?;
        // A worker index past the count has no share: nothing to search.
        let Some(nonces) = nonce_range(worker, workers) else {
            return Ok(None);
        };
        let seal_hash = header.seal_hash();
        Ok(
            search(&seal_hash, &target, nonces, stop, hashes).map(|nonce| Header {
                seal: Bytes::copy_from_slice(&nonce.to_be_bytes()),
                ..header.clone()
            }),
        )
    }

    fn target(&self, header: &Header) -> Option<B256> {
        target_from_bits(header.bits).ok().map(target_to_b256)
    }

    fn with_nonce(&self, header: &Header, nonce: u64) -> Result<Header, SealError> {
        let sealed = Header {
            seal: Bytes::copy_from_slice(&nonce.to_be_bytes()),
            ..header.clone()
        };
        verify_seal(&sealed)?;
        Ok(sealed)
    }
}

impl Engine for PowEngine {
    fn name(&self) -> &'static str {
        "pow"
    }

    fn prepare(
        &self,
        chain: &dyn ChainView,
        parent: &SealedHeader,
        header: &mut Header,
    ) -> Result<(), SealError> {
        header.bits = self.next_bits(parent);
        let median = median_time_past(chain, parent, header.number)?;
        // The timestamp comes in as this node's clock. Blocks found faster
        // than one a second push the median ahead of it; a block too far
        // ahead would be refused by every peer, so wait instead (the node
        // retries the build shortly).
        let clock = header.timestamp;
        header.timestamp = clock.max(parent.timestamp).max(median.saturating_add(1));
        self.check_future(header, clock)
    }

    fn verify_header(
        &self,
        chain: &dyn ChainView,
        parent: &SealedHeader,
        header: &Header,
        now: Millis,
    ) -> Result<(), SealError> {
        verify_parent_link(parent, header)?;
        self.check_future(header, now / 1000)?;
        let expected = self.next_bits(parent);
        if header.bits != expected {
            return Err(SealError::WrongDifficulty {
                number: header.number,
                found: header.bits,
                expected,
            });
        }
        verify_seal(header)?;
        // Last: it reads up to ten ancestors, and a header without valid
        // work should cost no more than two hashes.
        let median = median_time_past(chain, parent, header.number)?;
        if header.timestamp <= median {
            return Err(SealError::TimestampNotAfterMedian {
                number: header.number,
                timestamp: header.timestamp,
                median,
            });
        }
        Ok(())
    }

    fn sealer(&self) -> Option<Arc<dyn Sealer>> {
        self.is_producer()
            .then(|| Arc::new(PowSealer) as Arc<dyn Sealer>)
    }

    fn weight(&self, parent_weight: Weight, header: &Header) -> Weight {
        Weight(parent_weight.0.saturating_add(work(header.bits)))
    }

    fn rewards(&self, header: &Header) -> Vec<(Address, U256)> {
        let reward = block_reward(&self.spec, header.number);
        if reward.is_zero() {
            return Vec::new();
        }
        vec![(header.beneficiary, reward)]
    }

    fn finality_depth(&self) -> u64 {
        self.spec.finality_depth
    }

    fn safe_depth(&self) -> u64 {
        self.spec.safe_depth
    }

    fn handle(&mut self, event: Event) -> Vec<Effect> {
        match event {
            // A new head supersedes any build on the old one (the node
            // cancels that seal): mine on the new head at once.
            Event::NewHead {
                hash,
                timestamp,
                now,
                ..
            } => {
                self.head = Some((hash, timestamp));
                self.build(now)
            }
            Event::BuildFailed { parent, now } => {
                // A failure of a superseded build changes nothing: the
                // current head's build is still running.
                if self.building == Some(parent) {
                    self.building = None;
                }
                self.build(now)
            }
            // The first tick after start: mine if the head is known and no
            // build is under way (later ticks find one running).
            Event::Tick { now } => self.build(now),
            // Mining does not wait for transactions: empty blocks are mined,
            // as in Bitcoin. A later improvement could rebuild the template
            // (and refresh its timestamp) when many transactions arrive
            // while a seal is running.
            Event::PendingTransactions { .. } | Event::PeerMessage { .. } => Vec::new(),
        }
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
