//! `tally contract deploy|call`: contracts from a JSON artifact.

use std::path::PathBuf;

use alloy_dyn_abi::FunctionExt as _;
use anyhow::{anyhow, bail, Context as _};
use serde_json::Value;

use super::{
    abi::{
        decode_revert, encode_call, encode_deploy, find_function, format_outputs, is_read_only,
        load_artifact, parse_args_json,
    },
    parse::{parse_address, parse_amount, parse_block},
    rpc::{Rpc, RpcArgs},
    tx::{revert_error, send, Request, SendOptions},
    wallet::SignerArgs,
};

#[derive(clap::Subcommand)]
pub enum ContractCommand {
    /// Deploy a contract from an artifact ({"abi": [...], "bytecode": "0x..."}).
    Deploy {
        #[arg(long, value_name = "FILE.json")]
        artifact: PathBuf,
        /// Constructor arguments as a JSON array, e.g. '["Token", 1000]'.
        #[arg(long, value_name = "JSON")]
        args: Option<String>,
        /// Value to send to a payable constructor (wei, or 1eth, 5gwei).
        #[arg(long, default_value = "0", value_name = "AMOUNT")]
        value: String,
        #[command(flatten)]
        signer: SignerArgs,
        #[command(flatten)]
        send: SendOptions,
        #[command(flatten)]
        rpc: RpcArgs,
    },
    /// Call a function: view/pure functions are read with eth_call, others
    /// are sent as a transaction.
    Call {
        #[arg(long, value_name = "FILE.json")]
        artifact: PathBuf,
        /// The contract's address.
        #[arg(long, value_name = "ADDRESS")]
        address: String,
        /// Function name, or full signature when overloaded: "f(uint256)".
        method: String,
        /// Arguments as a JSON array, e.g. '["0x7099…", "1000"]'.
        #[arg(long, value_name = "JSON")]
        args: Option<String>,
        /// Send a transaction even for a view/pure function.
        #[arg(long)]
        send: bool,
        /// Value to send to a payable function.
        #[arg(long, default_value = "0", value_name = "AMOUNT")]
        value: String,
        /// Block to read at (eth_call only).
        #[arg(long, default_value = "latest")]
        block: String,
        #[command(flatten)]
        signer: SignerArgs,
        #[command(flatten)]
        send_options: SendOptions,
        #[command(flatten)]
        rpc: RpcArgs,
    },
}

pub fn run(cmd: ContractCommand) -> anyhow::Result<()> {
    match cmd {
        ContractCommand::Deploy {
            artifact,
            args,
            value,
            signer,
            send: opts,
            rpc,
        } => {
            let artifact = load_artifact(&artifact)?;
            let args = parse_args_json(args.as_deref())?;
            let request = Request {
                to: None,
                value: parse_amount(&value).context("--value")?,
                data: encode_deploy(&artifact, &args)?,
            };
            let key = signer.key()?;
            let rpc = Rpc::connect(&rpc)?;
            let outcome = send(&rpc, &key, &request, &opts, Some(&artifact.abi))?;
            outcome.print();
            outcome.ok()
        }
        ContractCommand::Call {
            artifact,
            address,
            method,
            args,
            send: force_send,
            value,
            block,
            signer,
            send_options,
            rpc,
        } => {
            let artifact = load_artifact(&artifact)?;
            let address = parse_address(&address).context("--address")?;
            let args = parse_args_json(args.as_deref())?;
            let function = find_function(&artifact.abi, &method, args.len())?;
            let request = Request {
                to: Some(address),
                value: parse_amount(&value).context("--value")?,
                data: encode_call(function, &args)?,
            };
            let rpc = Rpc::connect(&rpc)?;

            if is_read_only(function) && !force_send {
                let block = parse_block(&block)?;
                let from = signer.address()?;
                let answer = rpc.call::<Value>(
                    "eth_call",
                    vec![request.call_object(from), block.to_param()],
                );
                let output = match answer {
                    Ok(v) => v,
                    Err(e) => {
                        return Err(revert_error(
                            e,
                            Some(&artifact.abi),
                            &format!("{} reverted", function.signature()),
                        ))
                    }
                };
                let bytes: alloy_primitives::Bytes = serde_json::from_value(output.clone())
                    .map_err(|_| anyhow!("eth_call answered {output}, expected hex"))?;
                if bytes.is_empty() && !function.outputs.is_empty() {
                    bail!(
                        "{} returned nothing: is there a contract at {address}?",
                        function.signature()
                    );
                }
                let values = function.abi_decode_output(&bytes).map_err(|e| {
                    anyhow!(
                        "cannot decode the output of {}: {e} ({}; raw {bytes})",
                        function.signature(),
                        decode_revert(&bytes, Some(&artifact.abi))
                    )
                })?;
                for line in format_outputs(&values) {
                    println!("{line}");
                }
                return Ok(());
            }

            if !signer.is_set() {
                bail!(
                    "{} changes state and needs a signer: use --from ADDRESS, --private-key-env VAR or --dev-account N",
                    function.signature()
                );
            }
            let key = signer.key()?;
            let outcome = send(&rpc, &key, &request, &send_options, Some(&artifact.abi))?;
            outcome.print();
            outcome.ok()
        }
    }
}
