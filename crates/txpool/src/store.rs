//! The pool's data structure, without locking or IO.
//!
//! Transactions are kept per sender in nonce order. A sender's transactions
//! from its account nonce up, without a gap and while its balance covers their
//! summed cost, are *pending* (executable in the next block); the rest are
//! *queued* until the gap fills or the balance allows. An eviction index keeps
//! every transaction ordered by how little it is worth keeping (queued before
//! pending, then by tip and fee cap, newest first on ties), so the pool stays
//! bounded by dropping its least useful entry.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};

use alloy_primitives::{Address, B256, U256};

use crate::{PoolConfig, PoolError, PooledTx};

/// Gas of the cheapest possible transaction: below this no more fit a block.
const MIN_TX_GAS: u64 = 21_000;

#[derive(Debug, Clone)]
struct Entry {
    tx: PooledTx,
    pending: bool,
    /// Arrival order: older transactions win ties.
    seq: u64,
    /// Effective tip at the configured base fee.
    tip: u128,
}

impl Entry {
    fn evict_key(&self) -> EvictKey {
        EvictKey {
            pending: self.pending,
            tip: self.tip,
            fee_cap: self.tx.max_fee_per_gas,
            newest_first: Reverse(self.seq),
            hash: self.tx.hash,
        }
    }
}

/// Smallest key = first to evict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct EvictKey {
    pending: bool,
    tip: u128,
    fee_cap: u128,
    newest_first: Reverse<u64>,
    hash: B256,
}

/// One sender's transactions and the account state they were checked against.
#[derive(Debug, Default)]
struct SenderTxs {
    txs: BTreeMap<u64, Entry>,
    state_nonce: u64,
    balance: U256,
    /// One past the last pending nonce; equals `state_nonce` if none is pending.
    pending_end: u64,
    /// Summed cost of all `txs`, for the balance check of a new one.
    total_cost: U256,
}

/// Indexes over all senders, kept apart from `senders` so both can be
/// borrowed mutably at once.
#[derive(Debug, Default)]
struct Index {
    by_hash: HashMap<B256, (Address, u64)>,
    eviction: BTreeSet<EvictKey>,
    pending: usize,
    /// Summed encoded size of every pooled transaction.
    bytes: usize,
}

impl Index {
    fn add(&mut self, sender: Address, entry: &Entry) {
        self.by_hash.insert(entry.tx.hash, (sender, entry.tx.nonce));
        self.eviction.insert(entry.evict_key());
        self.bytes += entry.tx.encoded_len;
        if entry.pending {
            self.pending += 1;
        }
    }

    fn remove(&mut self, entry: &Entry) {
        self.by_hash.remove(&entry.tx.hash);
        self.eviction.remove(&entry.evict_key());
        self.bytes -= entry.tx.encoded_len;
        if entry.pending {
            self.pending -= 1;
        }
    }

    fn set_pending(&mut self, entry: &mut Entry, pending: bool) {
        if entry.pending == pending {
            return;
        }
        self.eviction.remove(&entry.evict_key());
        entry.pending = pending;
        self.eviction.insert(entry.evict_key());
        if pending {
            self.pending += 1;
        } else {
            self.pending -= 1;
        }
    }
}

/// What an accepted insert did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Inserted {
    pub replaced: Option<B256>,
    pub evicted: Vec<B256>,
}

#[derive(Debug, Default)]
pub(crate) struct Store {
    senders: HashMap<Address, SenderTxs>,
    index: Index,
    next_seq: u64,
}

impl Store {
    pub fn len(&self) -> usize {
        self.index.by_hash.len()
    }

    pub fn pending_count(&self) -> usize {
        self.index.pending
    }

    /// Summed encoded size of the pooled transactions.
    pub fn bytes(&self) -> usize {
        self.index.bytes
    }

    pub fn contains(&self, hash: &B256) -> bool {
        self.index.by_hash.contains_key(hash)
    }

    pub fn get(&self, hash: &B256) -> Option<PooledTx> {
        let (sender, nonce) = self.index.by_hash.get(hash)?;
        let entry = self.senders.get(sender)?.txs.get(nonce)?;
        Some(entry.tx.clone())
    }

    pub fn senders(&self) -> Vec<Address> {
        self.senders.keys().copied().collect()
    }

    pub fn pending_nonce(&self, sender: &Address) -> Option<u64> {
        let s = self.senders.get(sender)?;
        (s.pending_end > s.state_nonce).then_some(s.pending_end)
    }

    /// Queued transactions, per sender in nonce order.
    pub fn queued(&self) -> Vec<PooledTx> {
        self.senders
            .values()
            .flat_map(|s| s.txs.values().filter(|e| !e.pending).map(|e| e.tx.clone()))
            .collect()
    }

    /// Validates `tx` against the sender's fresh account state and the pool's
    /// limits, and inserts it.
    pub fn insert(
        &mut self,
        tx: PooledTx,
        state_nonce: u64,
        balance: U256,
        config: &PoolConfig,
    ) -> Result<Inserted, PoolError> {
        if self.contains(&tx.hash) {
            return Err(PoolError::AlreadyKnown);
        }
        if tx.nonce < state_nonce {
            return Err(PoolError::NonceTooLow {
                address: tx.sender,
                tx_nonce: tx.nonce,
                state_nonce,
            });
        }
        if tx.nonce == u64::MAX {
            return Err(PoolError::NonceMax {
                address: tx.sender,
                nonce: tx.nonce,
            });
        }
        if tx.nonce - state_nonce > config.max_nonce_gap {
            return Err(PoolError::NonceTooHigh {
                address: tx.sender,
                tx_nonce: tx.nonce,
                state_nonce,
                max_gap: config.max_nonce_gap,
            });
        }
        let sender = tx.sender;
        if let Some(s) = self.senders.get_mut(&sender) {
            // The caller read state just now; it may be newer than the last
            // block the pool was told about.
            s.state_nonce = state_nonce;
            s.balance = balance;
            self.settle(&sender);
        }

        let existing = self.senders.get(&sender);
        let old = existing.and_then(|s| s.txs.get(&tx.nonce));
        if let Some(old) = old {
            check_replacement(&old.tx, &tx, config.price_bump_percent)?;
        } else if let Some(s) = existing {
            if s.txs.len() >= config.max_per_sender {
                return Err(PoolError::AccountLimitExceeded {
                    address: sender,
                    limit: config.max_per_sender,
                });
            }
        }
        let pooled_cost = existing.map_or(U256::ZERO, |s| {
            s.total_cost - old.map_or(U256::ZERO, |o| o.tx.cost)
        });
        if pooled_cost.saturating_add(tx.cost) > balance {
            return Err(PoolError::InsufficientFunds {
                address: sender,
                balance,
                pooled_cost,
                tx_cost: tx.cost,
            });
        }
        let replaced = old.map(|o| o.tx.hash);
        let pending_end = existing.map_or(state_nonce, |s| s.pending_end);
        let tip = tx.effective_tip(config.base_fee);

        let freed = old.map_or(0, |o| o.tx.encoded_len);
        let victims = self.victims_for(&tx, replaced.is_some(), freed, pending_end, tip, config)?;
        let evicted = victims
            .iter()
            .filter_map(|v| self.remove_by_hash(&v.hash))
            .collect();

        let s = self.senders.entry(sender).or_insert_with(|| SenderTxs {
            state_nonce,
            balance,
            pending_end: state_nonce,
            ..SenderTxs::default()
        });
        if let Some(old) = s.txs.remove(&tx.nonce) {
            s.total_cost -= old.tx.cost;
            self.index.remove(&old);
        }
        let entry = Entry {
            pending: false,
            seq: self.next_seq,
            tip,
            tx,
        };
        self.next_seq += 1;
        s.total_cost = s.total_cost.saturating_add(entry.tx.cost);
        self.index.add(sender, &entry);
        s.txs.insert(entry.tx.nonce, entry);
        self.settle(&sender);
        Ok(Inserted { replaced, evicted })
    }

    /// The transactions to evict so that `tx` fits both the count and the
    /// byte budget: the least useful of other senders first (evicting one of
    /// the inserting sender's own could open a gap before the new one), each
    /// worth less than `tx`, or the refusal that names the limit. Nothing is
    /// evicted unless all of them can be.
    fn victims_for(
        &self,
        tx: &PooledTx,
        replacing: bool,
        freed: usize,
        pending_end: u64,
        tip: u128,
        config: &PoolConfig,
    ) -> Result<Vec<EvictKey>, PoolError> {
        let mut count = self.len() + usize::from(!replacing);
        let mut bytes = (self.index.bytes - freed).saturating_add(tx.encoded_len);
        if count <= config.max_txs && bytes <= config.max_bytes {
            return Ok(Vec::new());
        }
        let over_count = count > config.max_txs;
        let refusal = |min_tip| {
            if over_count {
                PoolError::PoolFull {
                    capacity: config.max_txs,
                    min_tip,
                }
            } else {
                PoolError::PoolFullBytes {
                    limit: config.max_bytes,
                    min_tip,
                }
            }
        };
        let would_be_pending = tx.nonce == pending_end;
        let mut victims = Vec::new();
        let others = self.index.eviction.iter().filter(|k| {
            self.index
                .by_hash
                .get(&k.hash)
                .is_some_and(|(a, _)| *a != tx.sender)
        });
        for victim in others {
            if count <= config.max_txs && bytes <= config.max_bytes {
                break;
            }
            if (would_be_pending, tip, tx.max_fee_per_gas)
                <= (victim.pending, victim.tip, victim.fee_cap)
            {
                return Err(refusal(victim.tip));
            }
            count -= 1;
            bytes -= self.encoded_len(&victim.hash);
            victims.push(*victim);
        }
        if count > config.max_txs || bytes > config.max_bytes {
            return Err(refusal(0));
        }
        Ok(victims)
    }

    fn encoded_len(&self, hash: &B256) -> usize {
        self.index
            .by_hash
            .get(hash)
            .and_then(|(a, n)| self.senders.get(a)?.txs.get(n))
            .map_or(0, |e| e.tx.encoded_len)
    }

    /// Removes one transaction and re-sorts its sender; returns its hash.
    pub fn remove_by_hash(&mut self, hash: &B256) -> Option<B256> {
        let (sender, nonce) = *self.index.by_hash.get(hash)?;
        self.remove_nonce(&sender, nonce);
        self.settle(&sender);
        Some(*hash)
    }

    fn remove_nonce(&mut self, sender: &Address, nonce: u64) -> Option<Entry> {
        let s = self.senders.get_mut(sender)?;
        let entry = s.txs.remove(&nonce)?;
        s.total_cost -= entry.tx.cost;
        self.index.remove(&entry);
        Some(entry)
    }

    /// Forgets the transaction a block included at `(sender, nonce)` and
    /// moves the sender's known nonce past it.
    pub fn remove_mined(&mut self, sender: &Address, nonce: u64) {
        self.remove_nonce(sender, nonce);
        if let Some(s) = self.senders.get_mut(sender) {
            s.state_nonce = s.state_nonce.max(nonce.saturating_add(1));
        }
        self.settle(sender);
    }

    /// Applies fresh account state to a sender's transactions.
    pub fn update_account(&mut self, sender: &Address, nonce: u64, balance: U256) {
        if let Some(s) = self.senders.get_mut(sender) {
            s.state_nonce = nonce;
            s.balance = balance;
            self.settle(sender);
        }
    }

    /// Drops a sender's stale and unaffordable transactions and recomputes
    /// which of the rest are pending. Returns how many were dropped.
    fn settle(&mut self, sender: &Address) -> usize {
        let Some(s) = self.senders.get_mut(sender) else {
            return 0;
        };
        // Below the account nonce: already executed (by us or by a block from
        // elsewhere). Costing more than the whole balance: can never run
        // until the balance rises, and would only hold a slot.
        let doomed: Vec<u64> = s
            .txs
            .iter()
            .filter(|(n, e)| **n < s.state_nonce || e.tx.cost > s.balance)
            .map(|(n, _)| *n)
            .collect();
        for nonce in &doomed {
            if let Some(entry) = s.txs.remove(nonce) {
                s.total_cost -= entry.tx.cost;
                self.index.remove(&entry);
            }
        }

        let mut expected = s.state_nonce;
        let mut spent = U256::ZERO;
        let mut in_run = true;
        for (nonce, entry) in s.txs.iter_mut() {
            let after = spent.saturating_add(entry.tx.cost);
            let pending = in_run && *nonce == expected && after <= s.balance;
            if pending {
                expected += 1;
                spent = after;
            } else {
                in_run = false;
            }
            self.index.set_pending(entry, pending);
        }
        s.pending_end = expected;
        if s.txs.is_empty() {
            self.senders.remove(sender);
        }
        doomed.len()
    }

    /// Pending transactions for a block of at most `gas_limit` gas: each
    /// sender's in nonce order, interleaved by effective tip (highest first,
    /// older first on ties). A transaction that does not fit ends its sender's
    /// run, since later nonces cannot be included without it.
    pub fn best(&self, gas_limit: u64) -> Vec<PooledTx> {
        self.ordered(gas_limit, |tx| tx.gas_limit)
    }

    /// Candidates for a block of `gas_limit` gas, in [`Store::best`]'s
    /// order, counting each at the least gas a transaction uses (21,000)
    /// instead of its limit: a block holds what its transactions use, and
    /// the builder stops when it is full. Each candidate's own limit still
    /// fits the block.
    pub fn candidates(&self, gas_limit: u64) -> Vec<PooledTx> {
        self.ordered(gas_limit, |_| MIN_TX_GAS)
    }

    /// Pending transactions in block order while their `charge` fits
    /// `gas_limit`; no transaction's own limit exceeds what is left.
    fn ordered(&self, gas_limit: u64, charge: impl Fn(&PooledTx) -> u64) -> Vec<PooledTx> {
        let mut heap = BinaryHeap::new();
        for (addr, s) in &self.senders {
            if let Some(e) = s.txs.get(&s.state_nonce).filter(|e| e.pending) {
                heap.push((e.tip, Reverse(e.seq), *addr, s.state_nonce));
            }
        }
        let mut out = Vec::new();
        let mut remaining = gas_limit;
        while remaining >= MIN_TX_GAS {
            let Some((_, _, addr, nonce)) = heap.pop() else {
                break;
            };
            let Some(s) = self.senders.get(&addr) else {
                continue;
            };
            let Some(entry) = s.txs.get(&nonce) else {
                continue;
            };
            if entry.tx.gas_limit > remaining {
                continue;
            }
            remaining = remaining.saturating_sub(charge(&entry.tx));
            out.push(entry.tx.clone());
            let next = nonce + 1;
            if let Some(e) = s.txs.get(&next).filter(|e| e.pending) {
                heap.push((e.tip, Reverse(e.seq), addr, next));
            }
        }
        out
    }
}

/// Geth's rule: both the fee cap and the tip must rise, each by at least
/// `bump_percent`.
fn check_replacement(old: &PooledTx, new: &PooledTx, bump_percent: u64) -> Result<(), PoolError> {
    // Strictly higher even with a 0% bump, so a replacement always pays more.
    let bump = |v: u128| {
        let bumped = v.saturating_mul(100 + u128::from(bump_percent)) / 100;
        bumped.max(v.saturating_add(1))
    };
    let min_fee = bump(old.max_fee_per_gas);
    let min_tip = bump(old.max_priority_fee_per_gas);
    if new.max_fee_per_gas < min_fee || new.max_priority_fee_per_gas < min_tip {
        return Err(PoolError::ReplacementUnderpriced {
            min_fee,
            min_tip,
            bump_percent,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::TxEip1559;
    use alloy_primitives::TxKind;

    impl Store {
        /// Every index agrees with the per-sender maps.
        fn assert_consistent(&self) {
            let mut count = 0;
            let mut pending = 0;
            let mut bytes = 0;
            for (addr, s) in &self.senders {
                assert!(!s.txs.is_empty(), "empty sender entries are removed");
                let mut cost = U256::ZERO;
                let mut run_end = s.state_nonce;
                for (nonce, e) in &s.txs {
                    count += 1;
                    bytes += e.tx.encoded_len;
                    cost += e.tx.cost;
                    assert_eq!(self.index.by_hash.get(&e.tx.hash), Some(&(*addr, *nonce)));
                    assert!(self.index.eviction.contains(&e.evict_key()));
                    assert!(*nonce >= s.state_nonce);
                    if e.pending {
                        pending += 1;
                        assert_eq!(*nonce, run_end, "pending entries are contiguous");
                        run_end += 1;
                    }
                }
                assert_eq!(run_end, s.pending_end);
                assert_eq!(cost, s.total_cost);
            }
            assert_eq!(self.index.by_hash.len(), count);
            assert_eq!(self.index.eviction.len(), count);
            assert_eq!(self.index.pending, pending);
            assert_eq!(self.index.bytes, bytes);
        }
    }

    fn pooled(signer: u64, nonce: u64, tip: u128) -> PooledTx {
        let key = tally_crypto::secret_key(&U256::from(signer + 1).to_be_bytes::<32>()).unwrap();
        let tx = tally_crypto::sign_transaction(
            &key,
            TxEip1559 {
                chain_id: 1,
                nonce,
                gas_limit: 21_000,
                max_fee_per_gas: 100,
                max_priority_fee_per_gas: tip,
                to: TxKind::Call(Address::ZERO),
                ..Default::default()
            },
        );
        let sender = tally_crypto::address_of(&key);
        PooledTx::new(tx, sender, 100)
    }

    #[test]
    fn indexes_stay_consistent_through_every_operation() {
        // 100-byte transactions: the byte budget (10 of them) binds before
        // the count (12) does.
        let config = PoolConfig {
            max_txs: 12,
            max_per_sender: 5,
            max_bytes: 1_000,
            ..PoolConfig::new(1, 30_000_000, 10)
        };
        let balance = U256::from(21_000u64 * 100 * 4);
        let mut store = Store::default();
        let mut nonces = [0u64; 4];
        // A fixed pseudo-random walk over inserts (with gaps, replacements,
        // overflow), mined nonces and balance changes.
        let mut x: u64 = 0x9e37_79b9;
        for step in 0..400 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let signer = x % 4;
            let sender = pooled(signer, 0, 1).sender;
            match step % 5 {
                0..=2 => {
                    let nonce = nonces[signer as usize] + (x >> 8) % 6;
                    let tip = 1 + (x >> 16) % 60;
                    let _ = store.insert(
                        pooled(signer, nonce, tip.into()),
                        nonces[signer as usize],
                        balance,
                        &config,
                    );
                }
                3 => {
                    let n = nonces[signer as usize];
                    store.remove_mined(&sender, n);
                    nonces[signer as usize] += 1;
                }
                _ => {
                    let b = balance / U256::from(1 + (x >> 20) % 4);
                    store.update_account(&sender, nonces[signer as usize], b);
                }
            }
            store.assert_consistent();
            assert!(store.len() <= config.max_txs);
            assert!(store.bytes() <= config.max_bytes);
        }
    }
}
