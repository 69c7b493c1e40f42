//! The `dev` engine: this node alone produces blocks.
//!
//! Instant mode (block time 0) builds a block whenever transactions are
//! pending and no build is under way, so a burst of transactions lands in as
//! few blocks as execution allows. Interval mode builds every `block_time`,
//! empty or not. Every dev block is final as soon as it is the head.
//!
//! With an authority (a chain spec naming the producer's ed25519 key), only
//! the node holding that key builds, it signs each header's seal hash, and
//! every node checks that signature: the rule a multi-node dev network uses
//! until the BFT and PoW engines take over.

use crate::{
    verify_parent_link, ChainView, Effect, Engine, Event, Millis, SealError, Sealer, Weight,
};
use std::sync::{
    atomic::{AtomicBool, AtomicU64, Ordering},
    Arc,
};
use tally_crypto::node_key::{self, NodeKey, NodePublicKey, NodeSignature};
use tally_primitives::{Bytes, Header, SealedHeader, B256};

/// Length of an authority seal: one ed25519 signature.
pub const AUTHORITY_SEAL_LEN: usize = 64;

#[derive(Debug)]
pub struct DevEngine {
    block_time: Millis,
    authority: Option<NodePublicKey>,
    /// Our key, when we are the authority.
    signer: Option<NodeKey>,
    head: Option<(B256, u64)>,
    pending: usize,
    building: bool,
    next_due: Option<Millis>,
}

impl DevEngine {
    /// A single-node engine whose blocks carry no seal. `block_time` 0 means
    /// instant sealing.
    pub fn new(block_time: Millis) -> Self {
        DevEngine {
            block_time,
            authority: None,
            signer: None,
            head: None,
            pending: 0,
            building: false,
            next_due: None,
        }
    }

    /// An engine for a chain whose blocks the `authority` key signs. With
    /// `our_key` equal to the authority this node produces; otherwise it only
    /// verifies.
    pub fn with_authority(
        block_time: Millis,
        authority: &B256,
        our_key: Option<NodeKey>,
    ) -> Result<Self, node_key::NodeKeyError> {
        let public = NodePublicKey::from_bytes(&authority.0).map_err(|e| {
            node_key::NodeKeyError::InvalidPublicKey {
                key: authority.to_string(),
                reason: e.to_string(),
            }
        })?;
        let signer = our_key.filter(|k| k.public() == public);
        Ok(DevEngine {
            authority: Some(public),
            signer,
            ..DevEngine::new(block_time)
        })
    }

    /// Whether this node may build blocks.
    pub fn is_producer(&self) -> bool {
        self.authority.is_none() || self.signer.is_some()
    }

    /// Checks the parent link and the authority's signature.
    pub fn verify_seal(&self, parent: &Header, header: &Header) -> Result<(), SealError> {
        verify_parent_link(parent, header)?;
        if header.bits != 0 {
            return Err(SealError::WrongDifficulty {
                number: header.number,
                found: header.bits,
                expected: 0,
            });
        }
        let bad = |reason: String| SealError::BadSeal {
            number: header.number,
            reason,
        };
        let Some(authority) = &self.authority else {
            if !header.seal.is_empty() {
                return Err(bad(format!(
                    "dev blocks carry no seal, found {} bytes",
                    header.seal.len()
                )));
            }
            return Ok(());
        };
        let bytes: [u8; AUTHORITY_SEAL_LEN] = header.seal.as_ref().try_into().map_err(|_| {
            bad(format!(
                "expected a {AUTHORITY_SEAL_LEN}-byte authority signature, found {} bytes",
                header.seal.len()
            ))
        })?;
        let signature = NodeSignature::from_bytes(&bytes);
        node_key::verify(authority, header.seal_hash().as_slice(), &signature)
            .map_err(|_| bad("not signed by the chain's authority".into()))
    }

    /// Signs `header` as the authority (unchanged on a chain without one).
    pub fn seal(&self, header: Header) -> Result<Header, SealError> {
        seal_with(self.authority.is_some(), self.signer.as_ref(), header)
    }

    fn build(&mut self, now: Millis) -> Vec<Effect> {
        if !self.is_producer() {
            return Vec::new();
        }
        let Some((parent, parent_ts)) = self.head else {
            return Vec::new();
        };
        self.building = true;
        // Whole seconds, never before the parent (several blocks may share a second).
        let timestamp = (now / 1000).max(parent_ts);
        vec![Effect::BuildBlock { parent, timestamp }]
    }
}

fn seal_with(
    signed: bool,
    signer: Option<&NodeKey>,
    mut header: Header,
) -> Result<Header, SealError> {
    if !signed {
        return Ok(header);
    }
    let Some(signer) = signer else {
        return Err(SealError::BadSeal {
            number: header.number,
            reason: "this node does not hold the authority key".into(),
        });
    };
    let signature = signer.sign(header.seal_hash().as_slice());
    header.seal = Bytes::copy_from_slice(&signature.to_bytes());
    Ok(header)
}

/// Seals at once: no seal on a single-node chain, the authority's
/// signature otherwise.
struct DevSealer {
    signer: Option<NodeKey>,
}

impl Sealer for DevSealer {
    fn is_instant(&self) -> bool {
        true
    }

    fn seal(
        &self,
        header: &Header,
        _worker: u32,
        _workers: u32,
        _stop: &AtomicBool,
        hashes: &AtomicU64,
    ) -> Result<Option<Header>, SealError> {
        hashes.fetch_add(1, Ordering::Relaxed);
        seal_with(self.signer.is_some(), self.signer.as_ref(), header.clone()).map(Some)
    }
}

impl Engine for DevEngine {
    fn name(&self) -> &'static str {
        "dev"
    }

    fn verify_header(
        &self,
        _chain: &dyn ChainView,
        parent: &SealedHeader,
        header: &Header,
        _now: Millis,
    ) -> Result<(), SealError> {
        self.verify_seal(parent, header)
    }

    fn sealer(&self) -> Option<Arc<dyn Sealer>> {
        if !self.is_producer() {
            return None;
        }
        Some(Arc::new(DevSealer {
            signer: self.signer.clone(),
        }))
    }

    fn weight(&self, parent_weight: Weight, _header: &Header) -> Weight {
        Weight(parent_weight.0 + 1)
    }

    fn handle(&mut self, event: Event) -> Vec<Effect> {
        match event {
            Event::NewHead {
                number,
                hash,
                timestamp,
                now,
            } => {
                self.head = Some((hash, timestamp));
                self.building = false;
                let mut effects = vec![Effect::Finalize { number, hash }];
                if self.block_time == 0 && self.pending > 0 {
                    effects.extend(self.build(now));
                }
                effects
            }
            Event::PendingTransactions { count, now } => {
                self.pending = count;
                if self.block_time == 0 && count > 0 && !self.building {
                    return self.build(now);
                }
                Vec::new()
            }
            Event::Tick { now } => {
                if self.block_time == 0 {
                    return Vec::new();
                }
                let due = *self.next_due.get_or_insert(now + self.block_time);
                if now < due {
                    return vec![Effect::WakeAt(due)];
                }
                // Skip missed intervals rather than bursting to catch up.
                let mut next = due + self.block_time;
                if next <= now {
                    next = now + self.block_time;
                }
                self.next_due = Some(next);
                let mut effects = if self.building {
                    Vec::new()
                } else {
                    self.build(now)
                };
                effects.push(Effect::WakeAt(next));
                effects
            }
            Event::BuildFailed { now, .. } => {
                self.building = false;
                if self.block_time == 0 && self.pending > 0 {
                    return self.build(now);
                }
                Vec::new()
            }
            Event::PeerMessage { .. } => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(engine: &mut DevEngine, number: u64, now: Millis) -> Vec<Effect> {
        engine.handle(Event::NewHead {
            number,
            hash: B256::with_last_byte(number as u8),
            timestamp: now / 1000,
            now,
        })
    }

    #[test]
    fn instant_mode_builds_once_per_head_while_transactions_wait() {
        let mut e = DevEngine::new(0);
        assert_eq!(
            head(&mut e, 0, 5_000),
            vec![Effect::Finalize {
                number: 0,
                hash: B256::with_last_byte(0)
            }]
        );
        let fx = e.handle(Event::PendingTransactions {
            count: 3,
            now: 6_000,
        });
        assert_eq!(
            fx,
            vec![Effect::BuildBlock {
                parent: B256::with_last_byte(0),
                timestamp: 6
            }]
        );
        // While building, more transactions do not start a second build.
        assert!(e
            .handle(Event::PendingTransactions {
                count: 9,
                now: 6_100
            })
            .is_empty());
        // The new head finalizes and, with work left, builds again.
        let fx = head(&mut e, 1, 6_200);
        assert_eq!(fx.len(), 2);
        assert!(matches!(fx[1], Effect::BuildBlock { timestamp: 6, .. }));
        e.handle(Event::PendingTransactions {
            count: 0,
            now: 6_300,
        });
        assert_eq!(head(&mut e, 2, 6_400).len(), 1);
    }

    #[test]
    fn interval_mode_builds_every_block_time() {
        let mut e = DevEngine::new(1000);
        head(&mut e, 0, 10_000);
        assert_eq!(
            e.handle(Event::Tick { now: 10_000 }),
            vec![Effect::WakeAt(11_000)]
        );
        assert!(e
            .handle(Event::PendingTransactions {
                count: 5,
                now: 10_500
            })
            .is_empty());
        let fx = e.handle(Event::Tick { now: 11_000 });
        assert!(matches!(fx[0], Effect::BuildBlock { timestamp: 11, .. }));
        assert_eq!(fx[1], Effect::WakeAt(12_000));
    }

    #[test]
    fn authority_seals_and_others_verify_but_do_not_build() {
        let key = NodeKey::from_bytes(&[7u8; 32]);
        let authority = B256::from(key.public().to_bytes());
        let mut producer = DevEngine::with_authority(0, &authority, Some(key)).unwrap();
        let mut follower = DevEngine::with_authority(0, &authority, None).unwrap();
        let stranger = NodeKey::from_bytes(&[8u8; 32]);
        let impostor = DevEngine::with_authority(0, &authority, Some(stranger.clone())).unwrap();
        assert!(producer.is_producer() && !follower.is_producer() && !impostor.is_producer());

        head(&mut follower, 0, 1_000);
        assert!(follower
            .handle(Event::PendingTransactions {
                count: 5,
                now: 1_000
            })
            .is_empty());
        head(&mut producer, 0, 1_000);
        assert!(!producer
            .handle(Event::PendingTransactions {
                count: 5,
                now: 1_000
            })
            .is_empty());

        let parent = Header {
            number: 0,
            timestamp: 1,
            ..Default::default()
        };
        let header = Header {
            number: 1,
            timestamp: 1,
            ..Default::default()
        };
        let sealed = producer.seal(header.clone()).unwrap();
        assert_eq!(sealed.seal.len(), AUTHORITY_SEAL_LEN);
        assert!(follower.verify_seal(&parent, &sealed).is_ok());
        // Any change to the sealed fields breaks the signature.
        let altered = Header {
            gas_used: 1,
            ..sealed.clone()
        };
        assert!(follower.verify_seal(&parent, &altered).is_err());
        // A seal by another key, a missing seal, a short seal: all refused.
        let forged = Header {
            seal: Bytes::copy_from_slice(&stranger.sign(header.seal_hash().as_slice()).to_bytes()),
            ..header.clone()
        };
        assert!(follower.verify_seal(&parent, &forged).is_err());
        assert!(follower.verify_seal(&parent, &header).is_err());
        assert!(impostor.seal(header).is_err());
    }

    #[test]
    fn seal_rules() {
        let e = DevEngine::new(0);
        let parent = Header {
            number: 4,
            timestamp: 100,
            ..Default::default()
        };
        let ok = Header {
            number: 5,
            timestamp: 100,
            ..Default::default()
        };
        assert!(e.verify_seal(&parent, &ok).is_ok());
        let gap = Header {
            number: 6,
            ..ok.clone()
        };
        assert!(matches!(
            e.verify_seal(&parent, &gap),
            Err(SealError::BadNumber { .. })
        ));
        let early = Header {
            timestamp: 99,
            ..ok.clone()
        };
        assert!(e.verify_seal(&parent, &early).is_err());
        let sealed = Header {
            seal: vec![1u8].into(),
            ..ok
        };
        assert!(e.verify_seal(&parent, &sealed).is_err());
    }
}
