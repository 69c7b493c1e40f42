//! Client subcommands: they talk to a node over JSON-RPC (`--rpc URL`),
//! Tally's or any other Ethereum node's.
//!
//! - `rpc`: the blocking JSON-RPC client and its errors.
//! - `parse`: user input (amounts, addresses, hex, blocks).
//! - `wallet`: keystore directory, passwords, and signer options.
//! - `abi`: contract artifacts, argument encoding, revert decoding.
//! - `tx::send`: the sign-and-send pipeline `tx` and `contract` share.

pub(crate) mod abi;
pub mod account;
pub mod block;
pub mod contract;
pub mod key;
pub(crate) mod parse;
pub(crate) mod rpc;
pub mod status;
pub mod tx;
pub(crate) mod wallet;

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser, Subcommand};

    /// The client commands alone, as `main.rs` mounts them.
    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    #[derive(Subcommand)]
    enum Command {
        #[command(subcommand)]
        Key(super::key::KeyCommand),
        #[command(subcommand)]
        Account(super::account::AccountCommand),
        #[command(subcommand)]
        Tx(super::tx::TxCommand),
        #[command(subcommand)]
        Contract(super::contract::ContractCommand),
        Block(super::block::BlockArgs),
        Status(super::status::StatusArgs),
    }

    /// clap checks clashing argument names only at run time, in debug
    /// builds: catch them here rather than in a user's terminal.
    #[test]
    fn client_commands_are_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn secrets_are_not_taken_from_argv() {
        // `key import` has no positional key and no --private-key flag.
        assert!(Cli::try_parse_from(["t", "key", "import", "0xabc"]).is_err());
        assert!(Cli::try_parse_from(["t", "key", "import", "--private-key", "0xabc"]).is_err());
        assert!(Cli::try_parse_from(["t", "key", "new", "--password", "pw"]).is_err());
    }

    #[test]
    fn signer_flags_are_exclusive() {
        let to = "--to=0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
        assert!(Cli::try_parse_from(["t", "tx", "send", to, "--dev-account", "1"]).is_ok());
        assert!(Cli::try_parse_from([
            "t",
            "tx",
            "send",
            to,
            "--dev-account",
            "1",
            "--private-key-env",
            "K"
        ])
        .is_err());
    }
}
