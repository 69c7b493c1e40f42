//! How the bench reads receipts: a status-0 receipt must count as failed,
//! and malformed answers must be errors rather than successes.

#[allow(dead_code)]
#[path = "../src/bench/rpc.rs"]
mod rpc;

use alloy_primitives::address;
use rpc::{parse_receipt, ReceiptStatus};
use serde_json::json;

#[test]
fn receipts_are_read_by_status() {
    let ok = json!({ "status": "0x1", "contractAddress": null });
    assert_eq!(
        parse_receipt(&ok).unwrap(),
        Some(ReceiptStatus {
            success: true,
            contract_address: None
        })
    );
    let reverted = json!({ "status": "0x0" });
    assert_eq!(
        parse_receipt(&reverted).unwrap().map(|r| r.success),
        Some(false)
    );
    let created = json!({
        "status": "0x1",
        "contractAddress": "0x5fbdb2315678afecb367f032d93f642f64180aa3"
    });
    assert_eq!(
        parse_receipt(&created)
            .unwrap()
            .and_then(|r| r.contract_address),
        Some(address!("5FbDB2315678afecb367f032d93F642f64180aa3"))
    );
    assert_eq!(parse_receipt(&json!(null)).unwrap(), None);
}

#[test]
fn malformed_receipts_are_errors() {
    assert!(parse_receipt(&json!({ "root": "0x00" })).is_err());
    assert!(parse_receipt(&json!({ "status": "yes" })).is_err());
    assert!(parse_receipt(&json!({ "status": "0x1", "contractAddress": "0x12" })).is_err());
}
