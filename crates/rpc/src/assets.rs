//! Native assets, shareholder ballots and settlement: the views of the
//! system contracts at any block (`tally_getAssets`, `tally_getAsset`,
//! `tally_getHolders`, `tally_getBallots`, `tally_getBallot`,
//! `tally_getSettlement`), an asset's history decoded from its logs
//! (`tally_getAssetHistory`), and every system contract's address and
//! ABI (`tally_getSystemContracts`) so ethers, web3.py and cast can load
//! them.
//!
//! The state reads go through [`Backend`] (the node runs the executor's
//! views over the state of the block asked for, so an old block gives old
//! balances); the history is a bounded log scan like `eth_getLogs`; the
//! ABIs come from the same `contracts/*.sol` files the executor binds.

mod history;

use std::sync::Arc;

use alloy_json_abi::JsonAbi;
use alloy_primitives::{address, Address, B256, U256, U64};
use alloy_rpc_types_eth::{BlockId, BlockNumberOrTag};
use jsonrpsee::core::{async_trait, RpcResult};
use jsonrpsee::proc_macros::rpc;
use jsonrpsee::types::ErrorObjectOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::backend::Backend;
use crate::block_id::state_number;
use crate::error::{internal, rpc_err, SERVER_ERROR};
use crate::logs::LogLimits;

pub use history::{AssetHistory, HistoryFilter, Movement, MovementKind};

/// The most holders one `tally_getHolders` answers; page with `start`.
pub const MAX_HOLDERS: u64 = 1000;

/// The system contracts' Solidity interfaces with their JSON ABIs, bound
/// from the `.sol` files the executor binds (`tally_executor::system::abi`)
/// without depending on the executor.
pub mod abi {
    alloy_sol_types::sol!(
        #[sol(abi)]
        "../../contracts/ITallyGovernance.sol"
    );
    alloy_sol_types::sol!(
        #[sol(abi)]
        "../../contracts/ITallyRoles.sol"
    );
    alloy_sol_types::sol!(
        #[sol(abi)]
        "../../contracts/ITallyAssets.sol"
    );
    alloy_sol_types::sol!(
        #[sol(abi)]
        "../../contracts/ITallyAsset.sol"
    );
    alloy_sol_types::sol!(
        #[sol(abi)]
        "../../contracts/ITallySettlement.sol"
    );
    alloy_sol_types::sol!(
        #[sol(abi)]
        "../../contracts/ITallyBallots.sol"
    );
    alloy_sol_types::sol!(
        #[sol(abi)]
        "../../contracts/ITallyNotary.sol"
    );
    alloy_sol_types::sol!(
        #[sol(abi)]
        "../../contracts/ITallyTrace.sol"
    );
}

// The reserved addresses, as `tally_executor::system` and the `.sol`
// comments give them (the RPC crate does not depend on the executor).
/// The governance contract.
pub const GOVERNANCE: Address = address!("0000000000000000000000000000000000001001");
/// The roles contract.
pub const ROLES: Address = address!("0000000000000000000000000000000000001002");
/// The assets registry; each asset's ERC-20 face is at its own address.
pub const ASSETS: Address = address!("0000000000000000000000000000000000001003");
/// Delivery versus payment.
pub const SETTLEMENT: Address = address!("0000000000000000000000000000000000001004");
/// Shareholder ballots.
pub const BALLOTS: Address = address!("0000000000000000000000000000000000001005");

/// One system contract (`tally_getSystemContracts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemContract {
    /// `governance`, `roles`, `assets`, `settlement`, `ballots`, or `asset`
    /// for the ERC-20 interface every asset's token address serves.
    pub name: String,
    /// The Solidity interface, e.g. `ITallyAssets`.
    pub interface: String,
    /// `null` for `asset`: each asset has its own token address
    /// (`tally_getAssets`).
    pub address: Option<Address>,
    /// The standard JSON ABI, as solc writes it.
    pub abi: JsonAbi,
}

/// Every system contract with its ABI.
pub fn system_contracts() -> Vec<SystemContract> {
    let entry = |name: &str, interface: &str, address, abi| SystemContract {
        name: name.into(),
        interface: interface.into(),
        address,
        abi,
    };
    vec![
        entry(
            "governance",
            "ITallyGovernance",
            Some(GOVERNANCE),
            abi::ITallyGovernance::abi::contract(),
        ),
        entry(
            "roles",
            "ITallyRoles",
            Some(ROLES),
            abi::ITallyRoles::abi::contract(),
        ),
        entry(
            "assets",
            "ITallyAssets",
            Some(ASSETS),
            abi::ITallyAssets::abi::contract(),
        ),
        entry(
            "settlement",
            "ITallySettlement",
            Some(SETTLEMENT),
            abi::ITallySettlement::abi::contract(),
        ),
        entry(
            "ballots",
            "ITallyBallots",
            Some(BALLOTS),
            abi::ITallyBallots::abi::contract(),
        ),
        entry(
            "notary",
            "ITallyNotary",
            Some(tally_verify::records::NOTARY),
            abi::ITallyNotary::abi::contract(),
        ),
        entry(
            "trace",
            "ITallyTrace",
            Some(tally_verify::records::TRACE),
            abi::ITallyTrace::abi::contract(),
        ),
        entry(
            "asset",
            "ITallyAsset",
            None,
            abi::ITallyAsset::abi::contract(),
        ),
    ]
}

/// A holder and its balance in base units (`tally_getHolders`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Holder {
    pub address: Address,
    pub balance: U256,
}

/// One page of an asset's holders at a block (`tally_getHolders`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldersPage {
    pub token: Address,
    /// The block whose state this is.
    pub block: u64,
    /// Position of the first holder listed (0-based).
    pub start: u64,
    /// How many holders the asset had at that block.
    pub total: u64,
    pub holders: Vec<Holder>,
}

/// Native assets, ballots and settlement reads.
#[rpc(server, namespace = "tally")]
pub trait AssetsApi {
    /// Every asset issued by `block` (default `latest`), oldest first.
    #[method(name = "getAssets")]
    fn assets(&self, block: Option<BlockId>) -> RpcResult<Value>;

    /// One asset at `block`; an error when no asset has that token address.
    #[method(name = "getAsset")]
    fn asset(&self, token: Address, block: Option<BlockId>) -> RpcResult<Value>;

    /// Holders and balances at `block`: `count` (default and most
    /// [`MAX_HOLDERS`]) from position `start` (default 0).
    #[method(name = "getHolders")]
    fn holders(
        &self,
        token: Address,
        block: Option<BlockId>,
        start: Option<U64>,
        count: Option<U64>,
    ) -> RpcResult<HoldersPage>;

    /// Every movement and policy change of an asset, oldest first, from
    /// its logs in `fromBlock..=toBlock` (bounded like `eth_getLogs`).
    #[method(name = "getAssetHistory")]
    async fn history(
        &self,
        token: Address,
        filter: Option<HistoryFilter>,
    ) -> RpcResult<AssetHistory>;

    /// Every ballot at `block`, oldest first, each with its `status`.
    #[method(name = "getBallots")]
    fn ballots(&self, block: Option<BlockId>) -> RpcResult<Value>;

    /// One ballot at `block`; `null` when there is none with that id.
    #[method(name = "getBallot")]
    fn ballot(&self, id: U64, block: Option<BlockId>) -> RpcResult<Value>;

    /// The block a settlement instruction (by its id, the EIP-712 digest)
    /// settled in, at the head; `null` when it has not settled.
    #[method(name = "getSettlement")]
    fn settlement(&self, id: B256) -> RpcResult<Option<u64>>;

    /// Every system contract's name, address and JSON ABI.
    #[method(name = "getSystemContracts")]
    fn system_contracts(&self) -> RpcResult<Vec<SystemContract>>;
}

/// Handlers for the asset methods.
#[derive(Clone)]
pub struct AssetsRpc {
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) limits: LogLimits,
}

impl AssetsRpc {
    /// The asset at `token` after block `number`, or an error naming it.
    fn known_asset(&self, token: Address, number: u64) -> RpcResult<Value> {
        let asset = self.backend.asset(token, number)?;
        if asset.is_null() {
            return Err(unknown_token(token, number));
        }
        Ok(asset)
    }
}

/// The error for a token address no asset has.
pub(crate) fn unknown_token(token: Address, number: u64) -> ErrorObjectOwned {
    rpc_err(
        SERVER_ERROR,
        format!(
            "no asset has token address {token} at block {number}; \
             tally_getAssets lists the issued assets"
        ),
    )
}

/// A ballot is open while a vote can still land in a block at or before
/// its end block: the state after block `number` is before the end.
fn with_status(mut ballot: Value, number: u64) -> Value {
    if let Some(end) = ballot.get("endBlock").and_then(Value::as_u64) {
        let status = if number < end { "open" } else { "closed" };
        if let Some(obj) = ballot.as_object_mut() {
            obj.insert("status".into(), status.into());
        }
    }
    ballot
}

#[async_trait]
impl AssetsApiServer for AssetsRpc {
    fn assets(&self, block: Option<BlockId>) -> RpcResult<Value> {
        let number = state_number(&*self.backend, block)?;
        Ok(self.backend.assets(number)?)
    }

    fn asset(&self, token: Address, block: Option<BlockId>) -> RpcResult<Value> {
        let number = state_number(&*self.backend, block)?;
        self.known_asset(token, number)
    }

    fn holders(
        &self,
        token: Address,
        block: Option<BlockId>,
        start: Option<U64>,
        count: Option<U64>,
    ) -> RpcResult<HoldersPage> {
        let number = state_number(&*self.backend, block)?;
        let asset = self.known_asset(token, number)?;
        let start = start.map_or(0, |s| s.to::<u64>());
        let count = count.map_or(MAX_HOLDERS, |c| c.to::<u64>().min(MAX_HOLDERS));
        let holders = self
            .backend
            .asset_holders(token, start, count, number)?
            .into_iter()
            .map(|(address, balance)| Holder { address, balance })
            .collect();
        Ok(HoldersPage {
            token,
            block: number,
            start,
            total: asset.get("holders").and_then(Value::as_u64).unwrap_or(0),
            holders,
        })
    }

    async fn history(
        &self,
        token: Address,
        filter: Option<HistoryFilter>,
    ) -> RpcResult<AssetHistory> {
        let backend = self.backend.clone();
        let limits = self.limits;
        tokio::task::spawn_blocking(move || {
            history::history(&*backend, token, &filter.unwrap_or_default(), limits)
        })
        .await
        .map_err(|e| internal(format!("RPC worker task failed: {e}")))?
    }

    fn ballots(&self, block: Option<BlockId>) -> RpcResult<Value> {
        let number = state_number(&*self.backend, block)?;
        let list = self.backend.ballots(number)?;
        Ok(match list {
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|b| with_status(b, number)).collect())
            }
            other => other,
        })
    }

    fn ballot(&self, id: U64, block: Option<BlockId>) -> RpcResult<Value> {
        let number = state_number(&*self.backend, block)?;
        let ballot = self.backend.ballot(id.to::<u64>(), number)?;
        Ok(with_status(ballot, number))
    }

    fn settlement(&self, id: B256) -> RpcResult<Option<u64>> {
        let head = state_number(
            &*self.backend,
            Some(BlockId::Number(BlockNumberOrTag::Latest)),
        )?;
        Ok(self.backend.settled_at(id, head)?)
    }

    fn system_contracts(&self) -> RpcResult<Vec<SystemContract>> {
        Ok(system_contracts())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn abis_list_the_functions_tools_call() {
        let contracts = system_contracts();
        let names: Vec<&str> = contracts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "governance",
                "roles",
                "assets",
                "settlement",
                "ballots",
                "notary",
                "trace",
                "asset"
            ]
        );
        let token = contracts.iter().find(|c| c.name == "asset").unwrap();
        assert_eq!(token.address, None);
        assert!(token.abi.function("transfer").is_some());
        assert!(token.abi.event("Transfer").is_some());
        let assets = serde_json::to_value(&contracts[2]).unwrap();
        assert_eq!(assets["address"], json!(ASSETS));
        // The standard ABI array, with the struct parameter as a tuple.
        let issue = assets["abi"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "issue")
            .unwrap();
        assert_eq!(issue["inputs"][5]["type"], "tuple");
        assert_eq!(issue["stateMutability"], "nonpayable");
    }

    #[test]
    fn ballots_read_as_open_until_their_end_block() {
        let b = json!({"id": 1, "endBlock": 10});
        assert_eq!(with_status(b.clone(), 9)["status"], "open");
        assert_eq!(with_status(b, 10)["status"], "closed");
        assert!(with_status(Value::Null, 3).is_null());
    }
}
