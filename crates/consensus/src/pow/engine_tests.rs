use super::*;
use crate::pow::target::{target_from_bits, POW_LIMIT_BITS};
use crate::MapView;
use std::sync::atomic::Ordering;

const GENESIS_TIME: u64 = 1_700_000_000;
/// One hash in about 256 meets this target: mining is instant, yet an
/// arbitrary nonce almost never passes.
const TEST_BITS: u32 = 0x2000_ffff;

fn spec(initial_bits: u32) -> PowSpec {
    PowSpec {
        target_block_time_ms: 2000,
        initial_bits,
        halflife_s: 16,
        max_future_s: 15,
        ..PowSpec::default()
    }
}

fn genesis(spec: &PowSpec) -> SealedHeader {
    Header {
        number: 0,
        timestamp: GENESIS_TIME,
        bits: spec.initial_bits,
        ..Default::default()
    }
    .seal_slow()
}

fn miner() -> Option<MinerSettings> {
    Some(MinerSettings {
        coinbase: Address::repeat_byte(0xcb),
    })
}

fn engine(initial_bits: u32, miner: Option<MinerSettings>) -> PowEngine {
    let s = spec(initial_bits);
    PowEngine::try_new(s.clone(), genesis(&s), miner).unwrap()
}

fn mine(header: &Header) -> Header {
    PowSealer
        .seal(header, 0, 1, &AtomicBool::new(false), &AtomicU64::new(0))
        .unwrap()
        .expect("an easy target is met within 2^64 nonces")
}

/// Blocks after genesis with these timestamps (taken as they are, even
/// where `prepare` would lift them), the rule's bits, mined.
fn chain(e: &PowEngine, timestamps: impl IntoIterator<Item = u64>) -> (MapView, Vec<SealedHeader>) {
    let mut view = MapView::default();
    let mut blocks = vec![e.genesis.clone()];
    view.insert(e.genesis.clone());
    for timestamp in timestamps {
        let parent = blocks.last().unwrap().clone();
        let sealed = mine(&Header {
            parent_hash: parent.hash,
            number: parent.number + 1,
            timestamp,
            beneficiary: Address::repeat_byte(0xcb),
            bits: e.next_bits(&parent),
            ..Default::default()
        })
        .seal_slow();
        view.insert(sealed.clone());
        blocks.push(sealed);
    }
    (view, blocks)
}

/// Timestamps of blocks 1..=len exactly on the 2-second schedule.
fn on_schedule(len: u64) -> Vec<u64> {
    (1..=len).map(|n| GENESIS_TIME + 2 * n).collect()
}

/// The next block on `blocks`, prepared and mined, and the time it verifies at.
fn next_block(e: &PowEngine, view: &MapView, blocks: &[SealedHeader]) -> (Header, Millis) {
    let parent = blocks.last().unwrap();
    let mut header = Header {
        parent_hash: parent.hash,
        number: parent.number + 1,
        timestamp: parent.timestamp + 2,
        ..Default::default()
    };
    e.prepare(view, parent, &mut header).unwrap();
    let now = header.timestamp * 1000;
    (mine(&header), now)
}

#[test]
fn new_refuses_specs_it_cannot_run() {
    let ok = spec(TEST_BITS);
    let g = genesis(&ok);
    let err = |s: PowSpec, g: SealedHeader| PowEngine::try_new(s, g, None).unwrap_err();
    assert_eq!(
        err(spec(0x1f00_ffff), g.clone()),
        PowError::GenesisBits {
            found: TEST_BITS,
            expected: 0x1f00_ffff
        }
    );
    let not_genesis = Header {
        number: 3,
        ..g.header.clone()
    }
    .seal_slow();
    assert_eq!(
        err(ok.clone(), not_genesis),
        PowError::GenesisNumber { number: 3 }
    );
    let fast = PowSpec {
        target_block_time_ms: 500,
        ..ok.clone()
    };
    assert_eq!(err(fast, g.clone()), PowError::BlockTime { ms: 500 });
    let no_halflife = PowSpec {
        halflife_s: 0,
        ..ok.clone()
    };
    assert_eq!(err(no_halflife, g.clone()), PowError::ZeroHalflife);
    for bits in [0x0492_3456u32, 0xff12_3456, 0, 0x2100_ffff] {
        let s = spec(bits);
        let e = err(s.clone(), genesis(&s));
        assert!(matches!(e, PowError::InitialBits { .. }), "{bits:#x}: {e}");
        assert!(e.to_string().contains(&format!("{bits:#010x}")), "{e}");
    }
    assert!(PowEngine::try_new(PowSpec::default(), genesis(&PowSpec::default()), None).is_ok());
}

#[test]
fn engine_basics() {
    let e = engine(TEST_BITS, None);
    assert_eq!(e.name(), "pow");
    assert_eq!(e.finality_depth(), PowSpec::default().finality_depth);
    assert_eq!(e.safe_depth(), PowSpec::default().safe_depth);
    assert!(e.sealer().is_none());
    let m = engine(TEST_BITS, miner());
    assert!(!m.sealer().unwrap().is_instant());
    assert_eq!(m.miner().unwrap().coinbase, Address::repeat_byte(0xcb));

    let header = Header {
        number: 7,
        bits: 0x1d00_ffff,
        beneficiary: Address::repeat_byte(9),
        ..Default::default()
    };
    assert_eq!(e.weight(Weight(5), &header), Weight(5 + 0x1_0001_0001));
    assert_eq!(e.weight(Weight(u128::MAX - 1), &header), Weight(u128::MAX));
    assert_eq!(
        e.rewards(&header),
        vec![(Address::repeat_byte(9), PowSpec::default().block_reward)]
    );
    let spent = PowEngine::new(
        PowSpec {
            halving_interval: 1,
            ..spec(TEST_BITS)
        },
        genesis(&spec(TEST_BITS)),
        None,
    );
    let late = Header {
        number: 300,
        ..header
    };
    assert!(spent.rewards(&late).is_empty());
}

#[test]
fn prepare_sets_bits_and_lifts_the_timestamp_above_the_median() {
    let e = engine(TEST_BITS, miner());
    // Behind schedule, so the rule makes the target easier than the initial one.
    let (view, blocks) = chain(&e, (1..=12).map(|n| GENESIS_TIME + 3 * n));
    let parent = blocks.last().unwrap();
    // A clock far behind the chain: the block would be too far ahead of
    // it, so prepare refuses rather than build a block peers refuse.
    let mut header = Header {
        parent_hash: parent.hash,
        number: 13,
        timestamp: 0,
        bits: 0,
        ..Default::default()
    };
    assert!(matches!(
        e.prepare(&view, parent, &mut header),
        Err(SealError::TimestampInFuture { .. })
    ));
    header.timestamp = parent.timestamp - 2;
    e.prepare(&view, parent, &mut header).unwrap();
    assert_eq!(header.bits, e.next_bits(parent));
    assert_ne!(header.bits, TEST_BITS);
    // A timestamp before the parent's is raised to it (the median of the
    // last 11, +21, is lower).
    assert_eq!(header.timestamp, parent.timestamp);
    // A later timestamp is kept.
    header.timestamp = GENESIS_TIME + 100;
    e.prepare(&view, parent, &mut header).unwrap();
    assert_eq!(header.timestamp, GENESIS_TIME + 100);

    // Eleven blocks in one second: the median is that second, so the next
    // block must be a second later than its parent.
    let (view, blocks) = chain(&e, [GENESIS_TIME + 10; 11]);
    let parent = blocks.last().unwrap();
    let mut header = Header {
        parent_hash: parent.hash,
        number: 12,
        timestamp: GENESIS_TIME + 10,
        ..Default::default()
    };
    e.prepare(&view, parent, &mut header).unwrap();
    assert_eq!(header.timestamp, GENESIS_TIME + 11);
}

#[test]
fn a_mined_chain_verifies() {
    for bits in [TEST_BITS, POW_LIMIT_BITS] {
        let e = engine(bits, None);
        let (mut view, mut blocks) = chain(&e, []);
        // Blocks as a miner makes them: prepared, then sealed by PowSealer.
        for _ in 0..15 {
            let (header, now) = next_block(&e, &view, &blocks);
            e.verify_header(&view, blocks.last().unwrap(), &header, now)
                .unwrap();
            let sealed = header.seal_slow();
            view.insert(sealed.clone());
            blocks.push(sealed);
        }
        // On schedule, so every block has the initial bits.
        assert!(blocks.iter().all(|b| b.bits == bits));
    }
}

#[test]
fn verify_header_refuses_each_broken_rule() {
    let e = engine(TEST_BITS, None);
    let (view, blocks) = chain(&e, on_schedule(12));
    let parent = blocks.last().unwrap();
    let (good, now) = next_block(&e, &view, &blocks);
    let verify = |h: &Header| e.verify_header(&view, parent, h, now);
    verify(&good).unwrap();

    // Seal: a nonce whose hash is above the target.
    let target = target_from_bits(good.bits).unwrap();
    let bad_nonce = (0u64..)
        .find(|n| !meets_target(&pow_hash(&good.seal_hash(), *n), &target))
        .unwrap();
    let unsealed = Header {
        seal: Bytes::copy_from_slice(&bad_nonce.to_be_bytes()),
        ..good.clone()
    };
    match verify(&unsealed) {
        Err(SealError::BadSeal { reason, .. }) => {
            assert!(reason.contains("above target"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    // Changing a sealed field invalidates the work (almost surely).
    let tampered = Header {
        gas_used: 1,
        ..good.clone()
    };
    assert!(matches!(verify(&tampered), Err(SealError::BadSeal { .. })));

    // Seal length: empty, short, long.
    for len in [0usize, 7, 9] {
        let wrong = Header {
            seal: vec![0u8; len].into(),
            ..good.clone()
        };
        match verify(&wrong) {
            Err(SealError::BadSeal { reason, .. }) => {
                assert!(reason.contains(&format!("found {len} bytes")), "{reason}")
            }
            other => panic!("{len}: {other:?}"),
        }
    }

    // Bits other than the rule's, even easier ones with valid work.
    let easier = mine(&Header {
        bits: POW_LIMIT_BITS,
        ..good.clone()
    });
    assert_eq!(
        verify(&easier),
        Err(SealError::WrongDifficulty {
            number: 13,
            found: POW_LIMIT_BITS,
            expected: good.bits
        })
    );

    // More than max_future_s ahead of our clock.
    let future = mine(&Header {
        timestamp: now / 1000 + 16,
        ..good.clone()
    });
    assert_eq!(
        verify(&future),
        Err(SealError::TimestampInFuture {
            number: 13,
            timestamp: now / 1000 + 16,
            now: now / 1000,
            limit: 15
        })
    );
    // Exactly at the limit is fine.
    let at_limit = mine(&Header {
        timestamp: now / 1000 + 15,
        ..good.clone()
    });
    verify(&at_limit).unwrap();

    // Not above the median time past (but not before the parent either).
    let (same_view, same) = chain(&e, [GENESIS_TIME + 10; 11]);
    let last = same.last().unwrap();
    let stale = mine(&Header {
        parent_hash: last.hash,
        number: 12,
        timestamp: GENESIS_TIME + 10,
        bits: e.next_bits(last),
        ..Default::default()
    });
    assert_eq!(
        e.verify_header(&same_view, last, &stale, now),
        Err(SealError::TimestampNotAfterMedian {
            number: 12,
            timestamp: GENESIS_TIME + 10,
            median: GENESIS_TIME + 10
        })
    );
    let fresh = mine(&Header {
        timestamp: GENESIS_TIME + 11,
        ..stale
    });
    e.verify_header(&same_view, last, &fresh, now).unwrap();

    // The parent link.
    let gap = Header {
        number: 14,
        ..good.clone()
    };
    assert!(matches!(verify(&gap), Err(SealError::BadNumber { .. })));
    let before_parent = Header {
        timestamp: parent.timestamp - 1,
        ..good.clone()
    };
    assert!(matches!(
        verify(&before_parent),
        Err(SealError::TimestampBeforeParent { .. })
    ));

    // A missing ancestor is reported, not guessed around.
    let mut holes = view.clone();
    holes.0.remove(&blocks[5].hash);
    assert!(matches!(
        e.verify_header(&holes, parent, &good, now),
        Err(SealError::UnknownAncestor { .. })
    ));
}

#[test]
fn sealer_targets_nonces_and_workers() {
    let sealer = PowSealer;
    let header = Header {
        number: 1,
        bits: TEST_BITS,
        ..Default::default()
    };
    let target = target_from_bits(TEST_BITS).unwrap();
    assert_eq!(sealer.target(&header), Some(target_to_b256(target)));
    assert_eq!(
        sealer.target(&Header {
            bits: 0xff12_3456,
            ..Default::default()
        }),
        None
    );

    // Worker 3 of 4 searches the top quarter of the nonces.
    let hashes = AtomicU64::new(0);
    let found = sealer
        .seal(&header, 3, 4, &AtomicBool::new(false), &hashes)
        .unwrap()
        .unwrap();
    let nonce = u64::from_be_bytes(found.seal.as_ref().try_into().unwrap());
    assert!(nonce >= 3 << 62, "{nonce:#x}");
    assert_eq!(hashes.load(Ordering::Relaxed), nonce - (3 << 62) + 1);
    assert!(verify_seal(&found).is_ok());
    assert_eq!(
        Header {
            seal: Bytes::new(),
            ..found.clone()
        },
        header
    );

    // External work: the found nonce is accepted, a bad one refused.
    assert_eq!(sealer.with_nonce(&header, nonce).unwrap(), found);
    let bad = (0u64..)
        .find(|n| !meets_target(&pow_hash(&header.seal_hash(), *n), &target))
        .unwrap();
    assert!(matches!(
        sealer.with_nonce(&header, bad),
        Err(SealError::BadSeal { .. })
    ));

    // Stopped, or no share of the nonces: nothing found, no error.
    let stopped = AtomicBool::new(true);
    assert_eq!(sealer.seal(&header, 0, 1, &stopped, &hashes), Ok(None));
    let go = AtomicBool::new(false);
    assert_eq!(sealer.seal(&header, 4, 4, &go, &hashes), Ok(None));
    // Undecodable bits: an error naming them.
    let broken = Header {
        bits: 0x0492_3456,
        ..header
    };
    match sealer.seal(&broken, 0, 1, &go, &hashes) {
        Err(SealError::BadSeal { reason, .. }) => {
            assert!(reason.contains("0x04923456"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

fn new_head(number: u8, timestamp: u64, now: Millis) -> Event {
    Event::NewHead {
        number: u64::from(number),
        hash: B256::with_last_byte(number),
        timestamp,
        now,
    }
}

fn build(parent: u8, timestamp: u64) -> Vec<Effect> {
    vec![Effect::BuildBlock {
        parent: B256::with_last_byte(parent),
        timestamp,
    }]
}

#[test]
fn a_miner_keeps_one_build_per_head() {
    let mut e = engine(TEST_BITS, miner());
    // (event, expected effects), in order.
    let table: Vec<(Event, Vec<Effect>)> = vec![
        // No head yet: nothing to build on.
        (Event::Tick { now: 1_000 }, vec![]),
        (new_head(0, 100, 200_500), build(0, 200)),
        // The start-up tick finds the build already running.
        (Event::Tick { now: 200_600 }, vec![]),
        // The same head again does not start a second build.
        (new_head(0, 100, 200_700), vec![]),
        // Mining does not wait for (or restart on) transactions.
        (
            Event::PendingTransactions {
                count: 50,
                now: 200_800,
            },
            vec![],
        ),
        // A new head supersedes; a head from the future keeps its time.
        (new_head(1, 205, 201_000), build(1, 205)),
        // The superseded build's failure changes nothing.
        (
            Event::BuildFailed {
                parent: B256::with_last_byte(0),
                now: 201_100,
            },
            vec![],
        ),
        // The current build's failure starts another.
        (
            Event::BuildFailed {
                parent: B256::with_last_byte(1),
                now: 206_000,
            },
            build(1, 206),
        ),
        (
            Event::PeerMessage {
                from: vec![1],
                payload: vec![2],
            },
            vec![],
        ),
        // A reorg back to an earlier head builds on it again.
        (new_head(0, 100, 207_000), build(0, 207)),
    ];
    for (i, (event, expected)) in table.into_iter().enumerate() {
        assert_eq!(e.handle(event.clone()), expected, "step {i}: {event:?}");
    }
}

#[test]
fn a_verifying_node_never_builds() {
    let mut e = engine(TEST_BITS, None);
    for event in [
        Event::Tick { now: 1_000 },
        new_head(0, 1, 1_000),
        Event::Tick { now: 2_000 },
        Event::BuildFailed {
            parent: B256::with_last_byte(0),
            now: 3_000,
        },
        Event::PendingTransactions {
            count: 1,
            now: 3_000,
        },
    ] {
        assert!(e.handle(event).is_empty());
    }
}
