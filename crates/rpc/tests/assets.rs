//! The asset methods over the real server: block parameters reach the
//! backend as the block numbers they name, holders pages are capped, an
//! unknown token and bad parameters get clear errors, an asset's history
//! is decoded from the fixture chain's logs (its own `Transfer`s and the
//! assets contract's events for it, not another asset's), ballots carry
//! their status, and a backend without the system contracts says so.
//! The real views over real state are exercised by the CLI's process
//! tests (`crates/cli/tests/asset_cli.rs`).

#[macro_use]
mod common;

use std::sync::{Arc, Mutex};

use alloy_primitives::{address, Address, Bytes, Log, TxKind, U256};
use alloy_sol_types::SolEvent;
use common::bare::Bare;
use common::client::{call, rpc_error, serve_backend};
use common::{eip1559, key_b, TestBackend};
use serde_json::{json, Value};
use tally_primitives::{Receipt, B256};
use tally_rpc::assets::abi::{ITallyAsset, ITallyAssets};
use tally_rpc::assets::ASSETS;
use tally_rpc::{Backend, BackendError};

type Res<T = ()> = anyhow::Result<T>;

const GLD: Address = address!("a55e700000000000000000000000000000000001");
const OTHER_ASSET: Address = address!("a55e700000000000000000000000000000000002");
const ISSUED_AT: u64 = 5;

/// The fixture chain plus one asset, GLD, issued in block 5; records the
/// arguments the asset reads were asked with.
struct WithAssets {
    chain: Arc<TestBackend>,
    asked: Mutex<Vec<String>>,
}

impl Backend for WithAssets {
    delegate_required_backend!(chain);

    fn assets(&self, number: u64) -> Result<Value, BackendError> {
        Ok(json!([self.asset(GLD, number)?]))
    }

    fn asset(&self, token: Address, number: u64) -> Result<Value, BackendError> {
        if token != GLD || number < ISSUED_AT {
            return Ok(Value::Null);
        }
        Ok(
            json!({"token": GLD, "id": 1, "symbol": "GLD", "decimals": 2,
            "holders": 2, "issuedBlock": ISSUED_AT}),
        )
    }

    fn asset_holders(
        &self,
        token: Address,
        start: u64,
        count: u64,
        number: u64,
    ) -> Result<Vec<(Address, U256)>, BackendError> {
        self.record(format!("holders {token} {start} {count} {number}"));
        Ok(vec![(common::addr_a(), U256::from(700))])
    }

    fn ballots(&self, number: u64) -> Result<Value, BackendError> {
        Ok(json!([self.ballot(1, number)?]))
    }

    fn ballot(&self, id: u64, _number: u64) -> Result<Value, BackendError> {
        Ok(if id == 1 {
            json!({"id": 1, "token": GLD, "endBlock": 6})
        } else {
            Value::Null
        })
    }

    fn settled_at(&self, id: B256, number: u64) -> Result<Option<u64>, BackendError> {
        self.record(format!("settled {id} {number}"));
        Ok((id == B256::repeat_byte(9)).then_some(3))
    }
}

impl WithAssets {
    fn record(&self, what: String) {
        self.asked.lock().expect("test lock").push(what);
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().expect("test lock").clone()
    }

    /// The fixture (blocks 0-4) plus block 5, where GLD is issued, minted
    /// and transferred (another asset is frozen in the same block), and
    /// block 6 with a clawback.
    fn new() -> Arc<Self> {
        let chain = TestBackend::fixture();
        let (a, b) = (common::addr_a(), common::addr_b());
        let issued = ITallyAssets::AssetIssued {
            token: GLD,
            issuer: a,
            id: 1,
            name: "Gold".into(),
            symbol: "GLD".into(),
            decimals: 2,
            cap: U256::from(10_000),
            regulator: b,
        };
        let transfer = |from, to, v: u64| ITallyAsset::Transfer {
            from,
            to,
            value: U256::from(v),
        };
        let minted = ITallyAssets::Minted {
            token: GLD,
            to: a,
            amount: U256::from(1000),
        };
        let frozen_elsewhere = ITallyAssets::FreezeChanged {
            token: OTHER_ASSET,
            account: a,
            frozen: true,
            by: b,
        };
        let clawback = ITallyAssets::Clawback {
            token: GLD,
            from: b,
            to: a,
            amount: U256::from(50),
            reason: "sanctions".into(),
        };
        let block5 = vec![
            Log {
                address: ASSETS,
                data: issued.encode_log_data(),
            },
            Log {
                address: GLD,
                data: transfer(Address::ZERO, a, 1000).encode_log_data(),
            },
            Log {
                address: ASSETS,
                data: minted.encode_log_data(),
            },
            Log {
                address: GLD,
                data: transfer(a, b, 300).encode_log_data(),
            },
            Log {
                address: ASSETS,
                data: frozen_elsewhere.encode_log_data(),
            },
        ];
        let block6 = vec![
            Log {
                address: GLD,
                data: transfer(b, a, 50).encode_log_data(),
            },
            Log {
                address: ASSETS,
                data: clawback.encode_log_data(),
            },
        ];
        for (nonce, logs) in [(10, block5), (11, block6)] {
            let tx = eip1559(&key_b(), nonce, TxKind::Call(ASSETS), Bytes::new());
            let receipt = Receipt {
                tx_type: 2,
                success: true,
                gas_used: 90_000,
                cumulative_gas_used: 90_000,
                logs,
            };
            chain.push_block(vec![tx], vec![receipt]);
        }
        Arc::new(WithAssets {
            chain,
            asked: Mutex::default(),
        })
    }
}

#[tokio::test]
async fn holders_read_the_block_asked_for_and_are_capped() -> Res {
    let backend = WithAssets::new();
    let (_h, c) = serve_backend(backend.clone()).await?;
    let page = call(&c, "tally_getHolders", json!([GLD, "0x5", "0x1", "0x2710"])).await?;
    assert_eq!(page["block"], 5);
    assert_eq!(page["start"], 1);
    assert_eq!(page["total"], 2);
    assert_eq!(page["holders"][0]["balance"], "0x2bc");
    let page = call(&c, "tally_getHolders", json!([GLD])).await?;
    assert_eq!(page["block"], 6);
    assert_eq!(
        backend.asked(),
        [
            format!("holders {GLD} 1 1000 5"),
            format!("holders {GLD} 0 1000 6")
        ]
    );

    // GLD did not exist before block 5: an error naming it.
    let (code, message, _) = rpc_error(call(&c, "tally_getHolders", json!([GLD, "0x4"])).await);
    assert_eq!(code, -32000);
    assert!(
        message.contains(&GLD.to_string()) && message.contains("block 4"),
        "{message}"
    );
    let (code, message, _) = rpc_error(call(&c, "tally_getAsset", json!([OTHER_ASSET])).await);
    assert_eq!(code, -32000, "{message}");
    assert!(message.contains(&OTHER_ASSET.to_string()), "{message}");
    // Bad parameters and blocks above the head.
    let (code, _, _) = rpc_error(call(&c, "tally_getAsset", json!(["0x1234"])).await);
    assert_eq!(code, -32602);
    let (code, message, _) = rpc_error(call(&c, "tally_getAssets", json!(["0x99"])).await);
    assert_eq!(code, -32000);
    assert!(message.contains("above the head"), "{message}");
    let list = call(&c, "tally_getAssets", json!([])).await?;
    assert_eq!(list[0]["symbol"], "GLD");
    Ok(())
}

#[tokio::test]
async fn history_decodes_the_assets_logs() -> Res {
    let (_h, c) = serve_backend(WithAssets::new()).await?;
    let h = call(&c, "tally_getAssetHistory", json!([GLD])).await?;
    assert_eq!(
        (h["fromBlock"].as_u64(), h["toBlock"].as_u64()),
        (Some(5), Some(6))
    );
    let entries = h["entries"].as_array().expect("entries");
    let kinds: Vec<&str> = entries.iter().filter_map(|e| e["kind"].as_str()).collect();
    // The mint's and the clawback's own Transfers fold into them; the
    // other asset's freeze is not GLD's.
    assert_eq!(kinds, ["issue", "mint", "transfer", "clawback"], "{h}");
    assert_eq!(entries[0]["details"]["symbol"], "GLD");
    assert_eq!(entries[1]["amount"], "0x3e8");
    assert_eq!(entries[2]["from"], json!(common::addr_a()));
    assert_eq!(entries[2]["blockNumber"], 5);
    assert!(entries[2]["transactionHash"].is_string());
    assert_eq!(entries[3]["reason"], "sanctions");
    assert_eq!(entries[3]["blockNumber"], 6);

    let h = call(
        &c,
        "tally_getAssetHistory",
        json!([GLD, {"fromBlock": "0x6", "account": common::addr_b()}]),
    )
    .await?;
    let kinds: Vec<&str> = h["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["clawback"], "{h}");

    let (code, message, _) = rpc_error(
        call(
            &c,
            "tally_getAssetHistory",
            json!([GLD, {"fromBlock": "0x6", "toBlock": "0x5"}]),
        )
        .await,
    );
    assert_eq!(code, -32602, "{message}");
    let before = call(
        &c,
        "tally_getAssetHistory",
        json!([GLD, {"toBlock": "0x3"}]),
    )
    .await?;
    assert_eq!(before["entries"], json!([]));
    let (code, _, _) =
        rpc_error(call(&c, "tally_getAssetHistory", json!([GLD, {"from": "0x1"}])).await);
    assert_eq!(code, -32602);
    let (code, message, _) =
        rpc_error(call(&c, "tally_getAssetHistory", json!([OTHER_ASSET])).await);
    assert_eq!(code, -32000);
    assert!(message.contains(&OTHER_ASSET.to_string()), "{message}");
    Ok(())
}

#[tokio::test]
async fn ballots_settlements_and_abis() -> Res {
    let backend = WithAssets::new();
    let (_h, c) = serve_backend(backend.clone()).await?;
    let open = call(&c, "tally_getBallot", json!(["0x1", "0x5"])).await?;
    assert_eq!(open["status"], "open");
    let closed = call(&c, "tally_getBallots", json!([])).await?;
    assert_eq!(closed[0]["status"], "closed");
    assert!(call(&c, "tally_getBallot", json!(["0x7"])).await?.is_null());

    let settled = call(&c, "tally_getSettlement", json!([B256::repeat_byte(9)])).await?;
    assert_eq!(settled, 3);
    let pending = call(&c, "tally_getSettlement", json!([B256::repeat_byte(1)])).await?;
    assert!(pending.is_null());
    assert_eq!(
        backend.asked().last().map(String::as_str),
        Some(format!("settled {} 6", B256::repeat_byte(1)).as_str())
    );

    let contracts = call(&c, "tally_getSystemContracts", json!([])).await?;
    let contracts = contracts.as_array().expect("array");
    assert_eq!(contracts.len(), 8);
    let ballots = contracts
        .iter()
        .find(|c| c["name"] == "ballots")
        .expect("ballots");
    assert_eq!(
        ballots["address"],
        "0x0000000000000000000000000000000000001005"
    );
    let abi: alloy_json_abi::JsonAbi = serde_json::from_value(ballots["abi"].clone())?;
    assert!(abi.function("vote").is_some() && abi.event("VoteCast").is_some());
    Ok(())
}

#[tokio::test]
async fn a_backend_without_system_contracts_says_so() -> Res {
    let (_h, c) = serve_backend(Arc::new(Bare(TestBackend::fixture()))).await?;
    for (method, params) in [
        ("tally_getAssets", json!([])),
        ("tally_getAsset", json!([GLD])),
        ("tally_getHolders", json!([GLD])),
        ("tally_getAssetHistory", json!([GLD])),
        ("tally_getBallots", json!([])),
        ("tally_getBallot", json!(["0x1"])),
        ("tally_getSettlement", json!([B256::ZERO])),
    ] {
        let (code, message, _) = rpc_error(call(&c, method, params).await);
        assert_eq!(code, -32000, "{method}");
        assert!(message.contains("not available"), "{method}: {message}");
    }
    // The ABIs need no state.
    let contracts = call(&c, "tally_getSystemContracts", json!([])).await?;
    assert_eq!(contracts.as_array().map(Vec::len), Some(8));
    Ok(())
}
