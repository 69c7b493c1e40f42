//! Delivery versus payment through the executor: both legs or neither,
//! the refusals, and batches that settle by netting.

use super::chain::{revert_reason, spec, user, Chain, User, CHAIN_ID, GWEI};
use alloy_consensus::{TxEip1559, TxEnvelope};
use alloy_primitives::{Address, Bytes, Log, TxKind, U256};
use alloy_sol_types::{SolCall, SolEvent};
use proptest::prelude::*;
use std::{collections::HashMap, sync::OnceLock};
use tally_executor::{
    system::{
        self,
        abi::{ITallyAsset as T, ITallyAssets as A, ITallySettlement as S},
        ASSETS, SETTLEMENT,
    },
    StateSource,
};
use tally_primitives::GenesisAccount;

const EXPIRY: u64 = 1_000_000;
const ETH: u128 = 1_000_000_000_000_000_000;

/// The issuer of both assets and the usual submitter (a member, so it may
/// send transactions); parties are other users, which never send, so their
/// coin balances move by the legs alone.
fn issuer() -> User {
    user(1)
}

/// A BFT chain with BND and USD issued by user 1.
struct Market {
    chain: Chain,
    bnd: Address,
    usd: Address,
}

impl Market {
    fn new() -> Market {
        Market::with_spec(spec(4))
    }

    fn with_spec(spec: tally_primitives::ChainSpec) -> Market {
        let mut chain = Chain::new(&spec);
        let bnd = issue(&mut chain, "BND");
        let usd = issue(&mut chain, "USD");
        Market { chain, bnd, usd }
    }

    fn mint(&mut self, token: Address, to: &User, amount: u64) {
        let c = A::mintCall {
            token,
            to: to.address,
            amount: U256::from(amount),
        };
        assert!(self.chain.send(&issuer(), ASSETS, c), "mint failed");
    }

    fn balance(&self, token: Address, who: &User) -> U256 {
        balance(&self.chain, token, who.address)
    }

    fn coin(&self, who: &User) -> U256 {
        coin(&self.chain, who.address)
    }
}

fn issue(chain: &mut Chain, symbol: &str) -> Address {
    let c = A::issueCall {
        name: format!("{symbol} test asset"),
        symbol: symbol.into(),
        decimals: 0,
        cap: U256::from(u64::MAX),
        regulator: Address::ZERO,
        policy: A::Policy {
            allowlist: false,
            maxHolding: U256::ZERO,
            purpose: String::new(),
        },
    };
    let before = chain.view(ASSETS, A::assetCountCall {});
    assert!(chain.send(&issuer(), ASSETS, c), "issue failed");
    chain.view(ASSETS, A::tokenOfCall { id: before + 1 })
}

fn balance(chain: &Chain, token: Address, who: Address) -> U256 {
    chain.view(token, T::balanceOfCall { account: who })
}

fn coin(chain: &Chain, who: Address) -> U256 {
    chain
        .state
        .account(&who)
        .unwrap()
        .map(|a| a.balance)
        .unwrap_or_default()
}

fn units(n: u64) -> U256 {
    U256::from(n)
}

fn eth(n: u128) -> U256 {
    U256::from(n * ETH)
}

/// `a` pays `amount_a` of `asset_a` to `b`, who pays `amount_b` of `asset_b`.
fn instruction(
    a: &User,
    asset_a: Address,
    amount_a: U256,
    b: &User,
    asset_b: Address,
    amount_b: U256,
    nonce: u64,
) -> S::Instruction {
    S::Instruction {
        partyA: a.address,
        partyB: b.address,
        assetA: asset_a,
        amountA: amount_a,
        assetB: asset_b,
        amountB: amount_b,
        expiry: EXPIRY,
        nonce: U256::from(nonce),
    }
}

fn sign(ins: &S::Instruction, who: &User) -> Bytes {
    let digest = system::settlement_digest(CHAIN_ID, ins);
    Bytes::from(
        tally_crypto::sign_hash(&who.key, &digest)
            .as_bytes()
            .to_vec(),
    )
}

fn settle_call(ins: &S::Instruction, a: &User, b: &User) -> S::settleCall {
    S::settleCall {
        instruction: ins.clone(),
        signatureA: sign(ins, a),
        signatureB: sign(ins, b),
    }
}

fn batch_call(list: &[(S::Instruction, &User, &User)]) -> S::settleBatchCall {
    S::settleBatchCall {
        instructions: list.iter().map(|(i, _, _)| i.clone()).collect(),
        signaturesA: list.iter().map(|(i, a, _)| sign(i, a)).collect(),
        signaturesB: list.iter().map(|(i, _, b)| sign(i, b)).collect(),
    }
}

/// Transactions from `from` calling each of `calls` in order, with
/// consecutive nonces, for one block.
fn txs(chain: &Chain, from: &User, calls: Vec<(Address, Vec<u8>)>) -> Vec<(TxEnvelope, Address)> {
    let nonce = chain
        .state
        .account(&from.address)
        .unwrap()
        .map_or(0, |a| a.nonce);
    calls
        .into_iter()
        .zip(nonce..)
        .map(|((to, input), nonce)| {
            let tx = tally_crypto::sign_transaction(
                &from.key,
                TxEip1559 {
                    chain_id: CHAIN_ID,
                    nonce,
                    gas_limit: 5_000_000,
                    max_fee_per_gas: 3 * GWEI,
                    max_priority_fee_per_gas: GWEI,
                    to: TxKind::Call(to),
                    value: U256::ZERO,
                    input: input.into(),
                    ..Default::default()
                },
            );
            (tx, from.address)
        })
        .collect()
}

/// Sends `c` from `from` in a block of its own with ample gas; returns
/// whether it succeeded and its logs.
fn send(chain: &mut Chain, from: &User, c: impl SolCall) -> (bool, Vec<Log>) {
    let list = txs(chain, from, vec![(SETTLEMENT, c.abi_encode())]);
    let receipt = chain.block(list).receipts.remove(0);
    (receipt.success, receipt.logs)
}

fn settled(chain: &Chain, ins: &S::Instruction) -> Option<u64> {
    let id = system::settlement_digest(CHAIN_ID, ins);
    system::settled_at(&chain.state, id).unwrap()
}

// ---------- settle ----------

/// The digest is plain EIP-712 (what `eth_signTypedData_v4` signs), and
/// the value the CLI's tests pin for the same instruction.
#[test]
fn the_digest_is_eip712_and_the_clis() {
    use alloy_primitives::{address, b256, keccak256};
    let ins = S::Instruction {
        partyA: Address::repeat_byte(1),
        partyB: Address::repeat_byte(2),
        assetA: address!("a55e700000000000000000000000000000000001"),
        amountA: U256::from(250),
        assetB: Address::ZERO,
        amountB: U256::from(ETH),
        expiry: 2_000_000_000,
        nonce: U256::from(7),
    };
    let word = |a: Address| a.into_word().to_vec();
    let uint = |v: U256| v.to_be_bytes::<32>().to_vec();
    let domain = keccak256(
        [
            keccak256(
                "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)",
            )
            .to_vec(),
            keccak256("Tally Settlement").to_vec(),
            keccak256("1").to_vec(),
            uint(U256::from(31337)),
            word(SETTLEMENT),
        ]
        .concat(),
    );
    let typ = "Instruction(address partyA,address partyB,address assetA,uint256 amountA,\
               address assetB,uint256 amountB,uint64 expiry,uint256 nonce)";
    let data = keccak256(
        [
            keccak256(typ).to_vec(),
            word(ins.partyA),
            word(ins.partyB),
            word(ins.assetA),
            uint(ins.amountA),
            word(ins.assetB),
            uint(ins.amountB),
            uint(U256::from(ins.expiry)),
            uint(ins.nonce),
        ]
        .concat(),
    );
    let digest = keccak256([&[0x19, 0x01][..], domain.as_slice(), data.as_slice()].concat());
    assert_eq!(system::settlement_digest(31337, &ins), digest);
    // Pinned in crates/cli/src/settle/mod.rs too.
    assert_eq!(
        digest,
        b256!("6d370064e4345b9f1ecb52b02c5e83a02c6134a62cd1a6c168cf3fa670b980ff")
    );
}

#[test]
fn asset_for_asset_moves_both_legs() {
    let mut m = Market::new();
    let (a, b) = (user(2), user(3));
    m.mint(m.bnd, &a, 100);
    m.mint(m.usd, &b, 500);
    let ins = instruction(&a, m.bnd, units(40), &b, m.usd, units(200), 1);
    let id = system::settlement_digest(CHAIN_ID, &ins);
    // The contract's digest is the Rust API's.
    assert_eq!(
        m.chain.view(
            SETTLEMENT,
            S::digestOfCall {
                instruction: ins.clone()
            }
        ),
        id
    );
    assert_eq!(m.chain.view(SETTLEMENT, S::settledAtCall { id }), 0);

    // A third party submits.
    let (ok, logs) = send(&mut m.chain, &issuer(), settle_call(&ins, &a, &b));
    assert!(ok);
    assert_eq!(m.balance(m.bnd, &a), units(60));
    assert_eq!(m.balance(m.bnd, &b), units(40));
    assert_eq!(m.balance(m.usd, &a), units(200));
    assert_eq!(m.balance(m.usd, &b), units(300));

    // Each leg's ERC-20 Transfer from its token, then Settled.
    assert_eq!(logs.len(), 3);
    assert_eq!(logs[0].address, m.bnd);
    let t = T::Transfer::decode_log_data(&logs[0].data).unwrap();
    assert_eq!((t.from, t.to, t.value), (a.address, b.address, units(40)));
    assert_eq!(logs[1].address, m.usd);
    let t = T::Transfer::decode_log_data(&logs[1].data).unwrap();
    assert_eq!((t.from, t.to, t.value), (b.address, a.address, units(200)));
    assert_eq!(logs[2].address, SETTLEMENT);
    let e = S::Settled::decode_log_data(&logs[2].data).unwrap();
    assert_eq!(e.id, id);
    assert_eq!((e.partyA, e.partyB), (a.address, b.address));
    assert_eq!(e.submitter, issuer().address);

    let block = m.chain.number;
    assert_eq!(settled(&m.chain, &ins), Some(block));
    assert_eq!(m.chain.view(SETTLEMENT, S::settledAtCall { id }), block);
}

#[test]
fn asset_for_coin_moves_both_legs_and_the_submitter_may_skip_its_own_signature() {
    let mut m = Market::new();
    let (seller, buyer) = (user(20), user(3));
    m.mint(m.bnd, &seller, 10);
    let (seller_coin, buyer_coin) = (m.coin(&seller), m.coin(&buyer));
    // The buyer sends the settlement itself, without signing it.
    let ins = instruction(&seller, m.bnd, units(10), &buyer, Address::ZERO, eth(3), 7);
    let c = S::settleCall {
        instruction: ins.clone(),
        signatureA: sign(&ins, &seller),
        signatureB: Bytes::new(),
    };
    // The transactor role is the buyer's: user 3 is a member.
    let (ok, logs) = send(&mut m.chain, &buyer, c);
    assert!(ok);
    assert_eq!(m.balance(m.bnd, &seller), units(0));
    assert_eq!(m.balance(m.bnd, &buyer), units(10));
    assert_eq!(m.coin(&seller), seller_coin + eth(3));
    // The buyer also paid gas, at most 5M at 3 gwei.
    let paid = buyer_coin - m.coin(&buyer);
    assert!(
        paid > eth(3) && paid < eth(3) + U256::from(15_000_000 * GWEI),
        "{paid}"
    );
    // No Transfer for the coin leg.
    assert_eq!(logs.len(), 2);
    assert_eq!(logs[0].address, m.bnd);
    assert_eq!(logs[1].address, SETTLEMENT);
    assert!(settled(&m.chain, &ins).is_some());
}

#[test]
fn a_leg_short_of_funds_moves_neither() {
    let mut m = Market::new();
    let (a, b) = (user(2), user(3));
    m.mint(m.bnd, &a, 100);
    m.mint(m.usd, &b, 500);
    let before = [
        m.balance(m.bnd, &a),
        m.balance(m.bnd, &b),
        m.balance(m.usd, &a),
        m.balance(m.usd, &b),
    ];
    // Leg A (40 BND) could move; leg B (1000 USD) cannot.
    let ins = instruction(&a, m.bnd, units(40), &b, m.usd, units(1000), 1);
    let reason = m
        .chain
        .revert_of(issuer().address, SETTLEMENT, settle_call(&ins, &a, &b));
    assert!(reason.contains("leg B"), "{reason}");
    assert!(
        reason.contains(&format!(
            "insufficient USD balance: {} holds 500, needs 1000",
            b.address
        )),
        "{reason}"
    );
    let (ok, logs) = send(&mut m.chain, &issuer(), settle_call(&ins, &a, &b));
    assert!(!ok && logs.is_empty());
    let after = [
        m.balance(m.bnd, &a),
        m.balance(m.bnd, &b),
        m.balance(m.usd, &a),
        m.balance(m.usd, &b),
    ];
    assert_eq!(after, before);
    assert_eq!(settled(&m.chain, &ins), None);

    // A coin leg short of funds: the asset leg before it is undone too.
    let coin_a = m.coin(&a);
    let ins = instruction(&a, m.bnd, units(40), &b, Address::ZERO, eth(5_000), 2);
    let reason = m
        .chain
        .revert_of(issuer().address, SETTLEMENT, settle_call(&ins, &a, &b));
    assert!(
        reason.contains("leg B") && reason.contains("cannot move"),
        "{reason}"
    );
    let (ok, _) = send(&mut m.chain, &issuer(), settle_call(&ins, &a, &b));
    assert!(!ok);
    assert_eq!(m.balance(m.bnd, &a), units(100));
    assert_eq!(m.balance(m.bnd, &b), units(0));
    assert_eq!(m.coin(&a), coin_a);
}

#[test]
fn an_expired_instruction_is_refused() {
    let mut m = Market::new();
    let (a, b) = (user(2), user(3));
    m.mint(m.bnd, &a, 100);
    let mut ins = instruction(&a, m.bnd, units(1), &b, Address::ZERO, units(1), 1);
    // Block times are 1000 + the block's number minus one.
    ins.expiry = 1000;
    let reason = m
        .chain
        .revert_of(issuer().address, SETTLEMENT, settle_call(&ins, &a, &b));
    assert!(
        reason.contains("expired at 1000 (unix seconds); the block time is"),
        "{reason}"
    );
    let (ok, _) = send(&mut m.chain, &issuer(), settle_call(&ins, &a, &b));
    assert!(!ok);
    assert_eq!(m.balance(m.bnd, &a), units(100));
    // Up to and including its expiry it settles.
    ins.expiry = m.chain.env().timestamp;
    let (ok, _) = send(&mut m.chain, &issuer(), settle_call(&ins, &a, &b));
    assert!(ok);
}

#[test]
fn an_instruction_settles_once() {
    let mut m = Market::new();
    let (a, b) = (user(2), user(3));
    m.mint(m.bnd, &a, 100);
    let ins = instruction(&a, m.bnd, units(10), &b, Address::ZERO, units(5), 1);
    assert!(send(&mut m.chain, &issuer(), settle_call(&ins, &a, &b)).0);
    let block = m.chain.number;
    let reason = m
        .chain
        .revert_of(issuer().address, SETTLEMENT, settle_call(&ins, &a, &b));
    assert!(
        reason.contains(&format!("already settled in block {block}")),
        "{reason}"
    );
    assert!(!send(&mut m.chain, &issuer(), settle_call(&ins, &a, &b)).0);
    assert_eq!(m.balance(m.bnd, &a), units(90));
    // A new nonce makes it a new instruction.
    let again = S::Instruction {
        nonce: U256::from(2),
        ..ins
    };
    assert!(send(&mut m.chain, &issuer(), settle_call(&again, &a, &b)).0);
    assert_eq!(m.balance(m.bnd, &a), units(80));
}

#[test]
fn wrong_or_missing_signatures_and_malformed_instructions_are_refused() {
    let mut m = Market::new();
    let (a, b, stranger) = (user(2), user(3), user(4));
    m.mint(m.bnd, &a, 100);
    let ins = instruction(&a, m.bnd, units(10), &b, Address::ZERO, units(5), 1);
    let refuse = |c: S::settleCall, from: Address| m.chain.revert_of(from, SETTLEMENT, c);
    let by = issuer().address;

    // Signed by someone else.
    let mut c = settle_call(&ins, &a, &b);
    c.signatureB = sign(&ins, &stranger);
    let reason = refuse(c, by);
    assert!(
        reason.contains(&format!(
            "signatureB was made by {}, expected partyB {}",
            stranger.address, b.address
        )),
        "{reason}"
    );
    // Signed for another instruction.
    let mut c = settle_call(&ins, &a, &b);
    c.signatureA = sign(
        &S::Instruction {
            nonce: U256::from(9),
            ..ins.clone()
        },
        &a,
    );
    assert!(refuse(c, by).contains("signatureA was made by"));
    // Missing, from a submitter that is not the party.
    let mut c = settle_call(&ins, &a, &b);
    c.signatureA = Bytes::new();
    let reason = refuse(c, by);
    assert!(
        reason.contains("signatureA is empty") && reason.contains("partyA must sign"),
        "{reason}"
    );
    // Malformed.
    let mut c = settle_call(&ins, &a, &b);
    c.signatureB = Bytes::from(vec![1u8; 64]);
    assert!(refuse(c, by).contains("signatureB is 64 bytes, expected 65"));
    let mut c = settle_call(&ins, &a, &b);
    let mut bad_v = c.signatureB.to_vec();
    bad_v[64] = 30;
    c.signatureB = bad_v.into();
    assert!(refuse(c, by).contains("has v = 30"));

    // Zero amounts, one party, the zero address.
    let zero = S::Instruction {
        amountB: U256::ZERO,
        ..ins.clone()
    };
    assert!(refuse(settle_call(&zero, &a, &b), by).contains("amountB is zero"));
    let same = S::Instruction {
        partyB: a.address,
        ..ins.clone()
    };
    assert!(refuse(settle_call(&same, &a, &a), by).contains("needs two parties"));
    let nobody = S::Instruction {
        partyB: Address::ZERO,
        ..ins.clone()
    };
    let c = S::settleCall {
        instruction: nobody,
        signatureA: Bytes::new(),
        signatureB: Bytes::new(),
    };
    assert!(refuse(c, a.address).contains("partyB is the zero address"));
    // An unissued asset.
    let ghost = S::Instruction {
        assetB: system::assets::token_address(99),
        ..ins.clone()
    };
    assert!(refuse(settle_call(&ghost, &a, &b), by).contains("has not been issued"));

    // v as 0/1 is accepted as well as 27/28.
    let mut c = settle_call(&ins, &a, &b);
    let mut low_v = c.signatureA.to_vec();
    low_v[64] -= 27;
    c.signatureA = low_v.into();
    assert!(send(&mut m.chain, &issuer(), c).0);
    assert_eq!(m.balance(m.bnd, &b), units(10));
}

#[test]
fn a_static_call_cannot_settle() {
    // A contract that STATICCALLs the settlement contract with its own
    // calldata and reverts with whatever came back.
    let probe = Address::repeat_byte(0x5c);
    let code = [
        0x36, 0x60, 0x00, 0x60, 0x00, 0x37, // calldatacopy(0, 0, calldatasize)
        0x60, 0x00, 0x60, 0x00, 0x36, 0x60, 0x00, 0x61, 0x10, 0x04, 0x5a, 0xfa,
        0x50, // staticcall
        0x3d, 0x60, 0x00, 0x60, 0x00, 0x3e, // returndatacopy(0, 0, returndatasize)
        0x3d, 0x60, 0x00, 0xfd, // revert(0, returndatasize)
    ];
    let mut spec = spec(4);
    spec.alloc.insert(
        probe,
        GenesisAccount {
            code: Some(Bytes::from(code.to_vec())),
            nonce: 1,
            ..Default::default()
        },
    );
    let mut m = Market::with_spec(spec);
    let (a, b) = (user(2), user(3));
    m.mint(m.bnd, &a, 100);
    let ins = instruction(&a, m.bnd, units(10), &b, Address::ZERO, units(5), 1);
    let out = m.chain.call_raw(
        issuer().address,
        probe,
        settle_call(&ins, &a, &b).abi_encode(),
        None,
    );
    let reason = revert_reason(&out).expect("a reason");
    assert!(
        reason.contains("settle moves assets: not allowed in a static call"),
        "{reason}"
    );
    // The view answers through a static call.
    let digest = S::digestOfCall {
        instruction: ins.clone(),
    }
    .abi_encode();
    let out = m.chain.call_raw(issuer().address, probe, digest, None);
    assert_eq!(
        out.output.as_ref(),
        system::settlement_digest(CHAIN_ID, &ins).as_slice()
    );
}

#[test]
fn a_frozen_party_refuses_the_settlement() {
    let mut m = Market::new();
    let (a, b) = (user(2), user(3));
    m.mint(m.bnd, &a, 100);
    m.mint(m.usd, &b, 100);
    let freeze = A::setFrozenCall {
        token: m.usd,
        account: a.address,
        frozen: true,
    };
    assert!(m.chain.send(&issuer(), ASSETS, freeze));
    // A may not receive USD: leg B is refused, and leg A does not move.
    let ins = instruction(&a, m.bnd, units(10), &b, m.usd, units(10), 1);
    let reason = m
        .chain
        .revert_of(issuer().address, SETTLEMENT, settle_call(&ins, &a, &b));
    assert!(
        reason.contains(&format!("leg B: {} is frozen for USD", a.address)),
        "{reason}"
    );
    assert!(!send(&mut m.chain, &issuer(), settle_call(&ins, &a, &b)).0);
    assert_eq!(m.balance(m.bnd, &a), units(100));
    assert_eq!(m.balance(m.usd, &b), units(100));
    // In a batch too.
    let reason = m.chain.revert_of(
        issuer().address,
        SETTLEMENT,
        batch_call(&[(ins.clone(), &a, &b)]),
    );
    assert!(
        reason.contains("batch instruction 0, leg B") && reason.contains("is frozen"),
        "{reason}"
    );
}

// ---------- settleBatch ----------

#[test]
fn a_batch_settles_by_netting_what_one_by_one_cannot() {
    let mut m = Market::new();
    let (a, b, c) = (user(2), user(3), user(4));
    m.mint(m.bnd, &a, 100);
    m.mint(m.usd, &c, 5);
    // Listed first: B delivers 50 BND to C, which B only gets from A in the
    // second instruction; B pays A the USD it gets from C.
    let first = instruction(&b, m.bnd, units(50), &c, m.usd, units(5), 1);
    let second = instruction(&a, m.bnd, units(50), &b, m.usd, units(5), 2);
    let reason = m
        .chain
        .revert_of(issuer().address, SETTLEMENT, settle_call(&first, &b, &c));
    assert!(reason.contains("insufficient BND balance"), "{reason}");

    let call = batch_call(&[(first.clone(), &b, &c), (second.clone(), &a, &b)]);
    // BND: A -50, C +50; USD: C -5, A +5; B nets to zero in both.
    assert_eq!(
        S::settleBatchCall::abi_decode_returns(
            &m.chain
                .call_raw(issuer().address, SETTLEMENT, call.abi_encode(), None)
                .output
        )
        .unwrap(),
        4
    );
    let (ok, logs) = send(&mut m.chain, &issuer(), call);
    assert!(ok);
    assert_eq!(m.balance(m.bnd, &a), units(50));
    assert_eq!(m.balance(m.bnd, &b), units(0));
    assert_eq!(m.balance(m.bnd, &c), units(50));
    assert_eq!(m.balance(m.usd, &a), units(5));
    assert_eq!(m.balance(m.usd, &b), units(0));
    assert_eq!(m.balance(m.usd, &c), units(0));
    // Four Transfers (every leg), two Settled, one BatchSettled.
    assert_eq!(logs.len(), 7);
    let transfers: Vec<_> = logs[..4]
        .iter()
        .map(|l| {
            let t = T::Transfer::decode_log_data(&l.data).unwrap();
            (l.address, t.from, t.to, t.value)
        })
        .collect();
    assert_eq!(
        transfers,
        [
            (m.bnd, b.address, c.address, units(50)),
            (m.usd, c.address, b.address, units(5)),
            (m.bnd, a.address, b.address, units(50)),
            (m.usd, b.address, a.address, units(5)),
        ]
    );
    for (log, ins) in logs[4..6].iter().zip([&first, &second]) {
        let e = S::Settled::decode_log_data(&log.data).unwrap();
        assert_eq!(e.id, system::settlement_digest(CHAIN_ID, ins));
    }
    let done = S::BatchSettled::decode_log_data(&logs[6].data).unwrap();
    assert_eq!((done.instructions, done.netMovements), (2, 4));
    assert_eq!(done.submitter, issuer().address);
    let block = m.chain.number;
    assert_eq!(settled(&m.chain, &first), Some(block));
    assert_eq!(settled(&m.chain, &second), Some(block));
    // The coin passed through nothing: the contract holds none.
    assert_eq!(coin(&m.chain, SETTLEMENT), U256::ZERO);
}

#[test]
fn a_batch_with_one_bad_instruction_moves_nothing() {
    let mut m = Market::new();
    let (a, b, c) = (user(2), user(3), user(4));
    m.mint(m.bnd, &a, 100);
    m.mint(m.usd, &b, 100);
    let good1 = instruction(&a, m.bnd, units(10), &b, m.usd, units(10), 1);
    let good2 = instruction(&b, m.usd, units(10), &c, Address::ZERO, eth(1), 2);
    let good3 = instruction(&a, m.bnd, units(5), &c, Address::ZERO, eth(1), 3);
    let mut expired = instruction(&a, m.bnd, units(1), &c, m.usd, units(1), 4);
    expired.expiry = 10;
    let snapshot = |m: &Market| {
        [a.address, b.address, c.address].map(|w| {
            (
                balance(&m.chain, m.bnd, w),
                balance(&m.chain, m.usd, w),
                coin(&m.chain, w),
            )
        })
    };
    let before = snapshot(&m);

    let list = [
        (good1.clone(), &a, &b),
        (good2.clone(), &b, &c),
        (expired, &a, &c),
        (good3.clone(), &a, &c),
    ];
    let reason = m
        .chain
        .revert_of(issuer().address, SETTLEMENT, batch_call(&list));
    assert!(
        reason.contains("batch instruction 2: instruction") && reason.contains("expired"),
        "{reason}"
    );
    let (ok, logs) = send(&mut m.chain, &issuer(), batch_call(&list));
    assert!(!ok && logs.is_empty());
    assert_eq!(snapshot(&m), before);
    for ins in [&good1, &good2, &good3] {
        assert_eq!(settled(&m.chain, ins), None);
    }

    // A net debit not covered: A owes 150 BND in all but holds 100.
    let big = instruction(&a, m.bnd, units(140), &c, Address::ZERO, eth(1), 5);
    let list = [(good1.clone(), &a, &b), (big, &a, &c)];
    let reason = m
        .chain
        .revert_of(issuer().address, SETTLEMENT, batch_call(&list));
    assert!(
        reason.contains(&format!(
            "batch net debit of {}: insufficient BND balance: {} holds 100, needs 150",
            a.address, a.address
        )),
        "{reason}"
    );
    // The same instruction twice.
    let list = [(good1.clone(), &a, &b), (good1.clone(), &a, &b)];
    let reason = m
        .chain
        .revert_of(issuer().address, SETTLEMENT, batch_call(&list));
    assert!(
        reason.contains("batch instructions 0 and 1 are the same instruction"),
        "{reason}"
    );
    // Signatures that do not line up with the instructions.
    let mut call = batch_call(&[(good1.clone(), &a, &b)]);
    call.signaturesB.clear();
    let reason = m.chain.revert_of(issuer().address, SETTLEMENT, call);
    assert!(
        reason.contains("need 1 signaturesA and 1 signaturesB, got 1 and 0"),
        "{reason}"
    );
    // Empty.
    let reason = m
        .chain
        .revert_of(issuer().address, SETTLEMENT, batch_call(&[]));
    assert!(reason.contains("at least one"), "{reason}");
    assert_eq!(snapshot(&m), before);

    // Without the bad one, the rest settle together.
    let list = [(good1, &a, &b), (good2, &b, &c), (good3, &a, &c)];
    assert!(send(&mut m.chain, &issuer(), batch_call(&list)).0);
    assert_eq!(m.balance(m.bnd, &a), units(85));
    assert_eq!(m.balance(m.usd, &c), units(10));
    assert_eq!(m.coin(&c), before[2].2 - eth(2));
    assert_eq!(m.coin(&a), before[0].2 + eth(1));
}

#[test]
fn a_batch_above_the_cap_is_refused() {
    let m = Market::new();
    let ins = instruction(&user(2), m.bnd, units(1), &user(3), m.usd, units(1), 0);
    let n = system::settlement::MAX_BATCH + 1;
    let call = S::settleBatchCall {
        instructions: vec![ins; n],
        signaturesA: vec![Bytes::new(); n],
        signaturesB: vec![Bytes::new(); n],
    };
    let reason = m.chain.revert_of(issuer().address, SETTLEMENT, call);
    assert!(
        reason.contains("at most 2000 instructions, this one has 2001"),
        "{reason}"
    );
}

// ---------- netting against one by one ----------

/// Parties of the property test: funded, never sending, so their coin
/// balances change by the legs alone.
fn parties() -> [User; 4] {
    [user(2), user(3), user(4), user(20)]
}

/// The market before any mint, built once.
fn base_market() -> &'static (Chain, Address, Address) {
    static BASE: OnceLock<(Chain, Address, Address)> = OnceLock::new();
    BASE.get_or_init(|| {
        let m = Market::new();
        (m.chain, m.bnd, m.usd)
    })
}

/// Coin amounts count in units of 10^20 wei, so a few can exceed a
/// party's 1000 ETH.
fn amount_of(asset: usize, n: u64) -> U256 {
    if asset == 0 {
        U256::from(u128::from(n % 8 + 1) * 100 * ETH)
    } else {
        U256::from(n)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// A batch settles exactly when every account covers its net debit,
    /// and then leaves the balances that settling its instructions one by
    /// one would (whenever that succeeds); refused, it changes nothing.
    #[test]
    fn netting_agrees_with_settling_one_by_one(
        // (party, counterparty offset, asset A, amount A, asset B, amount B);
        // assets: 0 the coin, 1 BND, 2 USD.
        raw in proptest::collection::vec(
            (0usize..4, 1usize..4, 0usize..3, 1u64..60, 0usize..3, 1u64..60), 1..6),
        mints in proptest::collection::vec(0u64..120, 8),
    ) {
        let (base, bnd, usd) = base_market().clone();
        let assets = [Address::ZERO, bnd, usd];
        let parties = parties();
        let mut chain = base;
        let calls: Vec<_> = mints
            .iter()
            .enumerate()
            .filter(|(_, amount)| **amount > 0)
            .map(|(i, amount)| {
                let c = A::mintCall {
                    token: assets[1 + i % 2],
                    to: parties[i / 2].address,
                    amount: U256::from(*amount),
                };
                (ASSETS, c.abi_encode())
            })
            .collect();
        if !calls.is_empty() {
            let list = txs(&chain, &issuer(), calls);
            prop_assert!(chain.block(list).receipts.iter().all(|r| r.success));
        }

        let list: Vec<(S::Instruction, &User, &User)> = raw
            .iter()
            .enumerate()
            .map(|(i, &(pa, off, asset_a, amount_a, asset_b, amount_b))| {
                let (a, b) = (&parties[pa], &parties[(pa + off) % 4]);
                let ins = S::Instruction {
                    partyA: a.address,
                    partyB: b.address,
                    assetA: assets[asset_a],
                    amountA: amount_of(asset_a, amount_a),
                    assetB: assets[asset_b],
                    amountB: amount_of(asset_b, amount_b),
                    expiry: EXPIRY,
                    nonce: U256::from(i),
                };
                (ins, a, b)
            })
            .collect();

        let read = |chain: &Chain| -> HashMap<(Address, Address), U256> {
            let mut out = HashMap::new();
            for p in &parties {
                out.insert((Address::ZERO, p.address), coin(chain, p.address));
                for token in [bnd, usd] {
                    out.insert((token, p.address), balance(chain, token, p.address));
                }
            }
            out
        };
        let initial = read(&chain);

        // The model: net change per (asset, account); the batch must
        // succeed exactly when no net debit exceeds the balance.
        let mut net: HashMap<(Address, Address), i128> = HashMap::new();
        for (ins, _, _) in &list {
            for (asset, from, to, amount) in [
                (ins.assetA, ins.partyA, ins.partyB, ins.amountA),
                (ins.assetB, ins.partyB, ins.partyA, ins.amountB),
            ] {
                let x = amount.to::<u128>() as i128;
                *net.entry((asset, from)).or_default() -= x;
                *net.entry((asset, to)).or_default() += x;
            }
        }
        let covered = net
            .iter()
            .all(|(k, v)| *v >= 0 || initial[k].to::<u128>() as i128 >= -v);

        // One by one, in listed order, each in its own transaction.
        let mut seq = chain.clone();
        let calls = list
            .iter()
            .map(|(ins, a, b)| (SETTLEMENT, settle_call(ins, a, b).abi_encode()))
            .collect();
        let one_by_one = txs(&seq, &issuer(), calls);
        let seq_ok = seq.block(one_by_one).receipts.iter().all(|r| r.success);

        let (batch_ok, _) = send(&mut chain, &issuer(), batch_call(&list));
        let after = read(&chain);
        prop_assert_eq!(batch_ok, covered);
        if batch_ok {
            for (k, start) in &initial {
                let change = net.get(k).copied().unwrap_or(0);
                let want = (start.to::<u128>() as i128 + change) as u128;
                prop_assert_eq!(after[k], U256::from(want), "{:?}", k);
            }
            if seq_ok {
                prop_assert_eq!(&after, &read(&seq));
            }
            for (ins, _, _) in &list {
                prop_assert_eq!(settled(&chain, ins), Some(chain.number));
            }
        } else {
            prop_assert!(!seq_ok, "one by one settled what the batch refused");
            prop_assert_eq!(&after, &initial);
            for (ins, _, _) in &list {
                prop_assert_eq!(settled(&chain, ins), None);
            }
        }
        prop_assert_eq!(coin(&chain, SETTLEMENT), U256::ZERO);
    }
}
