//! Gossip between services connected through bootnodes.

mod common;

use common::{config, gossip_until_received, start, start_booted, wait_peers, within};
use tally_network::{GossipKind, NetworkEvent, PeerId, RefuseReason};

#[tokio::test]
async fn two_nodes_exchange_gossip_on_every_topic() {
    let mut a = start(config(1)).await;
    let mut b = start_booted(1, &[&a]).await;
    wait_peers(&a, "a to see b", |p| p.contains(&b.id)).await;

    for kind in GossipKind::ALL {
        let data = gossip_until_received(&a, &mut b, kind).await;
        assert!(data.starts_with(format!("{kind} payload").as_bytes()));
        let data = gossip_until_received(&b, &mut a, kind).await;
        assert!(data.starts_with(format!("{kind} payload").as_bytes()));
    }
    assert_eq!(a.handle.dropped_gossip(), 0);
    within("shutdown", a.handle.shutdown())
        .await
        .expect("clean shutdown");
    within("shutdown", b.handle.shutdown())
        .await
        .expect("clean shutdown");
}

#[tokio::test]
async fn gossip_is_relayed_across_three_nodes() {
    // b and c only know a, so b's messages reach c through a's mesh.
    // Kademlia is off: it would introduce b and c to each other.
    let no_discovery = |bootnodes: &[&common::Node]| {
        let mut config = config(1);
        config.kademlia = false;
        config.bootnodes = bootnodes.iter().map(|n| n.addr.clone()).collect();
        config
    };
    let mut a = start(no_discovery(&[])).await;
    let b = start(no_discovery(&[&a])).await;
    let mut c = start(no_discovery(&[&a])).await;
    wait_peers(&a, "a to see b and c", |p| {
        p.contains(&b.id) && p.contains(&c.id)
    })
    .await;
    assert!(
        !c.handle.peers().await.expect("running").contains(&b.id),
        "c must not be connected to b directly, or the relay is not tested"
    );

    for kind in GossipKind::ALL {
        let data = gossip_until_received(&b, &mut c, kind).await;
        assert!(data.starts_with(format!("{kind} payload").as_bytes()));
    }
    // a, in the middle, saw b's messages too.
    let seen = common::next_event(
        &mut a,
        "a to see b's gossip",
        |e| matches!(e, NetworkEvent::Gossip { from, .. } if *from == b.id),
    )
    .await;
    assert!(matches!(seen, NetworkEvent::Gossip { .. }));
}

#[tokio::test]
async fn different_genesis_hashes_never_share_gossip() {
    let mut a = start(config(1)).await;
    let mut other_chain = start_booted(2, &[&a]).await;
    let mut c = start_booted(1, &[&a]).await;

    // Whichever side completes identify first cuts the connection, so the
    // refusal may be reported by either.
    async fn refusal(node: &mut common::Node, of: PeerId) -> RefuseReason {
        loop {
            match node.events.recv().await.expect("event channel open") {
                NetworkEvent::Refused { peer, reason } if peer == of => return reason,
                _ => {}
            }
        }
    }
    let (a_id, other_id) = (a.id, other_chain.id);
    let reason = within("either side to refuse the other chain", async {
        tokio::select! {
            reason = refusal(&mut a, other_id) => reason,
            reason = refusal(&mut other_chain, a_id) => reason,
        }
    })
    .await;
    assert!(
        matches!(reason, RefuseReason::WrongChain { .. }),
        "{reason}"
    );
    wait_peers(&a, "a to drop the other chain", |p| {
        !p.contains(&other_chain.id)
    })
    .await;

    // Same-chain gossip still flows, and none of it reaches the other chain.
    for kind in GossipKind::ALL {
        gossip_until_received(&a, &mut c, kind).await;
    }
    while let Ok(event) = other_chain.events.try_recv() {
        assert!(
            !matches!(event, NetworkEvent::Gossip { .. }),
            "gossip crossed chains: {event:?}"
        );
    }
    // With only a foreign-chain peer, publishing reaches nobody.
    let err = other_chain
        .handle
        .publish_tx(b"lonely".to_vec())
        .await
        .expect_err("no peer on this chain");
    assert!(
        matches!(err, tally_network::NetworkError::NoPeers { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn gossip_beyond_the_event_buffer_is_dropped_and_counted() {
    let a = start(config(1)).await;
    let mut slow_config = config(1);
    slow_config.bootnodes = vec![a.addr.clone()];
    slow_config.event_buffer = 4;
    let mut slow = start(slow_config).await;
    gossip_until_received(&a, &mut slow, GossipKind::Tx).await;
    while slow.events.try_recv().is_ok() {}

    // The node stops draining; 20 messages cannot fit in a buffer of 4.
    for i in 0..20u32 {
        a.handle
            .publish_tx(format!("burst {i}").into_bytes())
            .await
            .expect("slow node is subscribed");
    }
    within("drops to be counted", async {
        while slow.handle.dropped_gossip() < 16 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    // The buffer stayed full and what it kept arrives in publish order. (A
    // late retry from the warm-up may hold a slot, hence the filter.)
    let mut kept = Vec::new();
    while let Ok(event) = slow.events.try_recv() {
        if let NetworkEvent::Gossip { data, .. } = event {
            kept.push(String::from_utf8(data).expect("utf8 payload"));
        }
    }
    assert_eq!(kept.len(), 4, "{kept:?}");
    let bursts: Vec<u32> = kept
        .iter()
        .filter_map(|k| k.strip_prefix("burst ")?.parse().ok())
        .collect();
    assert!(bursts.windows(2).all(|w| w[0] < w[1]), "{bursts:?}");
    assert_eq!(slow.handle.dropped_gossip() as usize + bursts.len(), 20);
}
