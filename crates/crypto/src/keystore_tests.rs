use super::*;
use crate::mnemonic::{derive_key, TEST_MNEMONIC};
use alloy_primitives::address;

fn dev_key() -> SecretKey {
    derive_key(TEST_MNEMONIC, 0).unwrap()
}

#[test]
fn round_trip_writes_geth_named_owner_only_file() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("nested/keystore");
    let key = dev_key();
    let (path, addr) = encrypt_key(&keys, &key, "hunter2").unwrap();
    assert_eq!(addr, address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266"));

    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(name.starts_with("UTC--"), "{name}");
    assert!(
        name.ends_with("--f39fd6e51aad88f6f4ce6ab8827279cfffb92266"),
        "{name}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(json["address"], "f39fd6e51aad88f6f4ce6ab8827279cfffb92266");
    assert_eq!(json["version"], 3);
    assert_eq!(json["crypto"]["kdf"], "scrypt");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = fs::metadata(&keys).unwrap().permissions().mode();
        assert_eq!(dir_mode & 0o777, 0o700);
    }
    // No temporary file is left behind.
    assert_eq!(fs::read_dir(&keys).unwrap().count(), 1);

    let back = decrypt_key(&path, "hunter2").unwrap();
    assert_eq!(back, key);
}

#[test]
fn wrong_password_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = encrypt_key(dir.path(), &dev_key(), "right").unwrap();
    let err = decrypt_key(&path, "wrong").unwrap_err();
    assert!(matches!(err, KeystoreError::WrongPassword { .. }));
    assert_eq!(
        err.to_string(),
        format!("wrong password for keystore {}", path.display())
    );
}

#[test]
fn corrupt_files_name_the_file_and_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = encrypt_key(dir.path(), &dev_key(), "pw").unwrap();
    let good: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();

    let mut cases: Vec<(&str, String)> = vec![
        ("not json", "{ this is not json".into()),
        ("empty", String::new()),
    ];
    let mut short_iv = good.clone();
    short_iv["crypto"]["cipherparams"]["iv"] = "0011".into();
    cases.push(("short iv", short_iv.to_string()));
    let mut short_dklen = good.clone();
    short_dklen["crypto"]["kdfparams"]["dklen"] = 8.into();
    cases.push(("short dklen", short_dklen.to_string()));
    let mut huge_n = good.clone();
    huge_n["crypto"]["kdfparams"]["n"] = (1u64 << 30).into();
    cases.push(("huge n", huge_n.to_string()));
    // scrypt would ask for 128·n·r = 64 GiB and abort the process.
    let mut huge_r = good.clone();
    huge_r["crypto"]["kdfparams"]["n"] = 2.into();
    huge_r["crypto"]["kdfparams"]["r"] = ((1u64 << 29) - 1).into();
    cases.push(("huge r", huge_r.to_string()));
    // Within the `scrypt` crate's r·p < 2^30, but hours of hashing.
    let mut huge_p = good.clone();
    huge_p["crypto"]["kdfparams"]["p"] = (1u64 << 26).into();
    cases.push(("huge p", huge_p.to_string()));
    let mut zero_r = good.clone();
    zero_r["crypto"]["kdfparams"]["r"] = 0.into();
    cases.push(("zero r", zero_r.to_string()));
    let mut bad_hex = good.clone();
    bad_hex["crypto"]["ciphertext"] = "zz".into();
    cases.push(("bad hex", bad_hex.to_string()));
    let mut other_address = good.clone();
    other_address["address"] = "70997970c51812dc3a010c7d01b50e0d17dc79c8".into();
    cases.push(("other address", other_address.to_string()));

    for (what, text) in cases {
        let file = dir.path().join(format!("case-{}", what.replace(' ', "-")));
        fs::write(&file, text).unwrap();
        let err = decrypt_key(&file, "pw").unwrap_err();
        assert!(
            matches!(err, KeystoreError::Corrupt { .. }),
            "{what}: {err}"
        );
        assert!(
            err.to_string().contains(&file.display().to_string()),
            "{what}: {err}"
        );
    }

    let missing = dir.path().join("missing");
    let err = decrypt_key(&missing, "pw").unwrap_err();
    assert!(matches!(err, KeystoreError::Io { .. }));
    assert!(err.to_string().contains("missing"));
}

#[test]
fn list_and_find_read_addresses_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    assert!(list(&dir.path().join("absent")).unwrap().is_empty());

    let k0 = derive_key(TEST_MNEMONIC, 0).unwrap();
    let k1 = derive_key(TEST_MNEMONIC, 1).unwrap();
    let (p0, a0) = encrypt_key(dir.path(), &k0, "a").unwrap();
    let (p1, a1) = encrypt_key(dir.path(), &k1, "b").unwrap();
    fs::write(dir.path().join("README"), "not a key").unwrap();
    fs::write(dir.path().join("other.json"), r#"{"address": 5}"#).unwrap();

    let listed = list(dir.path()).unwrap();
    assert_eq!(listed, vec![(a0, p0.clone()), (a1, p1.clone())]);
    assert_eq!(find(dir.path(), &a1).unwrap(), p1);
    let stranger = Address::repeat_byte(0x42);
    let err = find(dir.path(), &stranger).unwrap_err();
    assert!(matches!(err, KeystoreError::NotFound { .. }));
    assert!(err.to_string().contains(&stranger.to_string()));
}

/// The PBKDF2 test vector of the Web3 Secret Storage definition: a file
/// written elsewhere (no `address` field, another KDF) must open. (Its
/// scrypt vector uses r = 1 with n = 2^18, which the `scrypt` crate rejects
/// as outside RFC 7914's bounds; such files give a "corrupt" error.)
#[test]
fn decrypts_the_web3_secret_storage_pbkdf2_vector() {
    let text = r#"{
        "crypto": {
            "cipher": "aes-128-ctr",
            "cipherparams": {"iv": "6087dab2f9fdbbfaddc31a909735c1e6"},
            "ciphertext": "5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46",
            "kdf": "pbkdf2",
            "kdfparams": {
                "c": 262144, "dklen": 32, "prf": "hmac-sha256",
                "salt": "ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd"
            },
            "mac": "517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2"
        },
        "id": "3198bc9c-6672-5ab3-d995-4942343ae5b6",
        "version": 3
    }"#;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vector.json");
    fs::write(&path, text).unwrap();
    let key = decrypt_key(&path, "testpassword").unwrap();
    assert_eq!(
        hex::encode(key.to_secret_bytes()),
        "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d"
    );
    assert!(matches!(
        decrypt_key(&path, "testpasswore"),
        Err(KeystoreError::WrongPassword { .. })
    ));
}

#[test]
fn file_name_matches_geth_format() {
    let t = UNIX_EPOCH + std::time::Duration::new(1_700_000_000, 123_456_789);
    let name = file_name(t, &address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266"));
    assert_eq!(
        name,
        "UTC--2023-11-14T22-13-20.123456789Z--f39fd6e51aad88f6f4ce6ab8827279cfffb92266"
    );
    assert_eq!(civil_from_days(0), (1970, 1, 1));
    assert_eq!(civil_from_days(11_016), (2000, 2, 29));
}
