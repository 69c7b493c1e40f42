//! The operator's controls over real libp2p on loopback: listing, adding,
//! removing, blocking and unblocking peers.

mod common;

use std::time::Duration;

use common::{config, next_event, start, wait_peers, within, Node};
use tally_network::{
    Direction, Network, NetworkConfig, NetworkEvent, PeerId, PeerInfo, RefuseReason,
};

/// Without kademlia only bootnodes and the operator's calls make
/// connections, so each test controls exactly who talks to whom.
fn quiet(bootnodes: &[&Node]) -> NetworkConfig {
    let mut config = config(1);
    config.kademlia = false;
    config.bootnodes = bootnodes.iter().map(|n| n.addr.clone()).collect();
    config
}

async fn connected(node: &mut Node, peer: PeerId, what: &str) {
    next_event(
        node,
        what,
        |e| matches!(e, NetworkEvent::PeerConnected(p) if *p == peer),
    )
    .await;
}

async fn disconnected(node: &mut Node, peer: PeerId, what: &str) {
    next_event(
        node,
        what,
        |e| matches!(e, NetworkEvent::PeerDisconnected(p) if *p == peer),
    )
    .await;
}

/// Polls `peer_infos` until `peer` is listed and `pred` holds for it.
async fn wait_info(
    node: &Node,
    peer: PeerId,
    what: &str,
    pred: impl Fn(&PeerInfo) -> bool,
) -> PeerInfo {
    within(what, async {
        loop {
            let infos = node.handle.peer_infos().await.expect("running");
            if let Some(info) = infos.into_iter().find(|i| i.peer_id == peer) {
                if pred(&info) {
                    return info;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
}

#[tokio::test]
async fn blocking_cuts_a_peer_refuses_it_both_ways_and_unblocking_reconnects() {
    let mut a = start(quiet(&[])).await;
    let c = start(quiet(&[])).await;
    // B keeps C while A blocks it, so B never falls back to redialling its
    // bootnodes: only A's unblock can bring the two together again.
    let b = start(quiet(&[&a, &c])).await;
    connected(&mut a, b.id, "b to connect").await;
    wait_peers(&b, "b to reach c", |p| p.contains(&c.id)).await;
    // B dialled A, so A learns where B listens only from identify.
    wait_info(&a, b.id, "identify of b", |i| !i.listen_addrs.is_empty()).await;

    a.handle.block_peer(b.id).await.expect("running");
    disconnected(&mut a, b.id, "b to be cut").await;
    assert_eq!(a.handle.blocked_peers().await.expect("running"), vec![b.id]);
    wait_peers(&b, "b to see a gone", |p| !p.contains(&a.id)).await;

    // Inbound: B dials A and is refused, with the reason.
    b.handle
        .dial(a.addr.clone())
        .await
        .expect("b does not block a");
    next_event(&mut a, "refusal of the blocked peer", |e| {
        matches!(e, NetworkEvent::Refused { peer, reason: RefuseReason::Blocked } if *peer == b.id)
    })
    .await;
    // Outbound: A will not dial B, whether asked to dial or to add it.
    let err = a.handle.dial(b.addr.clone()).await.expect_err("blocked");
    assert!(err.to_string().contains("blocked by the operator"), "{err}");
    let err = Network::add_peer(&a.handle, b.addr.clone())
        .await
        .expect_err("blocked");
    assert!(err.to_string().contains("blocked by the operator"), "{err}");
    assert!(!a.handle.peers().await.expect("running").contains(&b.id));

    assert!(a.handle.unblock_peer(b.id).await.expect("running"));
    assert!(a.handle.blocked_peers().await.expect("running").is_empty());
    connected(&mut a, b.id, "a to redial b where it listens").await;
    wait_peers(&b, "b to see a again", |p| p.contains(&a.id)).await;
    assert!(
        !a.handle.unblock_peer(b.id).await.expect("running"),
        "b is no longer blocked"
    );
}

#[tokio::test]
async fn removing_a_peer_disconnects_it() {
    let mut a = start(quiet(&[])).await;
    let b = start(quiet(&[&a])).await;
    connected(&mut a, b.id, "b to connect").await;

    assert!(a.handle.remove_peer(b.id).await.expect("running"));
    disconnected(&mut a, b.id, "b to be removed").await;
    // Neither connected nor static: nothing to remove.
    let stranger = PeerId::random();
    assert!(!a.handle.remove_peer(stranger).await.expect("running"));
}

#[tokio::test]
async fn adding_a_peer_dials_it_and_keeps_redialling_it() {
    let mut a = start(quiet(&[])).await;
    let mut b = start(quiet(&[])).await;

    a.handle
        .add_peer(b.addr.clone())
        .await
        .expect("dial starts");
    connected(&mut a, b.id, "a to dial b").await;
    connected(&mut b, a.id, "b to accept a").await;

    let seen_by_a = wait_info(&a, b.id, "identify of b", |i| i.agent_version.is_some()).await;
    assert_eq!(seen_by_a.direction, Direction::Outbound);
    assert!(seen_by_a.is_static);
    assert_eq!(seen_by_a.local_addr, None);
    assert!(
        b.addr
            .to_string()
            .starts_with(&seen_by_a.remote_addr.to_string())
            || seen_by_a
                .remote_addr
                .to_string()
                .starts_with(&b.addr.to_string()),
        "remote {} vs listen {}",
        seen_by_a.remote_addr,
        b.addr
    );
    let agent = seen_by_a.agent_version.expect("identified");
    assert!(agent.starts_with("tally/v"), "{agent}");
    let protocol = seen_by_a.protocol_version.expect("identified");
    assert!(protocol.starts_with("tally/1/1337/"), "{protocol}");
    assert!(!seen_by_a.listen_addrs.is_empty());

    let seen_by_b = wait_info(&b, a.id, "a in b's list", |_| true).await;
    assert_eq!(seen_by_b.direction, Direction::Inbound);
    assert!(!seen_by_b.is_static);
    assert!(seen_by_b.local_addr.is_some());

    // B drops A; A redials its static peer by itself.
    assert!(b.handle.remove_peer(a.id).await.expect("running"));
    disconnected(&mut a, b.id, "b to drop a").await;
    connected(&mut a, b.id, "a to redial its static peer").await;

    // Removing forgets the static peer.
    assert!(a.handle.remove_peer(b.id).await.expect("running"));
    disconnected(&mut a, b.id, "a to drop b").await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(
        !a.handle.peers().await.expect("running").contains(&b.id),
        "a redialled a removed peer"
    );

    let err = a.handle.add_peer(a.addr.clone()).await.expect_err("self");
    assert!(err.to_string().contains("own peer id"), "{err}");
}
