//! The system contracts (roles, governance) through the executor's public
//! API: genesis from a BFT spec, blocks built and imported, eth_call.

mod assets;
mod chain;
mod notary;
mod settlement;
mod trace;

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::SolCall;
use chain::{evidence, expect_denied, revert_reason, spec, user, Chain};
use tally_executor::{
    execute_block,
    system::{
        self,
        abi::{ITallyGovernance as G, ITallyRoles as R},
        ProposalAction, ProposalStatus,
    },
    BlockBuilder, GOVERNANCE, ROLES,
};
use tally_primitives::{BftValidator, ChainSpec, Role};

// ---------- roles ----------

#[test]
fn genesis_gives_members_default_roles_and_listed_accounts_theirs() {
    let chain = Chain::new(&spec(4));
    let s = &chain.state;
    assert!(system::permissioned(s).unwrap());
    assert_eq!(system::role_mask(s, user(1).address).unwrap(), 1 | 2 | 4);
    assert_eq!(
        system::role_mask(s, user(21).address).unwrap(),
        Role::Auditor.bit()
    );
    assert_eq!(system::role_mask(s, user(20).address).unwrap(), 0);
    let accounts = tally_executor::genesis_accounts(&spec(4));
    for a in [GOVERNANCE, ROLES] {
        assert_eq!(accounts[&a].nonce, 1);
        assert_eq!(
            accounts[&a].code.as_ref().map(|c| c.to_vec()),
            Some(vec![0xfe])
        );
    }
    assert!(tally_executor::genesis_accounts(&ChainSpec::dev(Default::default(), 0)).is_empty());
    assert_eq!(
        chain.view(
            ROLES,
            R::rolesOfCall {
                account: user(1).address
            }
        ),
        7
    );
}

#[test]
fn a_transfer_without_the_transactor_role_is_refused() {
    let chain = Chain::new(&spec(4));
    let outsider = user(20);
    let tx = chain.tx(&outsider, Some(Address::repeat_byte(7)), vec![], 21_000);
    let mut builder = BlockBuilder::new(&chain.state, chain.env());
    let msg = expect_denied(builder.execute(&tx, outsider.address).unwrap_err());
    assert!(
        msg.contains("lacks the transactor role: it may not send transactions on this chain"),
        "{msg}"
    );
    assert_eq!(builder.tx_count(), 0);
    // Import rejects a block that holds it.
    let err = execute_block(&chain.state, chain.env(), &[tx], &[outsider.address]).unwrap_err();
    expect_denied(err);
    // The pool's check says the same.
    let err = system::check_sender(&chain.state, outsider.address, false).unwrap_err();
    assert!(
        err.to_string().contains("lacks the transactor role"),
        "{err}"
    );
    system::check_sender(&chain.state, user(1).address, true).unwrap();
}

#[test]
fn a_block_may_not_hold_a_transaction_below_the_minimum_gas_price() {
    let mut spec = spec(4);
    if let tally_primitives::EngineSpec::Bft(bft) = &mut spec.engine {
        // Chain::tx offers a fee cap of 3 gwei.
        bft.min_gas_price = 5_000_000_000;
    }
    let chain = Chain::new(&spec);
    let member = user(1);
    let tx = chain.tx(&member, Some(Address::repeat_byte(7)), vec![], 21_000);
    let mut builder = BlockBuilder::new(&chain.state, chain.env());
    let err = builder
        .execute(&tx, member.address)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("below the chain's minimum gas price 5000000000"),
        "{err}"
    );
    // Whoever proposed it, a block holding it is invalid.
    let err = execute_block(&chain.state, chain.env(), &[tx], &[member.address])
        .unwrap_err()
        .to_string();
    assert!(err.contains("underpriced"), "{err}");
}

#[test]
fn a_create_without_the_deployer_role_is_refused() {
    let chain = Chain::new(&spec(4));
    let transactor = user(22);
    // Plain transfers are fine for a transactor...
    system::check_sender(&chain.state, transactor.address, false).unwrap();
    // ...a deployment is not.
    let tx = chain.tx(&transactor, None, vec![0x00], 100_000);
    let mut builder = BlockBuilder::new(&chain.state, chain.env());
    let msg = expect_denied(builder.execute(&tx, transactor.address).unwrap_err());
    assert!(
        msg.contains("lacks the deployer role: it may not deploy contracts on this chain"),
        "{msg}"
    );
}

#[test]
fn an_admin_grant_lets_the_account_transact_and_a_non_admin_cannot_grant() {
    let mut chain = Chain::new(&spec(4));
    let admin = user(1);
    let outsider = user(20);
    let reason = chain.revert_of(
        user(22).address,
        ROLES,
        R::grantRoleCall {
            account: outsider.address,
            mask: Role::Transactor.bit(),
        },
    );
    assert!(reason.contains("is not an admin"), "{reason}");

    let grant = chain.sys_tx(
        &admin,
        ROLES,
        R::grantRoleCall {
            account: outsider.address,
            mask: Role::Transactor.bit(),
        },
    );
    // The grant and the grantee's transfer in one block: the check sees
    // the grant made by the transaction before.
    let transfer = chain.tx(&outsider, Some(Address::repeat_byte(7)), vec![], 21_000);
    let out = chain.block(vec![(grant, admin.address), (transfer, outsider.address)]);
    assert!(out.receipts.iter().all(|r| r.success));
    // RoleGranted(account indexed, mask, by indexed)
    let log = &out.receipts[0].logs[0];
    assert_eq!(log.address, ROLES);
    assert_eq!(log.topics()[1], outsider.address.into_word());
    assert_eq!(log.topics()[2], admin.address.into_word());
    assert_eq!(
        system::role_mask(&chain.state, outsider.address).unwrap(),
        4
    );
    assert!(chain.view(
        ROLES,
        R::hasRoleCall {
            account: outsider.address,
            role: 4
        }
    ));

    assert!(chain.send(
        &admin,
        ROLES,
        R::revokeRoleCall {
            account: outsider.address,
            mask: 4
        }
    ));
    assert!(system::check_sender(&chain.state, outsider.address, false).is_err());
}

#[test]
fn an_auditor_can_call_but_not_send() {
    let chain = Chain::new(&spec(4));
    let auditor = user(21);
    // eth_call works, even one that would transfer.
    let out = chain.call_raw(auditor.address, Address::repeat_byte(7), vec![], None);
    assert!(out.success);
    let out = chain.call_raw(
        auditor.address,
        GOVERNANCE,
        G::validatorsCall {}.abi_encode(),
        None,
    );
    assert!(out.success);
    let tx = chain.tx(&auditor, Some(Address::repeat_byte(7)), vec![], 21_000);
    let mut builder = BlockBuilder::new(&chain.state, chain.env());
    expect_denied(builder.execute(&tx, auditor.address).unwrap_err());
}

// ---------- governance ----------

fn propose_add_validator(chain: &mut Chain, effective: u64) -> u64 {
    let before = chain.view(GOVERNANCE, G::proposalCountCall {});
    assert!(chain.send(
        &user(1),
        GOVERNANCE,
        G::proposeAddValidatorCall {
            key: B256::repeat_byte(0x55),
            power: 3,
            effectiveHeight: effective,
            memo: "new bank node".into(),
        }
    ));
    before + 1
}

fn status(chain: &Chain, id: u64) -> ProposalStatus {
    system::proposal(&chain.state, id).unwrap().unwrap().status
}

fn vote(chain: &mut Chain, member: u8, id: u64, support: bool) -> bool {
    chain.send(&user(member), GOVERNANCE, G::voteCall { id, support })
}

#[test]
fn add_validator_passes_at_three_of_four_and_takes_effect_at_its_height() {
    let mut chain = Chain::new(&spec(4));
    assert_eq!(system::votes_needed(&chain.state).unwrap(), 3);
    assert_eq!(chain.view(GOVERNANCE, G::thresholdCall {}), 3);
    let h = 8;
    let id = propose_add_validator(&mut chain, h); // block 1
    assert_eq!(status(&chain, id), ProposalStatus::Pending);
    assert!(vote(&mut chain, 2, id, true)); // block 2
    assert_eq!(status(&chain, id), ProposalStatus::Pending);
    let out = chain.block(vec![(
        chain.sys_tx(&user(3), GOVERNANCE, G::voteCall { id, support: true }),
        user(3).address,
    )]); // block 3
    assert_eq!(status(&chain, id), ProposalStatus::Passed);
    // Voted, then Passed.
    assert_eq!(out.receipts[0].logs.len(), 2);

    let before = system::validators(&chain.state).unwrap();
    assert_eq!(before.len(), 4);
    while chain.number < h - 2 {
        chain.block(vec![]);
    }
    // The state after block H-2 still has the old set...
    assert_eq!(system::validators(&chain.state).unwrap(), before);
    chain.block(vec![]);
    // ...the state after block H-1 holds the set for block H.
    let after = system::validators(&chain.state).unwrap();
    assert_eq!(after.len(), 5);
    assert!(after.contains(&BftValidator {
        key: B256::repeat_byte(0x55),
        power: 3
    }));
    let p = system::proposal(&chain.state, id).unwrap().unwrap();
    assert_eq!(p.status, ProposalStatus::Executed);
    assert_eq!(p.executed_block, Some(h - 1));
    assert_eq!(p.yes, 3);
    assert_eq!(p.memo, "new bank node");
    assert_eq!(
        p.action,
        ProposalAction::AddValidator {
            key: B256::repeat_byte(0x55),
            power: 3
        }
    );
    // The ABI view agrees.
    let v = chain.view(GOVERNANCE, G::validatorsCall {});
    assert_eq!(v.keys.len(), 5);
    let abi = chain.view(GOVERNANCE, G::getProposalCall { id });
    assert_eq!(abi.status, ProposalStatus::Executed.code());
    assert_eq!(abi.value, U256::from(3));
    // JSON for RPC is camelCase.
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["effectiveHeight"], 8);
    assert_eq!(json["action"]["kind"], "addValidator");
}

#[test]
fn non_members_and_double_votes_are_refused_with_reasons() {
    let mut chain = Chain::new(&spec(4));
    let id = propose_add_validator(&mut chain, 10);
    let reason = chain.revert_of(
        user(20).address,
        GOVERNANCE,
        G::voteCall { id, support: true },
    );
    assert!(reason.contains("not a member"), "{reason}");
    let reason = chain.revert_of(
        user(20).address,
        GOVERNANCE,
        G::proposeRemoveMemberCall {
            account: user(1).address,
            effectiveHeight: 10,
            memo: String::new(),
        },
    );
    assert!(reason.contains("not a member"), "{reason}");
    // The proposer already voted yes.
    let reason = chain.revert_of(
        user(1).address,
        GOVERNANCE,
        G::voteCall { id, support: false },
    );
    assert!(reason.contains("already voted"), "{reason}");
    assert!(vote(&mut chain, 2, id, true));
    assert!(!vote(&mut chain, 2, id, true), "a second vote must fail");
    let p = system::proposal(&chain.state, id).unwrap().unwrap();
    assert_eq!((p.yes, p.no), (2, 0));
    // Too early an effective height.
    let reason = chain.revert_of(
        user(1).address,
        GOVERNANCE,
        G::proposeSetParamCall {
            param: 1,
            value: U256::from(50_000_000),
            effectiveHeight: chain.number + 2,
            memo: String::new(),
        },
    );
    assert!(reason.contains("too early"), "{reason}");
}

#[test]
fn enough_no_votes_reject_and_unfinished_proposals_expire() {
    let mut chain = Chain::new(&spec(4));
    let rejected = propose_add_validator(&mut chain, 20);
    assert!(vote(&mut chain, 2, rejected, false));
    assert_eq!(status(&chain, rejected), ProposalStatus::Pending);
    assert!(vote(&mut chain, 3, rejected, false));
    // 2 no of 4: at most 2 yes remain, 3 are needed.
    assert_eq!(status(&chain, rejected), ProposalStatus::Rejected);
    assert!(!vote(&mut chain, 4, rejected, true));

    let h = chain.number + 4;
    let expiring = propose_add_validator(&mut chain, h);
    assert!(vote(&mut chain, 2, expiring, true));
    while chain.number < h - 1 {
        chain.block(vec![]);
    }
    assert_eq!(status(&chain, expiring), ProposalStatus::Expired);
    let reason = chain.revert_of(
        user(3).address,
        GOVERNANCE,
        G::voteCall {
            id: expiring,
            support: true,
        },
    );
    assert!(reason.contains("expired"), "{reason}");
    assert_eq!(system::validators(&chain.state).unwrap().len(), 4);
}

#[test]
fn set_param_changes_params_at_its_height() {
    let mut chain = Chain::new(&spec(4));
    let p0 = system::params(&chain.state).unwrap();
    assert_eq!(p0.gas_limit, 30_000_000);
    assert_eq!(p0.block_time_ms, 1000);
    assert_eq!(p0.min_gas_price, 0);
    let h = 6;
    assert!(chain.send(
        &user(1),
        GOVERNANCE,
        G::proposeSetParamCall {
            param: 3,
            value: U256::from(7 * chain::GWEI),
            effectiveHeight: h,
            memo: "fees".into(),
        }
    ));
    assert!(vote(&mut chain, 2, 1, true));
    assert!(vote(&mut chain, 4, 1, true));
    while chain.number < h - 2 {
        chain.block(vec![]);
    }
    assert_eq!(system::min_gas_price(&chain.state).unwrap(), 0);
    chain.block(vec![]);
    assert_eq!(
        system::min_gas_price(&chain.state).unwrap(),
        7 * chain::GWEI as u64
    );
    let p = chain.view(GOVERNANCE, G::paramsCall {});
    assert_eq!(p.minGasPrice, 7 * chain::GWEI as u64);
    assert_eq!(p.gasLimit, 30_000_000);
}

#[test]
fn a_role_granted_by_vote_takes_effect_at_its_height() {
    let mut chain = Chain::new(&spec(4));
    let outsider = user(20);
    let h = 6;
    assert!(chain.send(
        &user(1),
        GOVERNANCE,
        G::proposeGrantRoleCall {
            account: outsider.address,
            mask: Role::Transactor.bit() | Role::Deployer.bit(),
            effectiveHeight: h,
            memo: String::new(),
        }
    ));
    assert!(vote(&mut chain, 2, 1, true));
    assert!(vote(&mut chain, 3, 1, true));
    assert_eq!(status(&chain, 1), ProposalStatus::Passed);
    while chain.number < h - 2 {
        chain.block(vec![]);
    }
    assert!(system::check_sender(&chain.state, outsider.address, false).is_err());
    chain.block(vec![]);
    system::check_sender(&chain.state, outsider.address, true).unwrap();
    let tx = chain.tx(&outsider, Some(Address::repeat_byte(7)), vec![], 21_000);
    assert!(chain.block(vec![(tx, outsider.address)]).receipts[0].success);
}

#[test]
fn members_can_be_added_and_the_last_one_not_removed() {
    let mut chain = Chain::new(&spec(1));
    // One member: the proposer's own vote passes it.
    let newcomer = user(23);
    assert!(chain.send(
        &user(1),
        GOVERNANCE,
        G::proposeAddMemberCall {
            name: "a bank with a rather long name, longer than one word".into(),
            account: newcomer.address,
            nodeKey: B256::repeat_byte(0x77),
            effectiveHeight: 3,
            memo: String::new(),
        }
    ));
    assert_eq!(status(&chain, 1), ProposalStatus::Passed);
    chain.block(vec![]);
    let members = system::members(&chain.state).unwrap();
    assert_eq!(members.len(), 2);
    assert_eq!(
        members[1].name,
        "a bank with a rather long name, longer than one word"
    );
    assert_eq!(
        system::role_mask(&chain.state, newcomer.address).unwrap(),
        7
    );
    // Two members now need two votes (67% of 2, rounded up).
    assert_eq!(system::votes_needed(&chain.state).unwrap(), 2);

    let single = Chain::new(&spec(1));
    let reason = single.revert_of(
        user(1).address,
        GOVERNANCE,
        G::proposeRemoveMemberCall {
            account: user(1).address,
            effectiveHeight: 5,
            memo: String::new(),
        },
    );
    assert!(reason.contains("last member"), "{reason}");
    let reason = single.revert_of(
        user(1).address,
        GOVERNANCE,
        G::proposeRemoveValidatorCall {
            key: B256::repeat_byte(0xa1),
            effectiveHeight: 5,
            memo: String::new(),
        },
    );
    assert!(reason.contains("last validator"), "{reason}");
}

// ---------- evidence ----------

#[test]
fn evidence_is_recorded_once() {
    let mut chain = Chain::new(&spec(4));
    let mut env = chain.env();
    env.evidence = vec![evidence(1), evidence(1), evidence(2)];
    chain.block_with(env, vec![]);
    let mut env = chain.env();
    env.evidence = vec![evidence(2)];
    chain.block_with(env, vec![]);
    let list = system::evidence(&chain.state).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].hash, evidence(1).hash());
    assert_eq!(list[0].round, 1);
    assert_eq!(list[1].kind, 2);
    assert_eq!(list[1].second_value, B256::repeat_byte(2));
    assert_eq!(chain.view(GOVERNANCE, G::evidenceCountCall {}), 2);
    let e = chain.view(GOVERNANCE, G::getEvidenceCall { index: 1 });
    assert_eq!(e.hash, evidence(2).hash());
}

// ---------- gas ----------

#[test]
fn a_system_call_short_of_gas_halts_out_of_gas() {
    let mut chain = Chain::new(&spec(4));
    let input = G::validatorsCall {}.abi_encode();
    // Enough for the intrinsic cost, not for four validators' reads.
    let out = chain.call_raw(
        Address::ZERO,
        GOVERNANCE,
        input.clone(),
        Some(21_000 + 3_000),
    );
    assert!(!out.success && !out.reverted, "{out:?}");
    assert!(out.halt_reason.unwrap().contains("OutOfGas"));
    let out = chain.call_raw(Address::ZERO, GOVERNANCE, input, Some(100_000));
    assert!(out.success);
    assert!(out.gas_used > 21_000 + 8 * 2_100, "{}", out.gas_used);

    // In a transaction: included, failed, all its gas used, no state change.
    let tx = chain.tx(
        &user(1),
        Some(GOVERNANCE),
        G::proposeAddValidatorCall {
            key: B256::repeat_byte(0x55),
            power: 1,
            effectiveHeight: 10,
            memo: String::new(),
        }
        .abi_encode(),
        60_000,
    );
    let out = chain.block(vec![(tx, user(1).address)]);
    assert!(!out.receipts[0].success);
    assert_eq!(out.gas_used, 60_000);
    assert_eq!(system::proposals(&chain.state).unwrap().len(), 0);
}

#[test]
fn unknown_calls_and_value_revert_readably() {
    let chain = Chain::new(&spec(4));
    let out = chain.call_raw(Address::ZERO, GOVERNANCE, vec![1, 2, 3, 4], None);
    assert!(out.reverted);
    assert!(revert_reason(&out)
        .unwrap()
        .contains("unknown ITallyGovernance function"));
}
