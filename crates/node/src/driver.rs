//! The chain thread: owns the consensus engine, feeds it events and carries
//! out its effects. Block building is CPU-bound and runs here, off the async
//! runtime that serves RPC.

use crate::{chain::Chain, import::ImportError};
use std::sync::mpsc::SyncSender;
use std::{
    collections::VecDeque,
    sync::mpsc::{Receiver, RecvTimeoutError},
    thread::JoinHandle,
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use tally_consensus::{Effect, Engine, Event, Millis};
use tally_primitives::{Block, SealedBlock};

pub(crate) enum ChainMsg {
    /// New transactions entered the pool.
    TxsPending,
    /// A block from outside to verify and import.
    Import {
        block: Box<Block>,
        reply: SyncSender<Result<SealedBlock, ImportError>>,
    },
    /// Consecutive blocks from sync (or gossip) to import in order.
    ImportBatch {
        blocks: Vec<Block>,
        reply: SyncSender<BatchOutcome>,
    },
    Shutdown,
}

/// What became of an [`ChainMsg::ImportBatch`].
#[derive(Debug)]
pub(crate) struct BatchOutcome {
    /// Blocks imported (blocks already held are skipped, not counted).
    pub imported: usize,
    /// The first block that was refused, and why; the rest were not tried.
    pub error: Option<(u64, ImportError)>,
}

fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub(crate) fn spawn(
    chain: Chain,
    engine: Box<dyn Engine>,
    rx: Receiver<ChainMsg>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("tally-chain".into())
        .spawn(move || run(chain, engine, rx))
}

fn head_event(chain: &Chain) -> Event {
    let head = chain.head.read().clone();
    Event::NewHead {
        number: head.number,
        hash: head.hash,
        timestamp: head.timestamp,
        now: now_ms(),
    }
}

fn run(chain: Chain, mut engine: Box<dyn Engine>, rx: Receiver<ChainMsg>) {
    let mut queue: VecDeque<Effect> = VecDeque::new();
    queue.extend(engine.handle(head_event(&chain)));
    queue.extend(engine.handle(Event::Tick { now: now_ms() }));
    queue.extend(engine.handle(Event::PendingTransactions {
        count: chain.pool.pending_count(),
        now: now_ms(),
    }));
    let mut wake: Option<Millis> = None;
    loop {
        while let Some(effect) = queue.pop_front() {
            match effect {
                Effect::BuildBlock { parent, timestamp } => {
                    match chain.build_block(engine.as_mut(), parent, timestamp) {
                        Ok(block) => {
                            // Nobody listening (no network) is fine.
                            let _ = chain.produced.send(std::sync::Arc::new(block));
                        }
                        Err(e) => {
                            tracing::error!("block production failed: {e}");
                            // Do not spin on a persistent fault (e.g. a full disk).
                            std::thread::sleep(Duration::from_millis(200));
                        }
                    }
                    queue.extend(engine.handle(Event::PendingTransactions {
                        count: chain.pool.pending_count(),
                        now: now_ms(),
                    }));
                    queue.extend(engine.handle(head_event(&chain)));
                }
                Effect::Finalize { number, .. } => {
                    let mut f = chain.finalized.write();
                    *f = (*f).max(number);
                }
                Effect::WakeAt(at) => wake = Some(wake.map_or(at, |w| w.min(at))),
                // No peers yet: the network layer will carry these.
                Effect::Broadcast(_) => {}
            }
        }
        let timeout = wake.map_or(Duration::from_secs(1), |at| {
            Duration::from_millis(at.saturating_sub(now_ms()))
        });
        match rx.recv_timeout(timeout) {
            Ok(ChainMsg::TxsPending) => {
                // Coalesce a burst of notifications into one event.
                loop {
                    match rx.try_recv() {
                        Ok(ChainMsg::TxsPending) => continue,
                        Ok(ChainMsg::Import { block, reply }) => {
                            import(&chain, engine.as_mut(), *block, reply, &mut queue)
                        }
                        Ok(ChainMsg::ImportBatch { blocks, reply }) => {
                            import_batch(&chain, engine.as_mut(), blocks, reply, &mut queue)
                        }
                        Ok(ChainMsg::Shutdown) => return,
                        Err(_) => break,
                    }
                }
                queue.extend(engine.handle(Event::PendingTransactions {
                    count: chain.pool.pending_count(),
                    now: now_ms(),
                }));
            }
            Ok(ChainMsg::Import { block, reply }) => {
                import(&chain, engine.as_mut(), *block, reply, &mut queue)
            }
            Ok(ChainMsg::ImportBatch { blocks, reply }) => {
                import_batch(&chain, engine.as_mut(), blocks, reply, &mut queue)
            }
            Ok(ChainMsg::Shutdown) | Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {
                let now = now_ms();
                if wake.is_some_and(|w| now >= w) {
                    wake = None;
                    queue.extend(engine.handle(Event::Tick { now }));
                }
            }
        }
    }
}

fn import(
    chain: &Chain,
    engine: &mut dyn Engine,
    block: Block,
    reply: SyncSender<Result<SealedBlock, ImportError>>,
    queue: &mut VecDeque<Effect>,
) {
    let result = chain.import_block(engine, block);
    if result.is_ok() {
        queue.extend(engine.handle(head_event(chain)));
    }
    // The caller may have given up waiting; the block is imported regardless.
    let _ = reply.send(result);
}

fn import_batch(
    chain: &Chain,
    engine: &mut dyn Engine,
    blocks: Vec<Block>,
    reply: SyncSender<BatchOutcome>,
    queue: &mut VecDeque<Effect>,
) {
    let head = chain.head.read().number;
    // Blocks already held (gossip got here first) are skipped if the hash
    // matches; a different block at a held height fails as not on the head.
    let held = blocks
        .iter()
        .take_while(|b| {
            b.header.number <= head
                && matches!(
                    chain.db.header_by_number(b.header.number),
                    Ok(Some(h)) if h.hash == b.header.hash()
                )
        })
        .count();
    let started = std::time::Instant::now();
    let run = chain.import_blocks(engine, blocks.into_iter().skip(held).collect());
    tracing::debug!(
        blocks = run.imported.len(),
        ms = started.elapsed().as_millis() as u64,
        "imported a run"
    );
    let outcome = BatchOutcome {
        imported: run.imported.len(),
        error: run.error,
    };
    if outcome.imported > 0 {
        queue.extend(engine.handle(head_event(chain)));
    }
    let _ = reply.send(outcome);
}
