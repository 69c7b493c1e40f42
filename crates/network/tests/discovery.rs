//! Discovery: Kademlia through bootnodes, and mDNS on a LAN.

mod common;

use std::{collections::HashSet, time::Duration};

use common::{config, next_event, start, start_with, wait_peers, Node};
use tally_network::{Keypair, NetworkConfig, NetworkEvent, RefuseReason};

/// Discovery runs every 300 ms in these tests, so a lost race is retried soon.
fn discovering(genesis: u8) -> NetworkConfig {
    let mut config = config(genesis);
    config.discovery_interval = Duration::from_millis(300);
    config
}

fn booted(mut config: NetworkConfig, bootnodes: &[&Node]) -> NetworkConfig {
    config.bootnodes = bootnodes.iter().map(|n| n.addr.clone()).collect();
    config
}

#[tokio::test]
async fn nodes_sharing_a_bootnode_find_each_other() {
    let a = start(discovering(1)).await;
    let b = start(booted(discovering(1), &[&a])).await;
    wait_peers(&a, "b to reach the bootnode", |p| p.contains(&b.id)).await;
    // C knows only A; B's address can only come from A's routing table.
    let c = start(booted(discovering(1), &[&a])).await;
    wait_peers(&c, "c to find b through kademlia", |p| p.contains(&b.id)).await;
    wait_peers(&b, "b to see c", |p| p.contains(&c.id)).await;
    let c_peers: HashSet<_> = c
        .handle
        .peers()
        .await
        .expect("running")
        .into_iter()
        .collect();
    assert!(c_peers.contains(&a.id), "c lost its bootnode: {c_peers:?}");
}

#[tokio::test]
async fn without_kademlia_a_bootnode_does_not_introduce_its_peers() {
    let mut plain = discovering(1);
    plain.kademlia = false;
    let mut a = start(plain.clone()).await;
    let b = start(booted(plain.clone(), &[&a])).await;
    let c = start(booted(plain, &[&a])).await;
    for id in [b.id, c.id] {
        next_event(
            &mut a,
            "both to reach the bootnode",
            |e| matches!(e, NetworkEvent::PeerConnected(p) if *p == id),
        )
        .await;
    }
    // Many discovery rounds pass; nothing may link b and c.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let c_peers = c.handle.peers().await.expect("running");
    assert_eq!(c_peers, vec![a.id]);
}

#[tokio::test]
async fn consortium_member_never_connects_to_a_non_member_found_by_kademlia() {
    let member_key = Keypair::generate_ed25519();
    let member_id = member_key.public().to_peer_id();
    let hub_key = Keypair::generate_ed25519();
    let hub_id = hub_key.public().to_peer_id();
    let members: HashSet<_> = [member_id, hub_id].into_iter().collect();

    // The hub accepts anyone (no allowlist), so an outsider gets into its
    // routing table and the hub hands it to the member during lookups.
    let hub = start_with(discovering(1), hub_key).await;
    let outsider = start(booted(discovering(1), &[&hub])).await;
    wait_peers(&hub, "outsider to reach the hub", |p| {
        p.contains(&outsider.id)
    })
    .await;

    let mut member_config = booted(discovering(1), &[&hub]);
    member_config.allowlist = Some(members);
    let mut member = start_with(member_config, member_key).await;
    // The member learns of the outsider only through kademlia (its own
    // lookups, or the outsider's dial after finding it in the hub's table);
    // either way the gate refuses it.
    next_event(&mut member, "refusal of the discovered outsider", |e| {
        matches!(e, NetworkEvent::Refused { peer, reason: RefuseReason::NotAllowed } if *peer == outsider.id)
    })
    .await;
    // Later discovery rounds keep finding it and keep it out.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let peers = member.handle.peers().await.expect("running");
    assert!(peers.contains(&hub_id), "member lost the hub: {peers:?}");
    assert!(
        !peers.contains(&outsider.id),
        "non-member connected: {peers:?}"
    );
    let outsider_peers = outsider.handle.peers().await.expect("running");
    assert!(
        !outsider_peers.contains(&member_id),
        "non-member connected: {outsider_peers:?}"
    );
}

#[tokio::test]
async fn mdns_finds_a_node_on_the_lan() {
    // mDNS only announces addresses on non-loopback interfaces, so these
    // nodes listen on every interface instead of 127.0.0.1.
    let lan = || {
        let mut config = discovering(7);
        config.listen = "/ip4/0.0.0.0/tcp/0".parse().expect("static address");
        config.mdns = true;
        config
    };
    let a = start(lan()).await;
    let b = start(lan()).await;
    wait_peers(&a, "a to find b by mdns", |p| p.contains(&b.id)).await;
    wait_peers(&b, "b to see a", |p| p.contains(&a.id)).await;
}
