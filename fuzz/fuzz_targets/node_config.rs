//! Node configuration text. `node.toml` itself is read by the `tally`
//! binary (`crates/cli/src/node_cmd/config.rs`, not reachable from a
//! library): its TOML is plain serde, and what it adds to it are the peer
//! addresses it parses with the network crate. Those parsers are fuzzed
//! here, as are the ones for what operators type into `admin_addPeer` /
//! `admin_blockPeer` and validator keys in hex.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tally_crypto::node_key::parse_public_key;
use tally_network::{parse_peer_addr, parse_peer_id};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(addr) = parse_peer_addr(text) {
        let again = parse_peer_addr(&addr.to_string()).expect("a written address parses");
        assert_eq!(again, addr);
    }
    if let Ok(peer) = parse_peer_id(text) {
        assert_eq!(parse_peer_id(&peer.to_string()).ok(), Some(peer));
    }
    let _ = parse_public_key(text);
});
