//! Starting and stopping a node.

use crate::import::ImportError;
use crate::{
    backend::NodeBackend,
    chain::Chain,
    driver::{self, ChainMsg, Imported},
    error::NodeError,
    metrics::Metrics,
    mining::MiningShared,
    sql_index::{IndexAccess, IndexService},
    NodeConfig,
};
use crate::{net_state::NetShared, NetworkOptions};
use parking_lot::RwLock;
use std::{
    net::SocketAddr,
    sync::{mpsc::SyncSender, Arc},
    thread::JoinHandle,
};
use tally_consensus::LocalEngine;
use tally_network::{Network, NetworkConfig, NetworkEvent, NetworkHandle, NetworkService};
use tally_primitives::{Block, Bytes, ChainSpec, EngineSpec, SealedHeader, B256};
use tally_rpc::{RpcConfig, RpcServerHandle};
use tally_state::ChainDb;
use tally_txpool::{PoolConfig, TxPool};
use tokio::sync::broadcast;
use tokio::sync::{mpsc, watch};

/// A running node. Dropping it without [`Node::stop`] leaves the chain thread
/// to end with the process; nothing committed is lost either way.
pub struct Node {
    rpc: RpcServerHandle,
    /// What the RPC server reads; the explorer reads the same.
    rpc_backend: Arc<dyn tally_rpc::Backend>,
    /// The block explorer, once [`Node::start_explorer`] started it.
    explorer: Option<tally_explorer::ExplorerHandle>,
    chain_tx: SyncSender<ChainMsg>,
    chain_thread: Option<JoinHandle<()>>,
    genesis: SealedHeader,
    db: ChainDb,
    metrics: Arc<Metrics>,
    chain: Chain,
    network: Option<NetworkHandle>,
    net_tasks: Vec<tokio::task::JoinHandle<()>>,
    index: IndexAccess,
    /// Follows the chain into the SQL index; `None` when it is off.
    indexer: Option<IndexService>,
}

/// The libp2p settings for this chain: topics and protocols named by the
/// genesis hash, and the member allowlist of a consortium chain spec.
fn network_config(
    options: &NetworkOptions,
    spec: &ChainSpec,
    genesis: &SealedHeader,
) -> Result<NetworkConfig, NodeError> {
    let mut config = NetworkConfig::new(options.listen.clone(), spec.chain_id, genesis.hash.0);
    config.bootnodes = options.bootnodes.clone();
    config.max_peers = options.max_peers;
    config.mdns = options.mdns;
    if !spec.members.is_empty() {
        let members = spec
            .members
            .iter()
            .map(|key| {
                tally_network::peer_id_from_ed25519_public(key.0)
                    .map_err(|e| NodeError::Network(format!("chain spec member {key}: {e}")))
            })
            .collect::<Result<_, _>>()?;
        config.allowlist = Some(members);
    }
    Ok(config)
}

impl Node {
    /// Opens (or creates) the chain in `config.datadir`, starts the chain
    /// thread and the RPC server. Must be called inside a tokio runtime.
    pub async fn start(config: NodeConfig) -> Result<Node, NodeError> {
        std::fs::create_dir_all(&config.datadir).map_err(|source| NodeError::Datadir {
            path: config.datadir.display().to_string(),
            source,
        })?;
        refuse_emptied_chain(&config.datadir)?;
        let db = ChainDb::open(&config.datadir.join("chain.redb"))?;
        // System contracts (governance, roles) start with the state the
        // chain spec gives them; the spec's hash is unchanged.
        let system = tally_executor::system::genesis_accounts(&config.spec);
        let genesis = db.init_genesis_with(&config.spec, &system)?;
        let head = db.head()?;
        let spec = Arc::new(config.spec.clone());
        let local = LocalEngine {
            node_key: config.node_key.clone(),
            dev_block_time_ms: config.dev_block_time_ms,
            produce: config.mining.as_ref().map(|_| config.beneficiary),
        };
        let engine = tally_consensus::engine_for(&spec, &genesis, &local)
            .map_err(|e| NodeError::Chain(e.to_string()))?;
        let mining = Arc::new(MiningShared::new(
            config.mining.is_some(),
            config.mining.as_ref().map_or(0, |m| m.threads),
            config.beneficiary,
        ));
        // Final by depth: nothing below it is ever unwound, across restarts.
        let finalized = head.number.saturating_sub(engine.finality_depth());
        let safe = head.number.saturating_sub(engine.safe_depth());
        let engine_name = engine.name().to_string();
        let pool = TxPool::new(PoolConfig::new(
            spec.chain_id,
            spec.gas_limit,
            spec.base_fee,
        ));
        let (new_blocks, _) = broadcast::channel(256);
        let (produced, _) = broadcast::channel(64);
        let (pending_txs, _) = broadcast::channel(4096);
        let metrics = Arc::new(Metrics::default());
        let chain = Chain {
            db: db.clone(),
            pool,
            spec,
            beneficiary: config.beneficiary,
            finalized: Arc::new(RwLock::new(finalized)),
            safe: Arc::new(RwLock::new(safe)),
            head: Arc::new(RwLock::new(head.clone())),
            new_blocks,
            metrics: metrics.clone(),
            latest_state: Arc::new(RwLock::new(Arc::new(db.latest_state()?))),
            produced,
            net: Arc::new(NetShared::new(head.number)),
            mining,
            seal_work: tally_consensus::seal_work(&config.spec),
            fault: Arc::new(crate::fault::StorageFault::new(
                config.datadir.display().to_string(),
            )),
            txs_wake: Arc::default(),
        };
        let tree = driver::load_tree(&chain, finalized)?;
        let (chain_tx, chain_rx) = std::sync::mpsc::sync_channel(64);
        let index = IndexAccess::open(&config.datadir, config.index);
        let backend = NodeBackend {
            chain: chain.clone(),
            engine_name,
            chain_tx: chain_tx.clone(),
            pending_txs,
            index: index.clone(),
        };
        let rpc_config = RpcConfig {
            addr: config.rpc_addr,
            max_ws_connections: config.rpc_limits.ws_max_connections,
            max_ws_per_ip: config.rpc_limits.ws_max_per_ip,
            ..RpcConfig::default()
        };
        let rpc_backend: Arc<dyn tally_rpc::Backend> = Arc::new(backend);
        let rpc = tally_rpc::start(rpc_config, rpc_backend.clone()).await?;
        let bft = match &chain.spec.engine {
            EngineSpec::Bft(bft) => Some(driver::BftState::new(
                chain.spec.chain_id,
                bft.clone(),
                config.node_key.clone(),
            )),
            _ => None,
        };
        let chain_thread =
            driver::spawn(chain.clone(), engine, tree, bft, chain_tx.clone(), chain_rx)
                .map_err(|e| NodeError::Chain(format!("cannot start the chain thread: {e}")))?;
        tracing::info!(number = head.number, hash = %head.hash, "chain head");
        let indexer = match &index {
            IndexAccess::On(sql) => {
                Some(IndexService::start(&chain, sql.clone()).map_err(|e| {
                    NodeError::Chain(format!("cannot start the SQL index thread: {e}"))
                })?)
            }
            _ => None,
        };
        let mut node = Node {
            rpc,
            rpc_backend,
            explorer: None,
            chain_tx,
            chain_thread: Some(chain_thread),
            genesis,
            db,
            metrics,
            chain,
            network: None,
            net_tasks: Vec::new(),
            index,
            indexer,
        };
        if let Some(options) = &config.network {
            let key = config
                .node_key
                .as_ref()
                .ok_or_else(|| NodeError::Network("a node on a network needs a node key".into()))?;
            let net_config = network_config(options, &node.chain.spec, &node.genesis)?;
            let keypair = tally_network::keypair_from_ed25519_secret(key.to_bytes())
                .map_err(|e| NodeError::Network(e.to_string()))?;
            let (handle, events) = NetworkService::start(net_config, keypair)
                .await
                .map_err(|e| NodeError::Network(e.to_string()))?;
            tracing::info!(peer_id = %handle.local_peer_id(), "network started");
            node.attach_network(handle.clone(), events);
            node.network = Some(handle);
        }
        Ok(node)
    }

    /// Connects the node to peers over `net`: gossip in and out, answers to
    /// sync requests, catch-up. [`Node::start`] does this itself over libp2p
    /// when the config has network options; tests attach a simulated network.
    pub fn attach_network<N: Network>(&mut self, net: N, events: mpsc::Receiver<NetworkEvent>) {
        self.net_tasks.extend(crate::net::spawn(
            self.chain.clone(),
            self.chain_tx.clone(),
            net,
            events,
        ));
    }

    /// The libp2p network, when the node runs one.
    pub fn network(&self) -> Option<&NetworkHandle> {
        self.network.as_ref()
    }

    /// Catch-up progress; changes as blocks arrive from peers.
    pub fn sync_status(&self) -> watch::Receiver<tally_sync::Progress> {
        self.chain.net.sync.subscribe()
    }

    /// The canonical head.
    pub fn head(&self) -> SealedHeader {
        self.chain.head.read().clone()
    }

    /// Sends a raw signed transaction as `eth_sendRawTransaction` does.
    pub fn submit_transaction(&self, raw: Bytes) -> Result<B256, String> {
        use tally_rpc::Backend;
        self.backend()
            .send_raw_transaction(raw)
            .map_err(|e| e.to_string())
    }

    /// Adds raw signed transactions to the pool in one batch (senders
    /// recovered in parallel) and wakes the engine once, so an instant-mode
    /// producer puts them in one block. Used by load generators.
    pub fn submit_transactions(&self, raws: &[Bytes]) -> Vec<Result<B256, String>> {
        let results = self.chain.admit(raws);
        self.chain.txs_wake.notify(&self.chain_tx);
        results
            .into_iter()
            .map(|r| r.map_err(|e| e.to_string()))
            .collect()
    }

    fn backend(&self) -> NodeBackend {
        NodeBackend {
            chain: self.chain.clone(),
            engine_name: String::new(),
            chain_tx: self.chain_tx.clone(),
            pending_txs: broadcast::channel(1).0,
            index: self.index.clone(),
        }
    }

    pub fn rpc_addr(&self) -> SocketAddr {
        self.rpc.local_addr()
    }

    /// Serves the block explorer ([`tally_explorer`]) on `addr` (port 0
    /// picks a free port) over the same backend as RPC; it stops with the
    /// node. Returns the address bound.
    pub async fn start_explorer(&mut self, addr: SocketAddr) -> Result<SocketAddr, NodeError> {
        let explorer = tally_explorer::start(addr, self.rpc_backend.clone()).await?;
        let local = explorer.local_addr();
        self.explorer = Some(explorer);
        Ok(local)
    }

    /// Resolves, with the reason, once the node can no longer write its
    /// chain database (a full disk): the caller should stop it. Blocks
    /// already committed are intact.
    pub async fn failed(&self) -> String {
        let mut rx = self.chain.fault.subscribe();
        loop {
            if let Some(reason) = rx.borrow_and_update().clone() {
                return reason;
            }
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// Where the explorer listens, when it runs.
    pub fn explorer_addr(&self) -> Option<SocketAddr> {
        self.explorer.as_ref().map(|e| e.local_addr())
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

    /// Verifies a block produced elsewhere: on the head it becomes the new
    /// head; on another known block it is kept on a side branch, and the
    /// node switches to that branch if it is now the heaviest.
    pub async fn import_block(&self, block: Block) -> Result<Imported, ImportError> {
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

    /// Pauses (`false`) or resumes (`true`) this node's mining, as geth's
    /// `miner_stop` / `miner_start` do. Does nothing on engines that do
    /// not mine.
    pub fn set_mining(&self, on: bool) {
        let _ = self.chain_tx.send(ChainMsg::SetMining(on));
    }

    /// Stops serving RPC, lets the block being built finish and commit, and
    /// waits for the chain thread to end.
    pub async fn stop(mut self) {
        if let Some(explorer) = self.explorer.take() {
            explorer.stop().await;
        }
        self.rpc.stop();
        self.rpc.clone().stopped().await;
        if let Some(net) = self.network.take() {
            let _ = net.shutdown().await;
        }
        for task in &self.net_tasks {
            task.abort();
        }
        // Aborted tasks drop their handles on the database only once they
        // have ended: a restart on the same datadir must find it closed.
        for task in self.net_tasks.drain(..) {
            let _ = task.await;
        }
        // The index thread reads the chain database: it too must be gone.
        if let Some(indexer) = self.indexer.take() {
            indexer.stop().await;
        }
        let _ = self.chain_tx.send(ChainMsg::Shutdown);
        if let Some(t) = self.chain_thread.take() {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
    }
}

/// A data directory that held a chain (its `node.key` is there) but whose
/// `chain.redb` is empty was truncated or lost its database: opening it
/// would silently start a new chain at block 0 over it.
fn refuse_emptied_chain(datadir: &std::path::Path) -> Result<(), NodeError> {
    let db = datadir.join("chain.redb");
    let empty = std::fs::metadata(&db).is_ok_and(|m| m.is_file() && m.len() == 0);
    if empty && datadir.join("node.key").exists() {
        return Err(NodeError::Chain(format!(
            "{} is empty (0 bytes), but this data directory held a chain (its node.key is \
             there): the chain database was truncated or lost, and starting would begin a new \
             chain at block 0. Restore chain.redb from a backup or sync into a new data \
             directory; to start a new chain here on purpose, delete the empty chain.redb",
            db.display()
        )));
    }
    Ok(())
}
