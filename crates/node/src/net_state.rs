//! What the network tasks share with RPC and the CLI: catch-up progress,
//! the queue of local transactions to gossip, the operator's peer controls.
//! Apart from the tasks themselves (`net`), so that the chain's shared
//! handles can hold it without importing the network code.

use alloy_primitives::Bytes;
use std::sync::OnceLock;
use tally_sync::Progress;
use tokio::sync::{mpsc, watch};

/// Network state the RPC backend and the CLI read.
#[derive(Debug)]
pub(crate) struct NetShared {
    /// Catch-up progress (`eth_syncing`, the progress bar).
    pub sync: watch::Sender<Progress>,
    /// Raw transactions accepted over RPC, to gossip. Unset without a network.
    pub local_txs: OnceLock<mpsc::Sender<Bytes>>,
    /// The operator's peer controls (`admin_` RPC). Unset without a network.
    pub control: OnceLock<tally_network::PeerControl>,
    /// BFT messages the chain thread sends, to gossip on the consensus
    /// topic. Unset without a network.
    pub consensus_out: OnceLock<mpsc::Sender<Vec<u8>>>,
    /// Peers the chain thread found sending bad consensus messages, to
    /// penalise. Unset without a network.
    pub penalties: OnceLock<mpsc::Sender<(tally_network::PeerId, tally_network::Misbehaviour)>>,
}

impl NetShared {
    pub fn new(head: u64) -> Self {
        let (sync, _) = watch::channel(Progress {
            starting: head,
            current: head,
            highest: head,
        });
        Self {
            sync,
            local_txs: OnceLock::new(),
            control: OnceLock::new(),
            consensus_out: OnceLock::new(),
            penalties: OnceLock::new(),
        }
    }
}
