//! Ethereum keystore v3 files ("Web3 Secret Storage"), as geth writes them.
//!
//! A key is encrypted with AES-128-CTR under a key derived from the password
//! by scrypt, and stored in `UTC--<time>--<address>` inside a keystore
//! directory, so the files can be copied to and from geth, Foundry (`cast
//! wallet`) or MetaMask. The `address` field is written in clear, as geth
//! does, so [`list`] and [`find`] work without the password.
//!
//! The encryption itself is the `eth-keystore` crate. That crate indexes
//! the file's fields without checking their lengths, so [`decrypt_key`]
//! validates a file before handing it over: a damaged file must give an
//! error that names it, never a panic.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
    time::{SystemTime, UNIX_EPOCH},
};

use alloy_primitives::Address;
use eth_keystore::{EthKeystore, KdfparamsType};
use rand::RngCore;

use crate::secp::{address_of, secret_key, SecretKey};

/// The largest scrypt cost (log2 N) we accept: geth's "standard" is 18.
/// A file asking for more would make decryption take minutes.
const MAX_SCRYPT_LOG_N: u32 = 20;
/// The largest scrypt `n·r` we accept: scrypt holds 128·n·r bytes, so this
/// is 1 GiB (n = 2^20 at geth's r = 8). The `scrypt` crate accepts any
/// `r·p` below 2^30, and a file with r = 2^29 made it ask for 64 GiB and
/// abort the process.
const MAX_SCRYPT_N_R: u64 = 1 << 23;
/// The largest scrypt `n·r·p` (the work) we accept: twice the largest
/// memory, so geth's "light" parameters (n = 2^12, r = 8, p = 6) and any
/// standard file pass, and a huge `p` cannot run for hours.
const MAX_SCRYPT_N_R_P: u64 = 1 << 24;

#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    #[error("wrong password for keystore {}", .path.display())]
    WrongPassword { path: PathBuf },
    #[error("keystore {} is corrupt: {reason}", .path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("keystore {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no keystore for address {address} in {}", .dir.display())]
    NotFound { address: Address, dir: PathBuf },
    #[error("cannot encrypt key into {}: {reason}", .dir.display())]
    Encrypt { dir: PathBuf, reason: String },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> KeystoreError + '_ {
    move |source| KeystoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn corrupt(path: &Path, reason: impl Into<String>) -> KeystoreError {
    KeystoreError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Encrypts `key` under `password` into a new file in `dir` (created,
/// owner-only, if missing). Returns the file's path and the key's address.
pub fn encrypt_key(
    dir: &Path,
    key: &SecretKey,
    password: &str,
) -> Result<(PathBuf, Address), KeystoreError> {
    create_private_dir(dir)?;
    let address = address_of(key);

    // eth-keystore writes the file itself, without the `address` field and
    // with default permissions: let it write a temporary file, then rewrite
    // it in geth's form as an owner-only file under its final name.
    let mut rng = rand::thread_rng();
    let tmp_name = format!(".tmp-{:016x}", rng.next_u64());
    let tmp_path = dir.join(&tmp_name);
    eth_keystore::encrypt_key(
        dir,
        &mut rng,
        key.to_secret_bytes(),
        password,
        Some(&tmp_name),
    )
    .map_err(|e| KeystoreError::Encrypt {
        dir: dir.to_path_buf(),
        reason: e.to_string(),
    })?;
    let text = fs::read_to_string(&tmp_path).map_err(io_err(&tmp_path));
    let _ = fs::remove_file(&tmp_path);
    let mut json: serde_json::Value =
        serde_json::from_str(&text?).map_err(|e| corrupt(&tmp_path, e.to_string()))?;
    if let Some(obj) = json.as_object_mut() {
        obj.insert("address".into(), hex::encode(address.as_slice()).into());
    }

    let path = dir.join(file_name(SystemTime::now(), &address));
    write_private_file(&path, json.to_string().as_bytes())?;
    Ok((path, address))
}

/// Decrypts the key in the keystore file at `path`.
pub fn decrypt_key(path: &Path, password: &str) -> Result<SecretKey, KeystoreError> {
    let text = fs::read_to_string(path).map_err(io_err(path))?;
    let parsed: EthKeystore = serde_json::from_str(&text)
        .map_err(|e| corrupt(path, format!("not keystore JSON: {e}")))?;
    validate(path, &parsed)?;
    let claimed = stored_address(&text);

    let bytes = eth_keystore::decrypt_key(path, password).map_err(|e| match e {
        eth_keystore::KeystoreError::MacMismatch => KeystoreError::WrongPassword {
            path: path.to_path_buf(),
        },
        other => corrupt(path, other.to_string()),
    })?;
    let key = secret_key(&bytes).map_err(|e| corrupt(path, e.to_string()))?;
    if let Some(claimed) = claimed {
        let actual = address_of(&key);
        if claimed != actual {
            return Err(corrupt(
                path,
                format!("file says address {claimed} but the key is for {actual}"),
            ));
        }
    }
    Ok(key)
}

/// The keystore files in `dir` with the address each one holds, sorted by
/// file name (so oldest first for geth-named files). Files that are not
/// keystores are skipped; a missing directory holds no keys.
pub fn list(dir: &Path) -> Result<Vec<(Address, PathBuf)>, KeystoreError> {
    scan(dir).map(|s| s.keys)
}

/// What [`scan`] found in a keystore directory.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Scan {
    /// Keystore files, by path.
    pub keys: Vec<(Address, PathBuf)>,
    /// Other visible files, each with why it is not a keystore file.
    pub skipped: Vec<(PathBuf, String)>,
}

/// [`list`], also naming the files that are not keystore files (so a
/// user can be told, not left wondering where a key went).
pub fn scan(dir: &Path) -> Result<Scan, KeystoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Scan::default()),
        Err(e) => return Err(io_err(dir)(e)),
    };
    let mut found = Scan::default();
    for entry in entries {
        let path = entry.map_err(io_err(dir))?.path();
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_none_or(|n| n.starts_with('.'));
        if hidden || !path.is_file() {
            continue;
        }
        match fs::read_to_string(&path) {
            Err(e) => found.skipped.push((path, format!("cannot read it: {e}"))),
            Ok(text) => match stored_address(&text) {
                Some(address) => found.keys.push((address, path)),
                None => found.skipped.push((
                    path,
                    "not a keystore file (no JSON with an \"address\" and \"crypto\")".into(),
                )),
            },
        }
    }
    found.keys.sort_by(|a, b| a.1.cmp(&b.1));
    found.skipped.sort();
    Ok(found)
}

/// The keystore file in `dir` that holds `address`.
pub fn find(dir: &Path, address: &Address) -> Result<PathBuf, KeystoreError> {
    list(dir)?
        .into_iter()
        .find(|(a, _)| a == address)
        .map(|(_, path)| path)
        .ok_or_else(|| KeystoreError::NotFound {
            address: *address,
            dir: dir.to_path_buf(),
        })
}

/// geth's file name: `UTC--2006-01-02T15-04-05.000000000Z--<address>`.
pub fn file_name(time: SystemTime, address: &Address) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "UTC--{year:04}-{month:02}-{day:02}T{:02}-{:02}-{:02}.{:09}Z--{}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_nanos(),
        hex::encode(address.as_slice())
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// algorithm), to avoid a date-time dependency for one file name.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The clear-text `address` field of a keystore file, if it has a valid one.
fn stored_address(text: &str) -> Option<Address> {
    let json: serde_json::Value = serde_json::from_str(text).ok()?;
    json.get("crypto").or_else(|| json.get("Crypto"))?;
    let raw = json.get("address")?.as_str()?;
    raw.strip_prefix("0x").unwrap_or(raw).parse().ok()
}

/// Checks what `eth_keystore::decrypt_key` would otherwise index blindly.
fn validate(path: &Path, ks: &EthKeystore) -> Result<(), KeystoreError> {
    let c = &ks.crypto;
    if ks.version != 3 {
        return Err(corrupt(
            path,
            format!("version {} (expected 3)", ks.version),
        ));
    }
    if c.cipher != "aes-128-ctr" {
        return Err(corrupt(
            path,
            format!("cipher {:?} (expected aes-128-ctr)", c.cipher),
        ));
    }
    if c.cipherparams.iv.len() != 16 {
        return Err(corrupt(
            path,
            format!("iv is {} bytes (expected 16)", c.cipherparams.iv.len()),
        ));
    }
    if c.ciphertext.len() != 32 {
        return Err(corrupt(
            path,
            format!("ciphertext is {} bytes (expected 32)", c.ciphertext.len()),
        ));
    }
    if c.mac.len() != 32 {
        return Err(corrupt(
            path,
            format!("mac is {} bytes (expected 32)", c.mac.len()),
        ));
    }
    let dklen = match &c.kdfparams {
        KdfparamsType::Scrypt { dklen, n, r, p, .. } => {
            if !n.is_power_of_two() || *n < 2 || n.trailing_zeros() > MAX_SCRYPT_LOG_N {
                return Err(corrupt(
                    path,
                    format!("scrypt n = {n} (expected a power of two up to 2^{MAX_SCRYPT_LOG_N})"),
                ));
            }
            let memory = u64::from(*n).saturating_mul(u64::from(*r));
            let work = memory.saturating_mul(u64::from(*p));
            if *r == 0 || *p == 0 || memory > MAX_SCRYPT_N_R || work > MAX_SCRYPT_N_R_P {
                return Err(corrupt(
                    path,
                    format!(
                        "scrypt n = {n}, r = {r}, p = {p} (expected r and p of at least 1, \
                         n·r up to 2^23 and n·r·p up to 2^24; geth writes r = 8, p = 1)"
                    ),
                ));
            }
            *dklen
        }
        KdfparamsType::Pbkdf2 {
            dklen, c: rounds, ..
        } => {
            if *rounds == 0 || *rounds > 10_000_000 {
                return Err(corrupt(path, format!("pbkdf2 c = {rounds} (out of range)")));
            }
            *dklen
        }
    };
    if dklen != 32 {
        return Err(corrupt(path, format!("dklen {dklen} (expected 32)")));
    }
    Ok(())
}

fn create_private_dir(dir: &Path) -> Result<(), KeystoreError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io_err(dir))
}

/// Writes a new owner-only file; refuses to overwrite an existing one.
pub(crate) fn write_private_file(path: &Path, contents: &[u8]) -> Result<(), KeystoreError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io_err(path))?;
    file.write_all(contents).map_err(io_err(path))?;
    file.sync_all().map_err(io_err(path))
}

#[cfg(test)]
#[path = "keystore_tests.rs"]
mod tests;
