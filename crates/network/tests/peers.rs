//! Membership: the consortium allowlist and bans for misbehaviour.

mod common;

use std::collections::HashSet;

use common::{config, next_event, start, start_with, wait_peers};
use tally_network::{Keypair, Misbehaviour, NetworkEvent, RefuseReason};

#[tokio::test]
async fn non_member_cannot_connect_to_an_allowlisted_network() {
    let member_key = Keypair::generate_ed25519();
    let member_id = member_key.public().to_peer_id();
    let gate_key = Keypair::generate_ed25519();
    let gate_id = gate_key.public().to_peer_id();
    let members: HashSet<_> = [member_id, gate_id].into_iter().collect();

    let mut gate_config = config(1);
    gate_config.allowlist = Some(members.clone());
    let mut gate = start_with(gate_config, gate_key).await;

    // An outsider dials the consortium node: refused, and the refusal names it.
    let mut outsider_config = config(1);
    outsider_config.bootnodes = vec![gate.addr.clone()];
    let outsider = start(outsider_config).await;
    let event = next_event(
        &mut gate,
        "refusal of the outsider",
        |e| matches!(e, NetworkEvent::Refused { peer, .. } if *peer == outsider.id),
    )
    .await;
    let NetworkEvent::Refused { reason, .. } = event else {
        unreachable!("matched above")
    };
    assert_eq!(reason, RefuseReason::NotAllowed);
    assert_eq!(reason.to_string(), "not a member of this chain");

    // A member connects normally.
    let mut member_config = config(1);
    member_config.allowlist = Some(members);
    member_config.bootnodes = vec![gate.addr.clone()];
    let _member = start_with(member_config, member_key).await;
    next_event(
        &mut gate,
        "member to connect",
        |e| matches!(e, NetworkEvent::PeerConnected(p) if *p == member_id),
    )
    .await;

    // Dialling the outsider from the consortium side is refused before any
    // connection is made, since the address names the peer.
    let err = gate
        .handle
        .dial(outsider.addr.clone())
        .await
        .expect_err("dial to a non-member is denied");
    assert!(
        err.to_string().contains("not a member of this chain"),
        "{err}"
    );
    next_event(&mut gate, "refusal of the outbound connection", |e| {
        matches!(e, NetworkEvent::Refused { peer, reason: RefuseReason::NotAllowed } if *peer == outsider.id)
    })
    .await;
    let peers = gate.handle.peers().await.expect("running");
    assert!(peers.contains(&member_id));
    assert!(
        !peers.contains(&outsider.id),
        "outsider connected: {peers:?}"
    );
}

#[tokio::test]
async fn misbehaving_peer_is_disconnected_and_banned() {
    let mut a = start(config(1)).await;
    let b = common::start_booted(1, &[&a]).await;
    next_event(
        &mut a,
        "b to connect",
        |e| matches!(e, NetworkEvent::PeerConnected(p) if *p == b.id),
    )
    .await;

    // A malformed message (20) stays under the threshold (100); an
    // invalid block (100) is never honest and crosses it alone.
    a.handle
        .report_peer(b.id, Misbehaviour::MalformedMessage)
        .await
        .expect("running");
    assert!(a.handle.peers().await.expect("running").contains(&b.id));

    a.handle
        .report_peer(b.id, Misbehaviour::InvalidBlock)
        .await
        .expect("running");
    next_event(&mut a, "ban of b", |e| {
        matches!(e, NetworkEvent::Refused { peer, reason: RefuseReason::Misbehaved { score: 120 } } if *peer == b.id)
    })
    .await;
    next_event(
        &mut a,
        "b to be disconnected",
        |e| matches!(e, NetworkEvent::PeerDisconnected(p) if *p == b.id),
    )
    .await;

    // Coming back is refused while the ban lasts.
    b.handle.dial(a.addr.clone()).await.expect("dial starts");
    next_event(&mut a, "refusal of the banned peer", |e| {
        matches!(e, NetworkEvent::Refused { peer, reason: RefuseReason::Banned } if *peer == b.id)
    })
    .await;
    wait_peers(&a, "b to stay out", |p| !p.contains(&b.id)).await;
}

#[tokio::test]
async fn peers_beyond_the_limit_are_refused() {
    let mut hub_config = config(1);
    hub_config.max_peers = 1;
    let mut hub = start(hub_config).await;
    let first = common::start_booted(1, &[&hub]).await;
    next_event(
        &mut hub,
        "first peer",
        |e| matches!(e, NetworkEvent::PeerConnected(p) if *p == first.id),
    )
    .await;
    let second = common::start_booted(1, &[&hub]).await;
    next_event(&mut hub, "refusal of the second peer", |e| {
        matches!(e, NetworkEvent::Refused { peer, reason: RefuseReason::TooManyPeers } if *peer == second.id)
    })
    .await;
    let peers = hub.handle.peers().await.expect("running");
    assert_eq!(peers, vec![first.id]);
}
