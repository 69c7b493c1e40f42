//! A tiny BFT chain in memory: genesis from a spec, blocks built with
//! `BlockBuilder` and imported with `execute_block` (their changes must
//! agree), calls with `call`.

use alloy_consensus::{TxEip1559, TxEnvelope};
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use alloy_sol_types::{SolCall, SolError};
use std::collections::{BTreeMap, HashMap};
use tally_crypto::{address_of, secret_key, sign_transaction, SecretKey};
use tally_executor::{
    call, execute_block, genesis_accounts, BlockBuilder, BlockEnv, BlockOutcome, CallOutcome,
    CallRequest, ExecError, StateSource, StateSourceError,
};
use tally_primitives::{
    keccak256, Account, BftMember, BftSpec, BftValidator, ChainSpec, EngineSpec, Evidence,
    GenesisAccount, Role, StateChanges, EMPTY_CODE_HASH,
};

pub const CHAIN_ID: u64 = 4242;
pub const GWEI: u128 = 1_000_000_000;

#[derive(Default, Clone)]
pub struct MemState {
    accounts: HashMap<Address, Account>,
    storage: HashMap<(Address, U256), U256>,
    code: HashMap<B256, Bytes>,
}

impl StateSource for MemState {
    fn account(&self, a: &Address) -> Result<Option<Account>, StateSourceError> {
        Ok(self.accounts.get(a).copied())
    }
    fn storage(&self, a: &Address, slot: &U256) -> Result<U256, StateSourceError> {
        Ok(self.storage.get(&(*a, *slot)).copied().unwrap_or_default())
    }
    fn code(&self, h: &B256) -> Result<Option<Bytes>, StateSourceError> {
        Ok(self.code.get(h).cloned())
    }
    fn block_hash(&self, _: u64) -> Result<Option<B256>, StateSourceError> {
        Ok(None)
    }
}

impl MemState {
    fn insert_genesis(&mut self, accounts: &BTreeMap<Address, GenesisAccount>) {
        for (a, g) in accounts {
            let code_hash = match &g.code {
                Some(c) if !c.is_empty() => {
                    let h = keccak256(c);
                    self.code.insert(h, c.clone());
                    h
                }
                _ => EMPTY_CODE_HASH,
            };
            self.accounts.insert(
                *a,
                Account {
                    nonce: g.nonce,
                    balance: g.balance,
                    code_hash,
                },
            );
            for (k, v) in &g.storage {
                self.storage.insert((*a, *k), *v);
            }
        }
    }

    fn apply(&mut self, changes: &StateChanges) {
        for (a, acc) in &changes.accounts {
            match acc {
                Some(acc) => {
                    self.accounts.insert(*a, *acc);
                }
                None => {
                    self.accounts.remove(a);
                }
            }
        }
        for (a, s) in &changes.storage {
            if s.wiped {
                self.storage.retain(|(addr, _), _| addr != a);
            }
            for (k, v) in &s.slots {
                if v.is_zero() {
                    self.storage.remove(&(*a, *k));
                } else {
                    self.storage.insert((*a, *k), *v);
                }
            }
        }
        for (h, c) in &changes.code {
            self.code.insert(*h, c.clone());
        }
    }
}

pub struct User {
    pub key: SecretKey,
    pub address: Address,
}

pub fn user(n: u8) -> User {
    let key = secret_key(B256::repeat_byte(n).as_slice()).unwrap();
    User {
        address: address_of(&key),
        key,
    }
}

/// Members are users 1..=members; user 20 has no role, user 21 is an
/// auditor, user 22 only a transactor. All are funded.
pub fn spec(members: u8) -> ChainSpec {
    let mut alloc = BTreeMap::new();
    let mut roles = BTreeMap::new();
    roles.insert(user(21).address, vec![Role::Auditor]);
    roles.insert(user(22).address, vec![Role::Transactor]);
    for n in (1..=members).chain([20, 21, 22, 23]) {
        alloc.insert(
            user(n).address,
            GenesisAccount {
                balance: U256::from(10u128.pow(21)),
                ..Default::default()
            },
        );
    }
    ChainSpec {
        name: "consortium".into(),
        chain_id: CHAIN_ID,
        engine: EngineSpec::Bft(BftSpec {
            block_time_ms: 1000,
            create_empty_blocks: true,
            timeout_ms: 1000,
            timeout_delta_ms: 500,
            validators: (1..=members)
                .map(|n| BftValidator {
                    key: B256::repeat_byte(0xa0 + n),
                    power: 1,
                })
                .collect(),
            members: (1..=members)
                .map(|n| BftMember {
                    name: format!("bank {n}"),
                    account: user(n).address,
                    node_key: B256::repeat_byte(0xa0 + n),
                })
                .collect(),
            roles,
            governance_threshold_pct: 67,
            min_gas_price: 0,
        }),
        gas_limit: 30_000_000,
        base_fee: GWEI as u64,
        timestamp: 0,
        alloc,
        members: Vec::new(),
    }
}

#[derive(Clone)]
pub struct Chain {
    pub state: MemState,
    /// The number of the last block.
    pub number: u64,
    nonces: HashMap<Address, u64>,
}

impl Chain {
    pub fn new(spec: &ChainSpec) -> Chain {
        let mut state = MemState::default();
        let mut accounts = spec.alloc.clone();
        accounts.extend(genesis_accounts(spec));
        state.insert_genesis(&accounts);
        Chain {
            state,
            number: 0,
            nonces: HashMap::new(),
        }
    }

    pub fn env(&self) -> BlockEnv {
        BlockEnv {
            chain_id: CHAIN_ID,
            number: self.number + 1,
            timestamp: 1000 + self.number,
            beneficiary: Address::repeat_byte(0xcc),
            gas_limit: 30_000_000,
            base_fee: GWEI as u64,
            prevrandao: B256::ZERO,
            rewards: Vec::new(),
            evidence: Vec::new(),
        }
    }

    /// Signs a transaction from `from` with the next nonce (not consumed
    /// until a block includes it: see `block`).
    pub fn tx(&self, from: &User, to: Option<Address>, input: Vec<u8>, gas: u64) -> TxEnvelope {
        sign_transaction(
            &from.key,
            TxEip1559 {
                chain_id: CHAIN_ID,
                nonce: self.nonces.get(&from.address).copied().unwrap_or(0),
                gas_limit: gas,
                max_fee_per_gas: 3 * GWEI,
                max_priority_fee_per_gas: GWEI,
                to: to.map(TxKind::Call).unwrap_or(TxKind::Create),
                value: U256::ZERO,
                input: input.into(),
                ..Default::default()
            },
        )
    }

    pub fn sys_tx(&self, from: &User, to: Address, call: impl SolCall) -> TxEnvelope {
        self.tx(from, Some(to), call.abi_encode(), 1_000_000)
    }

    /// Builds the next block from `txs` (every one must be valid), imports
    /// it with `execute_block`, checks both produce the same changes, and
    /// applies them.
    pub fn block_with(&mut self, env: BlockEnv, txs: Vec<(TxEnvelope, Address)>) -> BlockOutcome {
        let mut builder = BlockBuilder::new(&self.state, env.clone());
        for (tx, sender) in &txs {
            builder.execute(tx, *sender).expect("valid transaction");
        }
        let built = builder.finish().unwrap();
        let (list, senders): (Vec<_>, Vec<_>) = txs.into_iter().unzip();
        let imported = execute_block(&self.state, env, &list, &senders).unwrap();
        assert_eq!(built.changes, imported.changes, "build and import differ");
        assert_eq!(built.receipts, imported.receipts);
        self.state.apply(&built.changes);
        for s in senders {
            *self.nonces.entry(s).or_default() += 1;
        }
        self.number += 1;
        built
    }

    pub fn block(&mut self, txs: Vec<(TxEnvelope, Address)>) -> BlockOutcome {
        let env = self.env();
        self.block_with(env, txs)
    }

    /// Deploys the Solidity ERC-20 of contracts/src/TestToken.sol from
    /// `owner`, all `supply` to it, in its own block; returns its address.
    pub fn deploy_test_token(&mut self, owner: &User, supply: U256) -> Address {
        use alloy_sol_types::SolValue;
        let artifact: serde_json::Value =
            serde_json::from_str(include_str!("../../../../contracts/build/TestToken.json"))
                .expect("TestToken artifact is JSON");
        let code = artifact["bytecode"].as_str().expect("artifact bytecode");
        let mut init = alloy_primitives::hex::decode(code).expect("bytecode is hex");
        init.extend_from_slice(&("Test".to_string(), "T".to_string(), supply).abi_encode_params());
        let nonce = self.nonces.get(&owner.address).copied().unwrap_or(0);
        let tx = self.tx(owner, None, init, 3_000_000);
        assert!(self.block(vec![(tx, owner.address)]).receipts[0].success);
        owner.address.create(nonce)
    }

    /// Sends one system call in its own block; returns whether it succeeded.
    pub fn send(&mut self, from: &User, to: Address, c: impl SolCall) -> bool {
        let tx = self.sys_tx(from, to, c);
        self.block(vec![(tx, from.address)]).receipts[0].success
    }

    pub fn call_raw(
        &self,
        from: Address,
        to: Address,
        input: Vec<u8>,
        gas: Option<u64>,
    ) -> CallOutcome {
        let req = CallRequest {
            from: Some(from),
            to: Some(to),
            gas,
            input: input.into(),
            ..Default::default()
        };
        call(&self.state, &self.env(), &req).unwrap()
    }

    /// An `eth_call` that must succeed, decoded.
    pub fn view<C: SolCall>(&self, to: Address, c: C) -> C::Return {
        let out = self.call_raw(Address::ZERO, to, c.abi_encode(), None);
        assert!(
            out.success,
            "call failed: {out:?} {:?}",
            revert_reason(&out)
        );
        C::abi_decode_returns(&out.output).unwrap()
    }

    /// The revert reason of a call from `from` that must revert.
    pub fn revert_of(&self, from: Address, to: Address, c: impl SolCall) -> String {
        let out = self.call_raw(from, to, c.abi_encode(), None);
        assert!(out.reverted, "expected a revert: {out:?}");
        revert_reason(&out).expect("an Error(string) reason")
    }
}

pub fn revert_reason(out: &CallOutcome) -> Option<String> {
    alloy_sol_types::Revert::abi_decode(&out.output)
        .ok()
        .map(|r| r.reason)
}

pub fn expect_denied(err: ExecError) -> String {
    assert!(matches!(err, ExecError::PermissionDenied { .. }), "{err}");
    err.to_string()
}

pub fn evidence(n: u8) -> Evidence {
    use tally_primitives::bft::SignedVoteRecord;
    Evidence {
        validator: B256::repeat_byte(0xa1),
        height: 3,
        round: n.into(),
        kind: 2,
        first: SignedVoteRecord {
            value: B256::repeat_byte(1),
            signature: Default::default(),
        },
        second: SignedVoteRecord {
            value: B256::repeat_byte(2),
            signature: Default::default(),
        },
    }
}
