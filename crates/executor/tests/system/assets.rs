//! Native assets and ballots through the executor: each policy rule, the
//! ERC-20 face, clawback, holders and snapshots.

use super::chain::{user, Chain, User, CHAIN_ID};
use alloy_primitives::{Address, U256};
use std::collections::BTreeMap;
use tally_executor::system::{
    self,
    abi::{ITallyAsset as T, ITallyAssets as A, ITallyBallots as B},
    ASSETS, BALLOTS,
};
use tally_primitives::{ChainSpec, GenesisAccount};

/// A dev chain (no roles) with users 1..=6 funded.
pub fn dev_chain() -> Chain {
    let alloc: BTreeMap<_, _> = (1..=6u8)
        .map(|n| {
            let g = GenesisAccount {
                balance: U256::from(10u128.pow(21)),
                ..Default::default()
            };
            (user(n).address, g)
        })
        .collect();
    let mut spec = ChainSpec::dev(alloc, 0);
    spec.chain_id = CHAIN_ID;
    Chain::new(&spec)
}

fn policy(allowlist: bool, max: u64, purpose: &str) -> A::Policy {
    A::Policy {
        allowlist,
        maxHolding: U256::from(max),
        purpose: purpose.into(),
    }
}

/// Issues an asset from `issuer` with user 6 as regulator; returns its token.
pub fn issue(chain: &mut Chain, issuer: &User, symbol: &str, p: A::Policy) -> Address {
    let c = A::issueCall {
        name: format!("{symbol} asset"),
        symbol: symbol.into(),
        decimals: 2,
        cap: U256::from(1_000_000u64),
        regulator: user(6).address,
        policy: p,
    };
    let before = chain.view(ASSETS, A::assetCountCall {});
    assert!(chain.send(issuer, ASSETS, c));
    chain.view(ASSETS, A::tokenOfCall { id: before + 1 })
}

pub fn mint(chain: &mut Chain, issuer: &User, token: Address, to: Address, amount: u64) {
    let c = A::mintCall {
        token,
        to,
        amount: U256::from(amount),
    };
    assert!(chain.send(issuer, ASSETS, c), "mint failed");
}

pub fn balance(chain: &Chain, token: Address, who: Address) -> u64 {
    chain
        .view(token, T::balanceOfCall { account: who })
        .to::<u64>()
}

fn transfer_reason(chain: &Chain, from: &User, token: Address, to: Address, v: u64) -> String {
    let c = T::transferCall {
        to,
        value: U256::from(v),
    };
    chain.revert_of(from.address, token, c)
}

#[test]
fn an_issued_asset_is_an_erc20_with_events_and_a_cap() {
    let mut chain = dev_chain();
    let (issuer, alice, bob) = (user(1), user(2), user(3));
    let token = issue(&mut chain, &issuer, "B30", policy(false, 0, ""));
    assert_eq!(token, system::assets::token_address(1));
    // The token address is a contract for wallets (code) and so is the registry.
    assert_eq!(chain.view(token, T::nameCall {}), "B30 asset");
    assert_eq!(chain.view(token, T::symbolCall {}), "B30");
    assert_eq!(chain.view(token, T::decimalsCall {}), 2);
    assert_eq!(chain.view(token, T::issuerCall {}), issuer.address);
    for a in [token, ASSETS] {
        let acct = tally_executor::StateSource::account(&chain.state, &a)
            .unwrap()
            .expect("system account exists");
        assert_eq!(acct.nonce, 1);
    }
    mint(&mut chain, &issuer, token, alice.address, 500);
    assert_eq!(chain.view(token, T::totalSupplyCall {}), U256::from(500));
    let tx = chain.sys_tx(
        &alice,
        token,
        T::transferCall {
            to: bob.address,
            value: U256::from(120),
        },
    );
    let out = chain.block(vec![(tx, alice.address)]);
    let receipt = &out.receipts[0];
    assert!(receipt.success);
    let log = receipt
        .logs
        .iter()
        .find(|l| l.address == token)
        .expect("a Transfer log from the token address");
    let ev = <T::Transfer as alloy_sol_types::SolEvent>::decode_log_data(&log.data).unwrap();
    assert_eq!(
        (ev.from, ev.to, ev.value),
        (alice.address, bob.address, U256::from(120))
    );
    assert_eq!(balance(&chain, token, alice.address), 380);
    assert_eq!(balance(&chain, token, bob.address), 120);

    // The cap holds, and only the issuer mints.
    let over = A::mintCall {
        token,
        to: alice.address,
        amount: U256::from(1_000_000u64),
    };
    let why = chain.revert_of(issuer.address, ASSETS, over.clone());
    assert!(why.contains("exceed the cap"), "{why}");
    let why = chain.revert_of(alice.address, ASSETS, over);
    assert!(why.contains("only B30's issuer"), "{why}");

    // approve + transferFrom, and an allowance too small.
    assert!(chain.send(
        &bob,
        token,
        T::approveCall {
            spender: alice.address,
            value: U256::from(50)
        }
    ));
    let pull = T::transferFromCall {
        from: bob.address,
        to: alice.address,
        value: U256::from(60),
    };
    let why = chain.revert_of(alice.address, token, pull);
    assert!(why.contains("insufficient allowance"), "{why}");
    let pull = T::transferFromCall {
        from: bob.address,
        to: alice.address,
        value: U256::from(50),
    };
    assert!(chain.send(&alice, token, pull));
    assert_eq!(balance(&chain, token, bob.address), 70);

    // Burning comes out of the issuer's own balance.
    mint(&mut chain, &issuer, token, issuer.address, 100);
    assert!(chain.send(
        &issuer,
        ASSETS,
        A::burnCall {
            token,
            amount: U256::from(40)
        }
    ));
    assert_eq!(chain.view(token, T::totalSupplyCall {}), U256::from(560));
    let why = transfer_reason(&chain, &bob, token, alice.address, 71);
    assert!(why.contains("insufficient B30 balance"), "{why}");
}

#[test]
fn every_policy_rule_refuses_with_its_reason() {
    let mut chain = dev_chain();
    let (issuer, alice, bob, carol, regulator) = (user(1), user(2), user(3), user(4), user(6));
    let token = issue(&mut chain, &issuer, "KYC", policy(true, 300, ""));
    // Allowlist: minting to an account not on it is refused.
    let c = A::mintCall {
        token,
        to: alice.address,
        amount: U256::from(100),
    };
    let why = chain.revert_of(issuer.address, ASSETS, c);
    assert!(why.contains("not on KYC's allowlist"), "{why}");
    for who in [&alice, &bob] {
        let c = A::setAllowedCall {
            token,
            account: who.address,
            allowed: true,
        };
        assert!(chain.send(&regulator, ASSETS, c));
    }
    mint(&mut chain, &issuer, token, alice.address, 250);
    let why = transfer_reason(&chain, &alice, token, carol.address, 10);
    assert!(
        why.contains(&format!("{} is not on KYC's allowlist", carol.address)),
        "{why}"
    );

    // Maximum holding.
    mint(&mut chain, &issuer, token, bob.address, 200);
    let why = transfer_reason(&chain, &alice, token, bob.address, 101);
    assert!(why.contains("above the maximum holding of 300"), "{why}");

    // Freeze: neither side of a frozen account moves.
    let c = A::setFrozenCall {
        token,
        account: bob.address,
        frozen: true,
    };
    assert!(chain.send(&regulator, ASSETS, c));
    let why = transfer_reason(&chain, &alice, token, bob.address, 1);
    assert!(why.contains("is frozen for KYC"), "{why}");
    let why = transfer_reason(&chain, &bob, token, alice.address, 1);
    assert!(why.contains("is frozen for KYC"), "{why}");

    // Only the issuer or regulator manages the policy.
    let c = A::setFrozenCall {
        token,
        account: bob.address,
        frozen: false,
    };
    let why = chain.revert_of(alice.address, ASSETS, c);
    assert!(why.contains("only KYC's issuer or regulator"), "{why}");

    // Pause stops everyone.
    assert!(chain.send(
        &issuer,
        ASSETS,
        A::setPausedCall {
            token,
            paused: true
        }
    ));
    let why = transfer_reason(&chain, &alice, token, issuer.address, 1);
    assert!(why.contains("KYC is paused"), "{why}");
    assert!(chain.send(
        &regulator,
        ASSETS,
        A::setPausedCall {
            token,
            paused: false
        }
    ));
    assert!(chain.send(
        &alice,
        token,
        T::transferCall {
            to: issuer.address,
            value: U256::from(1)
        }
    ));

    // Clawback: regulator only, with a reason, even from a frozen account.
    let c = A::clawbackCall {
        token,
        from: bob.address,
        amount: U256::from(150),
        reason: "court order 17".into(),
    };
    let why = chain.revert_of(issuer.address, ASSETS, c.clone());
    assert!(why.contains("only KYC's regulator may claw back"), "{why}");
    let tx = chain.sys_tx(&regulator, ASSETS, c);
    let out = chain.block(vec![(tx, regulator.address)]);
    assert!(out.receipts[0].success);
    let clawback = out.receipts[0]
        .logs
        .iter()
        .find_map(|l| <A::Clawback as alloy_sol_types::SolEvent>::decode_log_data(&l.data).ok())
        .expect("a Clawback event");
    assert_eq!(clawback.reason, "court order 17");
    assert_eq!(balance(&chain, token, bob.address), 50);
    assert_eq!(balance(&chain, token, issuer.address), 151);
}

#[test]
fn purpose_bound_money_only_pays_tagged_accounts() {
    let mut chain = dev_chain();
    let (bank, farmer, shop, supplier) = (user(1), user(2), user(3), user(4));
    let token = issue(&mut chain, &bank, "AGRI", policy(false, 0, "agriculture"));
    // The issuer may pay anyone out (the first leg of programmable money).
    mint(&mut chain, &bank, token, farmer.address, 1000);
    let why = transfer_reason(&chain, &farmer, token, shop.address, 10);
    assert!(
        why.contains("may only be paid to accounts tagged 'agriculture'"),
        "{why}"
    );
    let c = A::setTaggedCall {
        token,
        account: supplier.address,
        tagged: true,
    };
    assert!(chain.send(&bank, ASSETS, c));
    assert!(chain.send(
        &farmer,
        token,
        T::transferCall {
            to: supplier.address,
            value: U256::from(300)
        }
    ));
    // Back to the issuer is always allowed (redemption).
    assert!(chain.send(
        &supplier,
        token,
        T::transferCall {
            to: bank.address,
            value: U256::from(300)
        }
    ));
    let flags = system::assets::flags_of(&chain.state, token, supplier.address).unwrap();
    assert!(flags.tagged && !flags.frozen);
}

#[test]
fn holders_are_listed_and_old_state_keeps_old_balances() {
    let mut chain = dev_chain();
    let (issuer, alice, bob) = (user(1), user(2), user(3));
    let token = issue(&mut chain, &issuer, "EQ", policy(false, 0, ""));
    mint(&mut chain, &issuer, token, alice.address, 100);
    mint(&mut chain, &issuer, token, bob.address, 50);
    let before = chain.state.clone();
    assert!(chain.send(
        &bob,
        token,
        T::transferCall {
            to: alice.address,
            value: U256::from(50)
        }
    ));
    let now = system::assets::holders(&chain.state, token, 0, 10).unwrap();
    assert_eq!(now, vec![(alice.address, U256::from(150))]);
    let mut then = system::assets::holders(&before, token, 0, 10).unwrap();
    then.sort();
    let mut want = vec![
        (alice.address, U256::from(100)),
        (bob.address, U256::from(50)),
    ];
    want.sort();
    assert_eq!(then, want);
    let meta = system::assets::asset(&chain.state, token).unwrap().unwrap();
    assert_eq!((meta.symbol.as_str(), meta.holders), ("EQ", 1));
    assert!(
        system::assets::asset(&chain.state, system::assets::token_address(9))
            .unwrap()
            .is_none()
    );
    // An unissued token address refuses calls with a reason.
    let why = chain.revert_of(
        alice.address,
        system::assets::token_address(9),
        T::nameCall {},
    );
    assert!(why.contains("has not been issued"), "{why}");
}

#[test]
fn a_ballot_weighs_votes_by_the_snapshot_and_counts_each_holder_once() {
    let mut chain = dev_chain();
    let (issuer, alice, bob, carol) = (user(1), user(2), user(3), user(4));
    let token = issue(&mut chain, &issuer, "SHR", policy(false, 0, ""));
    mint(&mut chain, &issuer, token, alice.address, 600);
    mint(&mut chain, &issuer, token, bob.address, 400);
    let end = chain.number + 5;
    let open = B::openCall {
        token,
        question: "Approve the dividend?".into(),
        options: vec!["yes".into(), "no".into()],
        endBlock: end,
    };
    let why = chain.revert_of(alice.address, BALLOTS, open.clone());
    assert!(why.contains("only SHR's issuer"), "{why}");
    assert!(chain.send(&issuer, BALLOTS, open));
    // After the snapshot, alice hands 500 to carol: neither gains weight.
    assert!(chain.send(
        &alice,
        token,
        T::transferCall {
            to: carol.address,
            value: U256::from(500)
        }
    ));
    assert!(chain.send(&alice, BALLOTS, B::voteCall { id: 1, option: 0 }));
    assert!(chain.send(&bob, BALLOTS, B::voteCall { id: 1, option: 1 }));
    let why = chain.revert_of(carol.address, BALLOTS, B::voteCall { id: 1, option: 0 });
    assert!(why.contains("held none of the asset"), "{why}");
    let why = chain.revert_of(alice.address, BALLOTS, B::voteCall { id: 1, option: 1 });
    assert!(why.contains("already voted"), "{why}");
    let why = chain.revert_of(bob.address, BALLOTS, B::voteCall { id: 1, option: 7 });
    assert!(why.contains("has options 0 to 1"), "{why}");
    let b = system::ballots::ballot(&chain.state, 1).unwrap().unwrap();
    assert_eq!(b.tallies, vec![U256::from(600), U256::from(400)]);
    assert_eq!((b.voters, b.eligible_weight), (2, U256::from(1000)));
    let snap = chain.view(
        token,
        T::balanceOfAtCall {
            account: alice.address,
            snapshotId: b.snapshot_id,
        },
    );
    assert_eq!(snap, U256::from(600));
    assert_eq!(balance(&chain, token, alice.address), 100);
    // Closed after the end block.
    while chain.number < end {
        chain.block(vec![]);
    }
    mint(&mut chain, &issuer, token, issuer.address, 1);
    let why = chain.revert_of(issuer.address, BALLOTS, B::voteCall { id: 1, option: 0 });
    assert!(why.contains("closed at block"), "{why}");
    let abi = chain.view(BALLOTS, B::getBallotCall { id: 1 });
    assert_eq!(abi.question, "Approve the dividend?");
}

/// The least gas an `eth_call` of `c` needs succeeds in a block too (what
/// eth_estimateGas relies on), including the registry's first write.
#[test]
fn the_gas_a_call_needs_is_what_a_block_needs() {
    use alloy_sol_types::SolCall;
    let mut chain = dev_chain();
    let issuer = user(1);
    let c = A::issueCall {
        name: "Gas".into(),
        symbol: "GAS".into(),
        decimals: 0,
        cap: U256::from(10u64),
        regulator: Address::ZERO,
        policy: policy(true, 5, "x"),
    };
    let input = c.abi_encode();
    let ok = |gas: u64| {
        chain
            .call_raw(issuer.address, ASSETS, input.clone(), Some(gas))
            .success
    };
    let (mut lo, mut hi) = (21_000u64, 5_000_000u64);
    assert!(ok(hi));
    while lo + 1 < hi {
        let mid = (lo + hi) / 2;
        if ok(mid) {
            hi = mid
        } else {
            lo = mid
        }
    }
    let tx = chain.tx(&issuer, Some(ASSETS), input.clone(), hi);
    let out = chain.block(vec![(tx, issuer.address)]);
    assert!(
        out.receipts[0].success,
        "a block with the estimated {hi} gas failed"
    );
}

/// A native transfer between two holders is priced by the EVM's storage
/// rules: a slot read and then written pays the cold surcharge once. It
/// costs what the ERC-20 of contracts/src/TestToken.sol does for the same
/// transfer, plus at most one cold read: the asset's policy word, which a
/// plain ERC-20 does not have.
#[test]
fn a_native_transfer_costs_an_erc20_transfer_plus_its_policy_read() {
    use alloy_sol_types::SolCall;
    let mut chain = dev_chain();
    let (owner, holder) = (user(1), user(2));
    let erc20 = chain.deploy_test_token(&owner, U256::from(1_000_000u64));
    let asset = issue(&mut chain, &owner, "NAT", policy(false, 0, ""));
    mint(&mut chain, &owner, asset, owner.address, 1_000_000);

    let mut gas_of = |token: Address| {
        let transfer = T::transferCall {
            to: holder.address,
            value: U256::from(5u64),
        }
        .abi_encode();
        // The first makes `holder` a holder; the second is the one compared.
        let mut last = 0;
        for _ in 0..2 {
            let tx = chain.tx(&owner, Some(token), transfer.clone(), 200_000);
            let out = chain.block(vec![(tx, owner.address)]);
            assert!(out.receipts[0].success);
            last = out.gas_used;
        }
        last
    };
    let (evm, native) = (gas_of(erc20), gas_of(asset));
    assert_eq!(balance(&chain, asset, holder.address), 10);
    assert!(
        native <= evm + 2_100,
        "a native transfer costs {native} gas, the EVM ERC-20 {evm}"
    );
}
