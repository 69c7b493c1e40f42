//! The planner against simulated peers: responses in random order, short
//! answers, failures, lying peers; blocks must come out complete and in order.

use super::*;
use proptest::prelude::*;
use rand::{rngs::StdRng, Rng, SeedableRng};

#[derive(Debug, Clone, PartialEq)]
struct N(u64);

impl Numbered for N {
    fn number(&self) -> u64 {
        self.0
    }
}

fn config() -> SyncConfig {
    SyncConfig {
        range_size: 16,
        max_in_flight_per_peer: 2,
        max_ahead: 100,
    }
}

/// Drives `sync` to completion against peers that answer honestly but in
/// random order, sometimes short, sometimes failing; returns imported numbers.
fn run(sync: &mut RangeSync<u8, N>, seed: u64, peer_heads: &[u64]) -> Vec<u64> {
    let mut rng = StdRng::seed_from_u64(seed);
    for (i, h) in peer_heads.iter().enumerate() {
        sync.peer_head(i as u8, *h);
    }
    let mut outstanding: Vec<Request<u8>> = Vec::new();
    let mut imported = Vec::new();
    for _ in 0..100_000 {
        outstanding.extend(sync.requests());
        assert!(sync.buffered() as u64 <= sync.config.max_ahead + sync.config.range_size);
        if outstanding.is_empty() {
            break;
        }
        let r = outstanding.swap_remove(rng.gen_range(0..outstanding.len()));
        let have = peer_heads[r.peer as usize];
        match rng.gen_range(0..10) {
            0 => sync.on_failure(&r.peer, r.start),
            _ => {
                let end = (r.start + r.count).min(have + 1);
                // A peer capping its answer by size still sends one block.
                let full = end.saturating_sub(r.start);
                let short = if rng.gen_bool(0.2) {
                    full.div_ceil(2)
                } else {
                    full
                };
                let blocks = (r.start..r.start + short).map(N).collect();
                sync.on_response(&r.peer, r.start, blocks).unwrap();
            }
        }
        // Runs of random size; now and then the node stops partway (its own
        // fault, say a shutdown) and gives the untried blocks back.
        loop {
            let parts = sync.next_run(rng.gen_range(1..60), |_| 1);
            if parts.is_empty() {
                break;
            }
            let total: usize = parts.iter().map(|(_, b)| b.len()).sum();
            let stop_at = rng.gen_bool(0.1).then(|| rng.gen_range(0..total));
            let mut seen = 0;
            let mut stopped = false;
            for (peer, blocks) in parts {
                if stopped {
                    sync.give_back(peer, blocks);
                    continue;
                }
                for (i, b) in blocks.iter().enumerate() {
                    if stop_at == Some(seen) {
                        sync.give_back(peer, blocks[i..].to_vec());
                        stopped = true;
                        break;
                    }
                    assert_eq!(b.0, sync.progress().current + 1, "imported out of order");
                    imported.push(b.0);
                    sync.on_imported(b.0);
                    seen += 1;
                }
            }
        }
    }
    imported
}

#[test]
fn catches_up_in_order_from_several_peers() {
    let mut sync = RangeSync::new(10, config());
    let imported = run(&mut sync, 7, &[500, 300, 500]);
    assert_eq!(imported, (11..=500).collect::<Vec<_>>());
    let p = sync.progress();
    assert_eq!((p.starting, p.current, p.highest), (10, 500, 500));
    assert!(!p.is_syncing());
}

#[test]
fn nothing_to_do_when_no_peer_is_ahead() {
    let mut sync: RangeSync<u8, N> = RangeSync::new(50, config());
    sync.peer_head(1, 40);
    sync.peer_head(2, 50);
    assert!(sync.requests().is_empty());
    assert!(!sync.progress().is_syncing());
}

#[test]
fn downloads_no_further_than_max_ahead() {
    let mut sync: RangeSync<u8, N> = RangeSync::new(0, config());
    for p in 0..20 {
        sync.peer_head(p, 10_000);
    }
    let reqs = sync.requests();
    let last = reqs.iter().map(|r| r.start + r.count - 1).max().unwrap();
    assert!(last <= 100 + 16, "asked up to {last}");
}

#[test]
fn refuses_answers_that_do_not_fit_the_request_and_asks_again() {
    let mut sync: RangeSync<u8, N> = RangeSync::new(0, config());
    sync.peer_head(1, 16);
    let r = sync.requests().remove(0);
    assert_eq!((r.start, r.count), (1, 16));
    assert_eq!(
        sync.on_response(&1, 1, vec![N(1), N(3)]),
        Err(ResponseFault::WrongNumber {
            expected: 2,
            got: 3
        })
    );
    assert_eq!(
        sync.on_response(&1, 1, vec![N(1)]),
        Err(ResponseFault::NotRequested { start: 1 })
    );
    sync.peer_head(2, 16);
    let again = sync.requests();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].start, again[0].count), (1, 16));
    let too_many = (1..=17).map(N).collect();
    assert!(matches!(
        sync.on_response(&again[0].peer, 1, too_many),
        Err(ResponseFault::TooMany {
            requested: 16,
            got: 17
        })
    ));
}

#[test]
fn a_peer_leaving_hands_its_ranges_to_others() {
    let mut sync: RangeSync<u8, N> = RangeSync::new(0, config());
    sync.peer_head(1, 32);
    let first = sync.requests();
    assert!(first.iter().all(|r| r.peer == 1));
    sync.remove_peer(&1);
    sync.peer_head(2, 32);
    let second = sync.requests();
    let covered: u64 = second.iter().map(|r| r.count).sum();
    assert_eq!(covered, 32);
    assert!(second.iter().all(|r| r.peer == 2));
}

#[test]
fn a_refused_batch_is_fetched_from_another_peer() {
    let mut sync: RangeSync<u8, N> = RangeSync::new(0, config());
    sync.peer_head(1, 16);
    let r = sync.requests().remove(0);
    sync.on_response(&1, r.start, (1..=16).map(N).collect())
        .unwrap();
    let (peer, blocks) = sync.next_ready().unwrap();
    assert_eq!((peer, blocks.len()), (1, 16));
    // Block 5 failed to import; 1..=4 went in.
    sync.on_imported(4);
    sync.on_import_failed(&1, 5, 12);
    assert!(
        sync.requests().is_empty(),
        "the bad peer is not asked again"
    );
    sync.peer_head(2, 16);
    let r = sync.requests().remove(0);
    assert_eq!((r.peer, r.start, r.count), (2, 5, 12));
}

#[test]
fn a_run_joins_consecutive_ranges_and_cuts_at_its_weight() {
    let mut sync: RangeSync<u8, N> = RangeSync::new(0, config());
    sync.peer_head(1, 64);
    sync.peer_head(2, 64);
    for r in sync.requests() {
        let blocks = (r.start..r.start + r.count).map(N).collect();
        sync.on_response(&r.peer, r.start, blocks).unwrap();
    }
    // Blocks weigh their number: 1 + 2 + ... + 20 = 210 reaches 200.
    let run = sync.next_run(200, |b| b.0);
    let numbers: Vec<u64> = run
        .iter()
        .flat_map(|(_, b)| b.iter().map(|n| n.0))
        .collect();
    assert_eq!(numbers, (1..=20).collect::<Vec<_>>());
    assert!(run.len() >= 2, "ranges of 16 from two peers are joined");
    // Block 18 is refused: 1..=17 are in, the rest waits or is asked again.
    sync.on_imported(17);
    let (bad_peer, bad) = run
        .iter()
        .find(|(_, b)| b.iter().any(|n| n.0 == 18))
        .cloned()
        .unwrap();
    let end = bad.last().unwrap().0;
    sync.on_import_failed(&bad_peer, 18, end - 17);
    let next: Vec<u64> = sync
        .next_run(1_000, |_| 1)
        .iter()
        .flat_map(|(_, b)| b.iter().map(|n| n.0))
        .collect();
    assert!(
        next.is_empty(),
        "nothing follows 17 until 18 is fetched again"
    );
    let again = sync.requests();
    assert!(again.iter().any(|r| r.start == 18 && r.peer != bad_peer));
}

#[test]
fn gossip_moving_the_head_skips_downloaded_blocks() {
    let mut sync: RangeSync<u8, N> = RangeSync::new(0, config());
    sync.peer_head(1, 16);
    let r = sync.requests().remove(0);
    sync.on_response(&1, r.start, (1..=16).map(N).collect())
        .unwrap();
    sync.on_imported(10);
    let (_, blocks) = sync.next_ready().unwrap();
    assert_eq!(blocks.first().map(|b| b.0), Some(11));
    assert_eq!(blocks.len(), 6);
}

#[test]
fn an_empty_answer_lowers_what_we_believe_the_peer_has() {
    let mut sync: RangeSync<u8, N> = RangeSync::new(0, config());
    sync.peer_head(1, 1_000); // claims more than it has
    sync.peer_head(2, 20);
    for r in sync.requests() {
        if r.peer == 1 && r.start > 20 {
            sync.on_response(&1, r.start, vec![]).unwrap();
        } else {
            sync.on_failure(&r.peer, r.start);
        }
    }
    assert!(sync.progress().highest <= 1_000);
    let imported = run(&mut sync, 3, &[20, 20, 20]);
    assert_eq!(imported.last(), Some(&20));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn any_schedule_imports_every_block_once_in_order(
        seed in any::<u64>(),
        head in 0u64..50,
        heads in proptest::collection::vec(0u64..400, 1..5),
    ) {
        let mut sync = RangeSync::new(head, config());
        let imported = run(&mut sync, seed, &heads);
        let top = heads.iter().copied().max().unwrap_or(0).max(head);
        prop_assert_eq!(imported, (head + 1..=top).collect::<Vec<_>>());
    }
}
