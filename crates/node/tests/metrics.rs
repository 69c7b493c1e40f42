//! `GET /metrics` on the RPC port serves Prometheus text that follows the chain.

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::Duration,
};
use tally_node::{Node, NodeConfig};
use tally_primitives::{Address, ChainSpec};

fn get_metrics(addr: std::net::SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_text_follows_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(NodeConfig {
        datadir: dir.path().to_path_buf(),
        spec: ChainSpec::dev(Default::default(), 200),
        rpc_addr: "127.0.0.1:0".parse().unwrap(),
        rpc_limits: Default::default(),
        beneficiary: Address::ZERO,
        dev_block_time_ms: None,
        node_key: None,
        network: None,
        mining: None,
        index: false,
    })
    .await
    .unwrap();
    let addr = node.rpc_addr();
    let first = tokio::task::spawn_blocking(move || get_metrics(addr))
        .await
        .unwrap();
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    assert!(first.contains("text/plain"), "{first}");
    assert!(
        first.contains("# TYPE tally_blocks_total counter"),
        "{first}"
    );
    // Timed blocks every 200 ms: the head gauge and block counter move.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = tokio::task::spawn_blocking(move || get_metrics(addr))
            .await
            .unwrap();
        let head = text
            .lines()
            .find_map(|l| l.strip_prefix("tally_head_block "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .expect("tally_head_block gauge");
        if head >= 2.0 {
            assert!(!text.contains("tally_blocks_total 0\n"), "{text}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "head stuck at {head}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    node.stop().await;
}
