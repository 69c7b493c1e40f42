//! WebSocket connections have their own budget: open WebSockets never lock
//! out HTTP requests (100 of them once answered all HTTP with 429), and a
//! closed one gives its place back.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::client::call;
use common::TestBackend;
use jsonrpsee::http_client::HttpClientBuilder;
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};
use serde_json::json;
use tally_rpc::{start, RpcConfig};

type Res<T = ()> = anyhow::Result<T>;

#[tokio::test]
async fn websockets_have_their_own_cap_and_http_keeps_being_served() -> Res {
    let config = RpcConfig {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        max_connections: 2,
        max_ws_connections: 3,
        max_ws_per_ip: 3,
        ..RpcConfig::default()
    };
    let handle = start(config, TestBackend::fixture()).await?;
    let http = HttpClientBuilder::default().build(handle.http_url())?;
    let mut open: Vec<WsClient> = Vec::new();
    for _ in 0..3 {
        open.push(WsClientBuilder::default().build(handle.ws_url()).await?);
    }
    // A fourth is refused...
    let Err(err) = WsClientBuilder::default().build(handle.ws_url()).await else {
        panic!("a WebSocket past the cap is refused");
    };
    assert!(err.to_string().contains("429"), "{err}");
    // ...while HTTP requests go on, more of them than its own cap at once.
    for _ in 0..5 {
        assert_eq!(call(&http, "eth_chainId", json!([])).await?, json!("0x539"));
    }
    // The open ones still work.
    for ws in &open {
        assert_eq!(call_ws(ws).await?, json!("0x539"));
    }
    // Closing one frees its place.
    drop(open.pop());
    let mut reopened = None;
    for _ in 0..50 {
        if let Ok(ws) = WsClientBuilder::default().build(handle.ws_url()).await {
            reopened = Some(ws);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ws = reopened.expect("a closed WebSocket gives its place back");
    assert_eq!(call_ws(&ws).await?, json!("0x539"));
    handle.stop();
    Ok(())
}

async fn call_ws(ws: &WsClient) -> Res<serde_json::Value> {
    use jsonrpsee::core::client::ClientT;
    Ok(ws.request("eth_chainId", jsonrpsee::rpc_params![]).await?)
}

#[tokio::test]
async fn one_address_cannot_take_every_websocket() -> Res {
    let config = RpcConfig {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        max_ws_connections: 10,
        max_ws_per_ip: 2,
        ..RpcConfig::default()
    };
    let handle = start(config, TestBackend::fixture()).await?;
    let _a = WsClientBuilder::default().build(handle.ws_url()).await?;
    let _b = WsClientBuilder::default().build(handle.ws_url()).await?;
    let Err(err) = WsClientBuilder::default().build(handle.ws_url()).await else {
        panic!("a third from one address is refused");
    };
    assert!(err.to_string().contains("429"), "{err}");
    handle.stop();
    Ok(())
}

#[tokio::test]
async fn a_websocket_cap_of_zero_is_a_configuration_error() {
    for (config, name) in [
        (
            RpcConfig {
                max_ws_connections: 0,
                ..RpcConfig::default()
            },
            "max_ws_connections",
        ),
        (
            RpcConfig {
                max_ws_per_ip: 0,
                ..RpcConfig::default()
            },
            "max_ws_per_ip",
        ),
    ] {
        let config = RpcConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..config
        };
        let Err(err) = start(config, TestBackend::fixture()).await else {
            panic!("a server with {name} = 0 started");
        };
        let text = err.to_string();
        assert!(text.contains(name) && text.contains("at least 1"), "{text}");
    }
}
