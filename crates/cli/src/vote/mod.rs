//! `tally vote`: shareholder ballots on a native asset.
//!
//! The asset's issuer opens a ballot (a question, 2 to 16 options, an end
//! block); opening snapshots the asset's balances, and each holder then
//! votes once with its balance at the snapshot, so tokens moved later do
//! not vote twice. Writes go to the ballots contract through the signing
//! pipeline of `tally tx`; reads use `tally_getBallot(s)`.

use alloy_primitives::{LogData, B256, U256};
use alloy_sol_types::{SolCall, SolEvent};
use anyhow::{anyhow, bail, Context as _};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::asset::{
    abi::{ITallyBallots as B, BALLOTS},
    event_topic, submit, Asset, ReadArgs, TxArgs,
};
use crate::client::{
    parse::{parse_address, quantity_u64},
    rpc::Rpc,
    tx::Outcome,
};

mod show;

#[derive(clap::Subcommand)]
pub enum VoteCommand {
    /// Open a ballot on an asset (its issuer only); prints the ballot id.
    /// Balances are snapshotted now: they are the votes' weights.
    Open {
        /// The asset's token address.
        token: String,
        #[arg(long)]
        question: String,
        /// An option; give 2 to 16, in order.
        #[arg(long = "option", value_name = "TEXT", required = true)]
        options: Vec<String>,
        /// The last block that accepts votes: a number, or +N for N blocks
        /// after the current head.
        #[arg(long, value_name = "+N|H")]
        end: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Vote, once, with the signer's balance at the ballot's snapshot.
    Cast {
        id: u64,
        /// The option's text, or its number as `tally vote show` lists it
        /// (from 0).
        option: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Show a ballot and its tallies.
    Show {
        id: u64,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// List every ballot.
    List {
        #[command(flatten)]
        read: ReadArgs,
    },
}

/// A ballot as `tally_getBallot` returns it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ballot {
    pub id: u64,
    pub token: alloy_primitives::Address,
    pub creator: alloy_primitives::Address,
    pub question: String,
    pub options: Vec<String>,
    pub snapshot_block: u64,
    pub end_block: u64,
    pub tallies: Vec<U256>,
    pub voters: u64,
    pub eligible_weight: U256,
    /// `open` or `closed`, as of the block read.
    #[serde(default)]
    pub status: Option<String>,
}

pub fn run(cmd: VoteCommand) -> anyhow::Result<()> {
    match cmd {
        VoteCommand::Open {
            token,
            question,
            options,
            end,
            tx,
        } => {
            let token = parse_address(&token).context("TOKEN")?;
            let rpc = Rpc::connect(&tx.rpc)?;
            let asset = Asset::fetch(&rpc, token, json!("latest"))?;
            let end_block = end_block(&rpc, &end)?;
            let data = B::openCall {
                token,
                question,
                options,
                endBlock: end_block,
            };
            let outcome = submit(&tx, &rpc, BALLOTS, data.abi_encode())?;
            match event_topic(&outcome, BALLOTS, B::BallotOpened::SIGNATURE_HASH) {
                Some(id) => {
                    let id = U256::from_be_bytes(id.0);
                    println!("ballot:  {id}");
                    println!(
                        "holders of {} at this block vote until block {end_block}",
                        asset.symbol
                    );
                    Ok(())
                }
                None if outcome.receipt.is_none() => Ok(()),
                None => bail!(
                    "transaction {} succeeded but its receipt has no BallotOpened event",
                    outcome.hash
                ),
            }
        }
        VoteCommand::Cast { id, option, tx } => {
            let rpc = Rpc::connect(&tx.rpc)?;
            let ballot = fetch(&rpc, id, json!("latest"))?;
            let choice = choose(&ballot, &option)?;
            let option =
                u8::try_from(choice).map_err(|_| anyhow!("option {choice} is out of range"))?;
            let outcome = submit(&tx, &rpc, BALLOTS, B::voteCall { id, option }.abi_encode())?;
            let asset = Asset::fetch(&rpc, ballot.token, json!("latest"))?;
            let text = &ballot.options[choice];
            match vote_weight(&outcome) {
                Some(w) => println!("voted {text:?} on ballot {id} with {}", asset.amount(w)),
                None => println!("voted {text:?} on ballot {id}"),
            }
            Ok(())
        }
        VoteCommand::Show { id, read } => {
            let rpc = Rpc::connect(&read.rpc)?;
            let raw: Value = rpc.call(
                "tally_getBallot",
                vec![json!(format!("{id:#x}")), read.block_param()?],
            )?;
            if raw.is_null() {
                bail!("there is no ballot {id} (see `tally vote list`)");
            }
            if read.json {
                println!("{}", serde_json::to_string_pretty(&raw)?);
                return Ok(());
            }
            let ballot: Ballot = serde_json::from_value(raw)
                .context("the node's tally_getBallot answer is not a ballot")?;
            let asset = Asset::fetch(&rpc, ballot.token, read.block_param()?)?;
            show::print_ballot(&ballot, &asset);
            Ok(())
        }
        VoteCommand::List { read } => {
            let rpc = Rpc::connect(&read.rpc)?;
            let raw: Value = rpc.call("tally_getBallots", vec![read.block_param()?])?;
            if read.json {
                println!("{}", serde_json::to_string_pretty(&raw)?);
                return Ok(());
            }
            let list: Vec<Ballot> = serde_json::from_value(raw)
                .context("the node's tally_getBallots answer is not a list of ballots")?;
            show::print_list(&list);
            Ok(())
        }
    }
}

fn fetch(rpc: &Rpc, id: u64, block: Value) -> anyhow::Result<Ballot> {
    let raw: Value = rpc.call("tally_getBallot", vec![json!(format!("{id:#x}")), block])?;
    if raw.is_null() {
        bail!("there is no ballot {id} (see `tally vote list`)");
    }
    serde_json::from_value(raw).context("the node's tally_getBallot answer is not a ballot")
}

/// The option `text` names: its exact text (any case), else its number.
fn choose(ballot: &Ballot, text: &str) -> anyhow::Result<usize> {
    let wanted = text.trim();
    if let Some(i) = ballot
        .options
        .iter()
        .position(|o| o.trim().eq_ignore_ascii_case(wanted))
    {
        return Ok(i);
    }
    match wanted.parse::<usize>() {
        Ok(i) if i < ballot.options.len() => Ok(i),
        _ => {
            let listed: Vec<String> = ballot
                .options
                .iter()
                .enumerate()
                .map(|(i, o)| format!("{i}: {o}"))
                .collect();
            bail!(
                "ballot {} has no option {text:?}; its options are {}",
                ballot.id,
                listed.join(", ")
            )
        }
    }
}

/// `--end`: a block number, or `+N` after the current head.
fn end_block(rpc: &Rpc, text: &str) -> anyhow::Result<u64> {
    let text = text.trim();
    let bad = || anyhow!("invalid --end {text:?}: expected a block number or +N");
    if let Some(rest) = text.strip_prefix('+') {
        let n: u64 = rest.parse().map_err(|_| bad())?;
        let head: Value = rpc.call("eth_blockNumber", vec![])?;
        let head = quantity_u64(&head).ok_or_else(|| anyhow!("eth_blockNumber answered {head}"))?;
        return head
            .checked_add(n)
            .ok_or_else(|| anyhow!("--end {text}: head {head} + {n} overflows"));
    }
    text.parse().map_err(|_| bad())
}

/// The weight in the receipt's `VoteCast` event.
fn vote_weight(outcome: &Outcome) -> Option<U256> {
    let logs = outcome.receipt.as_ref()?.get("logs")?.as_array()?;
    logs.iter().find_map(|log| {
        let topics: Vec<B256> = serde_json::from_value(log.get("topics")?.clone()).ok()?;
        if topics.first() != Some(&B::VoteCast::SIGNATURE_HASH) {
            return None;
        }
        let data: alloy_primitives::Bytes =
            serde_json::from_value(log.get("data")?.clone()).ok()?;
        let event = B::VoteCast::decode_log_data(&LogData::new(topics, data)?).ok()?;
        Some(event.weight)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::Address;

    fn ballot(options: &[&str]) -> Ballot {
        Ballot {
            id: 3,
            token: Address::ZERO,
            creator: Address::ZERO,
            question: "?".into(),
            options: options.iter().map(|s| s.to_string()).collect(),
            snapshot_block: 1,
            end_block: 9,
            tallies: vec![U256::ZERO; options.len()],
            voters: 0,
            eligible_weight: U256::ZERO,
            status: None,
        }
    }

    #[test]
    fn options_are_chosen_by_text_then_number() {
        let b = ballot(&["Yes", "No"]);
        assert_eq!(choose(&b, "no").unwrap(), 1);
        assert_eq!(choose(&b, "0").unwrap(), 0);
        let err = choose(&b, "2").unwrap_err().to_string();
        assert!(err.contains("0: Yes, 1: No"), "{err}");
        // Text wins over a number that is also an option's text.
        let numbered = ballot(&["1", "2"]);
        assert_eq!(choose(&numbered, "1").unwrap(), 0);
    }

    #[test]
    fn the_weight_comes_from_the_vote_event() {
        let event = B::VoteCast {
            id: 3,
            voter: Address::repeat_byte(1),
            option: 1,
            weight: U256::from(250u64),
        }
        .encode_log_data();
        let outcome = Outcome {
            hash: B256::ZERO,
            receipt: Some(json!({"status": "0x1", "logs": [
                {"address": format!("{BALLOTS}"), "topics": event.topics(), "data": event.data},
            ]})),
            revert_reason: None,
        };
        assert_eq!(vote_weight(&outcome), Some(U256::from(250u64)));
    }
}
