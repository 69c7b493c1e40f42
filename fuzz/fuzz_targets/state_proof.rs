//! State proofs: the compact proof format inside proof files and
//! `tally_getStateProof` answers (`CompactProof::decode`), and jmt's borsh
//! proofs that the node converts (`decode_jmt`). A decoded proof must
//! re-encode to bytes that decode to it, and checking it must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tally_primitives::{keccak256, Address, U256};
use tally_verify::state::{self, compact::CompactProof};

fuzz_target!(|data: &[u8]| {
    if let Ok(proof) = CompactProof::decode(data) {
        assert_eq!(CompactProof::decode(&proof.encode()), Ok(proof.clone()));
        // A root and a key taken from the input, so both present and
        // absent proofs are checked.
        let root = keccak256(data);
        let address = Address::from_slice(&root[..20]);
        let _ = state::verify_account(data, &root, &address, &None);
        let _ = state::verify_slot(data, &root, &address, &U256::from(1), &U256::from(2));
    }
    if let Ok(proof) = state::compact::decode_jmt(data) {
        assert_eq!(CompactProof::decode(&proof.encode()), Ok(proof));
    }
});
