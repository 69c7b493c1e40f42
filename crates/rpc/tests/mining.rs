//! Mining over the real server: geth's remote-sealer methods,
//! `tally_miningInfo`, and the difficulty and nonce blocks report.

mod common;

use std::sync::Arc;

use alloy_primitives::{address, b256, B256, U256};
use alloy_rpc_types_eth::Block;
use common::bare::Bare;
use common::client::{call, rpc_error, serve_backend};
use common::TestBackend;
use serde_json::json;
use tally_primitives::Bytes;
use tally_rpc::Work;

type Res<T = ()> = anyhow::Result<T>;

const POW_HASH: B256 = b256!("1111111111111111111111111111111111111111111111111111111111111111");
/// The fixture's bits, 0x207fffff, as a 32-byte target.
const TARGET: B256 = b256!("7fffff0000000000000000000000000000000000000000000000000000000000");

#[tokio::test]
async fn mining_status_methods() -> Res {
    let (_h, c) = serve_backend(TestBackend::fixture()).await?;
    assert_eq!(call(&c, "eth_mining", json!([])).await?, json!(true));
    // The built-in 1,500 H/s plus external miners' 500.
    assert_eq!(call(&c, "eth_hashrate", json!([])).await?, json!("0x7d0"));
    let coinbase = address!("00000000000000000000000000000000000000fe");
    assert_eq!(call(&c, "eth_coinbase", json!([])).await?, json!(coinbase));

    let info = call(&c, "tally_miningInfo", json!([])).await?;
    assert_eq!(
        info,
        json!({
            "mining": true,
            "threads": 2,
            "coinbase": coinbase,
            "hashrate": "0x5dc",
            // One hash in two meets the easiest target.
            "difficulty": "0x2",
            "target": TARGET,
            "bits": "0x207fffff",
            "blockNumber": "0x5",
            "externalHashrate": "0x1f4",
        })
    );
    Ok(())
}

#[tokio::test]
async fn get_work_then_submit_work() -> Res {
    let backend = TestBackend::fixture();
    let (_h, c) = serve_backend(backend.clone()).await?;
    let (code, message, _) = rpc_error(call(&c, "eth_getWork", json!([])).await);
    assert_eq!(
        (code, message.as_str()),
        (-32000, "no mining work available yet")
    );

    backend.miner().work = Some(Work {
        pow_hash: POW_HASH,
        target: TARGET,
        number: 5,
    });
    assert_eq!(
        call(&c, "eth_getWork", json!([])).await?,
        json!([POW_HASH, B256::ZERO, TARGET, "0x5"])
    );

    let nonce = "0x0102030405060708";
    let mix = B256::repeat_byte(9);
    assert_eq!(
        call(&c, "eth_submitWork", json!([nonce, POW_HASH, mix])).await?,
        json!(true)
    );
    // Stale work is refused with `false`, as geth does; the mix digest is optional.
    let stale = B256::repeat_byte(2);
    assert_eq!(
        call(&c, "eth_submitWork", json!([nonce, stale])).await?,
        json!(false)
    );
    assert_eq!(
        backend.miner().submitted,
        vec![
            (0x0102_0304_0506_0708, POW_HASH),
            (0x0102_0304_0506_0708, stale)
        ]
    );

    for bad in ["0x01020304", "0x010203040506070809", "0x"] {
        let (code, message, _) =
            rpc_error(call(&c, "eth_submitWork", json!([bad, POW_HASH, mix])).await);
        assert_eq!(code, -32602, "{bad}");
        assert!(
            message.contains("nonce must be 8 bytes"),
            "{bad}: {message}"
        );
    }
    assert_eq!(
        backend.miner().submitted.len(),
        2,
        "bad nonces never reach the node"
    );
    Ok(())
}

#[tokio::test]
async fn submit_hashrate_takes_geths_32_byte_form() -> Res {
    let backend = TestBackend::fixture();
    let (_h, c) = serve_backend(backend.clone()).await?;
    let id = B256::repeat_byte(0xab);
    let padded = "0x0000000000000000000000000000000000000000000000000000000000500000";
    assert_eq!(
        call(&c, "eth_submitHashrate", json!([padded, id])).await?,
        json!(true)
    );
    assert_eq!(
        call(&c, "eth_submitHashrate", json!(["0x10", id])).await?,
        json!(true)
    );
    assert_eq!(
        backend.miner().rates,
        vec![(U256::from(0x50_0000u64), id), (U256::from(16u64), id)]
    );
    let (code, _, _) = rpc_error(call(&c, "eth_submitHashrate", json!(["0x10"])).await);
    assert_eq!(code, -32602, "the id is required");
    Ok(())
}

#[tokio::test]
async fn a_node_that_does_not_mine_says_so() -> Res {
    let (_h, c) = serve_backend(Arc::new(Bare(TestBackend::fixture()))).await?;
    assert_eq!(call(&c, "eth_mining", json!([])).await?, json!(false));
    assert_eq!(call(&c, "eth_hashrate", json!([])).await?, json!("0x0"));
    let id = B256::repeat_byte(1);
    assert_eq!(
        call(&c, "eth_submitHashrate", json!(["0x10", id])).await?,
        json!(false)
    );
    for (method, params) in [
        ("eth_coinbase", json!([])),
        ("eth_getWork", json!([])),
        (
            "eth_submitWork",
            json!(["0x0102030405060708", POW_HASH, POW_HASH]),
        ),
        ("tally_miningInfo", json!([])),
    ] {
        let (code, message, _) = rpc_error(call(&c, method, params).await);
        assert_eq!(code, -32000, "{method}");
        assert!(message.contains("does not mine"), "{method}: {message}");
    }
    Ok(())
}

#[tokio::test]
async fn blocks_report_the_work_of_their_bits_and_their_pow_nonce() -> Res {
    let backend = TestBackend::fixture();
    let (_h, c) = serve_backend(backend.clone()).await?;
    // Bitcoin's genesis target: 0x100010001 hashes expected.
    let seal = Bytes::from_static(&[1, 2, 3, 4, 5, 6, 7, 8]);
    backend.push_sealed_block(vec![], vec![], 0x1d00_ffff, seal);
    for (method, params) in [
        ("eth_getBlockByNumber", json!(["latest", false])),
        ("eth_getHeaderByNumber", json!(["latest"])),
    ] {
        let v = call(&c, method, params).await?;
        assert_eq!(v["difficulty"], json!("0x100010001"), "{method}");
        assert_eq!(v["nonce"], json!("0x0102030405060708"), "{method}");
        assert!(v.get("totalDifficulty").is_none(), "{method}: {v}");
    }
    let block: Block =
        serde_json::from_value(call(&c, "eth_getBlockByNumber", json!(["latest", false])).await?)?;
    assert_eq!(block.header.difficulty, U256::from(0x1_0001_0001u64));

    // A signature seal (65 bytes) is no nonce, and bits 0 no difficulty.
    let v = call(&c, "eth_getBlockByNumber", json!(["0x1", false])).await?;
    assert_eq!(v["difficulty"], json!("0x0"));
    assert_eq!(v["nonce"], json!("0x0000000000000000"));
    // An invalid (negative) compact target reports no difficulty either.
    backend.push_sealed_block(vec![], vec![], 0x0480_0001, Bytes::from_static(&[0; 8]));
    let v = call(&c, "eth_getBlockByNumber", json!(["latest", false])).await?;
    assert_eq!(v["difficulty"], json!("0x0"));
    Ok(())
}
