//! The source chain of `tally bench sync`: generated once, untimed, and kept
//! in `--dir` so later runs only time the catch-up.
//!
//! Everything is deterministic (keys, recipients, the chain spec), so a
//! directory can be extended by a later run that asks for more blocks:
//! transaction `i` is always sender `i % senders` paying recipient
//! `i % recipients` with nonce `i / senders`, and block `b` (from 1) holds
//! transactions `(b-1)*tpb .. b*tpb`. `manifest.json` records the parameters
//! so a run with other ones is refused instead of silently mixing chains.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use alloy_consensus::TxEip1559;
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{keccak256, Address, Bytes, TxKind, B256, U256};
use anyhow::{bail, Context as _};
use indicatif::ProgressBar;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use tally_crypto::{node_key::NodeKey, sign_transaction, SecretKey};
use tally_node::{Node, NodeConfig};
use tally_primitives::{ChainSpec, EngineSpec, GenesisAccount};

use crate::bench::plan::TRANSFER_GAS;

/// Bumped when the way transactions are derived changes, so an old
/// directory is refused rather than extended with a different workload.
const FORMAT: u32 = 1;
/// Blocks whose transactions are signed together (in parallel) before
/// they are produced one by one; bounds memory for long chains.
const SIGN_CHUNK_BLOCKS: u64 = 2_000;
/// Fee caps: the dev chain's base fee is a constant 1 gwei.
const MAX_FEE: u128 = 2_000_000_000;
const PRIORITY_FEE: u128 = 1_000_000_000;
/// Funds per sender: far more than any run can spend.
const SENDER_BALANCE: u128 = 10u128.pow(27);
/// A block that has not appeared after this long is an error.
const BLOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// The workload's shape; recorded in the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params {
    pub senders: usize,
    pub recipients: usize,
    pub txs_per_block: usize,
}

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    #[serde(flatten)]
    params: Params,
    /// Hash of the chain spec, which also pins the producer's key.
    spec_hash: B256,
}

/// A source chain ready to be served.
pub struct SourceChain {
    pub spec: ChainSpec,
    pub datadir: PathBuf,
    /// Blocks produced by this run, and how long that took.
    pub generated: u64,
    pub generation_secs: f64,
}

/// The key that seals the source chain's blocks (named in the chain spec).
pub fn producer_key() -> NodeKey {
    NodeKey::from_bytes(&keccak256(b"tally-bench-sync producer").0)
}

fn sender_key(i: usize) -> anyhow::Result<SecretKey> {
    let seed = keccak256(format!("tally-bench-sync sender {i}"));
    tally_crypto::secret_key(seed.as_slice()).with_context(|| format!("sender key {i}"))
}

fn recipient(j: usize) -> Address {
    Address::from_word(keccak256(format!("tally-bench-sync recipient {j}")))
}

/// The authority dev chain: the producer's key seals, the senders are funded.
pub fn chain_spec(senders: &[SecretKey]) -> ChainSpec {
    let alloc: BTreeMap<Address, GenesisAccount> = senders
        .iter()
        .map(|key| {
            let account = GenesisAccount {
                balance: U256::from(SENDER_BALANCE),
                ..Default::default()
            };
            (tally_crypto::address_of(key), account)
        })
        .collect();
    let mut spec = ChainSpec::dev(alloc, 0);
    spec.name = "tally-bench-sync".into();
    spec.engine = EngineSpec::Dev {
        block_time_ms: 0,
        authority: Some(B256::from(producer_key().public().to_bytes())),
    };
    spec
}

/// Transaction `i` of the workload, signed and encoded.
fn signed_tx(
    i: u64,
    chain_id: u64,
    keys: &[SecretKey],
    recipients: &[Address],
) -> anyhow::Result<Bytes> {
    let i = usize::try_from(i).context("transaction index overflows usize")?;
    let key = keys.get(i % keys.len().max(1)).context("no sender keys")?;
    let to = *recipients
        .get(i % recipients.len().max(1))
        .context("no recipients")?;
    let tx = TxEip1559 {
        chain_id,
        nonce: (i / keys.len()) as u64,
        gas_limit: TRANSFER_GAS,
        max_fee_per_gas: MAX_FEE,
        max_priority_fee_per_gas: PRIORITY_FEE,
        to: TxKind::Call(to),
        value: U256::from(1u64),
        access_list: Default::default(),
        input: Bytes::new(),
    };
    Ok(sign_transaction(key, tx).encoded_2718().into())
}

pub fn source_datadir(dir: &Path) -> PathBuf {
    dir.join("source")
}

/// Checks `dir` holds a chain of this workload (or nothing yet) and writes
/// the manifest and `chain.toml`.
fn claim_dir(dir: &Path, params: &Params, spec: &ChainSpec) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let manifest = Manifest {
        format: FORMAT,
        params: params.clone(),
        spec_hash: spec.hash(),
    };
    let path = dir.join("manifest.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let found: Manifest = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a bench manifest", path.display()))?;
            if found != manifest {
                bail!(
                    "{} holds a chain generated with --senders {} --recipients {} \
                     --txs-per-block {} (format {}); pass those, or use another --dir",
                    dir.display(),
                    found.params.senders,
                    found.params.recipients,
                    found.params.txs_per_block,
                    found.format
                );
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if source_datadir(dir).exists() {
                bail!(
                    "{} has a source chain but no manifest.json; delete it or use another --dir",
                    dir.display()
                );
            }
            std::fs::write(&path, serde_json::to_string_pretty(&manifest)?)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
    let spec_path = dir.join("chain.toml");
    std::fs::write(&spec_path, spec.to_toml())
        .with_context(|| format!("cannot write {}", spec_path.display()))?;
    Ok(())
}

fn node_config(datadir: PathBuf, spec: ChainSpec) -> anyhow::Result<NodeConfig> {
    Ok(NodeConfig {
        datadir,
        spec,
        rpc_addr: "127.0.0.1:0".parse()?,
        rpc_limits: Default::default(),
        beneficiary: Address::repeat_byte(0xbe),
        dev_block_time_ms: None,
        node_key: Some(producer_key()),
        network: None,
        mining: None,
        index: false,
    })
}

/// Opens (or creates) the source chain in `dir` and produces blocks until
/// it has at least `blocks`. Must run on a multi-threaded tokio runtime.
pub async fn prepare(
    dir: &Path,
    params: &Params,
    blocks: u64,
    bar: &ProgressBar,
) -> anyhow::Result<SourceChain> {
    let tpb = params.txs_per_block;
    let keys: Vec<SecretKey> = (0..params.senders)
        .into_par_iter()
        .map(sender_key)
        .collect::<anyhow::Result<_>>()?;
    let recipients: Vec<Address> = (0..params.recipients).map(recipient).collect();
    let spec = chain_spec(&keys);
    claim_dir(dir, params, &spec)?;
    let datadir = source_datadir(dir);
    let node = Node::start(node_config(datadir.clone(), spec.clone())?)
        .await
        .with_context(|| format!("cannot open the source chain in {}", datadir.display()))?;
    let start = node.head();
    // A run that stopped half-way through a block would leave transactions
    // in no block and shift every later one; refuse such a chain.
    if start.number > 0 && start.gas_used != TRANSFER_GAS * tpb as u64 {
        node.stop().await;
        bail!(
            "the last block ({}) of {} is not full ({} gas used, {} expected); delete the \
             directory and run again",
            start.number,
            datadir.display(),
            start.gas_used,
            TRANSFER_GAS * tpb as u64
        );
    }
    bar.set_length(blocks.max(start.number));
    bar.set_position(start.number);
    let started = Instant::now();
    // The node's calls used here are synchronous and the wait for each
    // block is a short sleep loop: keep them off the async workers.
    let produced = tokio::task::block_in_place(|| {
        produce(
            &node,
            spec.chain_id,
            &keys,
            &recipients,
            tpb,
            start.number,
            blocks,
            bar,
        )
    });
    let generation_secs = started.elapsed().as_secs_f64();
    let head = node.head().number;
    node.stop().await;
    produced?;
    Ok(SourceChain {
        spec,
        datadir,
        generated: head - start.number,
        generation_secs,
    })
}

/// Produces blocks `from+1 ..= to`, each with exactly `tpb` transfers.
#[allow(clippy::too_many_arguments)]
fn produce(
    node: &Node,
    chain_id: u64,
    keys: &[SecretKey],
    recipients: &[Address],
    tpb: usize,
    from: u64,
    to: u64,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    let tpb64 = tpb as u64;
    let mut head = from;
    while head < to {
        let end = (head + SIGN_CHUNK_BLOCKS).min(to);
        let txs: Vec<Bytes> = (head * tpb64..end * tpb64)
            .into_par_iter()
            .map(|i| signed_tx(i, chain_id, keys, recipients))
            .collect::<anyhow::Result<_>>()?;
        for block_txs in txs.chunks(tpb) {
            for (k, result) in node.submit_transactions(block_txs).into_iter().enumerate() {
                if let Err(e) = result {
                    bail!(
                        "the source node refused transaction {}: {e}",
                        head * tpb64 + k as u64
                    );
                }
            }
            wait_for_block(node, head + 1)?;
            head += 1;
            let header = node.head();
            if header.gas_used != TRANSFER_GAS * tpb64 {
                bail!(
                    "block {} holds {} gas of transfers, expected {} ({tpb} transfers)",
                    header.number,
                    header.gas_used,
                    TRANSFER_GAS * tpb64
                );
            }
            bar.set_position(head);
        }
    }
    Ok(())
}

/// Waits until the head reaches `number`. Blocks take a millisecond or two
/// here, so a short sleep loop wastes far less than a tokio timer's 1 ms.
fn wait_for_block(node: &Node, number: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut nudged = false;
    while node.head().number < number {
        let waited = started.elapsed();
        if waited > BLOCK_TIMEOUT {
            bail!(
                "block {number} was not produced within {}s",
                BLOCK_TIMEOUT.as_secs()
            );
        }
        // Transactions that reached the pool while it still held the
        // previous block's state wait as "queued" until pool maintenance
        // promotes them; wake the producer once more in case it slept.
        if !nudged && waited > Duration::from_secs(1) {
            let _ = node.submit_transactions(&[]);
            nudged = true;
        }
        std::thread::sleep(Duration::from_micros(50));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_is_deterministic_and_spreads_over_senders() {
        let keys: Vec<SecretKey> = (0..3).map(|i| sender_key(i).unwrap()).collect();
        let recipients: Vec<Address> = (0..5).map(recipient).collect();
        let a = signed_tx(7, 31337, &keys, &recipients).unwrap();
        let b = signed_tx(7, 31337, &keys, &recipients).unwrap();
        assert_eq!(a, b);
        let mut buf = a.as_ref();
        let tx = <alloy_consensus::TxEnvelope as alloy_eips::eip2718::Decodable2718>::decode_2718(
            &mut buf,
        )
        .unwrap();
        let sender = tally_crypto::recover_sender(&tx).unwrap();
        // Transaction 7 of 3 senders: sender 1, nonce 2, recipient 7 % 5.
        assert_eq!(sender, tally_crypto::address_of(&keys[1]));
        let alloy_consensus::TxEnvelope::Eip1559(signed) = tx else {
            panic!("not an EIP-1559 transaction");
        };
        assert_eq!(signed.tx().nonce, 2);
        assert_eq!(signed.tx().to, TxKind::Call(recipients[2]));
    }

    #[test]
    fn spec_funds_senders_and_names_the_producer() {
        let keys: Vec<SecretKey> = (0..4).map(|i| sender_key(i).unwrap()).collect();
        let spec = chain_spec(&keys);
        assert_eq!(spec.alloc.len(), 4);
        assert_eq!(spec, chain_spec(&keys), "the spec must be reproducible");
        let EngineSpec::Dev { authority, .. } = spec.engine else {
            panic!("the sync workload runs on a dev authority chain");
        };
        assert_eq!(
            authority,
            Some(B256::from(producer_key().public().to_bytes()))
        );
    }

    #[test]
    fn a_directory_of_another_workload_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let keys: Vec<SecretKey> = (0..2).map(|i| sender_key(i).unwrap()).collect();
        let spec = chain_spec(&keys);
        let params = Params {
            senders: 2,
            recipients: 3,
            txs_per_block: 4,
        };
        claim_dir(dir.path(), &params, &spec).unwrap();
        claim_dir(dir.path(), &params, &spec).unwrap();
        let other = Params {
            txs_per_block: 5,
            ..params
        };
        let err = claim_dir(dir.path(), &other, &spec).unwrap_err();
        assert!(err.to_string().contains("--txs-per-block 4"), "{err}");
        assert!(dir.path().join("chain.toml").exists());
    }
}
