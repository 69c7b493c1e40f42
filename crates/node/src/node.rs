//! Starting and stopping a node.

use crate::chain::ImportError;
use crate::{
    backend::NodeBackend,
    chain::Chain,
    driver::{self, ChainMsg},
    metrics::Metrics,
    NodeConfig,
};
use parking_lot::RwLock;
use std::{
    net::SocketAddr,
    sync::{mpsc::SyncSender, Arc},
    thread::JoinHandle,
};
use tally_consensus::{dev::DevEngine, Engine};
use tally_primitives::{Block, EngineSpec, SealedBlock, SealedHeader};
use tally_rpc::{RpcConfig, RpcServerHandle};
use tally_state::{ChainDb, StateError};
use tally_txpool::{PoolConfig, TxPool};
use tokio::sync::broadcast;

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("cannot create data directory {path}: {source}")]
    Datadir {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Rpc(#[from] tally_rpc::RpcError),
    #[error("{0}")]
    Chain(String),
}

/// A running node. Dropping it without [`Node::stop`] leaves the chain thread
/// to end with the process; nothing committed is lost either way.
pub struct Node {
    rpc: RpcServerHandle,
    chain_tx: SyncSender<ChainMsg>,
    chain_thread: Option<JoinHandle<()>>,
    genesis: SealedHeader,
    db: ChainDb,
    metrics: Arc<Metrics>,
}

impl Node {
    /// Opens (or creates) the chain in `config.datadir`, starts the chain
    /// thread and the RPC server. Must be called inside a tokio runtime.
    pub async fn start(config: NodeConfig) -> Result<Node, NodeError> {
        std::fs::create_dir_all(&config.datadir).map_err(|source| NodeError::Datadir {
            path: config.datadir.display().to_string(),
            source,
        })?;
        let db = ChainDb::open(&config.datadir.join("chain.redb"))?;
        let genesis = db.init_genesis(&config.spec)?;
        let head = db.head()?;
        let spec = Arc::new(config.spec.clone());
        let engine: Box<dyn Engine> = match &spec.engine {
            EngineSpec::Dev {
                block_time_ms,
                authority,
            } => {
                let block_time = config.dev_block_time_ms.unwrap_or(*block_time_ms);
                match authority {
                    None => Box::new(DevEngine::new(block_time)),
                    Some(key) => Box::new(
                        DevEngine::with_authority(block_time, key, config.node_key.clone())
                            .map_err(|e| NodeError::Chain(format!("chain spec authority: {e}")))?,
                    ),
                }
            }
        };
        let engine_name = engine.name().to_string();
        let pool = TxPool::new(PoolConfig::new(
            spec.chain_id,
            spec.gas_limit,
            spec.base_fee,
        ));
        let (new_blocks, _) = broadcast::channel(256);
        let (pending_txs, _) = broadcast::channel(4096);
        let metrics = Arc::new(Metrics::default());
        let chain = Chain {
            db: db.clone(),
            pool,
            spec,
            beneficiary: config.beneficiary,
            finalized: Arc::new(RwLock::new(head.number)),
            head: Arc::new(RwLock::new(head.clone())),
            new_blocks,
            metrics: metrics.clone(),
            latest_state: Arc::new(RwLock::new(Arc::new(db.latest_state()?))),
        };
        let (chain_tx, chain_rx) = std::sync::mpsc::sync_channel(64);
        let backend = NodeBackend {
            chain: chain.clone(),
            engine_name,
            chain_tx: chain_tx.clone(),
            pending_txs,
        };
        let rpc_config = RpcConfig {
            addr: config.rpc_addr,
            ..RpcConfig::default()
        };
        let rpc = tally_rpc::start(rpc_config, Arc::new(backend)).await?;
        let chain_thread = driver::spawn(chain, engine, chain_rx)
            .map_err(|e| NodeError::Chain(format!("cannot start the chain thread: {e}")))?;
        tracing::info!(number = head.number, hash = %head.hash, "chain head");
        Ok(Node {
            rpc,
            chain_tx,
            chain_thread: Some(chain_thread),
            genesis,
            db,
            metrics,
        })
    }

    pub fn rpc_addr(&self) -> SocketAddr {
        self.rpc.local_addr()
    }

    pub fn genesis(&self) -> &SealedHeader {
        &self.genesis
    }

    pub fn db(&self) -> &ChainDb {
        &self.db
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Verifies a block produced elsewhere and, if valid, makes it the head.
    pub async fn import_block(&self, block: Block) -> Result<SealedBlock, ImportError> {
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        self.chain_tx
            .send(ChainMsg::Import {
                block: Box::new(block),
                reply,
            })
            .map_err(|_| NodeError::Chain("the chain thread has stopped".into()))?;
        tokio::task::spawn_blocking(move || answer.recv())
            .await
            .map_err(|e| NodeError::Chain(e.to_string()))?
            .map_err(|_| NodeError::Chain("the chain thread has stopped".into()))?
    }

    /// Stops serving RPC, lets the block being built finish and commit, and
    /// waits for the chain thread to end.
    pub async fn stop(mut self) {
        self.rpc.stop();
        self.rpc.clone().stopped().await;
        let _ = self.chain_tx.send(ChainMsg::Shutdown);
        if let Some(t) = self.chain_thread.take() {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
    }
}
