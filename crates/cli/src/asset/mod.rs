//! `tally asset`: native assets (system contracts, on any Tally chain).
//!
//! Writes are ordinary signed transactions (the signing pipeline of `tally
//! tx`) to the assets contract, or to the asset's own token address for a
//! transfer; a refusal prints the contract's reason. Reads use the node's
//! `tally_getAsset`, `tally_getAssets`, `tally_getHolders` and
//! `tally_getAssetHistory`, at any block.
//!
//! Amounts are in the asset's units, scaled by its decimals: `12.5` of a
//! 6-decimal asset is 12 500 000 base units. Outputs show both where it
//! matters (`--json` gives base units).

pub(crate) mod abi;
pub(crate) mod amount;
pub(crate) mod show;

use alloy_primitives::{Address, Bytes, B256, U256};
use alloy_sol_types::{SolCall, SolEvent};
use anyhow::{anyhow, bail, Context as _};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::client::{
    parse::{parse_address, parse_block, BlockRef},
    rpc::{Rpc, RpcArgs},
    tx::{send, Outcome, Request, SendOptions},
    wallet::SignerArgs,
};
use abi::{ITallyAsset as Token, ITallyAssets as A, ASSETS};
use amount::{format_units, parse_units};

const AMOUNTS: &str = "Amounts (AMOUNT, --cap, --max-holding) are in the asset's units, \
with up to its decimals after the point: 12.5 of a 6-decimal asset is 12500000 base units.";

#[derive(clap::Subcommand)]
#[command(after_help = AMOUNTS)]
pub enum AssetCommand {
    /// Issue a new asset with the signer as issuer; prints its token address.
    Issue(IssueArgs),
    /// Create new units for an account, within the cap (issuer only).
    Mint {
        /// The asset's token address.
        token: String,
        /// The recipient.
        to: String,
        /// In the asset's units (12.5).
        amount: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Destroy units of the issuer's own balance (issuer only).
    Burn {
        /// The asset's token address.
        token: String,
        /// In the asset's units (12.5).
        amount: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Send units to an account (the ERC-20 transfer; the policy applies).
    Transfer {
        /// The asset's token address.
        token: String,
        /// The recipient.
        to: String,
        /// In the asset's units (12.5).
        amount: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Put an account on the allowlist (issuer or regulator).
    Allow(AccountArgs),
    /// Take an account off the allowlist (issuer or regulator).
    Disallow(AccountArgs),
    /// Stop an account sending or receiving (issuer or regulator).
    Freeze(AccountArgs),
    Unfreeze(AccountArgs),
    /// Let an account receive purpose-bound units (issuer or regulator).
    Tag(AccountArgs),
    Untag(AccountArgs),
    /// Stop every movement of the asset (issuer or regulator).
    Pause(TokenArgs),
    Resume(TokenArgs),
    /// Change the policy; what is not given stays as it is (issuer or
    /// regulator).
    Policy {
        /// The asset's token address.
        token: String,
        /// Whether holders must be on the allowlist.
        #[arg(long, value_name = "true|false")]
        allowlist: Option<bool>,
        /// The most one account may hold, in the asset's units; 0 for no limit.
        #[arg(long, value_name = "AMOUNT")]
        max_holding: Option<String>,
        /// Purpose-bound money: transfers may only pay tagged accounts or
        /// the issuer; "" for none.
        #[arg(long, value_name = "TAG")]
        purpose: Option<String>,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Set the regulator, or "none" (issuer only).
    Regulator {
        /// The asset's token address.
        token: String,
        /// An address, or none.
        regulator: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Move units from an account back to the issuer, whatever the policy,
    /// with the reason on record (regulator only).
    Clawback {
        /// The asset's token address.
        token: String,
        /// The account to take the units from.
        #[arg(value_name = "FROM")]
        holder: String,
        /// In the asset's units (12.5).
        amount: String,
        #[arg(long, value_name = "TEXT")]
        reason: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Show one asset.
    Show {
        /// The asset's token address.
        token: String,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// List every asset.
    List {
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Holders and balances, at the latest block or an older one.
    Holders {
        /// The asset's token address.
        token: String,
        /// First holder to list (0-based).
        #[arg(long, default_value_t = 0)]
        start: u64,
        /// How many holders (at most 1000).
        #[arg(long, default_value_t = 1000)]
        count: u64,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Every movement and policy change, from the asset's logs.
    History {
        /// The asset's token address.
        token: String,
        /// First block (default: the block the asset was issued in).
        #[arg(long, value_name = "BLOCK")]
        from: Option<String>,
        /// Last block (default: latest).
        #[arg(long, value_name = "BLOCK")]
        to: Option<String>,
        /// Only entries that involve this account.
        #[arg(long, value_name = "ADDRESS")]
        account: Option<String>,
        /// Print the node's JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        rpc: RpcArgs,
    },
}

#[derive(clap::Args)]
pub struct IssueArgs {
    #[arg(long)]
    name: String,
    #[arg(long)]
    symbol: String,
    /// Digits after the point (as ERC-20's decimals).
    #[arg(long, default_value_t = 18)]
    decimals: u8,
    /// The most that may ever be in circulation, in the asset's units.
    #[arg(long, value_name = "AMOUNT")]
    cap: String,
    /// An account that may also manage the policy, and alone claws back.
    #[arg(long, value_name = "ADDRESS")]
    regulator: Option<String>,
    /// Holders must be on the allowlist (`tally asset allow`).
    #[arg(long)]
    allowlist: bool,
    /// The most one account may hold, in the asset's units (the issuer is
    /// exempt).
    #[arg(long, value_name = "AMOUNT")]
    max_holding: Option<String>,
    /// Purpose-bound money: transfers may only pay tagged accounts or the
    /// issuer.
    #[arg(long, value_name = "TAG")]
    purpose: Option<String>,
    #[command(flatten)]
    tx: TxArgs,
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

#[derive(clap::Args)]
pub struct AccountArgs {
    /// The asset's token address.
    token: String,
    /// The account concerned.
    account: String,
    #[command(flatten)]
    tx: TxArgs,
}

#[derive(clap::Args)]
pub struct TokenArgs {
    /// The asset's token address.
    token: String,
    #[command(flatten)]
    tx: TxArgs,
}

/// Options of the reads.
#[derive(clap::Args, Debug, Clone)]
pub struct ReadArgs {
    /// Read the state at this block (number or tag; default latest).
    #[arg(long, value_name = "BLOCK")]
    pub block: Option<String>,
    /// Print the node's JSON (amounts in base units) instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub rpc: RpcArgs,
}

impl ReadArgs {
    /// The block parameter, `latest` by default.
    pub fn block_param(&self) -> anyhow::Result<Value> {
        Ok(match &self.block {
            Some(b) => parse_block(b).context("--block")?.to_param(),
            None => json!("latest"),
        })
    }
}

/// An asset as `tally_getAsset` returns it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Asset {
    pub token: Address,
    pub id: u64,
    pub name: String,
    pub symbol: String,
    pub decimals: u8,
    pub cap: U256,
    pub total_supply: U256,
    pub issuer: Address,
    pub regulator: Address,
    pub paused: bool,
    pub allowlist: bool,
    pub max_holding: U256,
    pub purpose: String,
    pub holders: u64,
    pub issued_block: u64,
}

impl Asset {
    /// The asset at `token` as of `block`; the node's error names an
    /// unknown token.
    pub fn fetch(rpc: &Rpc, token: Address, block: Value) -> anyhow::Result<Asset> {
        Ok(rpc.call("tally_getAsset", vec![json!(token), block])?)
    }

    /// `12.5 GLD`.
    pub fn amount(&self, base_units: U256) -> String {
        format!(
            "{} {}",
            format_units(base_units, self.decimals),
            self.symbol
        )
    }

    fn parse(&self, what: &str, input: &str) -> anyhow::Result<U256> {
        parse_units(what, input, self.decimals)
    }
}

pub fn run(cmd: AssetCommand) -> anyhow::Result<()> {
    use AssetCommand as C;
    match cmd {
        C::Issue(args) => issue(args),
        C::Mint {
            token,
            to,
            amount,
            tx,
        } => {
            let (rpc, asset) = connect(&tx, &token)?;
            let to = parse_address(&to).context("TO")?;
            let amount = asset.parse("AMOUNT", &amount)?;
            let token = asset.token;
            submit(
                &tx,
                &rpc,
                ASSETS,
                A::mintCall { token, to, amount }.abi_encode(),
            )?;
            println!("minted {} to {to}", asset.amount(amount));
            Ok(())
        }
        C::Burn { token, amount, tx } => {
            let (rpc, asset) = connect(&tx, &token)?;
            let amount = asset.parse("AMOUNT", &amount)?;
            let token = asset.token;
            submit(
                &tx,
                &rpc,
                ASSETS,
                A::burnCall { token, amount }.abi_encode(),
            )?;
            println!("burned {}", asset.amount(amount));
            Ok(())
        }
        C::Transfer {
            token,
            to,
            amount,
            tx,
        } => {
            let (rpc, asset) = connect(&tx, &token)?;
            let to = parse_address(&to).context("TO")?;
            let value = asset.parse("AMOUNT", &amount)?;
            submit(
                &tx,
                &rpc,
                asset.token,
                Token::transferCall { to, value }.abi_encode(),
            )?;
            println!("sent {} to {to}", asset.amount(value));
            Ok(())
        }
        C::Allow(a) => set_flag(a, Flag::Allowed, true),
        C::Disallow(a) => set_flag(a, Flag::Allowed, false),
        C::Freeze(a) => set_flag(a, Flag::Frozen, true),
        C::Unfreeze(a) => set_flag(a, Flag::Frozen, false),
        C::Tag(a) => set_flag(a, Flag::Tagged, true),
        C::Untag(a) => set_flag(a, Flag::Tagged, false),
        C::Pause(a) => set_paused(a, true),
        C::Resume(a) => set_paused(a, false),
        C::Policy {
            token,
            allowlist,
            max_holding,
            purpose,
            tx,
        } => {
            let (rpc, asset) = connect(&tx, &token)?;
            let policy = A::Policy {
                allowlist: allowlist.unwrap_or(asset.allowlist),
                maxHolding: match &max_holding {
                    Some(m) => asset.parse("--max-holding", m)?,
                    None => asset.max_holding,
                },
                purpose: purpose.unwrap_or_else(|| asset.purpose.clone()),
            };
            let data = A::setPolicyCall {
                token: asset.token,
                policy: policy.clone(),
            };
            submit(&tx, &rpc, ASSETS, data.abi_encode())?;
            println!(
                "policy of {}: {}",
                asset.symbol,
                show::policy(&asset, policy.allowlist, policy.maxHolding, &policy.purpose)
            );
            Ok(())
        }
        C::Regulator {
            token,
            regulator,
            tx,
        } => {
            let (rpc, asset) = connect(&tx, &token)?;
            let regulator = if regulator.trim().eq_ignore_ascii_case("none") {
                Address::ZERO
            } else {
                parse_address(&regulator).context("REGULATOR")?
            };
            let data = A::setRegulatorCall {
                token: asset.token,
                regulator,
            };
            submit(&tx, &rpc, ASSETS, data.abi_encode())?;
            println!(
                "regulator of {}: {}",
                asset.symbol,
                show::or_none(regulator)
            );
            Ok(())
        }
        C::Clawback {
            token,
            holder,
            amount,
            reason,
            tx,
        } => {
            let (rpc, asset) = connect(&tx, &token)?;
            let from = parse_address(&holder).context("FROM")?;
            let amount = asset.parse("AMOUNT", &amount)?;
            let data = A::clawbackCall {
                token: asset.token,
                from,
                amount,
                reason: reason.clone(),
            };
            submit(&tx, &rpc, ASSETS, data.abi_encode())?;
            println!(
                "clawed back {} from {from} to the issuer {} ({reason})",
                asset.amount(amount),
                asset.issuer
            );
            Ok(())
        }
        C::Show { token, read } => {
            let token = parse_address(&token).context("TOKEN")?;
            let rpc = Rpc::connect(&read.rpc)?;
            let raw: Value = rpc.call("tally_getAsset", vec![json!(token), read.block_param()?])?;
            if read.json {
                println!("{}", serde_json::to_string_pretty(&raw)?);
                return Ok(());
            }
            let asset: Asset = serde_json::from_value(raw)
                .context("the node's tally_getAsset answer is not an asset")?;
            show::print_asset(&asset);
            Ok(())
        }
        C::List { read } => {
            let rpc = Rpc::connect(&read.rpc)?;
            let raw: Value = rpc.call("tally_getAssets", vec![read.block_param()?])?;
            if read.json {
                println!("{}", serde_json::to_string_pretty(&raw)?);
                return Ok(());
            }
            let list: Vec<Asset> = serde_json::from_value(raw)
                .context("the node's tally_getAssets answer is not a list of assets")?;
            show::print_list(&list);
            Ok(())
        }
        C::Holders {
            token,
            start,
            count,
            read,
        } => {
            let token = parse_address(&token).context("TOKEN")?;
            let rpc = Rpc::connect(&read.rpc)?;
            let block = read.block_param()?;
            let page: Value = rpc.call(
                "tally_getHolders",
                vec![
                    json!(token),
                    block.clone(),
                    json!(format!("{start:#x}")),
                    json!(format!("{count:#x}")),
                ],
            )?;
            if read.json {
                println!("{}", serde_json::to_string_pretty(&page)?);
                return Ok(());
            }
            let page: show::HoldersPage = serde_json::from_value(page)
                .context("the node's tally_getHolders answer is not a page of holders")?;
            let at = json!(format!("{:#x}", page.block));
            let asset = Asset::fetch(&rpc, token, at)?;
            show::print_holders(&asset, &page);
            Ok(())
        }
        C::History {
            token,
            from,
            to,
            account,
            json: as_json,
            rpc,
        } => {
            let token = parse_address(&token).context("TOKEN")?;
            let mut filter = serde_json::Map::new();
            if let Some(from) = &from {
                filter.insert("fromBlock".into(), block_number_param("--from", from)?);
            }
            if let Some(to) = &to {
                filter.insert("toBlock".into(), block_number_param("--to", to)?);
            }
            if let Some(account) = &account {
                let account = parse_address(account).context("--account")?;
                filter.insert("account".into(), json!(account));
            }
            let rpc = Rpc::connect(&rpc)?;
            let history: Value = rpc.call(
                "tally_getAssetHistory",
                vec![json!(token), Value::Object(filter)],
            )?;
            if as_json {
                println!("{}", serde_json::to_string_pretty(&history)?);
                return Ok(());
            }
            let asset = Asset::fetch(&rpc, token, json!("latest"))?;
            let history: show::History = serde_json::from_value(history)
                .context("the node's tally_getAssetHistory answer is not a history")?;
            show::print_history(&asset, &history, from.is_none());
            Ok(())
        }
    }
}

fn issue(args: IssueArgs) -> anyhow::Result<()> {
    let rpc = Rpc::connect(&args.tx.rpc)?;
    let d = args.decimals;
    let policy = A::Policy {
        allowlist: args.allowlist,
        maxHolding: match &args.max_holding {
            Some(m) => parse_units("--max-holding", m, d)?,
            None => U256::ZERO,
        },
        purpose: args.purpose.clone().unwrap_or_default(),
    };
    let regulator = match &args.regulator {
        Some(r) => parse_address(r).context("--regulator")?,
        None => Address::ZERO,
    };
    let data = A::issueCall {
        name: args.name.clone(),
        symbol: args.symbol.clone(),
        decimals: d,
        cap: parse_units("--cap", &args.cap, d)?,
        regulator,
        policy,
    };
    let outcome = submit(&args.tx, &rpc, ASSETS, data.abi_encode())?;
    match event_topic(&outcome, ASSETS, A::AssetIssued::SIGNATURE_HASH) {
        Some(word) => {
            println!("token:   {}", Address::from_word(word));
            Ok(())
        }
        None if outcome.receipt.is_none() => Ok(()),
        None => bail!(
            "transaction {} succeeded but its receipt has no AssetIssued event",
            outcome.hash
        ),
    }
}

#[derive(Clone, Copy)]
enum Flag {
    Allowed,
    Frozen,
    Tagged,
}

fn set_flag(args: AccountArgs, flag: Flag, on: bool) -> anyhow::Result<()> {
    let (rpc, asset) = connect(&args.tx, &args.token)?;
    let account = parse_address(&args.account).context("ACCOUNT")?;
    let token = asset.token;
    let (data, done) = match flag {
        Flag::Allowed => (
            A::setAllowedCall {
                token,
                account,
                allowed: on,
            }
            .abi_encode(),
            if on { "allowed" } else { "disallowed" },
        ),
        Flag::Frozen => (
            A::setFrozenCall {
                token,
                account,
                frozen: on,
            }
            .abi_encode(),
            if on { "frozen" } else { "unfrozen" },
        ),
        Flag::Tagged => (
            A::setTaggedCall {
                token,
                account,
                tagged: on,
            }
            .abi_encode(),
            if on { "tagged" } else { "untagged" },
        ),
    };
    submit(&args.tx, &rpc, ASSETS, data)?;
    println!("{account} {done} for {}", asset.symbol);
    Ok(())
}

fn set_paused(args: TokenArgs, paused: bool) -> anyhow::Result<()> {
    let (rpc, asset) = connect(&args.tx, &args.token)?;
    let data = A::setPausedCall {
        token: asset.token,
        paused,
    };
    submit(&args.tx, &rpc, ASSETS, data.abi_encode())?;
    let state = if paused { "paused" } else { "resumed" };
    println!("{} {state}", asset.symbol);
    Ok(())
}

/// The node and the asset a write is about (checked before signing, so
/// an unknown token fails with the node's message, not a revert).
fn connect(tx: &TxArgs, token: &str) -> anyhow::Result<(Rpc, Asset)> {
    let token = parse_address(token).context("TOKEN")?;
    let rpc = Rpc::connect(&tx.rpc)?;
    let asset = Asset::fetch(&rpc, token, json!("latest"))?;
    Ok((rpc, asset))
}

/// Signs and sends a call of `to`, prints the outcome, and fails with the
/// contract's reason when it reverts (gas estimation replays it first, so
/// a refusal normally stops before anything is sent).
pub(crate) fn submit(
    tx: &TxArgs,
    rpc: &Rpc,
    to: Address,
    data: Vec<u8>,
) -> anyhow::Result<Outcome> {
    let key = tx.signer.key()?;
    let request = Request {
        to: Some(to),
        value: U256::ZERO,
        data: Bytes::from(data),
    };
    let outcome = send(rpc, &key, &request, &tx.send, None)?;
    outcome.print();
    outcome.ok()?;
    Ok(outcome)
}

/// The first indexed topic of the event `signature` that `address` logged
/// in the outcome's receipt.
pub(crate) fn event_topic(outcome: &Outcome, address: Address, signature: B256) -> Option<B256> {
    let logs = outcome.receipt.as_ref()?.get("logs")?.as_array()?;
    logs.iter().find_map(|log| {
        let at: Address = log.get("address")?.as_str()?.parse().ok()?;
        let topics: Vec<B256> = serde_json::from_value(log.get("topics")?.clone()).ok()?;
        if at != address || topics.first() != Some(&signature) {
            return None;
        }
        topics.get(1).copied()
    })
}

/// A block for a history range: a number or a tag (not a hash).
fn block_number_param(flag: &str, text: &str) -> anyhow::Result<Value> {
    match parse_block(text).context(flag.to_string())? {
        BlockRef::Hash(_) => Err(anyhow!(
            "invalid {flag} {text:?}: expected a block number or tag, not a hash"
        )),
        b => Ok(b.to_param()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issued_token_comes_from_the_receipt() {
        let token = Address::repeat_byte(0xa5);
        let outcome = Outcome {
            hash: B256::ZERO,
            receipt: Some(json!({"status": "0x1", "logs": [
                {"address": format!("{token}"), "topics": [Token::Transfer::SIGNATURE_HASH]},
                {"address": format!("{ASSETS}"), "topics": [A::AssetIssued::SIGNATURE_HASH, token.into_word()]},
            ]})),
            revert_reason: None,
        };
        let word = event_topic(&outcome, ASSETS, A::AssetIssued::SIGNATURE_HASH).unwrap();
        assert_eq!(Address::from_word(word), token);
        assert_eq!(
            event_topic(&outcome, ASSETS, Token::Transfer::SIGNATURE_HASH),
            None
        );
        assert!(block_number_param("--from", &format!("{:#x}", B256::ZERO)).is_err());
        assert_eq!(block_number_param("--from", "12").unwrap(), json!("0xc"));
    }
}
