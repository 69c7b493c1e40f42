//! `tally block [NUMBER|HASH|TAG]`.

use anyhow::bail;
use serde_json::{json, Value};

use super::{
    parse::{format_gwei, parse_block, quantity, quantity_u64, BlockRef},
    rpc::{Rpc, RpcArgs},
};

#[derive(clap::Args)]
pub struct BlockArgs {
    /// Block number, 0x hash, or tag (latest, earliest, pending, safe, finalized).
    #[arg(default_value = "latest")]
    pub block: String,
    /// Include full transactions (with --json) instead of hashes.
    #[arg(long)]
    pub full: bool,
    /// Print the node's JSON answer as is.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub rpc: RpcArgs,
}

pub fn run(args: BlockArgs) -> anyhow::Result<()> {
    let block_ref = parse_block(&args.block)?;
    let rpc = Rpc::connect(&args.rpc)?;
    let block: Value = match &block_ref {
        BlockRef::Hash(h) => rpc.call("eth_getBlockByHash", vec![json!(h), json!(args.full)])?,
        other => rpc.call(
            "eth_getBlockByNumber",
            vec![other.to_param(), json!(args.full)],
        )?,
    };
    if block.is_null() {
        bail!("block {} not found", args.block);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&block)?);
        return Ok(());
    }
    for line in summary(&block) {
        println!("{line}");
    }
    Ok(())
}

/// The fields people look at, one per line.
fn summary(block: &Value) -> Vec<String> {
    let text = |k: &str| {
        block
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("-")
            .to_string()
    };
    let num = |k: &str| {
        block
            .get(k)
            .and_then(quantity_u64)
            .map_or_else(|| "-".to_string(), |n| n.to_string())
    };
    let mut lines = vec![
        format!("number:      {}", num("number")),
        format!("hash:        {}", text("hash")),
        format!("parent:      {}", text("parentHash")),
        format!("timestamp:   {}", num("timestamp")),
        format!("miner:       {}", text("miner")),
        format!("state root:  {}", text("stateRoot")),
        format!("gas used:    {} / {}", num("gasUsed"), num("gasLimit")),
    ];
    if let Some(fee) = block.get("baseFeePerGas").and_then(quantity) {
        lines.push(format!("base fee:    {}", format_gwei(fee)));
    }
    let txs = block
        .get("transactions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    lines.push(format!("transactions: {}", txs.len()));
    for tx in txs {
        let hash = match &tx {
            Value::String(h) => h.clone(),
            other => other
                .get("hash")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string(),
        };
        lines.push(format!("  {hash}"));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_shows_numbers_in_decimal() {
        let block = json!({
            "number": "0x10",
            "hash": "0xaa",
            "gasUsed": "0x5208",
            "gasLimit": "0x1c9c380",
            "baseFeePerGas": "0x3b9aca00",
            "transactions": ["0x01", {"hash": "0x02"}]
        });
        let lines = summary(&block);
        assert!(lines.contains(&"number:      16".to_string()), "{lines:?}");
        assert!(lines.contains(&"gas used:    21000 / 30000000".to_string()));
        assert!(lines.contains(&"base fee:    1 gwei".to_string()));
        assert!(lines.contains(&"transactions: 2".to_string()));
        assert!(lines.contains(&"  0x02".to_string()));
        assert!(lines.contains(&"miner:       -".to_string()));
    }
}
