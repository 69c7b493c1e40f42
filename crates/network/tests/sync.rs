//! Request-response sync between two services.

mod common;

use common::{config, start, start_booted, wait_peers, within};
use tally_network::{NetworkError, NetworkEvent, SyncRequest, SyncResponse};
use tokio::task::JoinHandle;

/// Serves blocks numbered from 0, each block's bytes being its number (a
/// stand-in for RLP), padded to `block_size` bytes.
fn serve(mut node: common::Node, block_size: usize) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(event) = node.events.recv().await {
            let NetworkEvent::Request { id, request, .. } = event else {
                continue;
            };
            let response = match request {
                SyncRequest::BlocksByRange { start, count } => SyncResponse::Blocks(
                    (start..start + u64::from(count))
                        .map(|n| {
                            let mut block = n.to_be_bytes().to_vec();
                            block.resize(block_size.max(8), 0xab);
                            block
                        })
                        .collect(),
                ),
                SyncRequest::BlockByHash(hash) => {
                    SyncResponse::Block((hash[0] == 1).then(|| vec![1, 2, 3]))
                }
                SyncRequest::HeadersByRange { .. } => SyncResponse::Headers(Vec::new()),
                SyncRequest::Certificate { .. } => SyncResponse::Certificate(None),
                SyncRequest::Status => SyncResponse::Status {
                    genesis: [1; 32],
                    head_number: 42,
                    head_hash: [9; 32],
                    head_weight: [0; 16],
                },
            };
            node.handle
                .respond(id, response)
                .await
                .expect("request still open");
        }
    })
}

#[tokio::test]
async fn block_range_request_gets_its_response() {
    let server = start(config(1)).await;
    let client = start_booted(1, &[&server]).await;
    wait_peers(&client, "client to connect", |p| p.contains(&server.id)).await;
    let server_id = server.id;
    let _server = serve(server, 8);

    let response = within(
        "blocks by range",
        client
            .handle
            .request(server_id, SyncRequest::BlocksByRange { start: 5, count: 3 }),
    )
    .await
    .expect("response");
    let expected: Vec<Vec<u8>> = (5u64..8).map(|n| n.to_be_bytes().to_vec()).collect();
    assert_eq!(response, SyncResponse::Blocks(expected));

    let status = within(
        "status",
        client.handle.request(server_id, SyncRequest::Status),
    )
    .await
    .expect("response");
    assert_eq!(
        status,
        SyncResponse::Status {
            genesis: [1; 32],
            head_number: 42,
            head_hash: [9; 32],
            head_weight: [0; 16]
        }
    );
    let known = within(
        "known block",
        client
            .handle
            .request(server_id, SyncRequest::BlockByHash([1; 32])),
    )
    .await
    .expect("response");
    assert_eq!(known, SyncResponse::Block(Some(vec![1, 2, 3])));
    let unknown = within(
        "unknown block",
        client
            .handle
            .request(server_id, SyncRequest::BlockByHash([2; 32])),
    )
    .await
    .expect("response");
    assert_eq!(unknown, SyncResponse::Block(None));
}

#[tokio::test]
async fn oversized_response_is_rejected_by_the_size_cap() {
    let server = start(config(1)).await;
    let mut client_config = config(1);
    client_config.bootnodes = vec![server.addr.clone()];
    client_config.max_message_size = 64 * 1024;
    let client = start(client_config).await;
    wait_peers(&client, "client to connect", |p| p.contains(&server.id)).await;
    let server_id = server.id;
    let _server = serve(server, 16 * 1024);

    // 2 blocks of 16 KiB fit under 64 KiB; 16 of them do not.
    let small = within(
        "small range",
        client
            .handle
            .request(server_id, SyncRequest::BlocksByRange { start: 0, count: 2 }),
    )
    .await
    .expect("fits under the cap");
    assert!(matches!(small, SyncResponse::Blocks(ref b) if b.len() == 2));
    let err = within(
        "large range",
        client.handle.request(
            server_id,
            SyncRequest::BlocksByRange {
                start: 0,
                count: 16,
            },
        ),
    )
    .await
    .expect_err("over the cap");
    assert!(
        matches!(err, NetworkError::Request { peer, .. } if peer == server_id),
        "{err}"
    );
}

#[tokio::test]
async fn respond_to_unknown_request_is_an_error() {
    let node = start(config(1)).await;
    let err = node
        .handle
        .respond(tally_network::RequestId(77), SyncResponse::Blocks(vec![]))
        .await
        .expect_err("no such request");
    assert!(matches!(err, NetworkError::UnknownRequest(77)), "{err}");
}
