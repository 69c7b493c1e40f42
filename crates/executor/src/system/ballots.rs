//! The ballots contract ([`ITallyBallots`]): shareholder voting on a
//! native asset. Opening a ballot takes a snapshot of the asset
//! ([`ledger::take_snapshot`]); each holder then votes once with its
//! balance at that snapshot, so shares moved afterwards neither vote twice
//! nor lose their vote. Tallies live in this contract's storage, so the
//! state root and `eth_getProof` cover the result.

use super::{
    abi::ITallyBallots::{self, ITallyBallotsCalls as Calls},
    assets::{self, ledger},
    read_at, revert,
    store::{addr_word, slot, Store, MAX_STRING},
    CallCtx, Slots, SysError, ASSETS, BALLOTS,
};
use crate::{StateSource, StateSourceError};
use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::{SolCall, SolInterface};
use serde::{Deserialize, Serialize};

/// Most options a ballot may offer.
const MAX_OPTIONS: usize = 16;
/// Longest option text, bytes.
const MAX_OPTION: usize = 256;

fn field(name: &str, id: u64) -> U256 {
    slot(name, &[U256::from(id)])
}

fn option_slot(id: u64, i: u64) -> U256 {
    slot("option", &[U256::from(id), U256::from(i)])
}

fn tally_slot(id: u64, i: u64) -> U256 {
    slot("tally", &[U256::from(id), U256::from(i)])
}

fn choice_slot(id: u64, voter: Address) -> U256 {
    slot("choice", &[U256::from(id), addr_word(voter)])
}

fn weight_slot(id: u64, voter: Address) -> U256 {
    slot("weight", &[U256::from(id), addr_word(voter)])
}

/// A ballot as the node and RPC show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BallotView {
    pub id: u64,
    pub token: Address,
    pub creator: Address,
    pub question: String,
    pub options: Vec<String>,
    pub snapshot_id: u64,
    pub snapshot_block: u64,
    pub end_block: u64,
    /// Weight for each option, in the asset's base units.
    pub tallies: Vec<U256>,
    pub voters: u64,
    /// The asset's total supply at the snapshot.
    pub eligible_weight: U256,
    /// The storage slots (of the ballots contract) holding each option's
    /// tally: `eth_getProof` on them proves the result against a block's
    /// state root.
    pub tally_slots: Vec<B256>,
}

pub(crate) fn call(
    slots: &mut dyn Slots,
    ctx: &CallCtx,
    input: &[u8],
) -> Result<Vec<u8>, SysError> {
    let Ok(call) = Calls::abi_decode(input) else {
        return revert("unknown ITallyBallots function or malformed arguments");
    };
    let mut s = Store::new(slots, BALLOTS);
    let s = &mut s;
    use ITallyBallots as B;
    match call {
        Calls::open(c) => {
            assets::writing(ctx)?;
            let id = open(s, ctx, c)?;
            Ok(B::openCall::abi_encode_returns(&id))
        }
        Calls::vote(c) => {
            assets::writing(ctx)?;
            vote(s, ctx, c.id, c.option)?;
            Ok(Vec::new())
        }
        Calls::ballotCount(_) => Ok(B::ballotCountCall::abi_encode_returns(&count(s)?)),
        Calls::getBallot(c) => {
            let Some(b) = read_ballot(s, c.id)? else {
                return revert(format!("no ballot {}", c.id));
            };
            Ok(B::getBallotCall::abi_encode_returns(&to_abi(b)))
        }
        Calls::voteOf(c) => {
            if read_ballot_exists(s, c.id)?.is_none() {
                return revert(format!("no ballot {}", c.id));
            }
            let choice = u8::try_from(s.get_u64(choice_slot(c.id, c.voter))?).unwrap_or(0);
            let weight = s.get(weight_slot(c.id, c.voter))?;
            Ok(B::voteOfCall::abi_encode_returns(&B::voteOfReturn {
                choicePlusOne: choice,
                weight,
            }))
        }
    }
}

fn count(s: &mut Store<'_>) -> Result<u64, SysError> {
    s.get_u64(slot("count", &[]))
}

fn open(s: &mut Store<'_>, ctx: &CallCtx, c: ITallyBallots::openCall) -> Result<u64, SysError> {
    if c.question.trim().is_empty() || c.question.len() > MAX_STRING {
        return revert(format!(
            "a ballot needs a question of 1 to {MAX_STRING} bytes"
        ));
    }
    if c.options.len() < 2 || c.options.len() > MAX_OPTIONS {
        return revert(format!(
            "a ballot needs 2 to {MAX_OPTIONS} options, not {}",
            c.options.len()
        ));
    }
    if let Some(o) = c
        .options
        .iter()
        .find(|o| o.trim().is_empty() || o.len() > MAX_OPTION)
    {
        return revert(format!(
            "option '{o}' must be 1 to {MAX_OPTION} bytes of text"
        ));
    }
    if c.endBlock <= ctx.block {
        return revert(format!(
            "endBlock {} is not after this block {}",
            c.endBlock, ctx.block
        ));
    }
    let mut a_store = s.other(ASSETS);
    let mut a = ledger::load(&mut a_store, c.token)?;
    if ctx.caller != a.issuer {
        let sym = ledger::symbol(&mut a_store, &a);
        return revert(format!(
            "only {sym}'s issuer {} may open a ballot on it, not {}",
            a.issuer, ctx.caller
        ));
    }
    let snapshot = ledger::take_snapshot(&mut a_store, &mut a, ctx.block)?;
    let id = count(s)? + 1;
    s.set_u64(slot("count", &[]), id)?;
    s.set(field("token", id), addr_word(c.token))?;
    s.set(field("creator", id), addr_word(ctx.caller))?;
    s.set_string(field("question", id), &c.question)?;
    s.set_u64(field("options", id), c.options.len() as u64)?;
    for (i, o) in c.options.iter().enumerate() {
        s.set_string(option_slot(id, i as u64), o)?;
    }
    s.set_u64(field("snapshot", id), snapshot)?;
    s.set_u64(field("end", id), c.endBlock)?;
    assets::emit(
        s,
        &ITallyBallots::BallotOpened {
            id,
            token: c.token,
            creator: ctx.caller,
            question: c.question,
            snapshotId: snapshot,
            endBlock: c.endBlock,
        },
    )?;
    Ok(id)
}

fn vote(s: &mut Store<'_>, ctx: &CallCtx, id: u64, option: u8) -> Result<(), SysError> {
    let Some((token, snapshot, end, options)) = read_ballot_exists(s, id)? else {
        return revert(format!("no ballot {id}"));
    };
    if ctx.block > end {
        return revert(format!("ballot {id} closed at block {end}"));
    }
    if u64::from(option) >= options {
        return revert(format!(
            "ballot {id} has options 0 to {}, not {option}",
            options - 1
        ));
    }
    if s.get_u64(choice_slot(id, ctx.caller))? != 0 {
        return revert(format!("{} has already voted on ballot {id}", ctx.caller));
    }
    let weight = {
        let mut a_store = s.other(ASSETS);
        let a = ledger::load(&mut a_store, token)?;
        ledger::balance_at(&mut a_store, &a, ctx.caller, snapshot)?
    };
    if weight.is_zero() {
        return revert(format!(
            "{} held none of the asset at ballot {id}'s snapshot, so has no vote",
            ctx.caller
        ));
    }
    s.set_u64(choice_slot(id, ctx.caller), u64::from(option) + 1)?;
    s.set(weight_slot(id, ctx.caller), weight)?;
    let tally = s.get(tally_slot(id, u64::from(option)))?;
    s.set(
        tally_slot(id, u64::from(option)),
        tally.saturating_add(weight),
    )?;
    let voters = s.get_u64(field("voters", id))?;
    s.set_u64(field("voters", id), voters + 1)?;
    assets::emit(
        s,
        &ITallyBallots::VoteCast {
            id,
            voter: ctx.caller,
            option,
            weight,
        },
    )
}

/// Token, snapshot, end block and option count of ballot `id`, if it exists.
fn read_ballot_exists(
    s: &mut Store<'_>,
    id: u64,
) -> Result<Option<(Address, u64, u64, u64)>, SysError> {
    if id == 0 || id > count(s)? {
        return Ok(None);
    }
    Ok(Some((
        s.get_addr(field("token", id))?,
        s.get_u64(field("snapshot", id))?,
        s.get_u64(field("end", id))?,
        s.get_u64(field("options", id))?,
    )))
}

fn read_ballot(s: &mut Store<'_>, id: u64) -> Result<Option<BallotView>, SysError> {
    let Some((token, snapshot_id, end_block, n)) = read_ballot_exists(s, id)? else {
        return Ok(None);
    };
    let n = n.min(MAX_OPTIONS as u64);
    let mut options = Vec::new();
    let mut tallies = Vec::new();
    let mut tally_slots = Vec::new();
    for i in 0..n {
        options.push(s.get_string(option_slot(id, i))?);
        tallies.push(s.get(tally_slot(id, i))?);
        tally_slots.push(B256::from(tally_slot(id, i)));
    }
    let (snapshot_block, eligible_weight) = {
        let mut a_store = s.other(ASSETS);
        let a = ledger::load(&mut a_store, token)?;
        (
            ledger::snapshot_block(&mut a_store, a.id, snapshot_id)?,
            ledger::supply_at(&mut a_store, &a, snapshot_id)?,
        )
    };
    Ok(Some(BallotView {
        id,
        token,
        creator: s.get_addr(field("creator", id))?,
        question: s.get_string(field("question", id))?,
        options,
        snapshot_id,
        snapshot_block,
        end_block,
        tallies,
        voters: s.get_u64(field("voters", id))?,
        eligible_weight,
        tally_slots,
    }))
}

fn to_abi(b: BallotView) -> ITallyBallots::Ballot {
    ITallyBallots::Ballot {
        id: b.id,
        token: b.token,
        creator: b.creator,
        question: b.question,
        options: b.options,
        snapshotId: b.snapshot_id,
        snapshotBlock: b.snapshot_block,
        endBlock: b.end_block,
        tallies: b.tallies,
        voters: b.voters,
        eligibleWeight: b.eligible_weight,
    }
}

/// Every ballot, oldest first.
pub fn ballots<S: StateSource + ?Sized>(state: &S) -> Result<Vec<BallotView>, StateSourceError> {
    read_at(state, BALLOTS, |s| {
        let n = count(s)?;
        let mut out = Vec::new();
        for id in 1..=n {
            out.extend(read_ballot(s, id)?);
        }
        Ok(out)
    })
}

pub fn ballot<S: StateSource + ?Sized>(
    state: &S,
    id: u64,
) -> Result<Option<BallotView>, StateSourceError> {
    read_at(state, BALLOTS, |s| read_ballot(s, id))
}
