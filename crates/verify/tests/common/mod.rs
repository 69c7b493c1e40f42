//! Builds real `tally-proof/1` proofs without a node: signed transactions
//! and their receipts, an in-memory jmt state tree holding the notary and
//! traceability commitments among filler leaves, a header over their
//! roots, and each kind of finality evidence (dev authority seal, BFT
//! certificates with a validator-set change and its list's storage
//! proofs, mined PoW descendants).
//! Shared by the tests and the bench (`#[path]`).

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy};
use alloy_primitives::{
    keccak256, Address, Bytes, Log, LogData, Signature, TxKind, B256, B512, U256,
};
use ed25519_dalek::{Signer, SigningKey};
use jmt::{
    storage::{LeafNode, Node, NodeKey, TreeReader},
    KeyHash, OwnedValue, Sha256Jmt, Version,
};
use sha2::{Digest, Sha256};
use tally_primitives::{
    bft::CommitSignature,
    block::{receipts_root, transactions_root},
    merkle,
    receipt::logs_bloom,
    Account, BftExtra, BftSpec, BftValidator, ChainSpec, CommitCertificate, EngineSpec, Header,
    PowSpec, Receipt,
};
use tally_verify::validator_list;
use tally_verify::{
    pow::{meets_target, next_bits, pow_hash, target_from_bits},
    records::{notary, trace, NOTARY, TRACE},
    state, AccountClaim, AccountFields, CertifiedHeader, Claim, Finality, NotaryClaim,
    NotaryRecord, ProductRecord, Proof, ReceiptClaim, Revocation, SlotProof, StorageClaim,
    TraceClaim, TraceEventRecord, TxClaim, ValidatorSetChange, FORMAT,
};

pub const CHAIN_ID: u64 = 4242;
/// The proven block and its time (2026-12-01T10:00:00Z).
pub const NUMBER: u64 = 12;
pub const TIME: u64 = 1_796_119_200;

// ---------------------------------------------------------------------------
// Keys and chain specs.

pub fn ed_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

pub fn ed_public(key: &SigningKey) -> B256 {
    B256::from(key.verifying_key().to_bytes())
}

fn base_spec(name: &str, engine: EngineSpec) -> ChainSpec {
    ChainSpec {
        name: name.into(),
        chain_id: CHAIN_ID,
        engine,
        gas_limit: 30_000_000,
        base_fee: 1_000_000_000,
        timestamp: TIME - 2 * NUMBER,
        alloc: BTreeMap::new(),
        members: Vec::new(),
    }
}

/// A single-node dev chain without seals.
pub fn dev_spec() -> ChainSpec {
    base_spec(
        "verify-dev",
        EngineSpec::Dev {
            block_time_ms: 0,
            authority: None,
        },
    )
}

/// A dev chain whose blocks `authority` signs.
pub fn authority_spec(authority: &SigningKey) -> ChainSpec {
    base_spec(
        "verify-authority",
        EngineSpec::Dev {
            block_time_ms: 0,
            authority: Some(ed_public(authority)),
        },
    )
}

pub fn validators(keys: &[SigningKey]) -> Vec<BftValidator> {
    keys.iter()
        .map(|k| BftValidator {
            key: ed_public(k),
            power: 1,
        })
        .collect()
}

/// A BFT chain whose genesis validators are `keys` (power 1 each).
pub fn bft_spec(keys: &[SigningKey]) -> ChainSpec {
    let mut spec = base_spec(
        "verify-bft",
        EngineSpec::Bft(BftSpec {
            block_time_ms: 1000,
            create_empty_blocks: true,
            timeout_ms: 1000,
            timeout_delta_ms: 500,
            validators: validators(keys),
            members: Vec::new(),
            roles: BTreeMap::new(),
            governance_threshold_pct: 67,
            min_gas_price: 0,
        }),
    );
    spec.members = keys.iter().map(ed_public).collect();
    spec
}

/// A PoW chain starting at `initial_bits`, two-second blocks, final after
/// `finality_depth` confirmations. Block n's on-schedule time is
/// `TIME - 2 * NUMBER + 2n`, so block [`NUMBER`] is at [`TIME`].
pub fn pow_spec(initial_bits: u32, finality_depth: u64) -> ChainSpec {
    base_spec(
        "verify-pow",
        EngineSpec::Pow(PowSpec {
            initial_bits,
            finality_depth,
            safe_depth: 1,
            ..PowSpec::default()
        }),
    )
}

// ---------------------------------------------------------------------------
// Transactions and receipts.

pub fn signer() -> k256::ecdsa::SigningKey {
    k256::ecdsa::SigningKey::from_slice(&[0x5a; 32]).expect("a valid secp256k1 key")
}

pub fn sender() -> Address {
    Address::from_private_key(&signer())
}

fn sign<T: SignableTransaction<Signature>>(tx: T) -> TxEnvelope
where
    TxEnvelope: From<alloy_consensus::Signed<T>>,
{
    let (sig, recid) = signer()
        .sign_prehash_recoverable(tx.signature_hash().as_slice())
        .expect("signing a 32-byte hash");
    tx.into_signed(Signature::from((sig, recid))).into()
}

/// Three signed transactions: two EIP-1559 transfers and a legacy call.
pub fn transactions() -> Vec<TxEnvelope> {
    let transfer = |nonce: u64, value: u64| {
        sign(TxEip1559 {
            chain_id: CHAIN_ID,
            nonce,
            gas_limit: 21_000,
            max_fee_per_gas: 2_000_000_000,
            max_priority_fee_per_gas: 1,
            to: TxKind::Call(Address::repeat_byte(0xbb)),
            value: U256::from(value),
            access_list: Default::default(),
            input: Bytes::new(),
        })
    };
    vec![
        transfer(0, 1_500_000_000_000_000_000),
        transfer(1, 7),
        sign(TxLegacy {
            chain_id: Some(CHAIN_ID),
            nonce: 2,
            gas_price: 2_000_000_000,
            gas_limit: 100_000,
            to: TxKind::Call(NOTARY),
            value: U256::ZERO,
            input: Bytes::from_static(&[0xde, 0xad, 0xbe, 0xef]),
        }),
    ]
}

pub fn receipts(txs: &[TxEnvelope]) -> Vec<Receipt> {
    let mut cumulative = 0;
    txs.iter()
        .enumerate()
        .map(|(i, tx)| {
            let gas = 21_000 + 1000 * i as u64;
            cumulative += gas;
            Receipt {
                tx_type: tx.tx_type() as u8,
                success: i != 1,
                gas_used: gas,
                cumulative_gas_used: cumulative,
                logs: (0..i)
                    .map(|j| Log {
                        address: NOTARY,
                        data: LogData::new_unchecked(
                            vec![B256::repeat_byte(j as u8)],
                            Bytes::from(vec![i as u8; 3]),
                        ),
                    })
                    .collect(),
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The state tree.

/// jmt nodes and values held in memory (one version).
#[derive(Default)]
pub struct MemTree {
    nodes: HashMap<NodeKey, Node>,
    values: HashMap<KeyHash, OwnedValue>,
}

impl TreeReader for MemTree {
    fn get_node_option(&self, key: &NodeKey) -> anyhow::Result<Option<Node>> {
        Ok(self.nodes.get(key).cloned())
    }
    fn get_value_option(&self, _: Version, key: KeyHash) -> anyhow::Result<Option<OwnedValue>> {
        Ok(self.values.get(&key).cloned())
    }
    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        Ok(None)
    }
}

impl MemTree {
    /// A tree of `leaves` at version 0; its root.
    pub fn build(leaves: Vec<(KeyHash, OwnedValue)>) -> (MemTree, B256) {
        let mut sorted: BTreeMap<KeyHash, OwnedValue> = BTreeMap::new();
        sorted.extend(leaves);
        let empty = MemTree::default();
        let set: Vec<(KeyHash, OwnedValue)> = sorted.clone().into_iter().collect();
        let (roots, batch) = Sha256Jmt::new(&empty)
            .batch_put_value_sets(vec![set], None, 0)
            .expect("an in-memory tree builds");
        let tree = MemTree {
            nodes: batch
                .node_batch
                .nodes()
                .iter()
                .map(|(k, n)| (k.clone(), n.clone()))
                .collect(),
            values: sorted.into_iter().collect(),
        };
        (tree, B256::from(roots[0].0))
    }

    /// jmt's borsh proof of `key`, as `eth_getProof` gives it.
    pub fn prove_jmt(&self, key: KeyHash) -> Bytes {
        let (_, proof) = Sha256Jmt::new(self)
            .get_with_proof(key, 0)
            .expect("the tree answers");
        Bytes::from(borsh::to_vec(&proof).expect("a proof encodes"))
    }

    /// The compact proof of `key`, as `tally-proof/1` carries it.
    pub fn prove(&self, key: KeyHash) -> Bytes {
        state::compact_from_jmt(&self.prove_jmt(key)).expect("jmt's proof converts")
    }

    pub fn prove_account(&self, a: &Address) -> Bytes {
        self.prove(state::account_key(a))
    }

    pub fn prove_slot(&self, a: &Address, slot: &U256) -> Bytes {
        self.prove(state::storage_key(a, slot))
    }
}

// ---------------------------------------------------------------------------
// The world a proof is made from.

pub fn document(i: usize) -> Vec<u8> {
    format!("contract number {i}, signed in triplicate").into_bytes()
}

pub fn sha256(bytes: &[u8]) -> B256 {
    B256::from_slice(&Sha256::digest(bytes))
}

pub const ALICE: Address = Address::repeat_byte(0xa1);
pub const CONTRACT: Address = Address::repeat_byte(0xc0);
pub const NOBODY: Address = Address::repeat_byte(0x0e);
/// Index of the document of the batch its submitter revoked.
pub const REVOKED: usize = 1;
/// Index of the document superseded by document 0.
pub const SUPERSEDED: usize = 2;

pub struct World {
    pub txs: Vec<TxEnvelope>,
    pub receipts: Vec<Receipt>,
    pub tree: MemTree,
    pub state_root: B256,
    pub alice: Account,
    /// (slot, value) of CONTRACT; a zero value is absent.
    pub slots: Vec<(U256, U256)>,
    pub documents: Vec<B256>,
    pub batch_root: B256,
    pub record: NotaryRecord,
    pub revocations: BTreeMap<usize, Revocation>,
    pub product_id: String,
    pub product: ProductRecord,
    pub events: Vec<TraceEventRecord>,
}

/// A world with a notary batch of `batch` documents (at least 3) and
/// `filler` other state leaves.
pub fn world(batch: usize, filler: usize) -> World {
    let txs = transactions();
    let receipts = receipts(&txs);
    let documents: Vec<B256> = (0..batch).map(|i| sha256(&document(i))).collect();
    let batch_root = merkle::root(&documents);
    let record = NotaryRecord {
        submitter: sender(),
        timestamp: TIME - 600,
        block_number: NUMBER - 3,
        count: batch as u64,
        label: "Q4 \"supplier\" contracts".into(),
    };
    let mut revocations = BTreeMap::new();
    revocations.insert(
        REVOKED,
        Revocation {
            block_number: NUMBER - 1,
            timestamp: TIME - 2,
            replacement: B256::ZERO,
            reason: "signed by mistake".into(),
        },
    );
    revocations.insert(
        SUPERSEDED,
        Revocation {
            block_number: NUMBER,
            timestamp: TIME,
            replacement: documents[0],
            reason: "amended".into(),
        },
    );
    let product_id = "SKU-7/lot 42".to_string();
    let product = ProductRecord {
        registry: 3,
        manufacturer: ALICE,
        timestamp: TIME - 1000,
        block_number: 2,
        description: "cold-chain vaccine crate".into(),
    };
    let events = vec![
        TraceEventRecord {
            party: Address::repeat_byte(0x51),
            role: 2,
            timestamp: TIME - 500,
            block_number: 5,
            status: "shipped".into(),
            location: "Rotterdam".into(),
            documents: vec![documents[0]],
        },
        TraceEventRecord {
            party: Address::repeat_byte(0x52),
            role: 3,
            timestamp: TIME - 100,
            block_number: 10,
            status: "received".into(),
            location: String::new(),
            documents: Vec::new(),
        },
    ];
    let alice = Account {
        nonce: 3,
        balance: U256::from(10u64).pow(U256::from(21u64)),
        code_hash: tally_primitives::EMPTY_CODE_HASH,
    };
    let slots = vec![
        (U256::ZERO, U256::from(42u64)),
        (U256::from(1u64), U256::ZERO),
        (U256::from_be_bytes(keccak256("mapping").0), U256::MAX),
    ];

    let mut leaves: Vec<(KeyHash, OwnedValue)> = Vec::new();
    let mut put = |key: KeyHash, value: Option<OwnedValue>| {
        if let Some(v) = value {
            leaves.push((key, v));
        }
    };
    put(
        state::account_key(&ALICE),
        state::account_value(&Some(alice)),
    );
    let code = Account {
        nonce: 1,
        balance: U256::ZERO,
        code_hash: B256::repeat_byte(0xc0),
    };
    put(
        state::account_key(&CONTRACT),
        state::account_value(&Some(code)),
    );
    for (slot, value) in &slots {
        put(
            state::storage_key(&CONTRACT, slot),
            state::storage_value(value),
        );
    }
    let stamp = notary::record_commitment(
        record.submitter,
        record.timestamp,
        record.block_number,
        record.count,
        &record.label,
    );
    put(
        state::storage_key(&NOTARY, &notary::batch_slot(batch_root)),
        Some(stamp.to_vec()),
    );
    for (i, r) in &revocations {
        let c =
            notary::revocation_commitment(r.block_number, r.timestamp, r.replacement, &r.reason);
        put(
            state::storage_key(
                &NOTARY,
                &notary::revocation_slot(record.submitter, documents[*i]),
            ),
            Some(c.to_vec()),
        );
    }
    let key = trace::product_key(&product_id);
    let mut head = trace::registration_head(
        key,
        product.registry,
        product.manufacturer,
        product.timestamp,
        product.block_number,
        &product.description,
    );
    for e in &events {
        head = trace::next_head(
            head,
            e.party,
            e.role,
            e.timestamp,
            e.block_number,
            &e.status,
            &e.location,
            &e.documents,
        );
    }
    put(
        state::storage_key(&TRACE, &trace::head_slot(key)),
        Some(head.to_vec()),
    );
    for i in 0..filler as u64 {
        let k = keccak256(i.to_be_bytes());
        put(KeyHash(k.0), Some(k.repeat_word()));
    }
    let (tree, state_root) = MemTree::build(leaves);
    World {
        txs,
        receipts,
        tree,
        state_root,
        alice,
        slots,
        documents,
        batch_root,
        record,
        revocations,
        product_id,
        product,
        events,
    }
}

trait RepeatWord {
    fn repeat_word(&self) -> Vec<u8>;
}

impl RepeatWord for B256 {
    /// A 72-byte filler value, the size of an account.
    fn repeat_word(&self) -> Vec<u8> {
        let mut v = self.to_vec();
        v.extend_from_slice(self.as_slice());
        v.extend_from_slice(&self[..8]);
        v
    }
}

// ---------------------------------------------------------------------------
// Claims.

pub fn tx_claim(w: &World, i: usize, with_raw: bool) -> Claim {
    let hashes: Vec<B256> = w.txs.iter().map(|t| *t.tx_hash()).collect();
    Claim::Transaction(TxClaim {
        tx_hash: hashes[i],
        path: merkle::proof(&hashes, i).expect("in range"),
        raw: with_raw.then(|| {
            use alloy_eips::eip2718::Encodable2718;
            Bytes::from(w.txs[i].encoded_2718())
        }),
    })
}

pub fn receipt_claim(w: &World, i: usize) -> Claim {
    let hashes: Vec<B256> = w.txs.iter().map(|t| *t.tx_hash()).collect();
    let leaves: Vec<B256> = w.receipts.iter().map(Receipt::leaf_hash).collect();
    Claim::Receipt(ReceiptClaim {
        tx_hash: hashes[i],
        tx_path: merkle::proof(&hashes, i).expect("in range"),
        receipt: Bytes::from(alloy_rlp::encode(&w.receipts[i])),
        path: merkle::proof(&leaves, i).expect("in range"),
    })
}

pub fn account_claim(w: &World, address: Address) -> Claim {
    let account = (address == ALICE).then_some(AccountFields {
        nonce: w.alice.nonce,
        balance: w.alice.balance,
        code_hash: w.alice.code_hash,
    });
    Claim::Account(AccountClaim {
        address,
        account,
        proof: w.tree.prove_account(&address),
    })
}

pub fn storage_claim(w: &World) -> Claim {
    Claim::Storage(StorageClaim {
        address: CONTRACT,
        slots: w
            .slots
            .iter()
            .map(|(slot, value)| SlotProof {
                slot: B256::from(*slot),
                value: *value,
                proof: w.tree.prove_slot(&CONTRACT, slot),
            })
            .collect(),
    })
}

pub fn notary_claim(w: &World, i: usize) -> Claim {
    let document = w.documents[i];
    Claim::Notary(NotaryClaim {
        document,
        root: w.batch_root,
        path: merkle::proof(&w.documents, i).expect("in range"),
        record: w.record.clone(),
        record_proof: w
            .tree
            .prove_slot(&NOTARY, &notary::batch_slot(w.batch_root)),
        revocation: w.revocations.get(&i).cloned(),
        revocation_proof: w.tree.prove_slot(
            &NOTARY,
            &notary::revocation_slot(w.record.submitter, document),
        ),
    })
}

pub fn trace_claim(w: &World) -> Claim {
    Claim::Trace(TraceClaim {
        product_id: w.product_id.clone(),
        product: w.product.clone(),
        events: w.events.clone(),
        head_proof: w
            .tree
            .prove_slot(&TRACE, &trace::head_slot(trace::product_key(&w.product_id))),
    })
}

/// Every claim kind the world supports, named.
pub fn all_claims(w: &World) -> Vec<(&'static str, Claim)> {
    vec![
        ("transaction", tx_claim(w, 0, true)),
        ("transaction without raw", tx_claim(w, 2, false)),
        ("receipt", receipt_claim(w, 2)),
        ("account", account_claim(w, ALICE)),
        ("absent account", account_claim(w, NOBODY)),
        ("storage", storage_claim(w)),
        ("notary", notary_claim(w, 0)),
        ("revoked notary", notary_claim(w, REVOKED)),
        ("superseded notary", notary_claim(w, SUPERSEDED)),
        ("trace", trace_claim(w)),
    ]
}

// ---------------------------------------------------------------------------
// Headers and finality.

/// Block `number`'s header over the world's roots (unsealed).
pub fn header(w: &World, number: u64, parent_hash: B256, extra_data: Bytes) -> Header {
    Header {
        parent_hash,
        number,
        timestamp: TIME - 2 * NUMBER + 2 * number,
        beneficiary: Address::repeat_byte(0xbe),
        transactions_root: transactions_root(&w.txs),
        receipts_root: receipts_root(&w.receipts),
        state_root: w.state_root,
        logs_bloom: logs_bloom(&w.receipts),
        gas_limit: 30_000_000,
        gas_used: w.receipts.last().map_or(0, |r| r.cumulative_gas_used),
        base_fee: 1_000_000_000,
        bits: 0,
        extra_data,
        seal: Bytes::new(),
    }
}

pub fn rlp(h: &Header) -> Bytes {
    Bytes::from(alloy_rlp::encode(h))
}

pub fn make_proof(spec: &ChainSpec, claim: Claim, header: &Header, finality: Finality) -> Proof {
    Proof {
        format: FORMAT.into(),
        chain_id: spec.chain_id,
        spec_hash: spec.hash(),
        claim,
        header: rlp(header),
        finality,
    }
}

/// The header sealed by the dev authority.
pub fn authority_sealed(mut h: Header, authority: &SigningKey) -> Header {
    h.seal = Bytes::copy_from_slice(&authority.sign(h.seal_hash().as_slice()).to_bytes());
    h
}

/// A commit certificate of block `number` with hash `hash` by `keys`.
pub fn certificate(keys: &[SigningKey], number: u64, hash: B256) -> CommitCertificate {
    let mut cert = CommitCertificate {
        height: number,
        round: 0,
        block_hash: hash,
        signatures: Vec::new(),
    };
    let bytes = cert.sign_bytes(CHAIN_ID);
    cert.signatures = keys
        .iter()
        .map(|k| CommitSignature {
            validator: ed_public(k),
            signature: B512::from(k.sign(&bytes).to_bytes()),
        })
        .collect();
    cert
}

/// A BFT header: its extra carries its parent's certificate by `signers`,
/// as real BFT headers do.
pub fn bft_header(w: &World, number: u64, signers: &[SigningKey]) -> Header {
    let parent = B256::repeat_byte(number as u8);
    let extra = BftExtra {
        round: 0,
        last_commit: vec![certificate(signers, number - 1, parent)],
        evidence: Vec::new(),
    };
    header(w, number, parent, extra.encode())
}

/// BFT finality for block `h` (hash `hash`): genesis validators `a`, who
/// hand over to `b` at height `change_at` (certified by `a` on block
/// `change_at - 1`, whose state holds `b` in the governance contract); `b`
/// certify the block with `signers`. As the node builds it: the genesis
/// set (the spec's) is left out, the new list comes with storage proofs.
pub fn bft_finality(
    w: &World,
    a: &[SigningKey],
    b: &[SigningKey],
    signers: &[SigningKey],
    change_at: u64,
    h: &Header,
) -> Finality {
    let list = validators(b);
    let (tree, root) = governance_tree(&list);
    let mut parent = bft_header(w, change_at - 1, a);
    parent.state_root = root;
    let list_proof = validator_list::list_slots(list.len())
        .iter()
        .map(|slot| tree.prove_slot(&validator_list::GOVERNANCE, slot))
        .collect();
    change_finality(a, parent, list, list_proof, signers, h)
}

/// [`bft_finality`] as older proofs carry it: the new list without
/// storage proofs (taken as given by the checker).
pub fn bft_finality_unproven(
    w: &World,
    a: &[SigningKey],
    b: &[SigningKey],
    signers: &[SigningKey],
    change_at: u64,
    h: &Header,
) -> Finality {
    let parent = bft_header(w, change_at - 1, a);
    change_finality(a, parent, validators(b), Vec::new(), signers, h)
}

fn change_finality(
    a: &[SigningKey],
    parent: Header,
    list: Vec<BftValidator>,
    list_proof: Vec<Bytes>,
    signers: &[SigningKey],
    h: &Header,
) -> Finality {
    let change_at = parent.number + 1;
    let parent_hash = parent.hash();
    Finality::Bft {
        certificate: certificate(signers, h.number, h.hash()),
        validator_set_changes: vec![ValidatorSetChange {
            height: change_at,
            validators: list,
            certified_parent: Some(CertifiedHeader {
                header: rlp(&parent),
                certificate: certificate(&a[..3], change_at - 1, parent_hash),
            }),
            list_proof,
        }],
    }
}

/// A state holding `list` in the governance contract's storage (and some
/// other leaves); its root.
pub fn governance_tree(list: &[BftValidator]) -> (MemTree, B256) {
    let gov = validator_list::GOVERNANCE;
    let slot_leaf = |slot: U256, value: U256| {
        (
            state::storage_key(&gov, &slot),
            value.to_be_bytes::<32>().to_vec(),
        )
    };
    let mut leaves = vec![slot_leaf(
        validator_list::count_slot(),
        U256::from(list.len()),
    )];
    for (i, v) in list.iter().enumerate() {
        let i = i as u64;
        leaves.push(slot_leaf(
            validator_list::key_slot(i),
            U256::from_be_bytes(v.key.0),
        ));
        leaves.push(slot_leaf(
            validator_list::power_slot(i),
            U256::from(v.power),
        ));
    }
    for i in 0..40u64 {
        let k = keccak256(i.to_be_bytes());
        leaves.push((KeyHash(k.0), k.to_vec()));
    }
    MemTree::build(leaves)
}

/// `finality` with a first change at height 1 restating `genesis` (the
/// spec's validators, or not), as older proofs carry it.
pub fn with_genesis_entry(finality: Finality, genesis: &[SigningKey]) -> Finality {
    let Finality::Bft {
        certificate,
        mut validator_set_changes,
    } = finality
    else {
        panic!("not BFT finality")
    };
    validator_set_changes.insert(
        0,
        ValidatorSetChange {
            height: 1,
            validators: validators(genesis),
            certified_parent: None,
            list_proof: Vec::new(),
        },
    );
    Finality::Bft {
        certificate,
        validator_set_changes,
    }
}

/// Finds a nonce for `h` under its own bits.
pub fn mine(mut h: Header) -> Header {
    let target = target_from_bits(h.bits).expect("valid bits");
    let seal_hash = h.seal_hash();
    let nonce = (0u64..)
        .find(|n| meets_target(&pow_hash(&seal_hash, *n), &target))
        .expect("a nonce exists");
    h.seal = Bytes::copy_from_slice(&nonce.to_be_bytes());
    h
}

/// Block [`NUMBER`] of a PoW chain over the world, mined, and `count`
/// mined descendants on schedule.
pub fn pow_chain(w: &World, spec: &ChainSpec, count: usize) -> (Header, Vec<Header>) {
    let EngineSpec::Pow(pow) = &spec.engine else {
        panic!("not a pow spec")
    };
    let mut block = header(w, NUMBER, B256::repeat_byte(0x99), Bytes::new());
    block.bits = pow.initial_bits;
    let block = mine(block);
    let times: Vec<_> = (1..=count as u64)
        .map(|i| header(w, NUMBER + i, B256::ZERO, Bytes::new()).timestamp)
        .collect();
    let later = pow_descendants(w, spec, &block, &times);
    (block, later)
}

/// Mined descendants of `block` with these timestamps (on schedule or
/// not), each under the bits the difficulty rule gives it.
pub fn pow_descendants(w: &World, spec: &ChainSpec, block: &Header, times: &[u64]) -> Vec<Header> {
    let EngineSpec::Pow(pow) = &spec.engine else {
        panic!("not a pow spec")
    };
    let genesis = Header {
        timestamp: spec.timestamp,
        bits: pow.initial_bits,
        ..Default::default()
    };
    let mut parent = block.clone();
    let mut later = Vec::new();
    for &timestamp in times {
        let mut child = header(w, parent.number + 1, parent.hash(), Bytes::new());
        child.timestamp = timestamp;
        child.bits = next_bits(pow, &genesis, &parent);
        let child = mine(child);
        later.push(child.clone());
        parent = child;
    }
    later
}

pub fn pow_finality(descendants: &[Header]) -> Finality {
    Finality::Pow {
        descendants: descendants.iter().map(rlp).collect(),
    }
}
