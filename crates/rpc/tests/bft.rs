//! The BFT methods over the real server on a backend that does not run
//! BFT (the trait's defaults): each answers -32000 saying so, bad block
//! numbers are refused as parameters, and `tally_getRawHeader` (any
//! engine) returns the header bytes whose keccak is the block hash.

mod common;

use std::sync::Arc;

use alloy_primitives::{keccak256, Bytes, B256};
use common::bare::Bare;
use common::client::{call, rpc_error, serve_backend};
use common::TestBackend;
use serde_json::json;

type Res<T = ()> = anyhow::Result<T>;

#[tokio::test]
async fn a_chain_without_bft_says_so() -> Res {
    let (_h, c) = serve_backend(Arc::new(Bare(TestBackend::fixture()))).await?;
    for (method, params) in [
        ("tally_getCommitCertificate", json!(["0x1"])),
        ("tally_getValidators", json!(["0x1"])),
        ("tally_getValidatorSetChanges", json!([])),
        ("tally_getEvidence", json!([])),
        ("tally_getProposals", json!([])),
        ("tally_getProposal", json!(["0x1"])),
        ("tally_getMembers", json!([])),
        (
            "tally_getRoles",
            json!(["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"]),
        ),
        ("tally_getChainParams", json!([])),
    ] {
        let (code, message, _) = rpc_error(call(&c, method, params).await);
        assert_eq!(code, -32000, "{method}");
        assert!(message.contains("does not run BFT"), "{method}: {message}");
    }
    let (code, message, _) = rpc_error(call(&c, "tally_getValidators", json!(["0x0"])).await);
    assert_eq!(code, -32602, "{message}");
    let (code, message, _) =
        rpc_error(call(&c, "tally_getValidators", json!(["0xffffffff"])).await);
    assert_eq!(code, -32602, "{message}");
    assert!(message.contains("above"), "{message}");
    Ok(())
}

#[tokio::test]
async fn raw_headers_hash_to_the_block_hash() -> Res {
    let (_h, c) = serve_backend(Arc::new(Bare(TestBackend::fixture()))).await?;
    let raw: Bytes = serde_json::from_value(call(&c, "tally_getRawHeader", json!(["0x1"])).await?)?;
    let block = call(&c, "eth_getBlockByNumber", json!(["0x1", false])).await?;
    let hash: B256 = serde_json::from_value(block["hash"].clone())?;
    assert_eq!(keccak256(&raw), hash);
    let none = call(&c, "tally_getRawHeader", json!(["0xffffff"])).await?;
    assert!(none.is_null());
    Ok(())
}
