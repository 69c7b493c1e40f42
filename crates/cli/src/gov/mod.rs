//! `tally gov` and `tally roles`: governance proposals and votes, and
//! direct role changes, on BFT consortium chains.
//!
//! Writes are ordinary signed transactions to the system contracts (the
//! signing pipeline of `tally tx`, keys from a keystore, an environment
//! variable or the dev mnemonic); reads use the node's `tally_getProposals`,
//! `tally_getProposal` and `tally_getRoles`.

mod abi;
mod show;

use alloy_primitives::{Address, Bytes, B256, U256};
use alloy_sol_types::{SolCall, SolEvent};
use anyhow::{anyhow, bail, Context as _};
use serde_json::{json, Value};
use tally_primitives::Role;

use crate::client::{
    parse::{parse_address, parse_hex, quantity_u64},
    rpc::{Rpc, RpcArgs},
    tx::{send, Outcome, Request, SendOptions},
    wallet::SignerArgs,
};
use abi::{ITallyGovernance as Gov, ITallyRoles as Roles, GOVERNANCE, ROLES};

#[derive(clap::Subcommand)]
pub enum GovCommand {
    /// Propose a change; prints the proposal id. The proposer's own vote
    /// counts as yes.
    Propose {
        #[command(subcommand)]
        kind: ProposeKind,
    },
    /// Vote on a pending proposal.
    Vote {
        /// The proposal id.
        id: u64,
        /// yes or no.
        #[arg(value_parser = ["yes", "no"])]
        vote: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// List every proposal.
    List {
        /// Print the node's JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        rpc: RpcArgs,
    },
    /// Show one proposal.
    Show {
        id: u64,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        rpc: RpcArgs,
    },
}

/// What every state-changing command takes: signer, send options, node.
#[derive(clap::Args, Debug, Clone)]
pub struct TxArgs {
    #[command(flatten)]
    pub signer: SignerArgs,
    #[command(flatten)]
    pub send: SendOptions,
    #[command(flatten)]
    pub rpc: RpcArgs,
}

/// When a proposal takes effect, and why.
#[derive(clap::Args, Debug, Clone)]
pub struct ProposalArgs {
    /// The block at which the change takes effect: a number, or +N for N
    /// blocks after the current head.
    #[arg(long, value_name = "H|+N", allow_hyphen_values = false)]
    pub effective_height: String,
    /// Why (stored with the proposal).
    #[arg(long, default_value = "", value_name = "TEXT")]
    pub memo: String,
    #[command(flatten)]
    pub tx: TxArgs,
}

#[derive(clap::Subcommand)]
pub enum ProposeKind {
    /// Add a validator (its node's ed25519 key).
    AddValidator {
        #[arg(long, value_name = "0x..32 bytes")]
        key: String,
        #[arg(long, default_value_t = 1)]
        power: u64,
        #[command(flatten)]
        common: ProposalArgs,
    },
    RemoveValidator {
        #[arg(long, value_name = "0x..32 bytes")]
        key: String,
        #[command(flatten)]
        common: ProposalArgs,
    },
    /// Admit a member institution.
    AddMember {
        #[arg(long)]
        name: String,
        /// The account it votes with.
        #[arg(long, value_name = "ADDRESS")]
        account: String,
        /// Its node's ed25519 key.
        #[arg(long, value_name = "0x..32 bytes")]
        node_key: String,
        #[command(flatten)]
        common: ProposalArgs,
    },
    RemoveMember {
        #[arg(long, value_name = "ADDRESS")]
        account: String,
        #[command(flatten)]
        common: ProposalArgs,
    },
    /// Change a chain parameter: gas-limit, block-time-ms or min-gas-price.
    SetParam {
        #[arg(value_parser = ["gas-limit", "block-time-ms", "min-gas-price"])]
        param: String,
        value: u64,
        #[command(flatten)]
        common: ProposalArgs,
    },
    /// Grant roles (admin, deployer, transactor, auditor; comma-separated).
    GrantRole {
        #[arg(long, value_name = "ADDRESS")]
        account: String,
        #[arg(long, value_name = "ROLE[,ROLE]")]
        role: String,
        #[command(flatten)]
        common: ProposalArgs,
    },
    RevokeRole {
        #[arg(long, value_name = "ADDRESS")]
        account: String,
        #[arg(long, value_name = "ROLE[,ROLE]")]
        role: String,
        #[command(flatten)]
        common: ProposalArgs,
    },
}

#[derive(clap::Subcommand)]
pub enum RolesCommand {
    /// An account's roles.
    Show {
        address: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        rpc: RpcArgs,
    },
    /// Grant roles directly (the signer must be an admin).
    Grant {
        address: String,
        /// admin, deployer, transactor, auditor; comma-separated.
        role: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Revoke roles directly (the signer must be an admin).
    Revoke {
        address: String,
        role: String,
        #[command(flatten)]
        tx: TxArgs,
    },
}

pub fn run(cmd: GovCommand) -> anyhow::Result<()> {
    match cmd {
        GovCommand::Propose { kind } => propose(kind),
        GovCommand::Vote { id, vote, tx } => {
            let data = Gov::voteCall {
                id,
                support: vote == "yes",
            }
            .abi_encode();
            let outcome = send_to(&tx, GOVERNANCE, data)?;
            outcome.print();
            outcome.ok()?;
            let rpc = Rpc::connect(&tx.rpc)?;
            if let Some(p) = fetch_proposal(&rpc, id)? {
                println!("proposal {id}: {}", show::summary(&p));
            }
            Ok(())
        }
        GovCommand::List { json, rpc } => {
            let rpc = Rpc::connect(&rpc)?;
            let list: Value = rpc.call("tally_getProposals", vec![])?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                show::print_table(list.as_array().map(Vec::as_slice).unwrap_or_default());
            }
            Ok(())
        }
        GovCommand::Show { id, json, rpc } => {
            let rpc = Rpc::connect(&rpc)?;
            let p = fetch_proposal(&rpc, id)?
                .ok_or_else(|| anyhow!("there is no proposal {id} (see `tally gov list`)"))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&p)?);
            } else {
                show::print_proposal(&p);
            }
            Ok(())
        }
    }
}

pub fn run_roles(cmd: RolesCommand) -> anyhow::Result<()> {
    match cmd {
        RolesCommand::Show { address, json, rpc } => {
            let address = parse_address(&address).context("ADDRESS")?;
            let rpc = Rpc::connect(&rpc)?;
            let info: Value = rpc.call("tally_getRoles", vec![json!(address)])?;
            if json {
                println!("{}", serde_json::to_string_pretty(&info)?);
                return Ok(());
            }
            let roles: Vec<&str> = info["roles"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mask = info["mask"].as_u64().unwrap_or(0);
            if roles.is_empty() {
                println!("{address}: no roles (mask 0): may only read");
            } else {
                println!("{address}: {} (mask {mask})", roles.join(", "));
            }
            Ok(())
        }
        RolesCommand::Grant { address, role, tx } => {
            let account = parse_address(&address).context("ADDRESS")?;
            let mask = parse_roles(&role)?;
            let data = Roles::grantRoleCall { account, mask }.abi_encode();
            let outcome = send_to(&tx, ROLES, data)?;
            outcome.print();
            outcome.ok()
        }
        RolesCommand::Revoke { address, role, tx } => {
            let account = parse_address(&address).context("ADDRESS")?;
            let mask = parse_roles(&role)?;
            let data = Roles::revokeRoleCall { account, mask }.abi_encode();
            let outcome = send_to(&tx, ROLES, data)?;
            outcome.print();
            outcome.ok()
        }
    }
}

fn propose(kind: ProposeKind) -> anyhow::Result<()> {
    let (data, common) = encode_proposal(kind)?;
    let outcome = send_to(&common.tx, GOVERNANCE, data)?;
    outcome.print();
    outcome.ok()?;
    if let Some(id) = proposal_id(&outcome) {
        println!("proposal: {id}");
    } else if outcome.receipt.is_some() {
        bail!(
            "transaction {} succeeded but its receipt has no Proposed event",
            outcome.hash
        );
    }
    Ok(())
}

/// The calldata of a proposal, with its effective height resolved.
// `effectiveHeight` as the generated call structs spell it, for shorthand.
#[allow(non_snake_case)]
fn encode_proposal(kind: ProposeKind) -> anyhow::Result<(Vec<u8>, ProposalArgs)> {
    let common = match &kind {
        ProposeKind::AddValidator { common, .. }
        | ProposeKind::RemoveValidator { common, .. }
        | ProposeKind::AddMember { common, .. }
        | ProposeKind::RemoveMember { common, .. }
        | ProposeKind::SetParam { common, .. }
        | ProposeKind::GrantRole { common, .. }
        | ProposeKind::RevokeRole { common, .. } => common.clone(),
    };
    let effectiveHeight = effective_height(&common)?;
    let memo = common.memo.clone();
    let data = match kind {
        ProposeKind::AddValidator { key, power, .. } => Gov::proposeAddValidatorCall {
            key: parse_key("--key", &key)?,
            power,
            effectiveHeight,
            memo,
        }
        .abi_encode(),
        ProposeKind::RemoveValidator { key, .. } => Gov::proposeRemoveValidatorCall {
            key: parse_key("--key", &key)?,
            effectiveHeight,
            memo,
        }
        .abi_encode(),
        ProposeKind::AddMember {
            name,
            account,
            node_key,
            ..
        } => Gov::proposeAddMemberCall {
            name,
            account: parse_address(&account).context("--account")?,
            nodeKey: parse_key("--node-key", &node_key)?,
            effectiveHeight,
            memo,
        }
        .abi_encode(),
        ProposeKind::RemoveMember { account, .. } => Gov::proposeRemoveMemberCall {
            account: parse_address(&account).context("--account")?,
            effectiveHeight,
            memo,
        }
        .abi_encode(),
        ProposeKind::SetParam { param, value, .. } => Gov::proposeSetParamCall {
            param: param_number(&param)?,
            value: U256::from(value),
            effectiveHeight,
            memo,
        }
        .abi_encode(),
        ProposeKind::GrantRole { account, role, .. } => Gov::proposeGrantRoleCall {
            account: parse_address(&account).context("--account")?,
            mask: parse_roles(&role)?,
            effectiveHeight,
            memo,
        }
        .abi_encode(),
        ProposeKind::RevokeRole { account, role, .. } => Gov::proposeRevokeRoleCall {
            account: parse_address(&account).context("--account")?,
            mask: parse_roles(&role)?,
            effectiveHeight,
            memo,
        }
        .abi_encode(),
    };
    Ok((data, common))
}

/// `--effective-height`: a block number, or `+N` after the current head.
fn effective_height(common: &ProposalArgs) -> anyhow::Result<u64> {
    let text = common.effective_height.trim();
    if let Some(rest) = text.strip_prefix('+') {
        let n: u64 = rest.parse().map_err(|_| {
            anyhow!("invalid --effective-height {text:?}: expected a block number or +N")
        })?;
        let rpc = Rpc::connect(&common.tx.rpc)?;
        let head: Value = rpc.call("eth_blockNumber", vec![])?;
        let head = quantity_u64(&head).ok_or_else(|| anyhow!("eth_blockNumber answered {head}"))?;
        return head
            .checked_add(n)
            .ok_or_else(|| anyhow!("--effective-height {text}: head {head} + {n} overflows"));
    }
    text.parse()
        .map_err(|_| anyhow!("invalid --effective-height {text:?}: expected a block number or +N"))
}

fn send_to(tx: &TxArgs, to: Address, data: Vec<u8>) -> anyhow::Result<Outcome> {
    let key = tx.signer.key()?;
    let rpc = Rpc::connect(&tx.rpc)?;
    let request = Request {
        to: Some(to),
        value: U256::ZERO,
        data: Bytes::from(data),
    };
    send(&rpc, &key, &request, &tx.send, None)
}

/// The id in the receipt's `Proposed` event from the governance contract.
fn proposal_id(outcome: &Outcome) -> Option<u64> {
    let logs = outcome.receipt.as_ref()?.get("logs")?.as_array()?;
    logs.iter().find_map(|log| {
        let address: Address = log.get("address")?.as_str()?.parse().ok()?;
        let topics: Vec<B256> = serde_json::from_value(log.get("topics")?.clone()).ok()?;
        if address != GOVERNANCE || topics.first() != Some(&Gov::Proposed::SIGNATURE_HASH) {
            return None;
        }
        u64::try_from(U256::from_be_bytes(topics.get(1)?.0)).ok()
    })
}

fn fetch_proposal(rpc: &Rpc, id: u64) -> anyhow::Result<Option<Value>> {
    let p: Value = rpc.call("tally_getProposal", vec![json!(format!("{id:#x}"))])?;
    Ok((!p.is_null()).then_some(p))
}

fn parse_key(flag: &str, text: &str) -> anyhow::Result<B256> {
    let bytes = parse_hex(flag, text)?;
    B256::try_from(bytes.as_ref()).map_err(|_| {
        anyhow!(
            "invalid {flag} {text:?}: expected a 32-byte ed25519 key (0x and 64 hex digits), got {} bytes",
            bytes.len()
        )
    })
}

fn param_number(name: &str) -> anyhow::Result<u8> {
    Ok(match name {
        "gas-limit" => 1,
        "block-time-ms" => 2,
        "min-gas-price" => 3,
        other => {
            bail!("unknown parameter {other:?}: expected gas-limit, block-time-ms or min-gas-price")
        }
    })
}

/// `admin,deployer` → the role mask.
fn parse_roles(text: &str) -> anyhow::Result<u8> {
    let mut mask = 0;
    for name in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let role = Role::parse(&name.to_ascii_lowercase()).ok_or_else(|| {
            anyhow!("unknown role {name:?}: expected admin, deployer, transactor or auditor")
        })?;
        mask |= role.bit();
    }
    if mask == 0 {
        bail!("no role given: expected admin, deployer, transactor or auditor");
    }
    Ok(mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_params_parse() {
        assert_eq!(parse_roles("admin").unwrap(), 1);
        assert_eq!(parse_roles("Deployer, transactor").unwrap(), 6);
        assert!(parse_roles("owner")
            .unwrap_err()
            .to_string()
            .contains("owner"));
        assert!(parse_roles("").is_err());
        assert_eq!(param_number("min-gas-price").unwrap(), 3);
        assert!(parse_key("--key", "0x01").is_err());
        assert_eq!(
            parse_key("--key", &format!("0x{}", "ab".repeat(32))).unwrap(),
            B256::repeat_byte(0xab)
        );
    }

    #[test]
    fn proposal_id_comes_from_the_proposed_event() {
        let outcome = Outcome {
            hash: B256::ZERO,
            receipt: Some(json!({"status": "0x1", "logs": [
                {"address": format!("{ROLES}"), "topics": [Gov::Proposed::SIGNATURE_HASH, B256::with_last_byte(9)]},
                {"address": format!("{GOVERNANCE}"), "topics": [Gov::Proposed::SIGNATURE_HASH, B256::with_last_byte(7)]},
            ]})),
            revert_reason: None,
        };
        assert_eq!(proposal_id(&outcome), Some(7));
    }
}
