//! An in-memory [`Backend`] over a small chain of real, signed Tally blocks,
//! for running the real server in tests.

#![allow(dead_code)]

/// Implements every required [`Backend`] method by delegating to the
/// `TestBackend` behind `self.$field` (an `Arc<TestBackend>`), so a test
/// backend writes only the optional methods it is about.
macro_rules! delegate_required_backend {
    ($field:tt) => {
        delegate_required_backend!(@each $field;
            fn chain_id(&self) -> u64;
            fn client_version(&self) -> String;
            fn engine_name(&self) -> String;
            fn head(&self) -> tally_primitives::SealedHeader;
            fn safe_number(&self) -> u64;
            fn finalized_number(&self) -> u64;
            fn header_by_number(&self, number: u64) -> Result<Option<tally_primitives::SealedHeader>, tally_rpc::BackendError>;
            fn header_by_hash(&self, hash: tally_primitives::B256) -> Result<Option<tally_primitives::SealedHeader>, tally_rpc::BackendError>;
            fn block_by_number(&self, number: u64) -> Result<Option<tally_primitives::SealedBlock>, tally_rpc::BackendError>;
            fn block_by_hash(&self, hash: tally_primitives::B256) -> Result<Option<tally_primitives::SealedBlock>, tally_rpc::BackendError>;
            fn receipts(&self, block_hash: tally_primitives::B256) -> Result<Option<Vec<tally_primitives::Receipt>>, tally_rpc::BackendError>;
            fn tx_location(&self, tx_hash: tally_primitives::B256) -> Result<Option<tally_primitives::TxLocation>, tally_rpc::BackendError>;
            fn pending_transaction(&self, tx_hash: tally_primitives::B256) -> Result<Option<tally_rpc::PendingTransaction>, tally_rpc::BackendError>;
            fn pending_transaction_hashes(&self) -> Vec<tally_primitives::B256>;
            fn account(&self, address: tally_primitives::Address, number: u64) -> Result<Option<tally_primitives::Account>, tally_rpc::BackendError>;
            fn storage(&self, address: tally_primitives::Address, slot: tally_primitives::B256, number: u64) -> Result<tally_primitives::B256, tally_rpc::BackendError>;
            fn code(&self, address: tally_primitives::Address, number: u64) -> Result<tally_primitives::Bytes, tally_rpc::BackendError>;
            fn proof(&self, address: tally_primitives::Address, slots: Vec<tally_primitives::B256>, number: u64) -> Result<serde_json::Value, tally_rpc::BackendError>;
            fn call(&self, request: &tally_rpc::CallRequest, number: u64) -> Result<tally_rpc::CallOutcome, tally_rpc::BackendError>;
            fn send_raw_transaction(&self, raw: tally_primitives::Bytes) -> Result<tally_primitives::B256, tally_rpc::BackendError>;
            fn pending_nonce(&self, address: tally_primitives::Address) -> Result<u64, tally_rpc::BackendError>;
            fn peer_count(&self) -> usize;
            fn syncing(&self) -> Option<tally_rpc::SyncProgress>;
            fn next_base_fee(&self) -> u64;
            fn suggested_priority_fee(&self) -> u128;
            fn subscribe_new_blocks(&self) -> tokio::sync::broadcast::Receiver<std::sync::Arc<tally_rpc::NewBlock>>;
            fn subscribe_pending_txs(&self) -> tokio::sync::broadcast::Receiver<tally_primitives::B256>;
        );
    };
    (@each $field:tt; $(fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)*) => {
        $(fn $name(&self $(, $arg: $ty)*) -> $ret {
            tally_rpc::Backend::$name(&*self.$field $(, $arg)*)
        })*
    };
}

pub mod bare;
pub mod client;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use alloy_consensus::{Transaction as _, TxEip1559, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{address, b256, Address, Bytes, Log, LogData, TxKind, B256, U256};
use alloy_sol_types::{Revert, SolError};
use futures::future::{self, BoxFuture};
use tally_crypto::{address_of, secret_key, sign_transaction, SecretKey};
use tally_primitives::block::{receipts_root, transactions_root};
use tally_primitives::receipt::logs_bloom;
use tally_primitives::{Account, Header, Receipt, SealedBlock, SealedHeader, TxLocation};
use tally_rpc::{
    Backend, BackendError, CallOutcome, CallRequest, CallStatus, MiningInfo, NewBlock,
    NodeIdentity, PeerInfo, PeerNetwork, PendingTransaction, SyncProgress, Work,
};
use tokio::sync::broadcast;

pub const CHAIN_ID: u64 = 1337;
pub const GWEI: u128 = 1_000_000_000;
pub const BASE_FEE: u64 = 1_000_000_000;
/// `Transfer(address,address,uint256)`.
pub const TRANSFER: B256 =
    b256!("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");
/// `Approval(address,address,uint256)`.
pub const APPROVAL: B256 =
    b256!("8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925");
/// Calls to this address revert with `Error("not allowed")`.
pub const REVERTER: Address = address!("00000000000000000000000000000000000000aa");
/// Calls to this address need a 50,000 gas limit but report 45,000 used.
pub const GAS_HUNGRY: Address = address!("00000000000000000000000000000000000000bb");
pub const HUNGRY_NEEDS: u64 = 50_000;
/// A second log emitter.
pub const OTHER: Address = address!("00000000000000000000000000000000000000cc");
pub const OTHER_TOPIC: B256 =
    b256!("1111111111111111111111111111111111111111111111111111111111111111");

pub fn key_a() -> SecretKey {
    secret_key(&[0x11; 32]).expect("valid key")
}
pub fn key_b() -> SecretKey {
    secret_key(&[0x22; 32]).expect("valid key")
}
pub fn addr_a() -> Address {
    address_of(&key_a())
}
pub fn addr_b() -> Address {
    address_of(&key_b())
}
/// The token contract `a` creates with its nonce-1 transaction in block 1.
pub fn token() -> Address {
    addr_a().create(1)
}

fn topic(a: Address) -> B256 {
    a.into_word()
}

pub fn log(address: Address, topics: Vec<B256>, data: u64) -> Log {
    Log {
        address,
        data: LogData::new_unchecked(topics, Bytes::from(U256::from(data).to_be_bytes_vec())),
    }
}

pub fn legacy(key: &SecretKey, nonce: u64, to: Address, value: u128) -> TxEnvelope {
    sign_transaction(
        key,
        TxLegacy {
            chain_id: Some(CHAIN_ID),
            nonce,
            gas_price: 2 * GWEI,
            gas_limit: 21_000,
            to: TxKind::Call(to),
            value: U256::from(value),
            input: Bytes::new(),
        },
    )
}

pub fn eip1559(key: &SecretKey, nonce: u64, to: TxKind, input: Bytes) -> TxEnvelope {
    sign_transaction(
        key,
        TxEip1559 {
            chain_id: CHAIN_ID,
            nonce,
            gas_limit: 200_000,
            max_fee_per_gas: 3 * GWEI,
            max_priority_fee_per_gas: GWEI,
            to,
            value: U256::ZERO,
            access_list: Default::default(),
            input,
        },
    )
}

/// A receipt list for `txs` with the given gas and logs per transaction.
fn receipts_for(txs: &[TxEnvelope], parts: Vec<(u64, Vec<Log>)>) -> Vec<Receipt> {
    let mut cumulative = 0;
    txs.iter()
        .zip(parts)
        .map(|(tx, (gas, logs))| {
            cumulative += gas;
            Receipt {
                tx_type: tx.tx_type() as u8,
                success: true,
                gas_used: gas,
                cumulative_gas_used: cumulative,
                logs,
            }
        })
        .collect()
}

#[derive(Default)]
struct Chain {
    blocks: Vec<(SealedBlock, Vec<Receipt>)>,
    by_hash: HashMap<B256, usize>,
    txs: HashMap<B256, TxLocation>,
    /// Account history: (block from which the value holds, value).
    accounts: HashMap<Address, Vec<(u64, Account)>>,
    storage: HashMap<(Address, B256), Vec<(u64, B256)>>,
    code: HashMap<Address, Bytes>,
    pending: Vec<PendingTransaction>,
}

impl Chain {
    fn head(&self) -> &SealedBlock {
        &self.blocks.last().expect("genesis exists").0
    }

    fn account_at(&self, address: Address, number: u64) -> Option<Account> {
        self.accounts
            .get(&address)?
            .iter()
            .rev()
            .find(|(from, _)| *from <= number)
            .map(|(_, a)| *a)
    }
}

/// This node's peer id in the fixture.
pub const LOCAL_PEER: &str = "12D3KooWLocalNodeOfTheFixture";
/// The fixture's connected peers: one that dialled us, one we dialled.
pub const PEER_IN: &str = "12D3KooWInboundPeerOfTheFixture";
pub const PEER_OUT: &str = "12D3KooWOutboundPeerOfTheFixture";

/// The fixture's peers as the node would report them.
#[derive(Default)]
pub struct TestNet {
    pub peers: Vec<PeerInfo>,
    pub blocked: BTreeSet<String>,
    /// Addresses passed to `add_peer`, in order.
    pub added: Vec<String>,
}

/// The fixture's miner; `work` is `None` until set.
pub struct TestMiner {
    pub info: MiningInfo,
    pub work: Option<Work>,
    /// `(nonce, pow_hash)` of every `submit_work`.
    pub submitted: Vec<(u64, B256)>,
    /// `(rate, id)` of every `submit_hashrate`.
    pub rates: Vec<(U256, B256)>,
}

/// The in-memory backend. `push_block` extends the chain and notifies
/// subscribers as the node does after a commit.
pub struct TestBackend {
    chain: Mutex<Chain>,
    blocks_tx: broadcast::Sender<Arc<NewBlock>>,
    pending_tx: broadcast::Sender<B256>,
    pub net: Mutex<TestNet>,
    pub miner: Mutex<TestMiner>,
}

fn peer_info(id: &str, inbound: bool) -> PeerInfo {
    PeerInfo {
        id: id.to_string(),
        name: "tally/v0.1.0".to_string(),
        caps: vec!["tally/1/1337/00".to_string()],
        network: PeerNetwork {
            local_address: inbound.then(|| "/ip4/127.0.0.1/tcp/30303".to_string()),
            remote_address: "/ip4/127.0.0.1/tcp/40000".to_string(),
            inbound,
            is_static: false,
        },
        listen_addrs: vec![format!("/ip4/127.0.0.1/tcp/30304/p2p/{id}")],
    }
}

/// A peer id as the node parses one: bare (`12D3KooW…`) or at the end of a
/// multiaddr. Anything else is invalid params, as in the node.
fn parse_peer(text: &str) -> Result<String, BackendError> {
    let id = if text.starts_with('/') {
        text.rsplit_once("/p2p/").map(|(_, id)| id).ok_or_else(|| {
            BackendError::InvalidParams(format!("address {text} does not name a peer"))
        })?
    } else {
        text
    };
    if id.starts_with("12D3KooW") {
        Ok(id.to_string())
    } else {
        Err(BackendError::InvalidParams(format!(
            "invalid peer id {text:?}; expected a libp2p peer id"
        )))
    }
}

impl TestBackend {
    /// Blocks: 0 genesis; 1 = transfer a→b (legacy) + token creation by a
    /// (1559, Transfer log); 2 = two calls to the token (b, then a), with
    /// Transfer+Approval then Transfer logs; 3 = empty; 4 = a call to OTHER
    /// with one OTHER_TOPIC log. Safe = 3, finalized = 2.
    pub fn fixture() -> Arc<Self> {
        let (blocks_tx, _) = broadcast::channel(64);
        let (pending_tx, _) = broadcast::channel(64);
        let backend = TestBackend {
            chain: Mutex::new(Chain::default()),
            blocks_tx,
            pending_tx,
            net: Mutex::new(TestNet {
                peers: vec![peer_info(PEER_IN, true), peer_info(PEER_OUT, false)],
                ..TestNet::default()
            }),
            miner: Mutex::new(TestMiner {
                info: MiningInfo {
                    mining: true,
                    threads: 2,
                    coinbase: address!("00000000000000000000000000000000000000fe"),
                    hashrate: 1_500,
                    external_hashrate: U256::from(500u64),
                    bits: 0x207f_ffff,
                    block_number: 5,
                },
                work: None,
                submitted: Vec::new(),
                rates: Vec::new(),
            }),
        };
        let (a, b) = (addr_a(), addr_b());
        let eth = U256::from(10u128.pow(18));
        backend.set_account(a, 0, 0, eth * U256::from(100));
        backend.set_account(b, 0, 0, eth * U256::from(50));
        backend.push_block(vec![], vec![]);

        let t1 = vec![
            legacy(&key_a(), 0, b, 10u128.pow(18)),
            eip1559(
                &key_a(),
                1,
                TxKind::Create,
                Bytes::from_static(&[0x60, 0x00]),
            ),
        ];
        let r1 = receipts_for(
            &t1,
            vec![
                (21_000, vec![]),
                (
                    100_000,
                    vec![log(token(), vec![TRANSFER, B256::ZERO, topic(a)], 1000)],
                ),
            ],
        );
        backend.push_block(t1, r1);
        backend.set_account(a, 1, 2, eth * U256::from(99));
        backend.set_account(b, 1, 0, eth * U256::from(51));
        backend.set_account(token(), 1, 1, U256::ZERO);
        {
            let mut c = backend.chain();
            c.storage
                .insert((token(), B256::ZERO), vec![(1, B256::from(U256::from(42)))]);
            c.code
                .insert(token(), Bytes::from_static(&[0x60, 0x01, 0x60, 0x00, 0x55]));
        }

        let t2 = vec![
            eip1559(&key_b(), 0, TxKind::Call(token()), Bytes::from_static(&[1])),
            eip1559(&key_a(), 2, TxKind::Call(token()), Bytes::from_static(&[2])),
        ];
        let r2 = receipts_for(
            &t2,
            vec![
                (
                    50_000,
                    vec![
                        log(token(), vec![TRANSFER, topic(b), topic(a)], 5),
                        log(token(), vec![APPROVAL, topic(b), topic(a)], 6),
                    ],
                ),
                (
                    40_000,
                    vec![log(token(), vec![TRANSFER, topic(a), topic(b)], 7)],
                ),
            ],
        );
        backend.push_block(t2, r2);
        backend.set_account(a, 2, 3, eth * U256::from(98));
        backend.set_account(b, 2, 1, eth * U256::from(51));
        backend.push_block(vec![], vec![]);
        let t4 = vec![eip1559(&key_a(), 3, TxKind::Call(OTHER), Bytes::new())];
        let r4 = receipts_for(&t4, vec![(30_000, vec![log(OTHER, vec![OTHER_TOPIC], 9)])]);
        backend.push_block(t4, r4);
        backend.set_account(a, 4, 4, eth * U256::from(97));
        Arc::new(backend)
    }

    fn chain(&self) -> std::sync::MutexGuard<'_, Chain> {
        self.chain.lock().expect("test lock")
    }

    pub fn net(&self) -> std::sync::MutexGuard<'_, TestNet> {
        self.net.lock().expect("test lock")
    }

    pub fn miner(&self) -> std::sync::MutexGuard<'_, TestMiner> {
        self.miner.lock().expect("test lock")
    }

    pub fn set_account(&self, address: Address, from_block: u64, nonce: u64, balance: U256) {
        let account = Account {
            nonce,
            balance,
            ..Account::default()
        };
        self.chain()
            .accounts
            .entry(address)
            .or_default()
            .push((from_block, account));
    }

    /// Appends a block with `txs` (senders recovered) and `receipts` on top
    /// of the head and tells subscribers.
    pub fn push_block(&self, txs: Vec<TxEnvelope>, receipts: Vec<Receipt>) -> SealedBlock {
        self.push_sealed_block(txs, receipts, 0, Bytes::from_static(&[7; 65]))
    }

    /// `push_block` with the header's compact target and seal given.
    pub fn push_sealed_block(
        &self,
        txs: Vec<TxEnvelope>,
        receipts: Vec<Receipt>,
        bits: u32,
        seal: Bytes,
    ) -> SealedBlock {
        let senders: Vec<Address> = txs
            .iter()
            .map(|tx| tally_crypto::recover_sender(tx).expect("signed by the fixture"))
            .collect();
        let mut chain = self.chain();
        let (parent_hash, number) = match chain.blocks.last() {
            Some((b, _)) => (b.hash(), b.number() + 1),
            None => (B256::ZERO, 0),
        };
        let header = Header {
            parent_hash,
            number,
            timestamp: 1_700_000_000 + number * 2,
            beneficiary: address!("00000000000000000000000000000000000000fe"),
            transactions_root: transactions_root(&txs),
            receipts_root: receipts_root(&receipts),
            state_root: B256::repeat_byte(number as u8),
            logs_bloom: logs_bloom(&receipts),
            gas_limit: 30_000_000,
            gas_used: receipts.last().map_or(0, |r| r.cumulative_gas_used),
            base_fee: BASE_FEE,
            bits,
            extra_data: Bytes::from_static(b"tally"),
            seal,
        };
        let block = SealedBlock {
            header: header.seal_slow(),
            transactions: txs,
            senders,
        };
        for (i, hash) in block.tx_hashes().enumerate() {
            chain.txs.insert(
                hash,
                TxLocation {
                    block_hash: block.hash(),
                    block_number: number,
                    index: i as u64,
                },
            );
            chain.pending.retain(|p| *p.tx.tx_hash() != hash);
        }
        let index = chain.blocks.len();
        chain.by_hash.insert(block.hash(), index);
        chain.blocks.push((block.clone(), receipts.clone()));
        drop(chain);
        // No subscribers is fine.
        let _ = self.blocks_tx.send(Arc::new(NewBlock {
            block: block.clone(),
            receipts,
            removed: false,
        }));
        block
    }

    pub fn head_number(&self) -> u64 {
        self.chain().head().number()
    }
}

impl Backend for TestBackend {
    fn chain_id(&self) -> u64 {
        CHAIN_ID
    }

    fn client_version(&self) -> String {
        "tally/v0.1.0-test".to_string()
    }

    fn engine_name(&self) -> String {
        "dev".to_string()
    }

    fn head(&self) -> SealedHeader {
        self.chain().head().header.clone()
    }

    fn safe_number(&self) -> u64 {
        3
    }

    fn finalized_number(&self) -> u64 {
        2
    }

    fn header_by_number(&self, number: u64) -> Result<Option<SealedHeader>, BackendError> {
        Ok(self.block_by_number(number)?.map(|b| b.header))
    }

    fn header_by_hash(&self, hash: B256) -> Result<Option<SealedHeader>, BackendError> {
        Ok(self.block_by_hash(hash)?.map(|b| b.header))
    }

    fn block_by_number(&self, number: u64) -> Result<Option<SealedBlock>, BackendError> {
        let chain = self.chain();
        let Ok(i) = usize::try_from(number) else {
            return Ok(None);
        };
        Ok(chain.blocks.get(i).map(|(b, _)| b.clone()))
    }

    fn block_by_hash(&self, hash: B256) -> Result<Option<SealedBlock>, BackendError> {
        let chain = self.chain();
        Ok(chain
            .by_hash
            .get(&hash)
            .and_then(|i| chain.blocks.get(*i))
            .map(|(b, _)| b.clone()))
    }

    fn receipts(&self, block_hash: B256) -> Result<Option<Vec<Receipt>>, BackendError> {
        let chain = self.chain();
        Ok(chain
            .by_hash
            .get(&block_hash)
            .and_then(|i| chain.blocks.get(*i))
            .map(|(_, r)| r.clone()))
    }

    fn tx_location(&self, tx_hash: B256) -> Result<Option<TxLocation>, BackendError> {
        Ok(self.chain().txs.get(&tx_hash).copied())
    }

    fn pending_transaction(
        &self,
        tx_hash: B256,
    ) -> Result<Option<PendingTransaction>, BackendError> {
        Ok(self
            .chain()
            .pending
            .iter()
            .find(|p| *p.tx.tx_hash() == tx_hash)
            .cloned())
    }

    fn pending_transaction_hashes(&self) -> Vec<B256> {
        self.chain()
            .pending
            .iter()
            .map(|p| *p.tx.tx_hash())
            .collect()
    }

    fn account(&self, address: Address, number: u64) -> Result<Option<Account>, BackendError> {
        Ok(self.chain().account_at(address, number))
    }

    fn storage(&self, address: Address, slot: B256, number: u64) -> Result<B256, BackendError> {
        Ok(self
            .chain()
            .storage
            .get(&(address, slot))
            .and_then(|h| h.iter().rev().find(|(from, _)| *from <= number))
            .map_or(B256::ZERO, |(_, v)| *v))
    }

    fn code(&self, address: Address, number: u64) -> Result<Bytes, BackendError> {
        let chain = self.chain();
        if chain.account_at(address, number).is_none() {
            return Ok(Bytes::new());
        }
        Ok(chain.code.get(&address).cloned().unwrap_or_default())
    }

    fn proof(
        &self,
        address: Address,
        slots: Vec<B256>,
        number: u64,
    ) -> Result<serde_json::Value, BackendError> {
        Ok(serde_json::json!({
            "address": address,
            "block": number,
            "storageKeys": slots,
        }))
    }

    fn call(&self, request: &CallRequest, _number: u64) -> Result<CallOutcome, BackendError> {
        let gas = request.gas.unwrap_or(30_000_000);
        if gas < 21_000 {
            return Err(BackendError::Execution {
                message: format!("intrinsic gas too low: have {gas}, want 21000"),
                data: None,
            });
        }
        Ok(match request.to {
            Some(REVERTER) => CallOutcome {
                status: CallStatus::Revert,
                gas_used: 23_000,
                output: Revert::from("not allowed").abi_encode().into(),
            },
            Some(GAS_HUNGRY) if gas < HUNGRY_NEEDS => CallOutcome {
                status: CallStatus::Halt {
                    reason: "out of gas".to_string(),
                },
                gas_used: gas,
                output: Bytes::new(),
            },
            Some(GAS_HUNGRY) => CallOutcome {
                status: CallStatus::Success,
                gas_used: 45_000,
                output: Bytes::new(),
            },
            _ => CallOutcome {
                status: CallStatus::Success,
                gas_used: 21_000,
                output: request.input.clone(),
            },
        })
    }

    fn send_raw_transaction(&self, raw: Bytes) -> Result<B256, BackendError> {
        let tx = TxEnvelope::decode_2718(&mut raw.as_ref())
            .map_err(|e| BackendError::TxRejected(format!("invalid transaction: {e}")))?;
        let sender = tally_crypto::recover_sender(&tx)
            .map_err(|e| BackendError::TxRejected(format!("invalid signature: {e}")))?;
        let next = self.pending_nonce(sender)?;
        if tx.nonce() < next {
            return Err(BackendError::TxRejected(format!(
                "nonce too low: next nonce {next}, tx nonce {}",
                tx.nonce()
            )));
        }
        let hash = *tx.tx_hash();
        self.chain().pending.push(PendingTransaction { tx, sender });
        let _ = self.pending_tx.send(hash);
        Ok(hash)
    }

    fn pending_nonce(&self, address: Address) -> Result<u64, BackendError> {
        let chain = self.chain();
        let head = chain.head().number();
        let mined = chain.account_at(address, head).map_or(0, |a| a.nonce);
        let queued = chain.pending.iter().filter(|p| p.sender == address).count();
        Ok(mined + queued as u64)
    }

    fn peer_count(&self) -> usize {
        3
    }

    fn syncing(&self) -> Option<SyncProgress> {
        None
    }

    fn next_base_fee(&self) -> u64 {
        BASE_FEE
    }

    fn suggested_priority_fee(&self) -> u128 {
        GWEI
    }

    fn subscribe_new_blocks(&self) -> broadcast::Receiver<Arc<NewBlock>> {
        self.blocks_tx.subscribe()
    }

    fn subscribe_pending_txs(&self) -> broadcast::Receiver<B256> {
        self.pending_tx.subscribe()
    }

    fn peers(&self) -> BoxFuture<'_, Result<Vec<PeerInfo>, BackendError>> {
        Box::pin(future::ready(Ok(self.net().peers.clone())))
    }

    fn node_identity(&self) -> BoxFuture<'_, Result<NodeIdentity, BackendError>> {
        Box::pin(future::ready(Ok(NodeIdentity {
            id: LOCAL_PEER.to_string(),
            listen_addrs: vec![
                format!("/ip4/127.0.0.1/tcp/30303/p2p/{LOCAL_PEER}"),
                format!("/ip4/10.0.0.5/tcp/30303/p2p/{LOCAL_PEER}"),
            ],
        })))
    }

    fn add_peer(&self, url: String) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(async move {
            if !url.starts_with('/') {
                return Err(BackendError::InvalidParams(format!(
                    "invalid peer address {url:?}; expected a multiaddr"
                )));
            }
            let mut net = self.net();
            if let Some((_, id)) = url.rsplit_once("/p2p/") {
                if net.blocked.contains(id) {
                    return Err(BackendError::Unavailable(format!(
                        "could not dial {url}: peer {id} refused: blocked by the operator"
                    )));
                }
            }
            net.added.push(url);
            Ok(())
        })
    }

    fn remove_peer(&self, url: String) -> BoxFuture<'_, Result<bool, BackendError>> {
        Box::pin(async move {
            let id = parse_peer(&url)?;
            let mut net = self.net();
            let before = net.peers.len();
            net.peers.retain(|p| p.id != id);
            Ok(net.peers.len() < before)
        })
    }

    fn block_peer(&self, peer: String) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(async move {
            let id = parse_peer(&peer)?;
            let mut net = self.net();
            net.peers.retain(|p| p.id != id);
            net.blocked.insert(id);
            Ok(())
        })
    }

    fn unblock_peer(&self, peer: String) -> BoxFuture<'_, Result<bool, BackendError>> {
        Box::pin(async move {
            let id = parse_peer(&peer)?;
            Ok(self.net().blocked.remove(&id))
        })
    }

    fn blocked_peers(&self) -> BoxFuture<'_, Result<Vec<String>, BackendError>> {
        Box::pin(future::ready(Ok(self
            .net()
            .blocked
            .iter()
            .cloned()
            .collect())))
    }

    fn mining_info(&self) -> Option<MiningInfo> {
        Some(self.miner().info.clone())
    }

    fn get_work(&self) -> Option<Work> {
        self.miner().work
    }

    fn submit_work(&self, nonce: u64, pow_hash: B256) -> Result<bool, BackendError> {
        let mut miner = self.miner();
        miner.submitted.push((nonce, pow_hash));
        Ok(miner.work.is_some_and(|w| w.pow_hash == pow_hash))
    }

    fn submit_hashrate(&self, rate: U256, id: B256) -> bool {
        self.miner().rates.push((rate, id));
        true
    }
}
