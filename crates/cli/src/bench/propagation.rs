//! How long blocks take to reach other nodes: `tally bench --watch URL`
//! subscribes to `newHeads` on the node under load and on each watched node
//! (WebSocket, any Ethereum node), notes when each block hash first appears
//! on each, and reports per watched node the delay after the node under
//! load announced it (median, p90, max). The notification path is the same
//! on every node, so the difference is the time to gossip, verify, execute
//! and commit the block.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use jsonrpsee::{
    core::client::{Subscription, SubscriptionClientT},
    rpc_params,
    ws_client::WsClientBuilder,
};
use serde_json::Value;

pub use super::report::NodePropagation;

/// First sighting of each block hash, per node (index 0: the node under load).
type Sightings = Arc<Mutex<Vec<HashMap<String, Instant>>>>;

pub struct Watch {
    urls: Vec<String>,
    seen: Sightings,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// `http://h:p` → `ws://h:p` (Tally serves both on one port).
fn ws_url(url: &str) -> String {
    if let Some(rest) = url.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if let Some(rest) = url.strip_prefix("https://") {
        format!("wss://{rest}")
    } else {
        url.to_string()
    }
}

impl Watch {
    /// Subscribes on `origin` and every `watched` node before the load starts.
    pub async fn start(origin: &str, watched: &[String]) -> anyhow::Result<Watch> {
        let urls: Vec<String> = std::iter::once(origin.to_string())
            .chain(watched.iter().cloned())
            .collect();
        let seen: Sightings = Arc::new(Mutex::new(vec![HashMap::new(); urls.len()]));
        let mut tasks = Vec::new();
        for (i, url) in urls.iter().enumerate() {
            let ws = ws_url(url);
            let client = WsClientBuilder::default()
                .build(&ws)
                .await
                .with_context(|| format!("connecting to {ws} to watch new blocks"))?;
            let mut heads: Subscription<Value> = client
                .subscribe("eth_subscribe", rpc_params!["newHeads"], "eth_unsubscribe")
                .await
                .with_context(|| format!("subscribing to newHeads on {ws}"))?;
            let seen = seen.clone();
            tasks.push(tokio::spawn(async move {
                let _client = client;
                while let Some(Ok(head)) = heads.next().await {
                    let at = Instant::now();
                    if let Some(hash) = head.get("hash").and_then(Value::as_str) {
                        if let Ok(mut seen) = seen.lock() {
                            if let Some(node) = seen.get_mut(i) {
                                node.entry(hash.to_string()).or_insert(at);
                            }
                        }
                    }
                }
            }));
        }
        Ok(Watch { urls, seen, tasks })
    }

    /// Stops watching (after a grace period for the last blocks to arrive)
    /// and reduces the sightings to delays per watched node.
    pub async fn finish(self, grace: Duration) -> Vec<NodePropagation> {
        tokio::time::sleep(grace).await;
        for task in &self.tasks {
            task.abort();
        }
        let seen = match self.seen.lock() {
            Ok(seen) => seen.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        let Some(origin) = seen.first() else {
            return Vec::new();
        };
        self.urls
            .iter()
            .zip(seen.iter())
            .skip(1)
            .map(|(url, node)| {
                let mut delays: Vec<f64> = origin
                    .iter()
                    .filter_map(|(hash, at)| {
                        let there = node.get(hash)?;
                        Some(there.saturating_duration_since(*at).as_secs_f64() * 1e3)
                    })
                    .collect();
                delays.sort_by(f64::total_cmp);
                let pick = |q: f64| {
                    let i = ((delays.len() as f64 - 1.0) * q).round() as usize;
                    delays.get(i).copied().unwrap_or(0.0)
                };
                NodePropagation {
                    node: url.clone(),
                    blocks: delays.len(),
                    p50_ms: pick(0.5),
                    p90_ms: pick(0.9),
                    max_ms: delays.last().copied().unwrap_or(0.0),
                }
            })
            .collect()
    }
}
