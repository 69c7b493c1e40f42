//! Peer controls over the real server: geth's `admin_` peer methods and
//! Tally's blocks, against the fixture's peers and against a node without
//! a network.

mod common;

use std::sync::Arc;

use common::bare::Bare;
use common::client::{call, rpc_error, serve_backend};
use common::{TestBackend, LOCAL_PEER, PEER_IN, PEER_OUT};
use serde_json::{json, Value};

type Res<T = ()> = anyhow::Result<T>;

fn ids(peers: &Value) -> Vec<String> {
    peers
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn admin_peers_are_shaped_like_geths() -> Res {
    let backend = TestBackend::fixture();
    let (_h, c) = serve_backend(backend).await?;
    let peers = call(&c, "admin_peers", json!([])).await?;
    assert_eq!(ids(&peers), vec![PEER_IN, PEER_OUT]);
    let inbound = &peers[0];
    assert_eq!(inbound["name"], json!("tally/v0.1.0"));
    assert_eq!(inbound["caps"], json!(["tally/1/1337/00"]));
    assert_eq!(inbound["network"]["inbound"], json!(true));
    assert_eq!(inbound["network"]["static"], json!(false));
    assert_eq!(
        inbound["network"]["localAddress"],
        json!("/ip4/127.0.0.1/tcp/30303")
    );
    assert_eq!(
        inbound["network"]["remoteAddress"],
        json!("/ip4/127.0.0.1/tcp/40000")
    );
    assert_eq!(
        inbound["listenAddrs"],
        json!([format!("/ip4/127.0.0.1/tcp/30304/p2p/{PEER_IN}")])
    );
    // Our end of a connection we dialled is unknown: left out, not faked.
    let outbound = &peers[1]["network"];
    assert_eq!(outbound["inbound"], json!(false));
    assert!(outbound.get("localAddress").is_none(), "{outbound}");
    Ok(())
}

#[tokio::test]
async fn admin_node_info_gives_addresses_other_nodes_can_add() -> Res {
    let (_h, c) = serve_backend(TestBackend::fixture()).await?;
    let info = call(&c, "admin_nodeInfo", json!([])).await?;
    let first = format!("/ip4/127.0.0.1/tcp/30303/p2p/{LOCAL_PEER}");
    assert_eq!(info["id"], json!(LOCAL_PEER));
    assert_eq!(info["name"], json!("tally/v0.1.0-test"));
    assert_eq!(info["listenAddr"], json!(first));
    assert_eq!(info["listenAddrs"].as_array().map(Vec::len), Some(2));
    Ok(())
}

#[tokio::test]
async fn add_and_remove_peers() -> Res {
    let backend = TestBackend::fixture();
    let (_h, c) = serve_backend(backend.clone()).await?;
    let addr = "/ip4/10.0.0.9/tcp/30303/p2p/12D3KooWNewPeer";
    assert_eq!(call(&c, "admin_addPeer", json!([addr])).await?, json!(true));
    assert_eq!(backend.net().added, vec![addr.to_string()]);
    let (code, message, _) =
        rpc_error(call(&c, "admin_addPeer", json!(["enode://ab@1.2.3.4:30303"])).await);
    assert_eq!(code, -32602);
    assert!(message.contains("enode://ab@1.2.3.4:30303"), "{message}");
    let (code, _, _) = rpc_error(call(&c, "admin_addPeer", json!([])).await);
    assert_eq!(code, -32602, "the address is required");

    // By multiaddr or by bare id.
    let out_addr = format!("/ip4/127.0.0.1/tcp/30304/p2p/{PEER_OUT}");
    assert_eq!(
        call(&c, "admin_removePeer", json!([out_addr])).await?,
        json!(true)
    );
    assert_eq!(
        ids(&call(&c, "admin_peers", json!([])).await?),
        vec![PEER_IN]
    );
    assert_eq!(
        call(&c, "admin_removePeer", json!([PEER_OUT])).await?,
        json!(false)
    );
    assert_eq!(
        call(&c, "admin_removePeer", json!([PEER_IN])).await?,
        json!(true)
    );
    let (code, message, _) =
        rpc_error(call(&c, "admin_removePeer", json!(["/ip4/1.2.3.4/tcp/1"])).await);
    assert_eq!(code, -32602);
    assert!(message.contains("does not name a peer"), "{message}");
    Ok(())
}

#[tokio::test]
async fn blocked_peers_are_cut_listed_refused_and_unblocked() -> Res {
    let backend = TestBackend::fixture();
    let (_h, c) = serve_backend(backend).await?;
    let in_addr = format!("/ip4/127.0.0.1/tcp/30304/p2p/{PEER_IN}");
    assert_eq!(
        call(&c, "tally_blockPeer", json!([in_addr])).await?,
        json!(true)
    );
    assert_eq!(
        call(&c, "tally_blockedPeers", json!([])).await?,
        json!([PEER_IN])
    );
    assert_eq!(
        ids(&call(&c, "admin_peers", json!([])).await?),
        vec![PEER_OUT]
    );

    let (code, message, _) = rpc_error(call(&c, "admin_addPeer", json!([in_addr])).await);
    assert_eq!(code, -32000);
    assert!(message.contains("blocked by the operator"), "{message}");

    assert_eq!(
        call(&c, "tally_unblockPeer", json!([PEER_IN])).await?,
        json!(true)
    );
    assert_eq!(
        call(&c, "tally_unblockPeer", json!([PEER_IN])).await?,
        json!(false)
    );
    assert_eq!(call(&c, "tally_blockedPeers", json!([])).await?, json!([]));
    assert_eq!(
        call(&c, "admin_addPeer", json!([in_addr])).await?,
        json!(true)
    );

    for method in ["tally_blockPeer", "tally_unblockPeer"] {
        let (code, message, _) = rpc_error(call(&c, method, json!(["not-a-peer"])).await);
        assert_eq!(code, -32602, "{method}");
        assert!(message.contains("not-a-peer"), "{method}: {message}");
    }
    Ok(())
}

#[tokio::test]
async fn a_node_without_a_network_says_so() -> Res {
    let (_h, c) = serve_backend(Arc::new(Bare(TestBackend::fixture()))).await?;
    for (method, params) in [
        ("admin_peers", json!([])),
        ("admin_nodeInfo", json!([])),
        ("admin_addPeer", json!(["/ip4/10.0.0.9/tcp/30303"])),
        ("admin_removePeer", json!([PEER_IN])),
        ("tally_blockPeer", json!([PEER_IN])),
        ("tally_unblockPeer", json!([PEER_IN])),
        ("tally_blockedPeers", json!([])),
    ] {
        let (code, message, _) = rpc_error(call(&c, method, params).await);
        assert_eq!(code, -32000, "{method}");
        assert!(
            message.contains("without a peer-to-peer network"),
            "{method}: {message}"
        );
    }
    Ok(())
}
