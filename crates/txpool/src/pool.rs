//! The thread-safe pool handle the node, RPC and network share.

use std::collections::HashMap;
use std::sync::Arc;

use alloy_consensus::TxEnvelope;
use alloy_primitives::{Address, Bytes, B256, U256};
use parking_lot::RwLock;
use rayon::prelude::*;

use crate::store::Store;
use crate::validate::{decode, validate_stateless};
use crate::{AccountReader, PoolConfig, PoolError, PooledTx};

struct Inner {
    config: PoolConfig,
    store: RwLock<Store>,
    /// Total time spent recovering senders, in nanoseconds: the dominant
    /// cost of admission, reported on its own in node metrics.
    recover_ns: std::sync::atomic::AtomicU64,
}

/// A cloneable handle to one transaction pool.
#[derive(Clone)]
pub struct TxPool {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TxPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let store = self.inner.store.read();
        f.debug_struct("TxPool")
            .field("pending", &store.pending_count())
            .field("queued", &(store.len() - store.pending_count()))
            .finish()
    }
}

impl TxPool {
    pub fn new(config: PoolConfig) -> TxPool {
        TxPool {
            inner: Arc::new(Inner {
                config,
                store: RwLock::new(Store::default()),
                recover_ns: Default::default(),
            }),
        }
    }

    pub fn config(&self) -> &PoolConfig {
        &self.inner.config
    }

    /// Total time spent recovering transaction senders since the pool
    /// started (summed over threads).
    pub fn recovery_time(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(
            self.inner
                .recover_ns
                .load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    /// Decodes an EIP-2718 transaction (legacy/EIP-155, EIP-2930, EIP-1559)
    /// that fills `raw` exactly. Blob (EIP-4844) and set-code (EIP-7702)
    /// transactions are refused.
    pub fn decode(raw: &[u8]) -> Result<TxEnvelope, PoolError> {
        decode(raw)
    }

    /// Decodes, validates and recovers the sender of one raw transaction: all
    /// the work that needs no account state and no write lock.
    fn prepare(&self, raw: &[u8]) -> Result<PooledTx, PoolError> {
        let config = &self.inner.config;
        // Size first: never parse more than the limit allows.
        if raw.len() > config.max_tx_bytes {
            return Err(PoolError::OversizedData {
                size: raw.len(),
                limit: config.max_tx_bytes,
            });
        }
        let tx = decode(raw)?;
        validate_stateless(&tx, raw.len(), config)?;
        // Gossip delivers the same transaction many times: skip recovery for
        // those already held.
        if self.inner.store.read().contains(tx.tx_hash()) {
            return Err(PoolError::AlreadyKnown);
        }
        let started = std::time::Instant::now();
        let sender = tally_crypto::recover_sender(&tx);
        self.inner.recover_ns.fetch_add(
            started.elapsed().as_nanos() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        let sender = sender.map_err(|e| PoolError::InvalidSender(e.to_string()))?;
        Ok(PooledTx::new(tx, sender, raw.len()))
    }

    /// Adds one raw transaction; returns its hash. A transaction with a nonce
    /// gap is accepted as queued.
    pub fn add_raw(&self, raw: &[u8], state: &dyn AccountReader) -> Result<B256, PoolError> {
        let tx = self.prepare(raw)?;
        admissible(state, &tx)?;
        let (nonce, balance) = read_account(state, &tx.sender)?;
        self.insert(tx, nonce, balance)
    }

    /// Adds a validated transaction (e.g. one re-injected after a reorg).
    pub fn add_pooled(&self, tx: PooledTx, state: &dyn AccountReader) -> Result<B256, PoolError> {
        admissible(state, &tx)?;
        let (nonce, balance) = read_account(state, &tx.sender)?;
        self.insert(tx, nonce, balance)
    }

    fn insert(&self, tx: PooledTx, nonce: u64, balance: U256) -> Result<B256, PoolError> {
        let hash = tx.hash;
        let done = self
            .inner
            .store
            .write()
            .insert(tx, nonce, balance, &self.inner.config)?;
        for evicted in done.evicted {
            tracing::debug!(%hash, %evicted, "txpool full: evicted a cheaper transaction");
        }
        if let Some(replaced) = done.replaced {
            tracing::debug!(%hash, %replaced, "replaced a pooled transaction");
        }
        Ok(hash)
    }

    /// Adds many raw transactions: decoding and sender recovery run in
    /// parallel, then they are inserted in input order under one lock, so
    /// a sender's nonces given in order queue and promote as if added one by
    /// one. Results keep the input order.
    pub fn add_raw_batch(
        &self,
        raws: &[Bytes],
        state: &dyn AccountReader,
    ) -> Vec<Result<B256, PoolError>> {
        let prepared: Vec<Result<PooledTx, PoolError>> =
            raws.par_iter().map(|raw| self.prepare(raw)).collect();

        // One state read per distinct sender, outside the lock.
        let mut accounts: HashMap<Address, Result<(u64, U256), PoolError>> = HashMap::new();
        for tx in prepared.iter().flatten() {
            accounts
                .entry(tx.sender)
                .or_insert_with(|| read_account(state, &tx.sender));
        }

        let mut store = self.inner.store.write();
        prepared
            .into_iter()
            .map(|tx| {
                let tx = tx?;
                admissible(state, &tx)?;
                let (nonce, balance) = match accounts.get(&tx.sender) {
                    Some(Ok(account)) => *account,
                    Some(Err(e)) => return Err(e.clone()),
                    None => read_account(state, &tx.sender)?,
                };
                let hash = tx.hash;
                store.insert(tx, nonce, balance, &self.inner.config)?;
                Ok(hash)
            })
            .collect()
    }

    /// The transactions for the next block, at most `gas_limit` gas in total:
    /// each sender's in nonce order without gaps, senders interleaved by
    /// effective tip, highest first.
    pub fn best_transactions(&self, gas_limit: u64) -> Vec<PooledTx> {
        self.inner.store.read().best(gas_limit)
    }

    /// What a block producer tries, in [`TxPool::best_transactions`]'s
    /// order: as many as could fit `gas_limit` if each used the 21,000 gas
    /// of a plain transfer, and none whose own limit exceeds `gas_limit`.
    /// The sum of their limits may exceed the block's gas: a block holds
    /// the gas its transactions use, not the limits their senders set, so
    /// the producer executes candidates until the block is full (as geth
    /// and reth do). When one no longer fits, the producer skips the rest
    /// of that sender's.
    pub fn block_candidates(&self, gas_limit: u64) -> Vec<PooledTx> {
        self.inner.store.read().candidates(gas_limit)
    }

    /// Updates the pool after a block: forgets the `(sender, nonce)` pairs it
    /// included, re-reads every pooled sender's account (a block can change
    /// any balance), drops what became stale or unaffordable and promotes
    /// queued transactions whose gap closed.
    pub fn on_block_committed(&self, mined: &[(Address, u64)], state: &dyn AccountReader) {
        let senders = {
            let mut store = self.inner.store.write();
            for (sender, nonce) in mined {
                store.remove_mined(sender, *nonce);
            }
            store.senders()
        };
        // Read state without the lock so RPC and block building go on.
        let accounts: Vec<(Address, (u64, U256))> = senders
            .into_iter()
            .filter_map(|a| match state.nonce_and_balance(&a) {
                Ok(account) => Some((a, account)),
                Err(reason) => {
                    tracing::warn!(address = %a, %reason, "txpool: cannot read account after block");
                    None
                }
            })
            .collect();
        let mut store = self.inner.store.write();
        for (address, (nonce, balance)) in accounts {
            store.update_account(&address, nonce, balance);
        }
    }

    /// Re-reads `sender`'s account from `state` and re-sorts its
    /// transactions. A transaction validated against a state snapshot that a
    /// block replaced meanwhile may have been queued behind a nonce that
    /// block mined; this promotes it.
    pub fn refresh_account(&self, sender: &Address, state: &dyn AccountReader) {
        match state.nonce_and_balance(sender) {
            Ok((nonce, balance)) => self
                .inner
                .store
                .write()
                .update_account(sender, nonce, balance),
            Err(reason) => {
                tracing::warn!(address = %sender, %reason, "txpool: cannot read account");
            }
        }
    }

    /// Removes a transaction by hash (e.g. one the block builder found
    /// invalid). Returns whether it was pooled.
    pub fn remove(&self, hash: &B256) -> bool {
        self.inner.store.write().remove_by_hash(hash).is_some()
    }

    pub fn get(&self, hash: &B256) -> Option<PooledTx> {
        self.inner.store.read().get(hash)
    }

    /// The senders of the pooled transactions among `hashes` (recovered
    /// when they were admitted), `None` for the others: a block of
    /// transactions this node already holds needs no signature checks.
    pub fn senders_of(&self, hashes: &[B256]) -> Vec<Option<Address>> {
        let store = self.inner.store.read();
        hashes
            .iter()
            .map(|h| store.get(h).map(|t| t.sender))
            .collect()
    }

    pub fn contains(&self, hash: &B256) -> bool {
        self.inner.store.read().contains(hash)
    }

    /// The nonce after the sender's pending transactions, for
    /// `eth_getTransactionCount(address, "pending")`; `None` if the sender has
    /// none pending (use the account nonce).
    pub fn pending_nonce(&self, address: &Address) -> Option<u64> {
        self.inner.store.read().pending_nonce(address)
    }

    pub fn pending_count(&self) -> usize {
        self.inner.store.read().pending_count()
    }

    pub fn queued_count(&self) -> usize {
        let store = self.inner.store.read();
        store.len() - store.pending_count()
    }

    /// All transactions held, pending and queued.
    pub fn len(&self) -> usize {
        self.inner.store.read().len()
    }

    /// Summed encoded size of the pooled transactions, in bytes (bounded
    /// by [`PoolConfig::max_bytes`]).
    pub fn bytes(&self) -> usize {
        self.inner.store.read().bytes()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All pending transactions, in the order a block would take them.
    pub fn pending_transactions(&self) -> Vec<PooledTx> {
        self.inner.store.read().best(u64::MAX)
    }

    /// All queued transactions, each sender's in nonce order.
    pub fn queued_transactions(&self) -> Vec<PooledTx> {
        self.inner.store.read().queued()
    }
}

fn read_account(state: &dyn AccountReader, address: &Address) -> Result<(u64, U256), PoolError> {
    state
        .nonce_and_balance(address)
        .map_err(|reason| PoolError::State {
            address: *address,
            reason,
        })
}

/// The state's admission rules (roles, minimum gas price) for `tx`.
fn admissible(state: &dyn AccountReader, tx: &PooledTx) -> Result<(), PoolError> {
    let is_create = alloy_consensus::Transaction::kind(&*tx.tx).is_create();
    state.check_admission(&tx.sender, is_create, tx.max_fee_per_gas)
}
