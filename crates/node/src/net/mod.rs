//! The node on the network: gossip in and out, answers to peers' sync
//! requests, and catch-up.
//!
//! Four tasks, joined by bounded channels so a flood from peers costs
//! dropped messages (counted in the metrics), never unbounded memory:
//!
//! - [`inbound`] reads [`NetworkEvent`]s: transaction gossip goes to a pool
//!   worker, block gossip and peer changes to the sync task, sync requests
//!   are answered from the database ([`serve`]).
//! - [`sync_task`] owns the [`tally_sync::RangeSync`] planner and is the only
//!   sender of peers' blocks to the chain thread, so gossiped and synced
//!   blocks go through one import path, in order.
//! - [`outbound`] gossips the blocks this node produces and the
//!   transactions its RPC accepts (batched).
//!
//! Any [`Network`] carries the bytes: libp2p in production, the in-process
//! simulator in tests.

mod inbound;
mod outbound;
mod serve;
mod sync_task;

use crate::{chain::Chain, driver::ChainMsg};
use std::sync::mpsc::SyncSender;
use tally_network::{Network, NetworkEvent};
use tokio::{sync::mpsc, task::JoinHandle};

/// How much a peer may ask or send at once.
pub(crate) mod limits {
    /// Blocks in one range answer.
    pub const MAX_RANGE: u32 = 1024;
    /// Bytes of encoded blocks in one range answer (the wire format may
    /// double them; the network caps messages at 16 MiB).
    pub const MAX_RANGE_BYTES: usize = 4 * 1024 * 1024;
    /// Transaction gossip messages waiting for the pool worker.
    pub const TX_QUEUE: usize = 256;
    /// Blocks and peer changes waiting for the sync task.
    pub const SYNC_QUEUE: usize = 1024;
    /// Sync requests being answered at once.
    pub const SERVING: usize = 8;
    /// Raw local transactions waiting to be gossiped.
    pub const LOCAL_TX_QUEUE: usize = 16_384;
    /// BFT messages waiting to be sent, and penalties to apply.
    pub const CONSENSUS_QUEUE: usize = 1024;
}

/// Starts the network tasks for `chain`. They end when `events` closes.
pub(crate) fn spawn<N: Network>(
    chain: Chain,
    chain_tx: SyncSender<ChainMsg>,
    net: N,
    events: mpsc::Receiver<NetworkEvent>,
) -> Vec<JoinHandle<()>> {
    let (local_tx, local_rx) = mpsc::channel(limits::LOCAL_TX_QUEUE);
    // A node attaches one network; a second attach keeps the first's queue.
    let _ = chain.net.local_txs.set(local_tx);
    let _ = chain
        .net
        .control
        .set(tally_network::PeerControl::new(net.clone()));
    let (consensus_tx, consensus_rx) = mpsc::channel(limits::CONSENSUS_QUEUE);
    let _ = chain.net.consensus_out.set(consensus_tx);
    let (penalty_tx, penalty_rx) = mpsc::channel(limits::CONSENSUS_QUEUE);
    let _ = chain.net.penalties.set(penalty_tx);
    let (sync_in, sync_rx) = mpsc::channel(limits::SYNC_QUEUE);
    let (pool_in, pool_rx) = mpsc::channel(limits::TX_QUEUE);
    vec![
        tokio::spawn(inbound::run(
            chain.clone(),
            net.clone(),
            chain_tx.clone(),
            events,
            sync_in,
            pool_in,
        )),
        tokio::spawn(outbound::consensus(
            chain.clone(),
            net.clone(),
            consensus_rx,
        )),
        tokio::spawn(outbound::penalties(net.clone(), penalty_rx)),
        tokio::spawn(inbound::pool_worker(
            chain.clone(),
            chain_tx.clone(),
            net.clone(),
            pool_rx,
        )),
        tokio::spawn(sync_task::run(
            chain.clone(),
            chain_tx,
            net.clone(),
            sync_rx,
        )),
        tokio::spawn(outbound::blocks(chain.clone(), net.clone())),
        tokio::spawn(outbound::transactions(chain, net, local_rx)),
    ]
}
