//! Helpers for the multi-node tests: nodes on 127.0.0.1 with port 0, and
//! waits that poll for a condition under a generous deadline (never a sleep
//! used as an assertion).

#![allow(dead_code)] // each test file uses a different subset

use std::{collections::HashSet, future::Future, time::Duration};

use libp2p::multiaddr::Protocol;
use tally_network::{
    GossipKind, Keypair, Multiaddr, NetworkConfig, NetworkEvent, NetworkHandle, NetworkService,
    PeerId,
};
use tokio::sync::mpsc;

/// Upper bound for any wait; tests normally finish far sooner.
pub const DEADLINE: Duration = Duration::from_secs(20);

pub struct Node {
    pub handle: NetworkHandle,
    pub events: mpsc::Receiver<NetworkEvent>,
    pub id: PeerId,
    pub addr: Multiaddr,
}

pub fn config(genesis: u8) -> NetworkConfig {
    let mut config = NetworkConfig::new(
        "/ip4/127.0.0.1/tcp/0".parse().expect("static address"),
        1337,
        [genesis; 32],
    );
    config.gossip_heartbeat = Duration::from_millis(200);
    config
}

pub async fn start_with(config: NetworkConfig, keypair: Keypair) -> Node {
    // `RUST_LOG=tally_network=debug cargo test` shows what the nodes do.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let (handle, events) = NetworkService::start(config, keypair)
        .await
        .expect("network starts");
    let id = handle.local_peer_id();
    let mut addr = handle
        .listen_addrs()
        .await
        .expect("service running")
        .into_iter()
        .next()
        .expect("start returns once listening");
    addr.push(Protocol::P2p(id));
    Node {
        handle,
        events,
        id,
        addr,
    }
}

pub async fn start(config: NetworkConfig) -> Node {
    start_with(config, Keypair::generate_ed25519()).await
}

/// Starts a node on chain `genesis` that dials `bootnodes`.
pub async fn start_booted(genesis: u8, bootnodes: &[&Node]) -> Node {
    let mut config = config(genesis);
    config.bootnodes = bootnodes.iter().map(|n| n.addr.clone()).collect();
    start(config).await
}

/// Runs `fut` under the deadline, naming what was awaited on failure.
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out after {DEADLINE:?} waiting for {what}"))
}

/// Receives events until one matches `pred`, returning it.
pub async fn next_event(
    node: &mut Node,
    what: &str,
    mut pred: impl FnMut(&NetworkEvent) -> bool,
) -> NetworkEvent {
    within(what, async {
        loop {
            let event = node.events.recv().await.expect("event channel open");
            if pred(&event) {
                return event;
            }
        }
    })
    .await
}

/// Polls `peers()` until it satisfies `pred`.
pub async fn wait_peers(node: &Node, what: &str, pred: impl Fn(&HashSet<PeerId>) -> bool) {
    within(what, async {
        loop {
            let peers: HashSet<PeerId> = node
                .handle
                .peers()
                .await
                .expect("service running")
                .into_iter()
                .collect();
            if pred(&peers) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
}

/// Publishes fresh payloads from `sender` until `receiver` gets one of them
/// from `sender` on `kind`; returns the payload received. Retrying covers the
/// moments before subscriptions and meshes have formed.
pub async fn gossip_until_received(
    sender: &Node,
    receiver: &mut Node,
    kind: GossipKind,
) -> Vec<u8> {
    let sender_id = sender.id;
    within(&format!("{kind} gossip to arrive"), async {
        for attempt in 0u32.. {
            let payload = format!("{kind} payload {attempt} from {sender_id}").into_bytes();
            // NoPeers just means subscriptions have not arrived yet.
            let _ = sender.handle.publish(kind, payload.clone()).await;
            let wait = tokio::time::timeout(Duration::from_millis(300), async {
                loop {
                    match receiver.events.recv().await.expect("event channel open") {
                        NetworkEvent::Gossip {
                            from,
                            kind: k,
                            data,
                        } if from == sender_id && k == kind => {
                            return data;
                        }
                        _ => {}
                    }
                }
            })
            .await;
            if let Ok(data) = wait {
                return data;
            }
        }
        unreachable!("the attempt loop only ends by returning")
    })
    .await
}
