//! `tally dev`: a single-node chain for development.

use crate::shutdown::Shutdown;
use anyhow::Context;
use std::{collections::BTreeMap, net::SocketAddr, path::PathBuf};
use tally_node::{Node, NodeConfig, RpcLimits};
use tally_primitives::{Address, ChainSpec, EngineSpec, GenesisAccount, B256, U256};

#[derive(clap::Args)]
pub struct DevArgs {
    /// Keep the chain here (created if missing). Without it a temporary
    /// directory is used and removed on exit.
    #[arg(long, env = "TALLY_DATADIR")]
    datadir: Option<PathBuf>,
    /// Seal a block every SECONDS (may be fractional) instead of as soon as
    /// transactions are pending.
    #[arg(long, value_name = "SECONDS")]
    block_time: Option<f64>,
    /// Address for JSON-RPC over HTTP and WebSocket.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    #[arg(long, short, default_value_t = 8545)]
    port: u16,
    /// Most WebSocket connections open at once (at least 1). HTTP requests
    /// are counted apart, so open WebSockets never lock HTTP out.
    #[arg(long, value_name = "N", value_parser = at_least_one,
          default_value_t = RpcLimits::default().ws_max_connections)]
    ws_max_connections: u32,
    /// Most WebSocket connections open at once from one IP address (at
    /// least 1).
    #[arg(long, value_name = "N", value_parser = at_least_one,
          default_value_t = RpcLimits::default().ws_max_per_ip)]
    ws_max_per_ip: u32,
    /// How many test-mnemonic accounts to fund.
    #[arg(long, default_value_t = 10)]
    accounts: u32,
    /// Balance of each funded account, in ether.
    #[arg(long, default_value_t = 10_000)]
    balance: u64,
    /// Gas limit of every block.
    #[arg(long, default_value_t = 300_000_000)]
    gas_limit: u64,
    /// Do not keep the SQL index of the chain (`index.sqlite` in the
    /// datadir); `tally sql` then answers that it is off.
    #[arg(long)]
    no_index: bool,
    #[command(flatten)]
    explorer: crate::explorer::ExplorerArgs,
}

/// A connection cap: 0 would refuse every WebSocket as "too many", which
/// reads as an overload rather than a setting, so it is refused here.
fn at_least_one(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(0) => Err("must be at least 1 (a cap of 0 would refuse every WebSocket)".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!(
            "{e}: expected a whole number of connections, e.g. 100"
        )),
    }
}

/// A new dev chain's spec. Its blocks are sealed by `authority` (the dev
/// node's key), so a proof from this chain shows the authority's signature
/// over each header, checkable with nothing but `chain.toml`.
fn dev_spec(
    args: &DevArgs,
    accounts: &[(tally_crypto::SecretKey, Address)],
    authority: B256,
) -> ChainSpec {
    let wei = U256::from(args.balance) * U256::from(10u64).pow(U256::from(18));
    let alloc: BTreeMap<Address, GenesisAccount> = accounts
        .iter()
        .map(|(_, a)| {
            (
                *a,
                GenesisAccount {
                    balance: wei,
                    ..Default::default()
                },
            )
        })
        .collect();
    let mut spec = ChainSpec::dev(alloc, 0);
    spec.gas_limit = args.gas_limit;
    spec.engine = EngineSpec::Dev {
        block_time_ms: 0,
        authority: Some(authority),
    };
    spec
}

pub fn run(args: DevArgs) -> anyhow::Result<()> {
    crate::logging::init();
    if let Some(t) = args.block_time {
        anyhow::ensure!(
            t.is_finite() && t >= 0.0,
            "--block-time must be a non-negative number of seconds, got {t}"
        );
    }
    let accounts = tally_crypto::mnemonic::dev_accounts(args.accounts);

    let (datadir, temp) = match &args.datadir {
        Some(d) => (d.clone(), None),
        None => {
            let t = tempfile::Builder::new()
                .prefix("tally-dev-")
                .tempdir()
                .context("creating a temporary data directory")?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    std::fs::create_dir_all(&datadir)
        .with_context(|| format!("creating data directory {}", datadir.display()))?;
    // A dev chain keeps its spec beside the data, so a restart with other
    // flags reopens the same chain instead of refusing a different genesis.
    let spec_path = datadir.join("chain.toml");
    let node_key = tally_node::node_key_in(&datadir)
        .with_context(|| format!("the dev node's key in {}", datadir.display()))?;
    let spec = if spec_path.exists() {
        ChainSpec::load(&spec_path)?
    } else {
        let spec = dev_spec(&args, &accounts, B256::from(node_key.public().to_bytes()));
        std::fs::write(&spec_path, spec.to_toml())
            .with_context(|| format!("writing {}", spec_path.display()))?;
        spec
    };

    if let EngineSpec::Dev {
        authority: Some(authority),
        ..
    } = &spec.engine
    {
        let ours = B256::from(node_key.public().to_bytes());
        anyhow::ensure!(
            *authority == ours,
            "this dev chain is sealed by authority {authority}, but {} holds key {ours}: \
             restore the chain's node.key or start a new chain in an empty --datadir",
            datadir.join("node.key").display()
        );
    }
    let config = NodeConfig {
        datadir: datadir.clone(),
        spec: spec.clone(),
        rpc_addr: SocketAddr::new(args.host, args.port),
        rpc_limits: RpcLimits {
            ws_max_connections: args.ws_max_connections,
            ws_max_per_ip: args.ws_max_per_ip,
        },
        beneficiary: Address::ZERO,
        dev_block_time_ms: Some(args.block_time.map_or(0, |s| (s * 1000.0).round() as u64)),
        node_key: Some(node_key),
        network: None,
        mining: None,
        index: !args.no_index,
    };
    let runtime = crate::async_runtime()?;
    runtime.block_on(async move {
        // Handlers go in before the node announces itself, so a signal sent
        // as soon as the banner appears still shuts down cleanly.
        let shutdown = Shutdown::install()?;
        let node = Node::start(config).await.map_err(|e| {
            crate::rpc_in_use(
                e,
                "choose another with --port (and --host), or stop the other node",
            )
        })?;
        let node = args.explorer.serve(node).await?;
        print_banner(
            &node,
            &spec,
            &accounts,
            &datadir,
            temp.is_some(),
            args.block_time,
            !args.no_index,
        );
        let failed = tokio::select! {
            _ = shutdown.wait() => None,
            reason = node.failed() => Some(reason),
        };
        eprintln!("shutting down...");
        node.stop().await;
        eprintln!("stopped cleanly");
        drop(temp);
        match failed {
            Some(reason) => Err(anyhow::anyhow!(reason)),
            None => anyhow::Ok(()),
        }
    })
}

fn print_banner(
    node: &Node,
    spec: &ChainSpec,
    accounts: &[(tally_crypto::SecretKey, Address)],
    datadir: &std::path::Path,
    temporary: bool,
    block_time: Option<f64>,
    index: bool,
) {
    let mut out = String::new();
    out.push_str(&format!("Tally dev chain (chain id {})\n\n", spec.chain_id));
    out.push_str("Accounts (test mnemonic \"test test test test test test test test test test test junk\"):\n");
    for (i, (key, addr)) in accounts.iter().enumerate() {
        let funded = spec.alloc.get(addr).map(|a| a.balance).unwrap_or_default();
        let eth = funded / U256::from(10u64).pow(U256::from(18));
        out.push_str(&format!(
            "  ({i}) {addr} ({eth} ETH)\n      private key: 0x{}\n",
            alloy_primitives::hex::encode(key.to_secret_bytes())
        ));
    }
    out.push('\n');
    if temporary {
        out.push_str(&format!(
            "Data directory: {} (temporary: removed on exit; use --datadir to keep the chain)\n",
            datadir.display()
        ));
    } else {
        out.push_str(&format!("Data directory: {}\n", datadir.display()));
    }
    match block_time {
        Some(t) if t > 0.0 => out.push_str(&format!("Sealing a block every {t} s\n")),
        _ => out.push_str("Sealing blocks as soon as transactions are pending\n"),
    }
    if index {
        out.push_str(&format!(
            "SQL index: {} (query it with `tally sql \"SELECT ...\"`)\n",
            datadir.join("index.sqlite").display()
        ));
    } else {
        out.push_str("SQL index: off (--no-index)\n");
    }
    out.push_str(&format!("Genesis: {}\n", node.genesis().hash));
    out.push_str(&crate::explorer::banner_line(node));
    out.push_str(&format!(
        "JSON-RPC (HTTP and WebSocket): http://{0}  ws://{0}\n",
        node.rpc_addr()
    ));
    println!("{out}");
}
