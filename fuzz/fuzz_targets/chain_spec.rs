//! Chain spec files (`chain.toml`): `ChainSpec::from_toml`, then what a
//! node does with a spec it accepted (hash it, build its engine). A spec
//! that parses must write back to TOML that parses to the same spec.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tally_consensus::{engine_for, LocalEngine};
use tally_primitives::{ChainSpec, Header};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(spec) = ChainSpec::from_toml(text, "chain.toml") else {
        return;
    };
    let again = ChainSpec::from_toml(&spec.to_toml(), "written.toml");
    assert_eq!(again.expect("a written spec reads back"), spec);
    let _ = spec.hash();
    let genesis = Header {
        timestamp: spec.timestamp,
        ..Header::default()
    }
    .seal_slow();
    let _ = engine_for(&spec, &genesis, &LocalEngine::default());
});
