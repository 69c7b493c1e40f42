//! `eth_sendRawTransaction` and each entry of a transaction gossip message:
//! the pool's EIP-2718 decoder, then what the pool does next with a
//! decoded transaction (stateless checks, intrinsic gas, sender recovery).
#![no_main]

use alloy_eips::eip2718::Encodable2718;
use libfuzzer_sys::fuzz_target;
use tally_txpool::{validate, PoolConfig};

fuzz_target!(|data: &[u8]| {
    let Ok(tx) = validate::decode(data) else {
        return;
    };
    // `decode` insists the bytes are exactly one transaction, so they are
    // that transaction's encoding.
    assert_eq!(
        tx.encoded_2718(),
        data,
        "a decoded transaction re-encodes differently"
    );
    let config = PoolConfig::new(1337, 30_000_000, 7);
    let _ = validate::validate_stateless(&tx, data.len(), &config);
    let _ = validate::intrinsic_gas(&tx);
    let _ = tally_crypto::recover_sender(&tx);
});
