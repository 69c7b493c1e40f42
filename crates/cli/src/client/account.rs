//! `tally account balance|nonce`.

use alloy_primitives::U256;
use anyhow::anyhow;
use serde_json::Value;

use super::{
    parse::{format_ether, parse_address, parse_block, quantity},
    rpc::{Rpc, RpcArgs},
};

#[derive(clap::Subcommand)]
pub enum AccountCommand {
    /// Show an account's balance.
    Balance {
        address: String,
        /// Block number, hash, or tag (latest, pending, safe, finalized).
        #[arg(long, default_value = "latest")]
        block: String,
        /// Print only the balance in wei.
        #[arg(long)]
        wei: bool,
        #[command(flatten)]
        rpc: RpcArgs,
    },
    /// Show an account's nonce (the number of transactions it has sent).
    Nonce {
        address: String,
        #[arg(long, default_value = "latest")]
        block: String,
        #[command(flatten)]
        rpc: RpcArgs,
    },
}

pub fn run(cmd: AccountCommand) -> anyhow::Result<()> {
    match cmd {
        AccountCommand::Balance {
            address,
            block,
            wei,
            rpc,
        } => {
            let balance = account_quantity("eth_getBalance", &address, &block, &rpc)?;
            if wei {
                println!("{balance}");
            } else {
                println!("{} ({balance} wei)", format_ether(balance));
            }
            Ok(())
        }
        AccountCommand::Nonce {
            address,
            block,
            rpc,
        } => {
            let nonce = account_quantity("eth_getTransactionCount", &address, &block, &rpc)?;
            println!("{nonce}");
            Ok(())
        }
    }
}

/// Asks `method(address, block)` and reads the hex quantity it answers.
fn account_quantity(
    method: &str,
    address: &str,
    block: &str,
    rpc: &RpcArgs,
) -> anyhow::Result<U256> {
    let address = parse_address(address)?;
    let block = parse_block(block)?;
    let rpc = Rpc::connect(rpc)?;
    let answer: Value = rpc.call(
        method,
        vec![Value::String(address.to_string()), block.to_param()],
    )?;
    hex_answer(&answer, method)
}

fn hex_answer(value: &Value, method: &str) -> anyhow::Result<U256> {
    quantity(value).ok_or_else(|| anyhow!("{method} answered {value}, expected a hex quantity"))
}
