//! Gossiping what this node makes: its blocks and the transactions its RPC
//! accepted.

use crate::chain::Chain;
use alloy_primitives::Bytes;
use std::{sync::atomic::Ordering, time::Duration};
use tally_network::{GossipKind, Network, NetworkError};
use tokio::sync::{broadcast::error::RecvError, mpsc};

/// Most transactions in one gossip message.
const TX_BATCH: usize = 1024;
/// Most bytes in one gossip message (the network refuses above 4 MiB).
const TX_BATCH_BYTES: usize = 1024 * 1024;
/// How long the first transaction of a batch waits for company: under load
/// a message of a few hundred rather than a handful, so peers admit them
/// in bulk; small against a block time.
const TX_LINGER: Duration = Duration::from_millis(20);

fn log_publish(what: &str, e: &NetworkError) {
    match e {
        // Alone on the network: nothing to tell anyone.
        NetworkError::NoPeers { .. } => tracing::debug!("{what} not gossiped: {e}"),
        _ => tracing::warn!("{what} not gossiped: {e}"),
    }
}

pub(crate) async fn blocks<N: Network>(chain: Chain, net: N) {
    let mut produced = chain.produced.subscribe();
    loop {
        let block = match produced.recv().await {
            Ok(block) => block,
            // Peers that missed a block sync it; carry on with the newest.
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return,
        };
        let data = alloy_rlp::encode(block.to_block());
        match net.publish(GossipKind::Block, data).await {
            Ok(()) => {
                chain
                    .metrics
                    .gossip_out_block
                    .fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => log_publish(&format!("block {}", block.number()), &e),
        }
    }
}

pub(crate) async fn transactions<N: Network>(chain: Chain, net: N, mut rx: mpsc::Receiver<Bytes>) {
    while let Some(first) = rx.recv().await {
        let mut bytes = first.len();
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + TX_LINGER;
        while batch.len() < TX_BATCH && bytes < TX_BATCH_BYTES {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(tx)) => {
                    bytes += tx.len();
                    batch.push(tx);
                }
                Ok(None) | Err(_) => break,
            }
        }
        let count = batch.len();
        let data = alloy_rlp::encode(&batch);
        match net.publish(GossipKind::Tx, data).await {
            Ok(()) => {
                chain.metrics.gossip_out_tx.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => log_publish(&format!("{count} transactions"), &e),
        }
    }
}

/// Gossips the BFT messages the chain thread signed or relays.
pub(crate) async fn consensus<N: Network>(chain: Chain, net: N, mut rx: mpsc::Receiver<Vec<u8>>) {
    while let Some(data) = rx.recv().await {
        match net.publish(GossipKind::Consensus, data).await {
            Ok(()) => {
                chain
                    .metrics
                    .gossip_out_consensus
                    .fetch_add(1, Ordering::Relaxed);
            }
            // Re-sent messages are often refused by gossip as duplicates;
            // the machine's timers move a stuck round on either way.
            Err(e) => tracing::debug!("consensus message not gossiped: {e}"),
        }
    }
}

/// Applies the penalties the chain thread found (bad consensus messages).
pub(crate) async fn penalties<N: Network>(
    net: N,
    mut rx: mpsc::Receiver<(tally_network::PeerId, tally_network::Misbehaviour)>,
) {
    while let Some((peer, misbehaviour)) = rx.recv().await {
        super::inbound::report(&net, peer, misbehaviour).await;
    }
}
