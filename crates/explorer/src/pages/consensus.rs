//! `/consensus`: how this chain agrees on blocks — the engine and its
//! parameters, the head, safe and finalized heights, who produces blocks
//! (the dev authority, the recent PoW miners, or the BFT validator set
//! with its changes, members and latest commit certificates).

use std::collections::BTreeMap;

use tally_primitives::{CommitCertificate, EngineSpec};
use tally_rpc::Backend;

use crate::{
    error::PageError,
    format,
    html::{self, Page},
};

/// Blocks whose producers are counted.
const RECENT: u64 = 100;
/// Commit certificates listed.
const CERTIFICATES: u64 = 5;

pub fn page(backend: &dyn Backend) -> Result<Page, PageError> {
    let head = backend.head();
    let spec = backend.chain_spec().ok();
    let engine = backend.engine_name();
    let mut rows = vec![
        ("Engine", html::badge("info", &engine)),
        ("Head", html::block_link(head.number)),
        ("Safe", html::block_link(backend.safe_number())),
        ("Finalized", html::block_link(backend.finalized_number())),
        ("Peers", format::thousands(backend.peer_count() as u64)),
    ];
    if let Some(spec) = &spec {
        rows.insert(
            0,
            (
                "Chain",
                format!("{} (id {})", html::esc(&spec.name), spec.chain_id),
            ),
        );
        rows.push(("Block gas limit", format::thousands(spec.gas_limit)));
        if !spec.members.is_empty() {
            rows.push((
                "Consortium members",
                format::thousands(spec.members.len() as u64),
            ));
        }
    }
    let mut body = html::heading(
        "Consensus",
        &html::esc(&format!("How this chain agrees on its blocks: {engine}")),
    );
    body.push_str(&html::card("Overview", &html::fields(&rows)));
    match spec.as_ref().map(|s| &s.engine) {
        Some(EngineSpec::Dev {
            block_time_ms,
            authority,
        }) => {
            let fields = html::fields(&[
                (
                    "Authority",
                    authority
                        .map(|a| html::mono(&a.to_string()))
                        .unwrap_or_else(|| "none: blocks carry no seal".into()),
                ),
                (
                    "Block time",
                    if *block_time_ms == 0 {
                        "as soon as transactions are pending".into()
                    } else {
                        format!("{block_time_ms} ms")
                    },
                ),
            ]);
            body.push_str(&html::card("Dev authority", &fields));
        }
        Some(EngineSpec::Pow(pow)) => {
            let mut fields = vec![
                (
                    "Target block time",
                    format!("{} ms", pow.target_block_time_ms),
                ),
                ("Current bits", format!("{:#010x}", head.bits)),
            ];
            if let Some(m) = backend.mining_info() {
                fields.push((
                    "This node mines",
                    if m.mining {
                        format!("yes, {} threads, {} H/s", m.threads, m.hashrate)
                    } else {
                        "no".into()
                    },
                ));
            }
            body.push_str(&html::card("Proof of work", &html::fields(&fields)));
        }
        Some(EngineSpec::Bft(bft)) => {
            body.push_str(&html::card(
                "BFT parameters",
                &html::fields(&[
                    ("Block time", format!("{} ms", bft.block_time_ms)),
                    (
                        "Empty blocks",
                        if bft.create_empty_blocks {
                            "yes".into()
                        } else {
                            "only with transactions".into()
                        },
                    ),
                    (
                        "Round timeout",
                        format!(
                            "{} ms (+{} ms per round)",
                            bft.timeout_ms, bft.timeout_delta_ms
                        ),
                    ),
                ]),
            ));
            body.push_str(&bft_sections(backend, head.number));
        }
        None => {}
    }
    body.push_str(&html::card(
        &format!("Producers of the last {RECENT} blocks"),
        &producers(backend, head.number)?,
    ));
    Ok(Page::new("Consensus", body))
}

/// Who received the last blocks' fees (the producer or miner), by count.
fn producers(backend: &dyn Backend, head: u64) -> Result<String, PageError> {
    let mut counts: BTreeMap<_, u64> = BTreeMap::new();
    for number in head.saturating_sub(RECENT - 1).max(1)..=head {
        if let Some(h) = backend.header_by_number(number)? {
            *counts.entry(h.beneficiary).or_default() += 1;
        }
    }
    let mut counts: Vec<_> = counts.into_iter().collect();
    counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let rows: Vec<Vec<String>> = counts
        .iter()
        .map(|(who, n)| vec![html::addr_full(who), format::thousands(*n)])
        .collect();
    Ok(html::table(
        &["Beneficiary", "Blocks"],
        &rows,
        "No blocks yet.",
    ))
}

fn bft_sections(backend: &dyn Backend, head: u64) -> String {
    let mut out = String::new();
    match backend.bft_validators(head + 1) {
        Ok(validators) => {
            let total: u64 = validators.iter().map(|v| v.power).sum();
            let rows: Vec<Vec<String>> = validators
                .iter()
                .map(|v| vec![html::mono(&v.key.to_string()), format::thousands(v.power)])
                .collect();
            let summary = format!(
                r#"<p class="hint">{} validators, total power {}: a block commits with more than two thirds of it.</p>"#,
                validators.len(),
                format::thousands(total)
            );
            out.push_str(&html::card(
                "Validator set",
                &format!(
                    "{summary}{}",
                    html::table(&["Validator key", "Power"], &rows, "No validators.")
                ),
            ));
        }
        Err(e) => out.push_str(&html::card("Validator set", &html::notice(&e.to_string()))),
    }
    if let Ok(changes) = backend.bft_validator_set_changes() {
        let rows: Vec<Vec<String>> = changes
            .iter()
            .map(|c| {
                vec![
                    html::block_link(c.height),
                    format::thousands(c.validators.len() as u64),
                ]
            })
            .collect();
        out.push_str(&html::card(
            "Validator set changes",
            &html::table(&["From height", "Validators"], &rows, "None."),
        ));
    }
    if let Ok(members) = backend.governance_members() {
        let rows: Vec<Vec<String>> = members
            .iter()
            .map(|m| {
                vec![
                    html::esc(&m.name),
                    html::addr_full(&m.account),
                    html::mono(&format::short(&m.node_key.to_string())),
                ]
            })
            .collect();
        out.push_str(&html::card(
            "Members",
            &html::table(&["Name", "Account", "Node key"], &rows, "No members."),
        ));
    }
    let mut certs = String::new();
    for number in (head.saturating_sub(CERTIFICATES - 1).max(1)..=head).rev() {
        if let Ok(Some(cert)) = backend.bft_certificate(number) {
            certs.push_str(&format!(
                r#"<div class="cert"><h3>Block {}</h3>{}</div>"#,
                html::block_link(number),
                certificate(&cert)
            ));
        }
    }
    if certs.is_empty() {
        certs = r#"<p class="empty">No certificates kept yet.</p>"#.into();
    }
    out.push_str(&html::card("Latest commit certificates", &certs));
    out
}

/// A commit certificate: height, round, block and its signers.
pub fn certificate(cert: &CommitCertificate) -> String {
    let signers: Vec<Vec<String>> = cert
        .signatures
        .iter()
        .map(|s| {
            vec![
                html::mono(&s.validator.to_string()),
                html::mono(&format::short(&s.signature.to_string())),
            ]
        })
        .collect();
    format!(
        "{}{}",
        html::fields(&[
            ("Height", format::thousands(cert.height)),
            ("Round", cert.round.to_string()),
            (
                "Block",
                format!(
                    r#"<a class="mono break" href="/block/{0}">{0}</a>"#,
                    cert.block_hash
                )
            ),
            ("Signatures", cert.signatures.len().to_string()),
            ("Certificate hash", html::mono(&cert.hash().to_string())),
        ]),
        html::table(&["Validator", "Signature"], &signers, "No signatures.")
    )
}
