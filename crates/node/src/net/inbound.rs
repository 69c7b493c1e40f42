//! Reading network events: gossip is decoded and routed, requests answered.

use super::{limits, serve, sync_task::SyncInput};
use crate::{chain::Chain, driver::ChainMsg};
use alloy_primitives::Bytes;
use std::sync::{atomic::Ordering, mpsc::SyncSender, Arc};
use tally_network::{GossipKind, Misbehaviour, Network, NetworkEvent, PeerId};
use tally_primitives::Block;
use tally_txpool::PoolError;
use tokio::sync::{mpsc, Semaphore};

/// A transaction gossip message: the RLP list of raw EIP-2718 envelopes.
fn decode_txs(data: &[u8]) -> Option<Vec<Bytes>> {
    alloy_rlp::decode_exact(data).ok()
}

fn decode_block(data: &[u8]) -> Option<Block> {
    alloy_rlp::decode_exact(data).ok()
}

fn dropped(chain: &Chain) {
    chain.metrics.net_dropped.fetch_add(1, Ordering::Relaxed);
}

pub(crate) async fn run<N: Network>(
    chain: Chain,
    net: N,
    chain_tx: SyncSender<ChainMsg>,
    mut events: mpsc::Receiver<NetworkEvent>,
    sync: mpsc::Sender<SyncInput>,
    pool: mpsc::Sender<(PeerId, Vec<Bytes>)>,
) {
    let serving = Arc::new(Semaphore::new(limits::SERVING));
    let mut consensus_rate = PerPeerRate::default();
    while let Some(event) = events.recv().await {
        match event {
            NetworkEvent::Gossip { from, kind, data } => match kind {
                GossipKind::Tx => {
                    chain.metrics.gossip_in_tx.fetch_add(1, Ordering::Relaxed);
                    match decode_txs(&data) {
                        Some(txs) => {
                            if pool.try_send((from, txs)).is_err() {
                                dropped(&chain);
                            }
                        }
                        None => report(&net, from, Misbehaviour::MalformedMessage).await,
                    }
                }
                GossipKind::Block => {
                    chain
                        .metrics
                        .gossip_in_block
                        .fetch_add(1, Ordering::Relaxed);
                    match decode_block(&data) {
                        Some(block) => {
                            let input = SyncInput::Block {
                                from,
                                block: Box::new(block),
                            };
                            if sync.try_send(input).is_err() {
                                dropped(&chain);
                            }
                        }
                        None => report(&net, from, Misbehaviour::MalformedMessage).await,
                    }
                }
                GossipKind::Consensus if chain.is_bft() => {
                    match consensus_rate.admit(from) {
                        Admit::Yes => {}
                        Admit::No => {
                            dropped(&chain);
                            continue;
                        }
                        Admit::NoAndReport => {
                            dropped(&chain);
                            report(&net, from, Misbehaviour::Spam).await;
                            continue;
                        }
                    }
                    let msg = ChainMsg::Consensus { from, data };
                    // A full chain thread drops the message (counted); the
                    // machine re-sends its round's messages on a timer.
                    if chain_tx.try_send(msg).is_err() {
                        dropped(&chain);
                    }
                }
                GossipKind::Consensus => report(&net, from, Misbehaviour::MalformedMessage).await,
            },
            NetworkEvent::Request { from, id, request } => {
                let Ok(permit) = serving.clone().try_acquire_owned() else {
                    let busy = tally_network::SyncResponse::Error("busy, try another peer".into());
                    let _ = net.respond(id, busy).await;
                    continue;
                };
                let chain = chain.clone();
                let net = net.clone();
                tokio::spawn(async move {
                    let answer =
                        tokio::task::spawn_blocking(move || serve::answer(&chain, request))
                            .await
                            .unwrap_or_else(|e| tally_network::SyncResponse::Error(e.to_string()));
                    if let Err(e) = net.respond(id, answer).await {
                        tracing::debug!(peer = %from, "could not answer a sync request: {e}");
                    }
                    drop(permit);
                });
            }
            NetworkEvent::PeerConnected(peer) => {
                chain.metrics.peers.fetch_add(1, Ordering::Relaxed);
                tracing::info!(%peer, "peer connected");
                // Peer changes must not be lost: wait for room.
                let _ = sync.send(SyncInput::PeerUp(peer)).await;
            }
            NetworkEvent::PeerDisconnected(peer) => {
                let _ =
                    chain
                        .metrics
                        .peers
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
                tracing::info!(%peer, "peer disconnected");
                let _ = sync.send(SyncInput::PeerDown(peer)).await;
            }
            NetworkEvent::Refused { peer, reason } => {
                tracing::warn!(%peer, "connection refused: {reason}");
            }
        }
    }
}

pub(crate) async fn report<N: Network>(net: &N, peer: PeerId, misbehaviour: Misbehaviour) {
    tracing::warn!(%peer, ?misbehaviour, "penalising peer");
    let _ = net.report_peer(peer, misbehaviour).await;
}

/// Whether a pool refusal proves the sender of the gossip wrong (rather
/// than being ordinary, like a transaction we already hold).
fn is_invalid(e: &PoolError) -> bool {
    matches!(
        e,
        PoolError::Decode(_) | PoolError::InvalidSender(_) | PoolError::InvalidChainId { .. }
    )
}

/// Most gossiped transactions admitted in one go.
const ADMIT_AT_ONCE: usize = 4096;

/// Admits gossiped transactions to the pool, off the event loop: decoding
/// and sender recovery are CPU work. Messages that queued up while the
/// last admission ran go to the pool together, with their senders
/// recovered in parallel: under load, one admission per message could not
/// keep up, the queue would fill and transactions would be dropped, and a
/// proposer missing a sender's nonce cannot include the ones after it.
pub(crate) async fn pool_worker<N: Network>(
    chain: Chain,
    chain_tx: SyncSender<ChainMsg>,
    net: N,
    mut rx: mpsc::Receiver<(PeerId, Vec<Bytes>)>,
) {
    while let Some(first) = rx.recv().await {
        let mut count = first.1.len();
        let mut messages = vec![first];
        while count < ADMIT_AT_ONCE {
            match rx.try_recv() {
                Ok(m) => {
                    count += m.1.len();
                    messages.push(m);
                }
                Err(_) => break,
            }
        }
        let txs: Vec<Bytes> = messages
            .iter()
            .flat_map(|(_, t)| t.iter().cloned())
            .collect();
        let worker = chain.clone();
        let results = tokio::task::spawn_blocking(move || worker.admit(&txs)).await;
        let Ok(results) = results else { continue };
        if results.iter().any(|r| r.is_ok()) {
            chain.txs_wake.notify(&chain_tx);
        }
        // Each message's results, in order: a peer answers for its own.
        let mut results = results.iter();
        for (from, txs) in &messages {
            if results
                .by_ref()
                .take(txs.len())
                .fold(false, |bad, r| bad | r.as_ref().is_err_and(is_invalid))
            {
                report(&net, *from, Misbehaviour::InvalidTransaction).await;
            }
        }
    }
}

/// Consensus messages one publisher may send per second. A validator sends
/// a few per height plus re-sends: far below this even at 100 ms blocks.
const CONSENSUS_PER_PEER_PER_S: u32 = 400;

enum Admit {
    Yes,
    No,
    /// Over the limit for the first time in this second: penalise once.
    NoAndReport,
}

/// A per-publisher limit on consensus messages, so one peer's flood cannot
/// fill the chain thread's queue and crowd out the validators' votes.
#[derive(Default)]
struct PerPeerRate {
    windows: std::collections::HashMap<PeerId, (std::time::Instant, u32)>,
}

impl PerPeerRate {
    fn admit(&mut self, peer: PeerId) -> Admit {
        let now = std::time::Instant::now();
        if self.windows.len() > 4096 {
            // Forget publishers quiet for a while, bounding the map.
            self.windows
                .retain(|_, (start, _)| now.duration_since(*start).as_secs() < 10);
        }
        let (start, count) = self.windows.entry(peer).or_insert((now, 0));
        if now.duration_since(*start).as_secs() >= 1 {
            *start = now;
            *count = 0;
        }
        *count += 1;
        match (*count).cmp(&CONSENSUS_PER_PEER_PER_S) {
            std::cmp::Ordering::Greater if *count == CONSENSUS_PER_PEER_PER_S + 1 => {
                Admit::NoAndReport
            }
            std::cmp::Ordering::Greater => Admit::No,
            _ => Admit::Yes,
        }
    }
}
