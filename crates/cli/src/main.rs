//! `tally`: the command-line entry point of the Tally node.
//!
//! `tally dev`, `tally node` and `tally testnet` run nodes (`tally init`
//! writes a network's files without starting it); `tally mine` is an
//! external proof-of-work miner; the other subcommands are clients that
//! talk to any node's JSON-RPC (`--rpc URL`), Tally's or another Ethereum
//! node's.

mod asset;
mod bench;
mod client;
mod dev;
mod explorer;
mod gov;
mod init;
mod logging;
mod mine;
mod node_cmd;
mod notary;
mod proof;
mod settle;
mod shutdown;
mod sql;
mod testnet;
mod trace;
mod verify;
mod vote;

use clap::{Parser, Subcommand};

// The node allocates and frees many small objects per transaction (decoded
// transactions, receipts, B-tree pages); glibc's allocator took ~20% of a
// loaded node's CPU in profiles, mimalloc a fraction of that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "tally", version, about = "Tally blockchain node and tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a single-node development chain with 10 funded test accounts.
    Dev(dev::DevArgs),
    /// Run one node of a network from a node config and a chain spec.
    Node(node_cmd::NodeArgs),
    /// Start (or stop) N local nodes on loopback, for demos and tests.
    Testnet(testnet::TestnetArgs),
    /// Write a new network's chain spec and node configs without starting it.
    Init(init::InitArgs),
    /// Mine for a proof-of-work node (eth_getWork / eth_submitWork).
    Mine(mine::MineArgs),
    /// Manage keystore (v3) account keys.
    #[command(subcommand)]
    Key(client::key::KeyCommand),
    /// Query accounts.
    #[command(subcommand)]
    Account(client::account::AccountCommand),
    /// Send transactions.
    #[command(subcommand)]
    Tx(client::tx::TxCommand),
    /// Deploy and call contracts from a JSON ABI.
    #[command(subcommand)]
    Contract(client::contract::ContractCommand),
    /// Show a block.
    Block(client::block::BlockArgs),
    /// Show a node's status.
    Status(client::status::StatusArgs),
    /// Load-test any Ethereum JSON-RPC node and report throughput and latency.
    Bench(bench::BenchArgs),
    /// Governance proposals and votes (BFT consortium chains).
    #[command(subcommand)]
    Gov(gov::GovCommand),
    /// Show, grant and revoke account roles (BFT consortium chains).
    #[command(subcommand)]
    Roles(gov::RolesCommand),
    /// Native assets: issue, mint, transfer, set the policy, claw back, and
    /// show holders and history (amounts in the asset's units, e.g. 12.5).
    #[command(subcommand)]
    Asset(asset::AssetCommand),
    /// Shareholder ballots on a native asset: open, cast, show, list.
    #[command(subcommand)]
    Vote(vote::VoteCommand),
    /// Delivery versus payment: write, sign, submit and show settlement
    /// instructions.
    #[command(subcommand)]
    Settle(settle::SettleCommand),
    /// Write a BFT block, its commit certificate and the validator-set
    /// changes before it to a JSON bundle, for `tally verify-block`.
    ExportBlock(verify::ExportArgs),
    /// Check a bundle from `tally export-block` offline, against a chain spec.
    VerifyBlock(verify::VerifyArgs),
    /// Notarize files: stamp their SHA-256 hashes (the files stay here),
    /// show who stamped a file and when, revoke, and write proofs.
    #[command(subcommand)]
    Notary(notary::NotaryCommand),
    /// Traceability: registries, parties, products and their events,
    /// history, proofs and QR codes.
    #[command(subcommand)]
    Trace(trace::TraceCommand),
    /// Write a proof of a transaction, receipt, account or storage slots
    /// that `tally verify` checks offline.
    #[command(subcommand)]
    Proof(proof::ProofCommand),
    /// Check a proof offline, with no node, against a chain spec.
    Verify(verify::proof::VerifyProofArgs),
    /// Read-only SQL over the node's index of the ledger (blocks,
    /// transactions, logs, token transfers, system contracts' records).
    Sql(sql::SqlArgs),
}

/// The multi-threaded runtime the node and the bench run on.
fn async_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context as _;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Dev(args) => dev::run(args),
        Command::Node(args) => node_cmd::run(args),
        Command::Testnet(args) => testnet::run(args),
        Command::Init(args) => init::run(args),
        Command::Mine(args) => mine::run(args),
        Command::Key(cmd) => client::key::run(cmd),
        Command::Account(cmd) => client::account::run(cmd),
        Command::Tx(cmd) => client::tx::run(cmd),
        Command::Contract(cmd) => client::contract::run(cmd),
        Command::Block(args) => client::block::run(args),
        Command::Status(args) => client::status::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Gov(cmd) => gov::run(cmd),
        Command::Roles(cmd) => gov::run_roles(cmd),
        Command::Asset(cmd) => asset::run(cmd),
        Command::Vote(cmd) => vote::run(cmd),
        Command::Settle(cmd) => settle::run(cmd),
        Command::ExportBlock(args) => verify::export(args),
        Command::VerifyBlock(args) => verify::verify(args),
        Command::Notary(cmd) => notary::run(cmd),
        Command::Trace(cmd) => trace::run(cmd),
        Command::Proof(cmd) => proof::run(cmd),
        Command::Verify(args) => verify::proof::run(args),
        Command::Sql(args) => sql::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", report(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// A node that could not start, with `hint` (the command's own way to
/// pick another address) when its RPC address is taken.
fn rpc_in_use(e: tally_node::NodeError, hint: &str) -> anyhow::Error {
    match e.rpc_addr_in_use() {
        Some(addr) => {
            anyhow::anyhow!("RPC address {addr} is already in use (another node running?): {hint}")
        }
        None => e.into(),
    }
}

/// The error and its causes, `: `-joined like `{:#}`, but leaving out a
/// cause whose text the message already carries (many errors name their
/// source in their own message; printed again it reads as a stutter).
fn report(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        #[derive(Debug, thiserror::Error)]
        #[error("cannot open x: {source}")]
        struct Outer {
            #[source]
            source: std::io::Error,
        }
        let io = || std::io::Error::other("magic number mismatch");
        let e = anyhow::Error::new(Outer { source: io() });
        assert_eq!(super::report(&e), "cannot open x: magic number mismatch");
        let e = anyhow::Error::new(io()).context("reading chain.toml");
        assert_eq!(
            super::report(&e),
            "reading chain.toml: magic number mismatch"
        );
    }

    /// clap checks clashing argument names only at run time, in debug
    /// builds: catch them here for every command.
    #[test]
    fn commands_are_well_formed() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn consensus_is_dev_or_pow() {
        for ok in [
            &["tally", "init", "--out", "d", "--consensus", "pow"][..],
            &["tally", "init", "--out", "d"],
            &["tally", "testnet", "--consensus", "pow", "--nodes", "3"],
            &["tally", "mine", "--threads", "2"],
            &["tally", "bench", "mine", "--seconds", "1"],
        ] {
            assert!(super::Cli::try_parse_from(ok).is_ok(), "{ok:?}");
        }
        assert!(
            super::Cli::try_parse_from(["tally", "init", "--out", "d", "--consensus", "pos"])
                .is_err()
        );
        assert!(super::Cli::try_parse_from(["tally", "init", "--consensus", "pow"]).is_err());
    }

    #[test]
    fn sql_takes_a_query_or_schema_and_nodes_take_no_index() {
        for ok in [
            &["tally", "sql", "SELECT 1"][..],
            &[
                "tally", "sql", "SELECT ?", "--param", "-1", "--format", "csv",
            ],
            &["tally", "sql", "--schema"],
            &["tally", "dev", "--no-index"],
            &[
                "tally",
                "node",
                "--config",
                "n.toml",
                "--chain",
                "c.toml",
                "--no-index",
            ],
        ] {
            assert!(super::Cli::try_parse_from(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            &["tally", "sql"][..],
            &["tally", "sql", "--schema", "SELECT 1"],
            &["tally", "sql", "SELECT 1", "--format", "xml"],
        ] {
            assert!(super::Cli::try_parse_from(bad).is_err(), "{bad:?}");
        }
    }
}
