//! A product's whole history: the hash chain over its registration and
//! every event, whose head the traceability contract keeps in one slot.

use alloy_primitives::{B256, U256};

use crate::{
    check::Block,
    records::{
        trace::{head_slot, next_head, product_key, registration_head},
        TraceRole, TRACE,
    },
    state,
    text::utc,
    TraceClaim, VerifyError,
};

pub(super) fn check(
    c: &TraceClaim,
    block: &Block,
    file: Option<B256>,
) -> Result<Vec<String>, VerifyError> {
    let key = product_key(&c.product_id);
    let p = &c.product;
    let mut head = registration_head(
        key,
        p.registry,
        p.manufacturer,
        p.timestamp,
        p.block_number,
        &p.description,
    );
    for e in &c.events {
        head = next_head(
            head,
            e.party,
            e.role,
            e.timestamp,
            e.block_number,
            &e.status,
            &e.location,
            &e.documents,
        );
    }
    let root = block.header.state_root;
    state::verify_slot(
        &c.head_proof,
        &root,
        &TRACE,
        &head_slot(key),
        &U256::from_be_bytes(head.0),
    )
    .map_err(|source| VerifyError::StateProof {
        what: format!("product {:?}'s history", c.product_id),
        root,
        source,
    })?;
    let attached = match file {
        None => None,
        Some(file) => Some(
            c.events
                .iter()
                .position(|e| e.documents.contains(&file))
                .map(|i| (file, i))
                .ok_or_else(|| VerifyError::DocumentNotInHistory {
                    file,
                    product: c.product_id.clone(),
                })?,
        ),
    };

    let mut lines = vec![format!(
        "product {:?} was registered in registry {} by manufacturer {} in block {} at {}: {:?}",
        c.product_id,
        p.registry,
        p.manufacturer,
        p.block_number,
        utc(p.timestamp),
        p.description
    )];
    for (i, e) in c.events.iter().enumerate() {
        let role = TraceRole::from_code(e.role)
            .map_or_else(|| format!("role {}", e.role), |r| r.name().to_string());
        let mut line = format!(
            "event {}: {:?} by {} ({role}) in block {} at {}",
            i + 1,
            e.status,
            e.party,
            e.block_number,
            utc(e.timestamp)
        );
        if !e.location.is_empty() {
            line.push_str(&format!(", location {:?}", e.location));
        }
        if !e.documents.is_empty() {
            let docs: Vec<String> = e.documents.iter().map(|d| d.to_string()).collect();
            line.push_str(&format!(", documents {}", docs.join(", ")));
        }
        lines.push(line);
    }
    let events = match c.events.len() {
        1 => "1 event".to_string(),
        n => format!("{n} events"),
    };
    lines.push(format!(
        "its history as of block {} is complete with {events}: the contract's head commits to all of it",
        block.header.number
    ));
    if let Some((file, i)) = attached {
        lines.push(format!("document {file} is attached to event {}", i + 1));
    }
    Ok(lines)
}
