//! A model chain in memory: real `SealedBlock`s and `Receipt`s whose
//! transactions and logs exercise every table, and block sources over it.

#![allow(dead_code)]

use std::cell::Cell;
use std::collections::BTreeMap;

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy};
use alloy_primitives::{Address, Bytes, Log, Signature, TxKind, B256, U256};
use alloy_sol_types::SolEvent;
use tally_primitives::{Header, Receipt, SealedBlock};
use tally_sql::decoders::abi::{ITallyAssets, ITallyNotary, ITallyTrace};
use tally_sql::decoders::addresses::{ASSETS, NOTARY, TRACE};
use tally_sql::rows::TRANSFER_TOPIC;
use tally_sql::{
    BatchLimits, BlockSource, Index, IndexOptions, IndexedBlock, QueryLimits, SourceError,
};

/// One transaction of a model block, with what its receipt logs.
#[derive(Clone, Debug)]
pub enum Tx {
    /// A value transfer.
    Pay { from: u8, to: u8, value: u64 },
    /// A contract creation, successful or reverted.
    Create { from: u8, ok: bool },
    /// A call whose receipt carries an ERC-20 Transfer of `token`.
    Erc20 {
        from: u8,
        token: u8,
        to: u8,
        amount: u64,
    },
    /// A call whose receipt carries an ERC-721 Transfer.
    Erc721 {
        from: u8,
        token: u8,
        to: u8,
        id: u64,
    },
    /// A notary stamp of `docs` document hashes (Stamped + Notarized each).
    Stamp { from: u8, docs: u8, salt: u64 },
    /// A notary revocation.
    Revoke { from: u8, doc: u64 },
    /// A product registration and one event on it.
    Trace { from: u8, product: u64 },
    /// An asset issue (AssetIssued, then a mint as an ERC-20 Transfer).
    Issue { from: u8, id: u64 },
    /// A reverted call: no logs.
    Fail { from: u8, to: u8 },
}

/// As a party of a token transfer, the zero address: a transfer from it is
/// a mint, to it a burn.
pub const ZERO_PARTY: u8 = u8::MAX;

/// The party `i` of a token transfer's topics.
fn party(i: u8) -> B256 {
    if i == ZERO_PARTY {
        B256::ZERO
    } else {
        word(account(i))
    }
}

pub fn account(i: u8) -> Address {
    Address::with_last_byte(i.wrapping_add(0x10))
}

pub fn token(i: u8) -> Address {
    let mut a = [0xeeu8; 20];
    a[19] = i;
    Address::from(a)
}

pub fn asset_token(id: u64) -> Address {
    let mut a = [0u8; 20];
    a[..3].copy_from_slice(&[0xa5, 0x5e, 0x70]);
    a[12..].copy_from_slice(&id.to_be_bytes());
    Address::from(a)
}

pub fn document(salt: u64, i: u8) -> B256 {
    alloy_primitives::keccak256(format!("doc {salt} {i}"))
}

fn word(a: Address) -> B256 {
    a.into_word()
}

fn signature() -> Signature {
    Signature::new(U256::from(1u64), U256::from(2u64), false)
}

/// A transaction's envelope; `salt` keeps hashes apart across branches
/// (or equal, to model a transaction re-included by a reorg).
fn envelope(tx: &Tx, nonce: u64, salt: u64, eip1559: bool) -> TxEnvelope {
    let (to, value, input) = match *tx {
        Tx::Pay { to, value, .. } => (TxKind::Call(account(to)), value, Vec::new()),
        Tx::Create { .. } => (TxKind::Create, 0, vec![0x60, 0x80, 0x60, 0x40]),
        Tx::Erc20 { token: t, .. } | Tx::Erc721 { token: t, .. } => {
            (TxKind::Call(token(t)), 0, vec![0xa9, 0x05, 0x9c, 0xbb, 1])
        }
        Tx::Stamp { .. } | Tx::Revoke { .. } => (TxKind::Call(NOTARY), 0, vec![1, 2, 3, 4]),
        Tx::Trace { .. } => (TxKind::Call(TRACE), 0, vec![5, 6, 7, 8]),
        Tx::Issue { .. } => (TxKind::Call(ASSETS), 0, vec![9, 9, 9, 9]),
        Tx::Fail { to, .. } => (TxKind::Call(account(to)), 1, vec![0xff]),
    };
    let mut input = input;
    input.extend_from_slice(&salt.to_be_bytes());
    if eip1559 {
        TxEip1559 {
            chain_id: 7,
            nonce,
            gas_limit: 100_000,
            max_fee_per_gas: 2_000_000_000,
            max_priority_fee_per_gas: 1,
            to,
            value: U256::from(value),
            input: Bytes::from(input),
            ..Default::default()
        }
        .into_signed(signature())
        .into()
    } else {
        TxLegacy {
            chain_id: Some(7),
            nonce,
            gas_price: 1_000_000_000,
            gas_limit: 100_000,
            to,
            value: U256::from(value),
            input: Bytes::from(input),
        }
        .into_signed(signature())
        .into()
    }
}

fn log(address: Address, topics: Vec<B256>, data: Vec<u8>) -> Log {
    Log::new_unchecked(address, topics, Bytes::from(data))
}

fn event_log(address: Address, event: &impl SolEvent) -> Log {
    Log {
        address,
        data: event.encode_log_data(),
    }
}

/// The sender and logs of a transaction, and whether it succeeded.
fn outcome(tx: &Tx) -> (u8, bool, Vec<Log>) {
    match *tx {
        Tx::Pay { from, .. } => (from, true, vec![]),
        Tx::Create { from, ok } => (from, ok, vec![]),
        Tx::Fail { from, .. } => (from, false, vec![]),
        Tx::Erc20 {
            from,
            token: t,
            to,
            amount,
        } => {
            let transfer = log(
                token(t),
                vec![TRANSFER_TOPIC, party(from), party(to)],
                U256::from(amount).to_be_bytes::<32>().to_vec(),
            );
            (from, true, vec![transfer])
        }
        Tx::Erc721 {
            from,
            token: t,
            to,
            id,
        } => {
            let transfer = log(
                token(t),
                vec![
                    TRANSFER_TOPIC,
                    party(from),
                    party(to),
                    U256::from(id).into(),
                ],
                vec![],
            );
            (from, true, vec![transfer])
        }
        Tx::Stamp { from, docs, salt } => {
            let documents: Vec<B256> = (0..docs).map(|i| document(salt, i)).collect();
            let root = tally_primitives::merkle::root(&documents);
            let mut logs = vec![event_log(
                NOTARY,
                &ITallyNotary::Stamped {
                    root,
                    submitter: account(from),
                    count: u64::from(docs),
                    label: format!("batch {salt}"),
                },
            )];
            for (index, d) in documents.iter().enumerate() {
                logs.push(event_log(
                    NOTARY,
                    &ITallyNotary::Notarized {
                        document: *d,
                        root,
                        index: index as u64,
                    },
                ));
            }
            (from, true, logs)
        }
        Tx::Revoke { from, doc } => {
            let revoked = ITallyNotary::Revoked {
                document: document(doc, 0),
                submitter: account(from),
                replacement: if doc % 2 == 0 {
                    B256::ZERO
                } else {
                    document(doc, 1)
                },
                reason: "typo".into(),
            };
            (from, true, vec![event_log(NOTARY, &revoked)])
        }
        Tx::Trace { from, product } => {
            let id = format!("SKU-{product}");
            let hash = alloy_primitives::keccak256(id.as_bytes());
            let registered = ITallyTrace::ProductRegistered {
                product: hash,
                registry: 1,
                manufacturer: account(from),
                productId: id,
                description: "a crate of apples".into(),
            };
            let event = ITallyTrace::TraceEvent {
                product: hash,
                party: account(from),
                index: 0,
                role: 1,
                status: "made".into(),
                location: "Lyon".into(),
                documents: vec![document(product, 0)],
            };
            (
                from,
                true,
                vec![event_log(TRACE, &registered), event_log(TRACE, &event)],
            )
        }
        Tx::Issue { from, id } => {
            let issued = ITallyAssets::AssetIssued {
                token: asset_token(id),
                issuer: account(from),
                id,
                name: format!("Asset {id}"),
                symbol: format!("A{id}"),
                decimals: 6,
                cap: U256::from(10u64).pow(U256::from(30u64)),
                regulator: Address::ZERO,
            };
            let mint = log(
                asset_token(id),
                vec![TRANSFER_TOPIC, B256::ZERO, word(account(from))],
                U256::from(1_000_000u64).to_be_bytes::<32>().to_vec(),
            );
            (from, true, vec![event_log(ASSETS, &issued), mint])
        }
    }
}

/// Builds a block on `parent` from transactions; `branch` makes the hash
/// differ between competing blocks at one height. `salt` feeds transaction
/// hashes (the same salt re-creates the same transactions).
pub fn make_block(parent: Option<&IndexedBlock>, branch: u64, txs: &[(Tx, u64)]) -> IndexedBlock {
    let number = parent.map_or(0, |p| p.block.number() + 1);
    let parent_hash = parent.map_or(B256::ZERO, |p| p.block.hash());
    let mut transactions = Vec::new();
    let mut senders = Vec::new();
    let mut receipts = Vec::new();
    let mut cumulative = 0;
    for (i, (tx, salt)) in txs.iter().enumerate() {
        let (from, success, logs) = outcome(tx);
        // Nonces from the number keep hashes unique along one chain.
        let nonce = number * 16 + i as u64;
        let env = envelope(tx, nonce, *salt, i % 2 == 1);
        let gas = 21_000 + 1_000 * logs.len() as u64;
        cumulative += gas;
        receipts.push(Receipt {
            tx_type: if i % 2 == 1 { 2 } else { 0 },
            success,
            gas_used: gas,
            cumulative_gas_used: cumulative,
            logs: if success { logs } else { vec![] },
        });
        transactions.push(env);
        senders.push(account(from));
    }
    let header = Header {
        parent_hash,
        number,
        timestamp: 1_700_000_000 + number * 2,
        beneficiary: account(99),
        gas_limit: 30_000_000,
        gas_used: cumulative,
        base_fee: 1_000_000_000,
        extra_data: Bytes::from(branch.to_be_bytes().to_vec()),
        ..Default::default()
    };
    IndexedBlock {
        block: SealedBlock {
            header: header.seal_slow(),
            transactions,
            senders,
        },
        receipts,
    }
}

/// A small deterministic generator (xorshift), so a block is a function of
/// its seed and the proptest only chooses shapes.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Random transactions for block `number` of `branch`. Some are the same
/// on every branch, as a transaction re-included after a reorg is.
pub fn random_txs(number: u64, branch: u64) -> Vec<(Tx, u64)> {
    let mut rng = Rng::new(number * 1_000_003 + branch);
    let n = rng.below(5);
    (0..n)
        .map(|_| {
            let from = rng.below(6) as u8;
            let to = rng.below(6) as u8;
            let salt = if rng.below(3) == 0 {
                number
            } else {
                number ^ (branch << 32)
            };
            let tx = match rng.below(9) {
                0 => Tx::Pay {
                    from,
                    to,
                    value: rng.below(1_000),
                },
                1 => Tx::Create {
                    from,
                    ok: rng.below(4) != 0,
                },
                2 => Tx::Erc20 {
                    from,
                    token: rng.below(3) as u8,
                    to,
                    amount: rng.next(),
                },
                3 => Tx::Erc721 {
                    from,
                    token: 7,
                    to,
                    id: rng.below(50),
                },
                4 => Tx::Stamp {
                    from,
                    docs: 1 + rng.below(3) as u8,
                    salt,
                },
                5 => Tx::Revoke {
                    from,
                    doc: rng.below(10),
                },
                6 => Tx::Trace {
                    from,
                    product: salt,
                },
                7 => Tx::Issue { from, id: salt },
                _ => Tx::Fail { from, to },
            };
            (tx, salt)
        })
        .collect()
}

/// A canonical chain in memory.
#[derive(Clone, Default)]
pub struct Chain {
    pub blocks: Vec<IndexedBlock>,
}

impl Chain {
    /// Appends `n` random blocks of `branch`.
    pub fn extend(&mut self, n: u64, branch: u64) {
        for _ in 0..n {
            let number = self.blocks.len() as u64;
            let block = make_block(self.blocks.last(), branch, &random_txs(number, branch));
            self.blocks.push(block);
        }
    }

    /// Appends one block with the given transactions.
    pub fn push(&mut self, branch: u64, txs: &[(Tx, u64)]) -> &IndexedBlock {
        let block = make_block(self.blocks.last(), branch, txs);
        self.blocks.push(block);
        self.blocks.last().unwrap()
    }

    /// Drops the last `k` blocks (keeping genesis) and grows `n` of `branch`.
    pub fn reorg(&mut self, k: u64, n: u64, branch: u64) {
        let keep = self.blocks.len().saturating_sub(k as usize).max(1);
        self.blocks.truncate(keep.min(self.blocks.len()));
        self.extend(n, branch);
    }
}

impl BlockSource for Chain {
    fn head(&self) -> Result<Option<(u64, B256)>, SourceError> {
        Ok(self
            .blocks
            .last()
            .map(|b| (b.block.number(), b.block.hash())))
    }
    fn block(&self, number: u64) -> Result<Option<IndexedBlock>, SourceError> {
        Ok(self.blocks.get(number as usize).cloned())
    }
}

/// A source that fails after `budget` block reads: a node stopped mid-sync.
pub struct Failing<'a> {
    pub inner: &'a Chain,
    pub budget: Cell<u64>,
}

impl BlockSource for Failing<'_> {
    fn head(&self) -> Result<Option<(u64, B256)>, SourceError> {
        self.inner.head()
    }
    fn block(&self, number: u64) -> Result<Option<IndexedBlock>, SourceError> {
        if self.budget.get() == 0 {
            return Err(SourceError::new("the node is stopping"));
        }
        self.budget.set(self.budget.get() - 1);
        self.inner.block(number)
    }
    fn hash(&self, number: u64) -> Result<Option<B256>, SourceError> {
        self.inner.hash(number)
    }
}

pub fn small_batches() -> IndexOptions {
    IndexOptions {
        batch: BatchLimits {
            blocks: 3,
            rows: 25,
        },
        ..IndexOptions::default()
    }
}

pub fn no_progress() -> impl FnMut(tally_sql::Progress) {
    |_| {}
}

pub fn limits() -> QueryLimits {
    QueryLimits {
        max_rows: 1_000_000,
        timeout: std::time::Duration::from_secs(10),
        ..QueryLimits::default()
    }
}

/// Every row of every table (bookkeeping aside), sorted: two indexes with
/// equal dumps hold the same data.
pub fn dump(index: &Index) -> BTreeMap<String, Vec<String>> {
    let tables = index
        .query(
            "SELECT name FROM sqlite_schema
             WHERE type IN ('table', 'view') AND name != 'index_meta'",
            &[],
            limits(),
        )
        .unwrap();
    let mut out = BTreeMap::new();
    for row in tables.rows {
        let name = row[0].as_str().unwrap().to_owned();
        let rows = index
            .query(&format!("SELECT * FROM \"{name}\""), &[], limits())
            .unwrap();
        assert!(!rows.truncated);
        let mut rows: Vec<String> = rows
            .rows
            .iter()
            .map(|r| serde_json::Value::from(r.clone()).to_string())
            .collect();
        rows.sort();
        out.insert(name, rows);
    }
    out
}

/// An index built from nothing over `chain`.
pub fn fresh_dump(chain: &Chain) -> BTreeMap<String, Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path().join("fresh.sqlite")).unwrap();
    index.sync(chain, &mut no_progress()).unwrap();
    dump(&index)
}

/// Runs one query and returns its rows.
pub fn rows(index: &Index, sql: &str, params: &[serde_json::Value]) -> Vec<Vec<serde_json::Value>> {
    index.query(sql, params, limits()).unwrap().rows
}

/// The one value of a one-row, one-column query.
pub fn scalar(index: &Index, sql: &str, params: &[serde_json::Value]) -> serde_json::Value {
    let rows = rows(index, sql, params);
    assert_eq!(rows.len(), 1, "{sql}: {rows:?}");
    rows[0][0].clone()
}

/// Each (token, holder)'s balance worked out from every indexed transfer,
/// one by one: what `token_balances` must hold, sorted, zeros left out.
pub fn balances_from_transfers(index: &Index) -> Vec<(String, String, String)> {
    use alloy_primitives::I256;
    let zero = format!("{:#x}", Address::ZERO);
    let mut sums: BTreeMap<(String, String), I256> = BTreeMap::new();
    let transfers = rows(
        index,
        "SELECT token, sender, recipient, value, standard FROM token_transfers",
        &[],
    );
    for t in transfers {
        let s = |i: usize| t[i].as_str().unwrap_or_default().to_owned();
        let amount = if s(4) == "erc721" {
            I256::ONE
        } else {
            I256::from_dec_str(&s(3)).unwrap()
        };
        *sums.entry((s(0), s(2))).or_default() += amount;
        *sums.entry((s(0), s(1))).or_default() -= amount;
    }
    sums.into_iter()
        .filter(|((_, holder), v)| *holder != zero && !v.is_zero())
        .map(|((token, holder), v)| (token, holder, v.to_string()))
        .collect()
}

/// What `token_balances` holds, sorted like [`balances_from_transfers`].
pub fn stored_balances(index: &Index) -> Vec<(String, String, String)> {
    rows(
        index,
        "SELECT token, holder, balance FROM token_balances ORDER BY token, holder",
        &[],
    )
    .into_iter()
    .map(|r| {
        let s = |i: usize| r[i].as_str().unwrap().to_owned();
        (s(0), s(1), s(2))
    })
    .collect()
}
