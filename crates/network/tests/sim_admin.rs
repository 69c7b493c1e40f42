//! The operator's controls on the simulated network: blocks partition it by
//! hand as on the real one, and agree with the hub's own partitions.

use tally_network::{
    multiaddr::Protocol,
    peer_id_from_ed25519_secret,
    sim::{Faults, SimNetwork},
    Direction, Multiaddr, Network, NetworkError, NetworkEvent, PeerId,
};
use tokio::sync::mpsc;

fn peer(n: u8) -> PeerId {
    peer_id_from_ed25519_secret([n; 32]).expect("any 32 bytes are an ed25519 secret")
}

fn addr(peer: PeerId) -> Multiaddr {
    Multiaddr::empty().with(Protocol::P2p(peer))
}

/// Peers connected and disconnected since the last call, each sorted.
fn connections(events: &mut mpsc::Receiver<NetworkEvent>) -> (Vec<PeerId>, Vec<PeerId>) {
    let (mut up, mut down) = (Vec::new(), Vec::new());
    while let Ok(event) = events.try_recv() {
        match event {
            NetworkEvent::PeerConnected(p) => up.push(p),
            NetworkEvent::PeerDisconnected(p) => down.push(p),
            _ => {}
        }
    }
    up.sort();
    down.sort();
    (up, down)
}

#[tokio::test]
async fn block_cuts_both_sides_until_unblock() {
    let sim = SimNetwork::new(1, Faults::default());
    let (a, mut a_events) = sim.join(peer(1));
    let (b, mut b_events) = sim.join(peer(2));
    let (c, _c_events) = sim.join(peer(3));
    connections(&mut a_events);
    connections(&mut b_events);

    a.block_peer(peer(2)).await.expect("member");
    assert_eq!(connections(&mut a_events), (vec![], vec![peer(2)]));
    assert_eq!(connections(&mut b_events), (vec![], vec![peer(1)]));
    assert!(!sim.linked(&peer(1), &peer(2)));
    assert!(
        sim.linked(&peer(2), &peer(3)),
        "only the blocked pair is cut"
    );
    assert_eq!(a.blocked_peers().await.expect("member"), vec![peer(2)]);
    assert!(b.blocked_peers().await.expect("member").is_empty());

    // Neither side can bring the link back while the block holds.
    let err = a.add_peer(addr(peer(2))).await.expect_err("blocked");
    assert!(err.to_string().contains("blocked by the operator"), "{err}");
    b.add_peer(addr(peer(1))).await.expect("b blocks no one");
    assert!(!sim.linked(&peer(1), &peer(2)));
    // Nor does healing a partition: blocks are the nodes' own.
    sim.partition(&[vec![peer(3)]]);
    sim.heal();
    assert!(!sim.linked(&peer(1), &peer(2)));
    connections(&mut a_events);

    assert!(a.unblock_peer(peer(2)).await.expect("member"));
    assert!(!a.unblock_peer(peer(2)).await.expect("member"));
    assert_eq!(connections(&mut a_events), (vec![peer(2)], vec![]));
    assert!(a.blocked_peers().await.expect("member").is_empty());
    assert_eq!(c.peers().await.expect("member").len(), 2);
}

#[tokio::test]
async fn unblock_does_not_cross_a_partition_and_a_restart_forgets_blocks() {
    let sim = SimNetwork::new(2, Faults::default());
    let (a, _a_events) = sim.join(peer(1));
    let (_b, _b_events) = sim.join(peer(2));
    a.block_peer(peer(2)).await.expect("member");
    sim.partition(&[vec![peer(1)], vec![peer(2)]]);
    assert!(a.unblock_peer(peer(2)).await.expect("member"));
    assert!(!sim.linked(&peer(1), &peer(2)), "the partition still holds");
    sim.heal();
    assert!(sim.linked(&peer(1), &peer(2)));

    a.block_peer(peer(2)).await.expect("member");
    let (a, _a_events) = sim.join(peer(1));
    assert!(
        sim.linked(&peer(1), &peer(2)),
        "a restarted node has no blocks"
    );
    assert!(a.blocked_peers().await.expect("member").is_empty());
}

#[tokio::test]
async fn remove_cuts_a_link_until_a_side_adds_the_other() {
    let sim = SimNetwork::new(3, Faults::default());
    let (a, mut a_events) = sim.join(peer(1));
    let (b, _b_events) = sim.join(peer(2));
    connections(&mut a_events);

    assert!(a.remove_peer(peer(2)).await.expect("member"));
    assert_eq!(connections(&mut a_events), (vec![], vec![peer(2)]));
    assert!(
        !a.remove_peer(peer(2)).await.expect("member"),
        "already cut"
    );

    // An address without a peer id cannot be dialled on the hub.
    let err = b
        .add_peer("/ip4/127.0.0.1/tcp/1".parse().expect("valid"))
        .await
        .expect_err("no peer id");
    assert!(matches!(err, NetworkError::Dial { .. }), "{err}");
    let err = b.add_peer(addr(peer(2))).await.expect_err("itself");
    assert!(err.to_string().contains("own peer id"), "{err}");

    b.add_peer(addr(peer(1))).await.expect("member");
    assert_eq!(connections(&mut a_events), (vec![peer(2)], vec![]));
    let seen_by_b = b.peer_infos().await.expect("member");
    assert_eq!(seen_by_b.len(), 1);
    assert_eq!(seen_by_b[0].peer_id, peer(1));
    assert_eq!(seen_by_b[0].direction, Direction::Outbound, "b dialled");
    assert!(seen_by_b[0].is_static);
    assert_eq!(seen_by_b[0].remote_addr, addr(peer(1)));
    let seen_by_a = a.peer_infos().await.expect("member");
    assert_eq!(seen_by_a[0].direction, Direction::Inbound);
    assert!(!seen_by_a[0].is_static);

    // Removing a static peer forgets it as static.
    assert!(b.remove_peer(peer(1)).await.expect("member"));
    assert!(!sim.linked(&peer(1), &peer(2)));
    assert!(b.peer_infos().await.expect("member").is_empty());
    assert!(b.listen_addrs().await.expect("member").is_empty());
}

#[tokio::test]
async fn later_joiner_is_the_dialer() {
    let sim = SimNetwork::new(4, Faults::default());
    let (a, _a_events) = sim.join(peer(1));
    let (b, _b_events) = sim.join(peer(2));
    let a_view = a.peer_infos().await.expect("member");
    let b_view = b.peer_infos().await.expect("member");
    assert_eq!(a_view[0].direction, Direction::Inbound);
    assert_eq!(b_view[0].direction, Direction::Outbound);
    sim.leave(&peer(2));
    assert!(matches!(
        b.peer_infos().await,
        Err(NetworkError::ServiceStopped)
    ));
}
