//! WebSocket subscriptions (`eth_subscribe`): `newHeads`, `logs` and
//! `newPendingTransactions`.
//!
//! Each subscription forwards one of the backend's broadcast channels to the
//! client until the client unsubscribes or disconnects. A subscriber too
//! slow for the channel loses the oldest messages rather than stalling the
//! node.

use std::sync::Arc;

use alloy_rpc_types_eth::Filter;
use jsonrpsee::core::SubscriptionResult;
use jsonrpsee::{PendingSubscriptionSink, SubscriptionMessage, SubscriptionSink};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::backend::{Backend, NewBlock};
use crate::convert::{rpc_header, rpc_pending_transaction};
use crate::error::invalid_params;
use crate::logs::block_logs;

/// What a subscription delivers, parsed from `eth_subscribe`'s parameters.
enum Kind {
    NewHeads,
    Logs(Box<Filter>),
    PendingTxs { full: bool },
}

fn parse_kind(kind: &str, params: Option<Value>) -> Result<Kind, String> {
    match kind {
        "newHeads" => Ok(Kind::NewHeads),
        "logs" => {
            let filter = match params {
                None | Some(Value::Null) => Filter::default(),
                Some(v) => serde_json::from_value(v)
                    .map_err(|e| format!("invalid logs filter object: {e}"))?,
            };
            Ok(Kind::Logs(Box::new(filter)))
        }
        "newPendingTransactions" => {
            let full = match params {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => b,
                Some(v) => {
                    return Err(format!(
                        "newPendingTransactions takes an optional boolean (full \
                         transactions), got {v}"
                    ))
                }
            };
            Ok(Kind::PendingTxs { full })
        }
        other => Err(format!(
            "unsupported subscription {other:?}; expected newHeads, logs or newPendingTransactions"
        )),
    }
}

/// Handles one `eth_subscribe` call.
pub async fn subscribe(
    backend: Arc<dyn Backend>,
    pending: PendingSubscriptionSink,
    kind: String,
    params: Option<Value>,
) -> SubscriptionResult {
    let kind = match parse_kind(&kind, params) {
        Ok(k) => k,
        Err(msg) => {
            pending.reject(invalid_params(msg)).await;
            return Ok(());
        }
    };
    match kind {
        Kind::NewHeads => {
            let rx = backend.subscribe_new_blocks();
            let sink = pending.accept().await?;
            // A reorg's abandoned blocks are not heads; the new branch's
            // blocks follow them, as geth announces a reorg.
            forward(sink, rx, |nb: Arc<NewBlock>| {
                if nb.removed {
                    return Vec::new();
                }
                vec![rpc_header(&nb.block.header, None)]
            })
            .await
        }
        Kind::Logs(filter) => {
            let rx = backend.subscribe_new_blocks();
            let sink = pending.accept().await?;
            // Logs of blocks a reorg abandoned come again with
            // `removed: true`, so clients can undo what they applied.
            forward(sink, rx, move |nb: Arc<NewBlock>| {
                let mut logs = block_logs(&filter, &nb.block, &nb.receipts);
                for log in &mut logs {
                    log.removed = nb.removed;
                }
                logs
            })
            .await
        }
        Kind::PendingTxs { full: false } => {
            let rx = backend.subscribe_pending_txs();
            let sink = pending.accept().await?;
            forward(sink, rx, |hash| vec![hash]).await
        }
        Kind::PendingTxs { full: true } => {
            let rx = backend.subscribe_pending_txs();
            let sink = pending.accept().await?;
            let b = backend.clone();
            // A transaction may leave the pool before we look it up; it is
            // then simply not reported.
            forward(sink, rx, move |hash| {
                b.pending_transaction(hash)
                    .ok()
                    .flatten()
                    .map(|p| rpc_pending_transaction(&p.tx, p.sender))
                    .into_iter()
                    .collect()
            })
            .await
        }
    }
}

/// Sends `items(message)` for every broadcast message until the client goes
/// away or the channel closes.
async fn forward<M, T, F>(
    sink: SubscriptionSink,
    mut rx: broadcast::Receiver<M>,
    mut items: F,
) -> SubscriptionResult
where
    M: Clone,
    T: Serialize,
    F: FnMut(M) -> Vec<T>,
{
    loop {
        let msg = tokio::select! {
            _ = sink.closed() => return Ok(()),
            msg = rx.recv() => msg,
        };
        let msg = match msg {
            Ok(m) => m,
            Err(RecvError::Lagged(n)) => {
                tracing::debug!(skipped = n, "slow RPC subscriber skipped messages");
                continue;
            }
            Err(RecvError::Closed) => return Ok(()),
        };
        for item in items(msg) {
            let raw = serde_json::value::to_raw_value(&item)?;
            if sink.send(SubscriptionMessage::from(raw)).await.is_err() {
                return Ok(());
            }
        }
    }
}
