//! The few JSON-RPC calls the bench needs, over one pooled HTTP client.
//!
//! Calls that the bench makes in bulk (sending, reading blocks and receipts)
//! go as JSON-RPC batches; every entry of a batch answers on its own, so one
//! refused transaction never hides the others.

use std::time::Duration;

use alloy_primitives::{Address, Bytes, B256, U128, U256, U64};
use anyhow::{anyhow, bail, Context as _};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::BatchRequestBuilder;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use serde_json::Value;

/// A block's number and the hashes of its transactions.
pub struct BlockTxs {
    pub number: u64,
    pub hashes: Vec<B256>,
}

/// The parts of a receipt the bench checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiptStatus {
    pub success: bool,
    pub contract_address: Option<Address>,
}

/// A JSON-RPC endpoint.
#[derive(Clone)]
pub struct Rpc {
    client: HttpClient,
    url: String,
}

impl Rpc {
    /// A client for `url`; no request is made yet.
    pub fn new(url: &str, timeout: Duration) -> anyhow::Result<Self> {
        let client = HttpClientBuilder::default()
            .request_timeout(timeout)
            // Batches of raw transactions and blocks with thousands of
            // hashes exceed the 10 MB default only in extreme runs.
            .max_request_size(64 << 20)
            .max_response_size(256 << 20)
            .max_concurrent_requests(1024)
            .build(url)
            .with_context(|| format!("invalid RPC URL {url:?}: expected http://host:port"))?;
        Ok(Self {
            client,
            url: url.to_string(),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    async fn call<R: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        params: jsonrpsee::core::params::ArrayParams,
    ) -> anyhow::Result<R> {
        self.client
            .request(method, params)
            .await
            .map_err(|e| anyhow!("{method} on {}: {e}", self.url))
    }

    pub async fn chain_id(&self) -> anyhow::Result<u64> {
        let id: U64 = self.call("eth_chainId", rpc_params![]).await?;
        Ok(id.to())
    }

    pub async fn block_number(&self) -> anyhow::Result<u64> {
        let n: U64 = self.call("eth_blockNumber", rpc_params![]).await?;
        Ok(n.to())
    }

    pub async fn gas_price(&self) -> anyhow::Result<u128> {
        let p: U128 = self.call("eth_gasPrice", rpc_params![]).await?;
        Ok(p.to())
    }

    /// On a Tally consortium (BFT) chain, the role mask of `address`
    /// (`tally_getRoles`); None on other chains and nodes.
    pub async fn tally_roles(&self, address: Address) -> Option<u8> {
        let info: Value = self
            .call("tally_getRoles", rpc_params![address])
            .await
            .ok()?;
        info.get("mask")?
            .as_u64()
            .and_then(|m| u8::try_from(m).ok())
    }

    /// Tally's pipeline counters (`tally_metrics`); None for other nodes.
    pub async fn tally_metrics(&self) -> Option<Value> {
        self.call("tally_metrics", rpc_params![]).await.ok()
    }

    /// The node's suggested tip, or None if it does not offer
    /// eth_maxPriorityFeePerGas.
    pub async fn max_priority_fee(&self) -> Option<u128> {
        let p: Result<U128, _> = self.call("eth_maxPriorityFeePerGas", rpc_params![]).await;
        p.ok().map(|p| p.to())
    }

    /// The latest block's base fee, or None before London.
    pub async fn latest_base_fee(&self) -> anyhow::Result<Option<u128>> {
        let block: Value = self
            .call("eth_getBlockByNumber", rpc_params!["latest", false])
            .await?;
        match block.get("baseFeePerGas") {
            None | Some(Value::Null) => Ok(None),
            Some(v) => {
                let fee: U128 = serde_json::from_value(v.clone())
                    .with_context(|| format!("baseFeePerGas {v} is not a quantity"))?;
                Ok(Some(fee.to()))
            }
        }
    }

    pub async fn pending_nonce(&self, address: Address) -> anyhow::Result<u64> {
        let n: U64 = self
            .call("eth_getTransactionCount", rpc_params![address, "pending"])
            .await?;
        Ok(n.to())
    }

    /// An eth_call at the latest block: the returned data.
    pub async fn call_contract(&self, to: Address, data: Bytes) -> anyhow::Result<Bytes> {
        let req = serde_json::json!({ "to": to, "data": data });
        self.call("eth_call", rpc_params![req, "latest"]).await
    }

    /// eth_estimateGas of a call from `from` at the latest block.
    pub async fn estimate_gas(
        &self,
        from: Address,
        to: Address,
        data: Bytes,
    ) -> anyhow::Result<u64> {
        let req = serde_json::json!({ "from": from, "to": to, "data": data });
        let gas: U64 = self.call("eth_estimateGas", rpc_params![req]).await?;
        Ok(gas.to())
    }

    pub async fn balance(&self, address: Address) -> anyhow::Result<U256> {
        self.call("eth_getBalance", rpc_params![address, "latest"])
            .await
    }

    /// Sends raw transactions in one batch. The outer error is a failure of
    /// the whole request (network, timeout, malformed answer); the inner one
    /// is the node's message for a refused transaction.
    pub async fn send_raw_batch(
        &self,
        raws: &[Bytes],
    ) -> anyhow::Result<Vec<Result<B256, String>>> {
        let mut batch = BatchRequestBuilder::new();
        for raw in raws {
            batch.insert("eth_sendRawTransaction", rpc_params![raw])?;
        }
        self.batch_entries(batch).await.map(|entries| {
            entries
                .into_iter()
                .map(|e| {
                    e.and_then(|v| {
                        serde_json::from_value::<B256>(v.clone())
                            .map_err(|_| format!("node answered {v} instead of a tx hash"))
                    })
                })
                .collect()
        })
    }

    /// Transaction hashes of consecutive blocks from `from`; stops at the
    /// first block the node does not have yet.
    pub async fn blocks_tx_hashes(&self, from: u64, count: u64) -> anyhow::Result<Vec<BlockTxs>> {
        let mut batch = BatchRequestBuilder::new();
        for n in from..from.saturating_add(count) {
            batch.insert("eth_getBlockByNumber", rpc_params![U64::from(n), false])?;
        }
        let mut out = Vec::new();
        for (entry, number) in self.batch_entries(batch).await?.into_iter().zip(from..) {
            let block = entry.map_err(|e| anyhow!("eth_getBlockByNumber({number}): {e}"))?;
            if block.is_null() {
                break;
            }
            let hashes = block
                .get("transactions")
                .and_then(Value::as_array)
                .ok_or_else(|| anyhow!("block {number} has no transactions array"))?
                .iter()
                .map(|h| serde_json::from_value::<B256>(h.clone()))
                .collect::<Result<Vec<_>, _>>()
                .with_context(|| format!("block {number}: transactions are not hashes"))?;
            out.push(BlockTxs { number, hashes });
        }
        Ok(out)
    }

    /// Receipts of `hashes`, in order; None where the node has none (yet).
    pub async fn receipts(&self, hashes: &[B256]) -> anyhow::Result<Vec<Option<ReceiptStatus>>> {
        let mut batch = BatchRequestBuilder::new();
        for h in hashes {
            batch.insert("eth_getTransactionReceipt", rpc_params![h])?;
        }
        self.batch_entries(batch)
            .await?
            .into_iter()
            .zip(hashes)
            .map(|(entry, hash)| {
                let r = entry.map_err(|e| anyhow!("eth_getTransactionReceipt({hash}): {e}"))?;
                parse_receipt(&r).with_context(|| format!("receipt of {hash}"))
            })
            .collect()
    }

    /// Whether the node knows each of `hashes`, in order: `false` where
    /// eth_getTransactionByHash answers null (neither pooled nor in a
    /// block). An entry the node answers with an error counts as known:
    /// nothing is concluded from it.
    pub async fn transactions_known(&self, hashes: &[B256]) -> anyhow::Result<Vec<bool>> {
        let mut batch = BatchRequestBuilder::new();
        for h in hashes {
            batch.insert("eth_getTransactionByHash", rpc_params![h])?;
        }
        Ok(self
            .batch_entries(batch)
            .await?
            .into_iter()
            .map(|entry| entry.map_or(true, |v| !v.is_null()))
            .collect())
    }

    async fn batch_entries(
        &self,
        batch: BatchRequestBuilder<'_>,
    ) -> anyhow::Result<Vec<Result<Value, String>>> {
        let response = self
            .client
            .batch_request::<Value>(batch)
            .await
            .map_err(|e| anyhow!("batch request to {}: {e}", self.url))?;
        Ok(response
            .into_iter()
            .map(|e| e.map_err(|err| err.message().to_string()))
            .collect())
    }
}

/// Reads a receipt's status and created contract; Ok(None) for `null`
/// (not mined yet).
pub fn parse_receipt(r: &Value) -> anyhow::Result<Option<ReceiptStatus>> {
    if r.is_null() {
        return Ok(None);
    }
    let status: U64 = match r.get("status") {
        Some(s) => serde_json::from_value(s.clone())
            .with_context(|| format!("status {s} is not a quantity"))?,
        None => bail!("no status field (pre-Byzantium receipt?)"),
    };
    let contract_address = match r.get("contractAddress") {
        None | Some(Value::Null) => None,
        Some(a) => Some(
            serde_json::from_value(a.clone())
                .with_context(|| format!("contractAddress {a} is not an address"))?,
        ),
    };
    Ok(Some(ReceiptStatus {
        success: status == U64::from(1),
        contract_address,
    }))
}
