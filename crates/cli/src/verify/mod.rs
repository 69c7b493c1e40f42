//! `tally export-block` and `tally verify-block`: proof, checkable offline,
//! that a BFT block was committed.
//!
//! The bundle holds the block's header (exact RLP and its fields), its
//! commit certificate, and the validator-set changes up to it, each with
//! the certified header of the block before it took effect. Verifying
//! needs only the chain spec: the header hash is recomputed from the bytes,
//! the validator set is rebuilt from the spec's genesis validators through
//! the changes (each change's header checked against the set before it),
//! and the block's certificate is checked against that set: more than two
//! thirds of the power, distinct known validators, every signature valid.
//!
//! Each change's new list comes with storage proofs that the governance
//! contract held it after the certified block before the change
//! (`tally_verify::validator_list`), so the spec's genesis validators are
//! all it trusts. A bundle without them (older bundles) has its lists
//! taken as given, and the verdict says so.

pub mod proof;

use std::path::PathBuf;

use alloy_primitives::{Bytes, B256};
use anyhow::{anyhow, bail, Context as _};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tally_consensus::bft::verify_block_certificate;
use tally_primitives::{
    bft::quorum, BftValidator, ChainSpec, CommitCertificate, EngineSpec, Header,
};
use tally_verify::validator_list;

use crate::client::{
    parse::quantity_u64,
    rpc::{Rpc, RpcArgs},
};

const FORMAT: &str = "tally-block-bundle/1";

/// Most slots one `tally_getStorageProof` call proves (the node's limit).
const MAX_PROOF_SLOTS: usize = 64;

#[derive(clap::Args)]
pub struct ExportArgs {
    /// The block number.
    pub number: u64,
    /// Where to write the bundle (JSON).
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub rpc: RpcArgs,
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// A bundle written by `tally export-block`.
    pub bundle: PathBuf,
    /// The chain spec (chain.toml) whose genesis validators are trusted.
    #[arg(long = "chain", value_name = "FILE")]
    pub chain: PathBuf,
}

/// What `tally export-block` writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    pub format: String,
    pub chain_id: u64,
    pub block: CertifiedHeader,
    /// Ascending; the first is height 1 (the spec's genesis set).
    pub validator_set_changes: Vec<BundleChange>,
}

/// A header, its exact bytes, and the certificate that commits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertifiedHeader {
    pub number: u64,
    pub hash: B256,
    pub header_rlp: Bytes,
    /// The decoded fields, for reading; they must match `headerRlp`.
    pub header: Header,
    pub certificate: CommitCertificate,
}

/// From `height` on, `validators` sign; `certifiedParent` is block
/// `height - 1` (absent for height 1), certified by the set before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleChange {
    pub height: u64,
    pub validators: Vec<BftValidator>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certified_parent: Option<CertifiedHeader>,
    /// Compact storage proofs of the list in the governance contract
    /// against `certifiedParent`'s state root: the count, then each
    /// validator's key and power.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub list_proof: Vec<Bytes>,
}

pub fn export(args: ExportArgs) -> anyhow::Result<()> {
    let rpc = Rpc::connect(&args.rpc)?;
    let n = args.number;
    if n == 0 {
        bail!("block 0 (genesis) has no commit certificate: export block 1 or above");
    }
    let chain_id: Value = rpc.call("eth_chainId", vec![])?;
    let chain_id =
        quantity_u64(&chain_id).ok_or_else(|| anyhow!("eth_chainId answered {chain_id}"))?;
    let block = certified(&rpc, n)?;
    let all: Vec<Value> = rpc.call("tally_getValidatorSetChanges", vec![])?;
    let mut changes = Vec::new();
    for change in all {
        let height = change["height"]
            .as_u64()
            .ok_or_else(|| anyhow!("tally_getValidatorSetChanges answered {change}"))?;
        if height > n {
            break;
        }
        let validators: Vec<BftValidator> = serde_json::from_value(change["validators"].clone())
            .context("tally_getValidatorSetChanges: validators")?;
        let (certified_parent, list_proof) = match height {
            0 | 1 => (None, Vec::new()),
            h => (
                Some(certified(&rpc, h - 1)?),
                list_proof(&rpc, h - 1, validators.len())?,
            ),
        };
        changes.push(BundleChange {
            height,
            validators,
            certified_parent,
            list_proof,
        });
    }
    let bundle = Bundle {
        format: FORMAT.into(),
        chain_id,
        block,
        validator_set_changes: changes,
    };
    let text = serde_json::to_string_pretty(&bundle)?;
    std::fs::write(&args.out, text + "\n")
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "wrote block {n} {} with its certificate and {} validator-set change(s) to {}",
        bundle.block.hash,
        bundle.validator_set_changes.len(),
        args.out.display()
    );
    Ok(())
}

/// Storage proofs that the governance contract held a list of `n`
/// validators after block `parent`, from `tally_getStorageProof`.
fn list_proof(rpc: &Rpc, parent: u64, n: usize) -> anyhow::Result<Vec<Bytes>> {
    let slots: Vec<B256> = validator_list::list_slots(n)
        .into_iter()
        .map(B256::from)
        .collect();
    let mut proofs = Vec::with_capacity(slots.len());
    for chunk in slots.chunks(MAX_PROOF_SLOTS) {
        let proof: tally_verify::Proof = rpc.call(
            "tally_getStorageProof",
            vec![
                json!(validator_list::GOVERNANCE),
                json!(chunk),
                json!(format!("{parent:#x}")),
            ],
        )?;
        let tally_verify::Claim::Storage(claim) = proof.claim else {
            bail!("tally_getStorageProof answered a proof of another kind");
        };
        proofs.extend(claim.slots.into_iter().map(|s| s.proof));
    }
    Ok(proofs)
}

/// Block `n`'s header and certificate from the node.
fn certified(rpc: &Rpc, n: u64) -> anyhow::Result<CertifiedHeader> {
    let number = json!(format!("{n:#x}"));
    let raw: Option<Bytes> = rpc.call("tally_getRawHeader", vec![number.clone()])?;
    let raw = raw.ok_or_else(|| anyhow!("the node has no block {n}"))?;
    let header = decode_header(&raw).with_context(|| format!("the node's header {n}"))?;
    let certificate: Option<CommitCertificate> =
        rpc.call("tally_getCommitCertificate", vec![number])?;
    let certificate = certificate.ok_or_else(|| {
        anyhow!("the node has no commit certificate for block {n} (not yet committed, or not kept)")
    })?;
    Ok(CertifiedHeader {
        number: n,
        hash: header.hash(),
        header_rlp: raw,
        header,
        certificate,
    })
}

fn decode_header(raw: &[u8]) -> anyhow::Result<Header> {
    alloy_rlp::decode_exact(raw)
        .map_err(|e| anyhow!("header bytes are not a valid RLP header: {e}"))
}

/// What a verified bundle proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    pub number: u64,
    pub hash: B256,
    pub signed_power: u64,
    pub total_power: u64,
    pub quorum: u64,
    pub signers: usize,
    pub validators: usize,
    /// Validator-set changes taken from the bundle.
    pub changes: usize,
    /// Of those, the ones whose lists the bundle does not prove.
    pub unproven: usize,
}

pub fn verify(args: VerifyArgs) -> anyhow::Result<()> {
    let spec = ChainSpec::load(&args.chain)?;
    let text = std::fs::read_to_string(&args.bundle)
        .with_context(|| format!("cannot read {}", args.bundle.display()))?;
    let bundle: Bundle = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a block bundle", args.bundle.display()))?;
    let proof = check(&spec, &bundle).map_err(|e| {
        anyhow!(
            "NOT VERIFIED: block {} in {}: {e:#}",
            bundle.block.number,
            args.bundle.display()
        )
    })?;
    println!(
        "verified: block {} {} was committed by validators holding {} of {} voting power \
         (quorum {}; {} of {} validators signed)",
        proof.number,
        proof.hash,
        proof.signed_power,
        proof.total_power,
        proof.quorum,
        proof.signers,
        proof.validators
    );
    println!(
        "trusted: the genesis validators of chain spec {} (chain id {})",
        args.chain.display(),
        spec.chain_id
    );
    if proof.unproven > 0 {
        println!(
            "trusted: {} of the {} validator-set change(s) listed in the bundle: each change's \
             preceding block is checked as committed by the set before it, but these lists are \
             taken as given (the bundle has no state proof of them from the governance \
             contract)",
            proof.unproven, proof.changes
        );
    } else if proof.changes > 0 {
        println!(
            "proven: the {} validator-set change(s) in the bundle, each list from the \
             governance contract's storage at the committed block before it",
            proof.changes
        );
    }
    Ok(())
}

/// Checks a bundle against a spec, offline.
pub fn check(spec: &ChainSpec, bundle: &Bundle) -> anyhow::Result<Proof> {
    let EngineSpec::Bft(bft) = &spec.engine else {
        bail!("chain spec {:?} is not a BFT chain", spec.name);
    };
    if bundle.format != FORMAT {
        bail!(
            "unknown bundle format {:?}, expected {FORMAT}",
            bundle.format
        );
    }
    if bundle.chain_id != spec.chain_id {
        bail!(
            "the bundle is for chain id {}, the chain spec for {}",
            bundle.chain_id,
            spec.chain_id
        );
    }
    let chain_id = spec.chain_id;
    let n = bundle.block.number;
    let mut set = bft.validators.clone();
    let mut last = 1;
    let mut changes = 0;
    let mut unproven = 0;
    for change in &bundle.validator_set_changes {
        if change.height == 1 {
            if change.validators != bft.validators {
                bail!("the bundle's genesis validator set differs from the chain spec's");
            }
            continue;
        }
        if change.height <= last || change.height > n {
            bail!(
                "validator-set change at height {} is out of order (after {last}, up to block {n})",
                change.height
            );
        }
        let parent = change.certified_parent.as_ref().ok_or_else(|| {
            anyhow!(
                "validator-set change at height {} has no certified header of block {}",
                change.height,
                change.height - 1
            )
        })?;
        if parent.number + 1 != change.height {
            bail!(
                "validator-set change at height {} carries block {} instead of {}",
                change.height,
                parent.number,
                change.height - 1
            );
        }
        check_certified(chain_id, parent, &set)
            .with_context(|| format!("validator-set change at height {}", change.height))?;
        if change.validators.is_empty() {
            bail!("validator-set change at height {} is empty", change.height);
        }
        if change.list_proof.is_empty() {
            unproven += 1;
        } else {
            validator_list::verify_list(
                &change.list_proof,
                &parent.header.state_root,
                &change.validators,
            )
            .with_context(|| {
                format!(
                    "validator-set change at height {}: its list is not the governance \
                     contract's after block {}",
                    change.height, parent.number
                )
            })?;
        }
        set = change.validators.clone();
        last = change.height;
        changes += 1;
    }
    let signed_power = check_certified(chain_id, &bundle.block, &set)?;
    let total_power = set.iter().fold(0u64, |s, v| s.saturating_add(v.power));
    Ok(Proof {
        number: n,
        hash: bundle.block.hash,
        signed_power,
        total_power,
        quorum: quorum(total_power),
        signers: bundle.block.certificate.signatures.len(),
        validators: set.len(),
        changes,
        unproven,
    })
}

/// Recomputes the header's hash from its bytes and checks its certificate
/// against `set`; the power that signed.
fn check_certified(
    chain_id: u64,
    c: &CertifiedHeader,
    set: &[BftValidator],
) -> anyhow::Result<u64> {
    let header = decode_header(&c.header_rlp)?;
    if header != c.header {
        bail!(
            "block {}: the header fields do not match the header bytes",
            c.number
        );
    }
    if header.number != c.number {
        bail!(
            "the header bytes are of block {}, not block {}",
            header.number,
            c.number
        );
    }
    let hash = header.hash();
    if hash != c.hash {
        bail!(
            "block {}: the header bytes hash to {hash}, not the stated {}",
            c.number,
            c.hash
        );
    }
    verify_block_certificate(chain_id, &header, &c.certificate, set)
        .map_err(|e| anyhow!("block {} {hash}: {e}", c.number))?;
    Ok(c.certificate
        .signatures
        .iter()
        .filter_map(|s| set.iter().find(|v| v.key == s.validator))
        .fold(0u64, |sum, v| sum.saturating_add(v.power)))
}
