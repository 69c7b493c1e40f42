//! Key files: keystore v3 JSON as `tally key list` scans a directory and
//! `decrypt_key` opens one, and the hex `node.key` file. The decoders read
//! files, so each input is written to one file in a scratch directory.
#![no_main]

use std::{path::PathBuf, sync::OnceLock};

use libfuzzer_sys::fuzz_target;
use tally_crypto::{keystore, node_key::NodeKey};

fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("tally-fuzz-keystore-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        dir
    })
}

/// Whether decrypting `text` is quick enough to do on every run: files may
/// ask for up to 2^20 scrypt rounds or 10^7 PBKDF2 rounds, seconds each,
/// which would only slow the fuzzer down. scrypt's block size `r` is left
/// to the fuzzer: the keystore's own checks must bound the memory it asks
/// for.
fn quick_kdf(text: &[u8]) -> bool {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(text) else {
        return true;
    };
    let params = &json["crypto"]["kdfparams"];
    let num = |k: &str| params[k].as_u64().unwrap_or(1);
    num("n").saturating_mul(num("p")) <= 1 << 12 && num("c") <= 1 << 12
}

fuzz_target!(|data: &[u8]| {
    let path = scratch().join("UTC--2026-01-01T00-00-00.000000000Z--key");
    std::fs::write(&path, data).expect("write the input");
    if let Ok(scan) = keystore::scan(scratch()) {
        assert_eq!(
            scan.keys.len() + scan.skipped.len(),
            1,
            "one file, one verdict"
        );
    }
    if quick_kdf(data) {
        let _ = keystore::decrypt_key(&path, "fuzz");
    }
    let _ = NodeKey::load(&path);
});
