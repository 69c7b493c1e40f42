//! The `dev` engine: this node alone produces blocks.
//!
//! Instant mode (block time 0) builds a block whenever transactions are
//! pending and no build is under way, so a burst of transactions lands in as
//! few blocks as execution allows. Interval mode builds every `block_time`,
//! empty or not. Every dev block is final as soon as it is the head.

use crate::{verify_parent_link, Effect, Engine, Event, Millis, SealError, Weight};
use tally_primitives::{Header, B256};

#[derive(Debug)]
pub struct DevEngine {
    block_time: Millis,
    head: Option<(B256, u64)>,
    pending: usize,
    building: bool,
    next_due: Option<Millis>,
}

impl DevEngine {
    /// `block_time` 0 means instant sealing.
    pub fn new(block_time: Millis) -> Self {
        DevEngine {
            block_time,
            head: None,
            pending: 0,
            building: false,
            next_due: None,
        }
    }

    fn build(&mut self, now: Millis) -> Vec<Effect> {
        let Some((parent, parent_ts)) = self.head else {
            return Vec::new();
        };
        self.building = true;
        // Whole seconds, never before the parent (several blocks may share a second).
        let timestamp = (now / 1000).max(parent_ts);
        vec![Effect::BuildBlock { parent, timestamp }]
    }
}

impl Engine for DevEngine {
    fn name(&self) -> &'static str {
        "dev"
    }

    fn verify_seal(&self, parent: &Header, header: &Header) -> Result<(), SealError> {
        verify_parent_link(parent, header)?;
        if !header.seal.is_empty() {
            return Err(SealError::BadSeal {
                number: header.number,
                reason: format!(
                    "dev blocks carry no seal, found {} bytes",
                    header.seal.len()
                ),
            });
        }
        Ok(())
    }

    fn seal(&mut self, header: Header) -> Result<Header, SealError> {
        Ok(header)
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
