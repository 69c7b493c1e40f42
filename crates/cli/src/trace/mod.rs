//! `tally trace`: traceability of products through a supply chain (the
//! system contract at `0x…1007`, `contracts/ITallyTrace.sol`).
//!
//! Anyone creates a registry and becomes its admin; the admin gives
//! parties roles (manufacturer, shipper, warehouse, retailer, inspector);
//! a manufacturer registers products and any party with a role appends
//! events (status, location, document hashes). Writes are ordinary signed
//! transactions through the signing pipeline of `tally tx`, so a refusal
//! prints the contract's reason and exits non-zero. Reads use the node's
//! `tally_getTraceHistory`; `tally trace proof` writes a proof of a
//! product's whole history that `tally verify` checks offline, and `tally
//! trace qr` a QR code that names the product and the chain.
//!
//! Documents never leave this machine: `--doc FILE` is hashed here with
//! SHA-256 and only the hash goes on chain (the notary can stamp the same
//! hash).

mod qr;
mod show;

use std::path::PathBuf;

use alloy_primitives::{Address, Bytes, LogData, B256};
use alloy_sol_types::{SolCall, SolEvent};
use anyhow::{anyhow, bail, Context as _};
use serde::Deserialize;
use serde_json::{json, Value};
use tally_verify::records::{TraceRole, TRACE};
use tally_verify::{ProductRecord, TraceEventRecord};

use crate::asset::{event_topic, submit, ReadArgs, TxArgs};
use crate::client::{
    parse::{parse_address, parse_b256, quantity_u64},
    rpc::{Rpc, RpcArgs},
    tx::{revert_error, Outcome},
};
use crate::notary::hash::file_hash;
use crate::proof::{save, AtArgs, OutArgs};

/// The traceability interface, bound from the same `.sol` file the
/// executor binds, so the CLI encodes exactly what the node decodes.
mod abi {
    alloy_sol_types::sol!("../../contracts/ITallyTrace.sol");
}

use abi::ITallyTrace as T;

const ROLES: &str = "Roles: manufacturer (registers products), shipper, warehouse, retailer, \
inspector; `none` removes a party. Any party with a role appends events.";

#[derive(clap::Subcommand)]
#[command(after_help = ROLES)]
pub enum TraceCommand {
    /// Registries of parties; the signer of `create` becomes the admin.
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Give a party a role in a registry, or remove it with `--role none`
    /// (the registry's admin only).
    Authorize {
        /// The party's address.
        party: String,
        /// The registry's id (from `tally trace registry create`).
        #[arg(long, value_name = "N")]
        registry: u64,
        /// manufacturer, shipper, warehouse, retailer, inspector or none.
        #[arg(long, value_name = "ROLE")]
        role: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Register a product in a registry (a manufacturer of it only). IDs
    /// are unique across the chain.
    Register {
        /// The product's ID: 1 to 128 bytes of text (a serial number, a
        /// batch code, a GTIN...).
        id: String,
        /// The registry the product belongs to.
        #[arg(long, value_name = "N")]
        registry: u64,
        /// At most 1024 bytes.
        #[arg(long, value_name = "TEXT", default_value = "")]
        description: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Append an event to a product's history (any party with a role in
    /// its registry).
    Event {
        /// The product's ID.
        id: String,
        /// What happened: shipped, received, inspected... (1 to 128 bytes).
        #[arg(long, value_name = "TEXT")]
        status: String,
        /// Where (at most 256 bytes).
        #[arg(long, value_name = "TEXT", default_value = "")]
        location: String,
        /// A supporting document, hashed here with SHA-256: only the hash
        /// goes on chain. Repeat for several (at most 16 documents in all).
        #[arg(long = "doc", value_name = "FILE")]
        docs: Vec<PathBuf>,
        /// A document's SHA-256, hashed elsewhere (0x-hex, 32 bytes).
        #[arg(long = "doc-hash", value_name = "HASH")]
        doc_hashes: Vec<String>,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Show a product's registration and every event, oldest first.
    History {
        /// The product's ID.
        id: String,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Write a proof of a product's whole history, for `tally verify`.
    Proof {
        /// The product's ID.
        id: String,
        #[command(flatten)]
        out: OutArgs,
        #[command(flatten)]
        at: AtArgs,
    },
    /// Write a QR code (PNG) that names the product and the chain, for a
    /// label: `tally://trace/<chain id>/<product ID>`.
    Qr {
        /// The product's ID.
        id: String,
        /// Write the PNG here.
        #[arg(short = 'o', long = "out", value_name = "FILE")]
        out: PathBuf,
        /// Width and height of the image in pixels.
        #[arg(long, value_name = "PX", default_value_t = 400)]
        size: u32,
        #[command(flatten)]
        rpc: RpcArgs,
    },
}

#[derive(clap::Subcommand)]
pub enum RegistryCommand {
    /// Create a registry with the signer as admin; prints its id.
    Create {
        /// 1 to 128 bytes.
        name: String,
        #[command(flatten)]
        tx: TxArgs,
    },
}

/// A product's history as `tally_getTraceHistory` returns it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct History {
    pub product_id: String,
    /// The block whose state this is.
    pub block: u64,
    pub product: ProductRecord,
    pub events: Vec<TraceEventRecord>,
}

pub fn run(cmd: TraceCommand) -> anyhow::Result<()> {
    use TraceCommand as C;
    match cmd {
        C::Registry(RegistryCommand::Create { name, tx }) => create_registry(name, &tx),
        C::Authorize {
            party,
            registry,
            role,
            tx,
        } => {
            let party = parse_address(&party).context("ADDRESS")?;
            let code = parse_role(&role)?;
            let rpc = Rpc::connect(&tx.rpc)?;
            let data = T::authorizeCall {
                registry,
                party,
                role: code,
            };
            submit(&tx, &rpc, TRACE, data.abi_encode())?;
            match TraceRole::from_code(code) {
                Some(r) => println!("{party} is a {} in registry {registry}", r.name()),
                None => println!("{party} has no role in registry {registry} any more"),
            }
            Ok(())
        }
        C::Register {
            id,
            registry,
            description,
            tx,
        } => {
            let rpc = Rpc::connect(&tx.rpc)?;
            let data = T::registerProductCall {
                productId: id.clone(),
                registry,
                description,
            };
            submit(&tx, &rpc, TRACE, data.abi_encode())?;
            println!("registered product {id:?} in registry {registry}");
            Ok(())
        }
        C::Event {
            id,
            status,
            location,
            docs,
            doc_hashes,
            tx,
        } => {
            let mut documents = Vec::new();
            for path in &docs {
                let hash = file_hash(path).context("--doc")?;
                println!("document {hash}  {}", path.display());
                documents.push(hash);
            }
            for text in &doc_hashes {
                documents.push(parse_b256(text).context("--doc-hash")?);
            }
            let rpc = Rpc::connect(&tx.rpc)?;
            let data = T::appendEventCall {
                productId: id.clone(),
                status: status.clone(),
                location,
                documents,
            };
            let outcome = submit(&tx, &rpc, TRACE, data.abi_encode())?;
            match trace_event(&outcome) {
                Some(e) => println!(
                    "event {} of product {id:?}: {} by {} ({})",
                    // The contract counts from 0, people (and `tally
                    // verify`) from 1.
                    e.index.saturating_add(1),
                    show::text(&e.status),
                    e.party,
                    show::role_name(e.role)
                ),
                None => println!("event {:?} sent for product {id:?}", show::text(&status)),
            }
            Ok(())
        }
        C::History { id, read } => {
            let rpc = Rpc::connect(&read.rpc)?;
            let raw: Value = rpc.call(
                "tally_getTraceHistory",
                vec![json!(id), read.block_param()?],
            )?;
            if read.json {
                println!("{}", serde_json::to_string_pretty(&raw)?);
                return Ok(());
            }
            let history: History = serde_json::from_value(raw)
                .context("the node's tally_getTraceHistory answer is not a product history")?;
            show::print_history(&history);
            Ok(())
        }
        C::Proof { id, out, at } => {
            let rpc = Rpc::connect(&at.rpc)?;
            let params = vec![json!(id), at.block_param()?];
            save(&rpc, "tally_getTraceProof", params, &out.out)?;
            Ok(())
        }
        C::Qr { id, out, size, rpc } => {
            let rpc = Rpc::connect(&rpc)?;
            let chain_id = quantity_u64(&rpc.call::<Value>("eth_chainId", vec![])?)
                .ok_or_else(|| anyhow!("eth_chainId did not answer a number"))?;
            // A label may be printed before the product is registered, so
            // an unknown ID is worth a warning, not a refusal.
            match registered(&rpc, &id) {
                Ok(true) => {}
                Ok(false) => eprintln!("warning: no product {id:?} is registered on this chain"),
                Err(e) => eprintln!("warning: {e:#}"),
            }
            let uri = qr::uri(chain_id, &id);
            let code = qr::write_png(&uri, size, &out)?;
            println!(
                "wrote a {size}x{size} px QR code ({m}x{m} modules) to {}",
                out.display(),
                m = code.modules
            );
            println!("it encodes: {uri}");
            Ok(())
        }
    }
}

fn create_registry(name: String, tx: &TxArgs) -> anyhow::Result<()> {
    let rpc = Rpc::connect(&tx.rpc)?;
    let data = T::createRegistryCall { name: name.clone() };
    let outcome = submit(tx, &rpc, TRACE, data.abi_encode())?;
    match event_topic(&outcome, TRACE, T::RegistryCreated::SIGNATURE_HASH) {
        Some(word) => {
            let id = u64::try_from(alloy_primitives::U256::from_be_bytes(word.0))
                .map_err(|_| anyhow!("the RegistryCreated event carries id {word}"))?;
            println!("registry: {id} ({})", show::text(&name));
            Ok(())
        }
        None if outcome.receipt.is_none() => Ok(()),
        None => bail!(
            "transaction {} succeeded but its receipt has no RegistryCreated event",
            outcome.hash
        ),
    }
}

/// A role by name (any case), by number (0 to 5), or `none` (0).
fn parse_role(text: &str) -> anyhow::Result<u8> {
    let t = text.trim().to_ascii_lowercase();
    if t == "none" {
        return Ok(0);
    }
    if let Some(r) = TraceRole::parse(&t) {
        return Ok(r.code());
    }
    match t.parse::<u8>() {
        Ok(n) if n == 0 || TraceRole::from_code(n).is_some() => Ok(n),
        _ => bail!(
            "invalid --role {text:?}: expected manufacturer, shipper, warehouse, retailer, \
             inspector or none"
        ),
    }
}

/// Whether `id` is a registered product, read from the contract's
/// `product` view at the latest block (all zero when unknown).
fn registered(rpc: &Rpc, id: &str) -> anyhow::Result<bool> {
    let call = json!({
        "to": TRACE,
        "data": Bytes::from(T::productCall { productId: id.to_string() }.abi_encode()),
    });
    let out: Bytes = rpc
        .call("eth_call", vec![call, json!("latest")])
        .map_err(|e| revert_error(e, None, "cannot read the product"))?;
    let product = T::productCall::abi_decode_returns(&out)
        .map_err(|e| anyhow!("the trace contract's product view answered {out} ({e})"))?;
    Ok(!product.manufacturer.is_zero())
}

/// The TraceEvent the outcome's receipt holds.
fn trace_event(outcome: &Outcome) -> Option<T::TraceEvent> {
    let logs = outcome.receipt.as_ref()?.get("logs")?.as_array()?;
    logs.iter().find_map(|log| {
        let at: Address = log.get("address")?.as_str()?.parse().ok()?;
        let topics: Vec<B256> = serde_json::from_value(log.get("topics")?.clone()).ok()?;
        if at != TRACE || topics.first() != Some(&T::TraceEvent::SIGNATURE_HASH) {
            return None;
        }
        let data: Bytes = serde_json::from_value(log.get("data")?.clone()).ok()?;
        T::TraceEvent::decode_log_data(&LogData::new(topics, data)?).ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_by_name_number_or_none() {
        assert_eq!(parse_role("shipper").unwrap(), 2);
        assert_eq!(parse_role(" Retailer ").unwrap(), 4);
        assert_eq!(parse_role("none").unwrap(), 0);
        assert_eq!(parse_role("5").unwrap(), 5);
        let err = parse_role("courier").unwrap_err().to_string();
        assert!(
            err.contains("courier") && err.contains("inspector"),
            "{err}"
        );
        assert!(parse_role("6").is_err());
    }

    #[test]
    fn the_event_comes_from_the_receipt() {
        let product = tally_verify::records::trace::product_key("SKU-1");
        let party = Address::repeat_byte(7);
        let doc = B256::repeat_byte(9);
        let log = T::TraceEvent {
            product,
            party,
            index: 3,
            role: 2,
            status: "shipped".into(),
            location: "Rotterdam".into(),
            documents: vec![doc],
        }
        .encode_log_data();
        let outcome = Outcome {
            hash: B256::ZERO,
            receipt: Some(json!({"status": "0x1", "logs": [
                // The same event from another contract is not ours.
                {"address": format!("{}", Address::repeat_byte(1)),
                 "topics": log.topics(), "data": log.data},
                {"address": format!("{TRACE}"), "topics": log.topics(), "data": log.data},
            ]})),
            revert_reason: None,
        };
        let e = trace_event(&outcome).expect("the trace contract's event");
        assert_eq!((e.index, e.role, e.party), (3, 2, party));
        assert_eq!(
            (e.status.as_str(), e.location.as_str()),
            ("shipped", "Rotterdam")
        );
        assert_eq!(e.documents, vec![doc]);
    }
}
