//! `tally tx send`, and the signing pipeline `tally contract` shares:
//! chain id, nonce, fees and gas from the node; sign locally; send the raw
//! transaction; wait for its receipt.

use std::time::{Duration, Instant};

use alloy_consensus::{TxEip1559, TxLegacy};
use alloy_eips::eip2718::Encodable2718 as _;
use alloy_json_abi::JsonAbi;
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use anyhow::{anyhow, bail, Context as _};
use serde_json::{json, Value};
use tally_crypto::{address_of, sign_transaction, SecretKey};

use super::{
    abi::decode_revert,
    parse::{
        format_ether, format_gwei, parse_address, parse_amount, parse_hex, quantity, quantity_u64,
    },
    rpc::{Rpc, RpcArgs, RpcError},
    wallet::SignerArgs,
};

/// Priority fee when the node has no `eth_maxPriorityFeePerGas`.
const DEFAULT_PRIORITY_FEE: u128 = 1_000_000_000;

#[derive(clap::Subcommand)]
pub enum TxCommand {
    /// Sign and send a transaction.
    Send {
        /// Recipient address.
        #[arg(long, value_name = "ADDRESS")]
        to: String,
        /// Amount: wei, or with a unit (1eth, 1.5ether, 5gwei).
        #[arg(long, default_value = "0", value_name = "AMOUNT")]
        value: String,
        /// Calldata as hex.
        #[arg(long, value_name = "HEX")]
        data: Option<String>,
        #[command(flatten)]
        signer: SignerArgs,
        #[command(flatten)]
        send: SendOptions,
        #[command(flatten)]
        rpc: RpcArgs,
    },
}

/// Options of every command that sends a transaction.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct SendOptions {
    /// Gas limit (default: estimated by the node).
    #[arg(long, value_name = "N")]
    pub gas: Option<u64>,
    /// Nonce (default: the sender's pending nonce).
    #[arg(long, value_name = "N")]
    pub nonce: Option<u64>,
    /// Print the hash and return without waiting for the receipt.
    #[arg(long)]
    pub no_wait: bool,
    /// Seconds to wait for the receipt.
    #[arg(long = "timeout", default_value_t = 60, value_name = "SECS")]
    pub wait_timeout: u64,
}

pub fn run(cmd: TxCommand) -> anyhow::Result<()> {
    match cmd {
        TxCommand::Send {
            to,
            value,
            data,
            signer,
            send: opts,
            rpc,
        } => {
            let request = Request {
                to: Some(parse_address(&to).context("--to")?),
                value: parse_amount(&value).context("--value")?,
                data: match &data {
                    Some(d) => parse_hex("--data", d)?,
                    None => Bytes::new(),
                },
            };
            let key = signer.key()?;
            let rpc = Rpc::connect(&rpc)?;
            let outcome = send(&rpc, &key, &request, &opts, None)?;
            outcome.print();
            outcome.ok()
        }
    }
}

/// What to send; `to: None` creates a contract.
pub struct Request {
    pub to: Option<Address>,
    pub value: U256,
    pub data: Bytes,
}

impl Request {
    /// As an `eth_call` / `eth_estimateGas` call object.
    pub fn call_object(&self, from: Option<Address>) -> Value {
        let mut obj = json!({
            "value": format!("{:#x}", self.value),
            "input": self.data,
            "data": self.data,
        });
        if let Some(to) = self.to {
            obj["to"] = json!(to);
        }
        if let Some(from) = from {
            obj["from"] = json!(from);
        }
        obj
    }
}

/// A sent transaction and, unless `--no-wait`, its receipt.
pub struct Outcome {
    pub hash: B256,
    pub receipt: Option<Value>,
    /// For a reverted transaction, the reason found by replaying it.
    pub revert_reason: Option<String>,
}

impl Outcome {
    pub fn success(&self) -> Option<bool> {
        let status = self.receipt.as_ref()?.get("status")?;
        quantity_u64(status).map(|s| s == 1)
    }

    pub fn contract_address(&self) -> Option<Address> {
        let addr = self.receipt.as_ref()?.get("contractAddress")?.as_str()?;
        addr.parse().ok()
    }

    pub fn print(&self) {
        println!("hash:    {}", self.hash);
        let Some(receipt) = &self.receipt else {
            return;
        };
        let status = match self.success() {
            Some(true) => "success",
            Some(false) => "failed (reverted)",
            None => "unknown",
        };
        println!("status:  {status}");
        if let Some(block) = receipt.get("blockNumber").and_then(quantity_u64) {
            println!("block:   {block}");
        }
        if let Some(gas) = receipt.get("gasUsed").and_then(quantity_u64) {
            println!("gas used: {gas}");
        }
        if let Some(price) = receipt.get("effectiveGasPrice").and_then(quantity) {
            println!("gas price: {}", format_gwei(price));
        }
        if let Some(addr) = self.contract_address() {
            println!("contract: {addr}");
        }
    }

    /// An error when the transaction reverted, for the exit code.
    pub fn ok(&self) -> anyhow::Result<()> {
        match self.success() {
            Some(false) => match &self.revert_reason {
                Some(reason) => bail!(
                    "transaction {} reverted (replayed on the parent block: {reason})",
                    self.hash
                ),
                None => bail!("transaction {} reverted", self.hash),
            },
            _ => Ok(()),
        }
    }
}

/// Signs `request` with `key` and sends it. `abi` decodes custom errors
/// when gas estimation reverts.
pub fn send(
    rpc: &Rpc,
    key: &SecretKey,
    request: &Request,
    opts: &SendOptions,
    abi: Option<&JsonAbi>,
) -> anyhow::Result<Outcome> {
    let from = address_of(key);
    let chain_id = quantity_u64(&rpc.call::<Value>("eth_chainId", vec![])?)
        .ok_or_else(|| anyhow!("eth_chainId did not answer a number"))?;
    let nonce = match opts.nonce {
        Some(n) => n,
        None => {
            let n: Value = rpc.call(
                "eth_getTransactionCount",
                vec![json!(from), json!("pending")],
            )?;
            quantity_u64(&n).ok_or_else(|| anyhow!("eth_getTransactionCount answered {n}"))?
        }
    };
    let gas_limit = match opts.gas {
        Some(g) => g,
        None => estimate_gas(rpc, request, from, abi)?,
    };
    let to = request.to.map_or(TxKind::Create, TxKind::Call);

    let latest: Value = rpc.call("eth_getBlockByNumber", vec![json!("latest"), json!(false)])?;
    let base_fee = latest.get("baseFeePerGas").and_then(quantity);
    let tx = match base_fee {
        Some(base_fee) => {
            let priority = match rpc.call_optional::<Value>("eth_maxPriorityFeePerGas", vec![])? {
                Some(v) => to_u128(quantity(&v), "eth_maxPriorityFeePerGas")?,
                None => DEFAULT_PRIORITY_FEE,
            };
            // Twice the base fee survives six full blocks of base-fee rises.
            let max_fee = to_u128(Some(base_fee), "baseFeePerGas")?
                .saturating_mul(2)
                .saturating_add(priority);
            check_funds(rpc, from, request.value, gas_limit, max_fee)?;
            let tx = TxEip1559 {
                chain_id,
                nonce,
                gas_limit,
                max_fee_per_gas: max_fee,
                max_priority_fee_per_gas: priority,
                to,
                value: request.value,
                access_list: Default::default(),
                input: request.data.clone(),
            };
            sign_transaction(key, tx)
        }
        None => {
            // A node without EIP-1559 gets an EIP-155 legacy transaction.
            let price: Value = rpc.call("eth_gasPrice", vec![])?;
            let gas_price = to_u128(quantity(&price), "eth_gasPrice")?;
            check_funds(rpc, from, request.value, gas_limit, gas_price)?;
            let tx = TxLegacy {
                chain_id: Some(chain_id),
                nonce,
                gas_price,
                gas_limit,
                to,
                value: request.value,
                input: request.data.clone(),
            };
            sign_transaction(key, tx)
        }
    };
    let raw = Bytes::from(tx.encoded_2718());
    let hash: B256 = rpc.call("eth_sendRawTransaction", vec![json!(raw)])?;
    if opts.no_wait {
        return Ok(Outcome {
            hash,
            receipt: None,
            revert_reason: None,
        });
    }
    let receipt = wait_for_receipt(rpc, hash, Duration::from_secs(opts.wait_timeout))?;
    let mut outcome = Outcome {
        hash,
        receipt: Some(receipt),
        revert_reason: None,
    };
    if outcome.success() == Some(false) {
        outcome.revert_reason = replay_revert(rpc, request, from, &outcome, abi);
    }
    Ok(outcome)
}

/// Why a mined transaction reverted, found by replaying it with `eth_call`
/// on its parent block: receipts carry no reason. Other transactions of
/// the same block may have changed the state, so this is a best guess,
/// labelled as such; `None` when the replay succeeds or says nothing.
fn replay_revert(
    rpc: &Rpc,
    request: &Request,
    from: Address,
    outcome: &Outcome,
    abi: Option<&JsonAbi>,
) -> Option<String> {
    let block = outcome
        .receipt
        .as_ref()?
        .get("blockNumber")
        .and_then(quantity_u64)?;
    let mut call = request.call_object(Some(from));
    if let Some(gas) = outcome
        .receipt
        .as_ref()?
        .get("gasUsed")
        .and_then(quantity_u64)
    {
        // The gas the transaction had is unknown here; out-of-gas shows as
        // gas used equal to the limit, which a replay with more gas misses.
        call["gas"] = json!(format!("{:#x}", gas.saturating_mul(2).max(100_000)));
    }
    let parent = format!("{:#x}", block.saturating_sub(1));
    match rpc.call::<Value>("eth_call", vec![call, json!(parent)]) {
        Err(e) => e.revert_data().map(|d| decode_revert(d, abi)),
        Ok(_) => None,
    }
}

fn to_u128(value: Option<U256>, what: &str) -> anyhow::Result<u128> {
    value.and_then(|v| u128::try_from(v).ok()).ok_or_else(|| {
        anyhow!("the node's {what} is not a fee (expected a hex quantity below 2^128)")
    })
}

fn estimate_gas(
    rpc: &Rpc,
    request: &Request,
    from: Address,
    abi: Option<&JsonAbi>,
) -> anyhow::Result<u64> {
    match rpc.call::<Value>("eth_estimateGas", vec![request.call_object(Some(from))]) {
        Ok(v) => quantity_u64(&v).ok_or_else(|| anyhow!("eth_estimateGas answered {v}")),
        Err(e) => Err(revert_error(e, abi, "the transaction would fail")),
    }
}

/// Turns a failed call into an error that says why, decoding revert data.
pub fn revert_error(e: RpcError, abi: Option<&JsonAbi>, context: &str) -> anyhow::Error {
    match e.revert_data() {
        Some(data) => anyhow!("{context}: {}", decode_revert(data, abi)),
        None => anyhow::Error::new(e).context(context.to_string()),
    }
}

/// Refuses early, with the numbers, when the sender cannot pay; the node's
/// own message ("insufficient funds") does not say how much is missing.
fn check_funds(rpc: &Rpc, from: Address, value: U256, gas: u64, price: u128) -> anyhow::Result<()> {
    let balance: Value = rpc.call("eth_getBalance", vec![json!(from), json!("pending")])?;
    let Some(balance) = quantity(&balance) else {
        return Ok(());
    };
    let need = U256::from(gas)
        .saturating_mul(U256::from(price))
        .saturating_add(value);
    if balance < need {
        bail!(
            "{from} has {} but the transaction may cost up to {} (value plus gas {gas} at {})",
            format_ether(balance),
            format_ether(need),
            format_gwei(U256::from(price))
        );
    }
    Ok(())
}

pub(crate) fn wait_for_receipt(rpc: &Rpc, hash: B256, timeout: Duration) -> anyhow::Result<Value> {
    let start = Instant::now();
    let mut delay = Duration::from_millis(50);
    loop {
        let receipt: Value = rpc.call("eth_getTransactionReceipt", vec![json!(hash)])?;
        if !receipt.is_null() {
            return Ok(receipt);
        }
        if start.elapsed() >= timeout {
            bail!(
                "transaction {hash} was sent but not mined within {}s (use --timeout to wait longer)",
                timeout.as_secs()
            );
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_secs(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_object_has_hex_fields() {
        let r = Request {
            to: Some(Address::repeat_byte(1)),
            value: U256::from(1000),
            data: Bytes::from(vec![0xab]),
        };
        let obj = r.call_object(Some(Address::repeat_byte(2)));
        assert_eq!(obj["value"], "0x3e8");
        assert_eq!(obj["input"], "0xab");
        assert_eq!(obj["to"], "0x0101010101010101010101010101010101010101");
        let create = Request { to: None, ..r }.call_object(None);
        assert!(create.get("to").is_none() && create.get("from").is_none());
    }

    #[test]
    fn outcome_reads_the_receipt() {
        let o = Outcome {
            hash: B256::ZERO,
            receipt: Some(json!({
                "status": "0x0",
                "blockNumber": "0x5",
                "gasUsed": "0x5208",
                "contractAddress": "0x0101010101010101010101010101010101010101"
            })),
            revert_reason: Some("revert: no".into()),
        };
        assert_eq!(o.success(), Some(false));
        let err = o.ok().unwrap_err().to_string();
        assert!(err.contains("revert: no"), "{err}");
        assert_eq!(o.contract_address(), Some(Address::repeat_byte(1)));
        let pending = Outcome {
            hash: B256::ZERO,
            receipt: None,
            revert_reason: None,
        };
        assert!(pending.ok().is_ok());
    }
}
