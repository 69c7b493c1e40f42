//! Sync requests and answers as they come off a request-response stream:
//! libp2p's CBOR codec with the size limits the network behaviour sets,
//! decoding `SyncRequest` and `SyncResponse`. (The blocks and headers
//! inside an answer are opaque bytes here; the `block` target decodes
//! those.)
#![no_main]

use futures::{executor::block_on, io::Cursor};
use libfuzzer_sys::fuzz_target;
use libp2p::{
    request_response::{cbor, Codec},
    StreamProtocol,
};
use tally_network::{SyncRequest, SyncResponse, DEFAULT_MAX_MESSAGE_SIZE};

fn codec() -> cbor::codec::Codec<SyncRequest, SyncResponse> {
    let max = DEFAULT_MAX_MESSAGE_SIZE as u64;
    cbor::codec::Codec::default()
        .set_request_size_maximum(max)
        .set_response_size_maximum(max)
}

fuzz_target!(|data: &[u8]| {
    let protocol = StreamProtocol::new("/tally/sync/1");
    let mut codec = codec();
    if let Ok(request) = block_on(codec.read_request(&protocol, &mut Cursor::new(data))) {
        let mut out = Cursor::new(Vec::new());
        block_on(codec.write_request(&protocol, &mut out, request.clone())).expect("re-encodes");
        let again = block_on(codec.read_request(&protocol, &mut Cursor::new(out.into_inner())));
        assert_eq!(again.expect("re-decodes"), request);
    }
    if let Ok(response) = block_on(codec.read_response(&protocol, &mut Cursor::new(data))) {
        let mut out = Cursor::new(Vec::new());
        block_on(codec.write_response(&protocol, &mut out, response.clone())).expect("re-encodes");
        let again = block_on(codec.read_response(&protocol, &mut Cursor::new(out.into_inner())));
        assert_eq!(again.expect("re-decodes"), response);
    }
});
