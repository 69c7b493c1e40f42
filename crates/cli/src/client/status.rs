//! `tally status`: what a node reports about itself. Works against any
//! Ethereum node; Tally's `tally_nodeInfo` is shown when the node has it.

use serde_json::{json, Value};

use super::{
    parse::quantity_u64,
    rpc::{Rpc, RpcArgs},
};

#[derive(clap::Args)]
pub struct StatusArgs {
    /// Print one JSON object instead of lines.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub rpc: RpcArgs,
}

pub fn run(args: StatusArgs) -> anyhow::Result<()> {
    let rpc = Rpc::connect(&args.rpc)?;
    // The chain id comes first: if the node is unreachable, this is the
    // error the user sees.
    let chain_id: Value = rpc.call("eth_chainId", vec![])?;
    let head: Value = rpc.call("eth_getBlockByNumber", vec![json!("latest"), json!(false)])?;
    let syncing: Option<Value> = rpc.call_optional("eth_syncing", vec![])?;
    let peers: Option<Value> = rpc.call_optional("net_peerCount", vec![]).unwrap_or(None);
    let version: Option<String> = rpc.call_optional("web3_clientVersion", vec![])?;
    // Other nodes do not have it; a Tally node that fails it still has the
    // standard answers above worth printing.
    let node_info: Option<Value> = rpc.call_optional("tally_nodeInfo", vec![]).unwrap_or(None);

    let status = json!({
        "rpc": rpc.url(),
        "chainId": quantity_u64(&chain_id),
        "clientVersion": version,
        "headNumber": head.get("number").and_then(quantity_u64),
        "headHash": head.get("hash"),
        "peers": peers.as_ref().and_then(quantity_u64),
        "syncing": syncing,
        "nodeInfo": node_info,
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        for line in lines(&status) {
            println!("{line}");
        }
    }
    Ok(())
}

fn lines(status: &Value) -> Vec<String> {
    let show = |v: Option<&Value>| match v {
        None | Some(Value::Null) => "-".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let syncing = match status.get("syncing") {
        Some(Value::Bool(false)) => "no".to_string(),
        None | Some(Value::Null) => "-".to_string(),
        Some(progress) => format!("yes {progress}"),
    };
    let mut out = vec![
        format!("rpc:            {}", show(status.get("rpc"))),
        format!("chain id:       {}", show(status.get("chainId"))),
        format!("client:         {}", show(status.get("clientVersion"))),
        format!(
            "head:           #{} {}",
            show(status.get("headNumber")),
            show(status.get("headHash"))
        ),
        format!("peers:          {}", show(status.get("peers"))),
        format!("syncing:        {syncing}"),
    ];
    match status.get("nodeInfo").and_then(Value::as_object) {
        Some(info) => {
            out.push("tally_nodeInfo:".to_string());
            for (k, v) in info {
                out.push(format!("  {k}: {}", show(Some(v))));
            }
        }
        None => out.push("tally_nodeInfo: not supported by this node".to_string()),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_tolerate_missing_tally_info() {
        let status = json!({
            "rpc": "http://x", "chainId": 31337, "clientVersion": "geth",
            "headNumber": 5, "headHash": "0xab", "peers": null, "syncing": false,
            "nodeInfo": null
        });
        let out = lines(&status);
        assert!(
            out.contains(&"chain id:       31337".to_string()),
            "{out:?}"
        );
        assert!(out.contains(&"head:           #5 0xab".to_string()));
        assert!(out.contains(&"syncing:        no".to_string()));
        assert!(out.contains(&"peers:          -".to_string()));
        assert!(out.iter().any(|l| l.contains("not supported")));

        let tally = json!({"nodeInfo": {"engine": "dev", "peers": 0}});
        let out = lines(&tally);
        assert!(out.contains(&"  engine: dev".to_string()), "{out:?}");
    }
}
