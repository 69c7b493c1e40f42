//! A node's ed25519 identity key.
//!
//! Nodes sign network and consensus messages (votes, proposals, handshakes)
//! with ed25519 rather than secp256k1: signing and verifying are faster,
//! and many signatures (a quorum of votes) can be checked at once with
//! [`verify_batch`]. The key is stored as 64 hex characters in an
//! owner-only file, like geth's `nodekey`.

use std::{fs, io::Write, path::Path};

use ed25519_dalek::{Signer, SigningKey};
use rand::rngs::OsRng;

pub use ed25519_dalek::{Signature as NodeSignature, VerifyingKey as NodePublicKey};

#[derive(Debug, thiserror::Error)]
pub enum NodeKeyError {
    #[error("node key file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("node key file {path} is invalid: {reason} (expected 64 hex characters)")]
    Invalid { path: String, reason: String },
    #[error("invalid node public key {key}: {reason}")]
    InvalidPublicKey { key: String, reason: String },
    #[error("node signature does not verify")]
    BadSignature,
    #[error("batch verification failed: {0}")]
    BadBatch(String),
}

/// A node's secret signing key.
#[derive(Clone)]
pub struct NodeKey(SigningKey);

impl std::fmt::Debug for NodeKey {
    // Never print the secret: logs and panics would leak it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NodeKey({})", self.node_id())
    }
}

impl NodeKey {
    /// A fresh key from the operating system's randomness.
    pub fn generate() -> Self {
        Self(SigningKey::generate(&mut OsRng))
    }

    /// A key from its 32-byte seed.
    pub fn from_bytes(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    /// The 32-byte seed; handle with care.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    pub fn public(&self) -> NodePublicKey {
        self.0.verifying_key()
    }

    /// The public key in hex: how peers and validator sets name this node.
    pub fn node_id(&self) -> String {
        hex::encode(self.public().as_bytes())
    }

    pub fn sign(&self, message: &[u8]) -> NodeSignature {
        self.0.sign(message)
    }

    /// Writes the key to a new owner-only (0600) file. Refuses to overwrite
    /// an existing file: losing a node key changes the node's identity.
    pub fn save(&self, path: &Path) -> Result<(), NodeKeyError> {
        let io = |source| NodeKeyError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(io)?;
        }
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(io)?;
        file.write_all(format!("{}\n", hex::encode(self.to_bytes())).as_bytes())
            .map_err(io)?;
        file.sync_all().map_err(io)
    }

    /// Reads a key written by [`NodeKey::save`] (or geth-style: 64 hex
    /// characters, optional `0x` and surrounding whitespace).
    pub fn load(path: &Path) -> Result<Self, NodeKeyError> {
        let text = fs::read_to_string(path).map_err(|source| NodeKeyError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let invalid = |reason: String| NodeKeyError::Invalid {
            path: path.display().to_string(),
            reason,
        };
        let trimmed = text.trim();
        let hex_part = trimmed.strip_prefix("0x").unwrap_or(trimmed);
        let bytes = hex::decode(hex_part).map_err(|e| invalid(e.to_string()))?;
        let seed: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| invalid(format!("{} bytes", bytes.len())))?;
        Ok(Self::from_bytes(&seed))
    }

    /// Loads the key at `path`, or generates and saves one if there is none.
    pub fn load_or_generate(path: &Path) -> Result<Self, NodeKeyError> {
        if path.exists() {
            return Self::load(path);
        }
        let key = Self::generate();
        key.save(path)?;
        Ok(key)
    }
}

/// Parses a node public key from hex (as printed by [`NodeKey::node_id`]).
pub fn parse_public_key(text: &str) -> Result<NodePublicKey, NodeKeyError> {
    let invalid = |reason: String| NodeKeyError::InvalidPublicKey {
        key: text.to_string(),
        reason,
    };
    let trimmed = text.trim();
    let bytes = hex::decode(trimmed.strip_prefix("0x").unwrap_or(trimmed))
        .map_err(|e| invalid(e.to_string()))?;
    let arr: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| invalid(format!("{} bytes, expected 32", bytes.len())))?;
    NodePublicKey::from_bytes(&arr).map_err(|e| invalid(e.to_string()))
}

/// Verifies one signature. Strict verification rejects malleable and
/// small-order forms, so a message has one valid signature per key.
pub fn verify(
    key: &NodePublicKey,
    message: &[u8],
    signature: &NodeSignature,
) -> Result<(), NodeKeyError> {
    key.verify_strict(message, signature)
        .map_err(|_| NodeKeyError::BadSignature)
}

/// Verifies many `(key, message, signature)` triples at once, faster than
/// one by one. Fails if any one is bad (without saying which: fall back to
/// [`verify`] to find it). An empty batch verifies.
pub fn verify_batch(items: &[(NodePublicKey, &[u8], NodeSignature)]) -> Result<(), NodeKeyError> {
    if items.is_empty() {
        return Ok(());
    }
    let keys: Vec<_> = items.iter().map(|(k, _, _)| *k).collect();
    let messages: Vec<&[u8]> = items.iter().map(|(_, m, _)| *m).collect();
    let signatures: Vec<_> = items.iter().map(|(_, _, s)| *s).collect();
    ed25519_dalek::verify_batch(&messages, &signatures, &keys)
        .map_err(|e| NodeKeyError::BadBatch(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify() {
        let key = NodeKey::generate();
        let sig = key.sign(b"vote for block 7");
        verify(&key.public(), b"vote for block 7", &sig).unwrap();
        assert!(verify(&key.public(), b"vote for block 8", &sig).is_err());
        let other = NodeKey::generate();
        assert!(verify(&other.public(), b"vote for block 7", &sig).is_err());
    }

    #[test]
    fn known_seed_gives_rfc8032_public_key() {
        // RFC 8032, section 7.1, test 1.
        let seed: [u8; 32] =
            hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .unwrap()
                .try_into()
                .unwrap();
        let key = NodeKey::from_bytes(&seed);
        assert_eq!(
            key.node_id(),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        assert_eq!(parse_public_key(&key.node_id()).unwrap(), key.public());
        assert!(parse_public_key("abcd").is_err());
        assert!(parse_public_key("zz").is_err());
    }

    #[test]
    fn batch_verify_accepts_good_and_rejects_one_bad() {
        let keys: Vec<NodeKey> = (0..8).map(|_| NodeKey::generate()).collect();
        let messages: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 10]).collect();
        let mut items: Vec<_> = keys
            .iter()
            .zip(&messages)
            .map(|(k, m)| (k.public(), m.as_slice(), k.sign(m)))
            .collect();
        verify_batch(&items).unwrap();
        verify_batch(&[]).unwrap();
        // One signature over the wrong message spoils the batch.
        items[3].2 = keys[3].sign(b"something else");
        assert!(verify_batch(&items).is_err());
    }

    #[test]
    fn save_load_round_trip_with_owner_only_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/nodekey");
        let key = NodeKey::load_or_generate(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = NodeKey::load_or_generate(&path).unwrap();
        assert_eq!(again.to_bytes(), key.to_bytes());
        assert!(key.save(&path).is_err(), "must not overwrite a node key");
        assert!(!format!("{key:?}").contains(&hex::encode(key.to_bytes())));
    }

    #[test]
    fn bad_files_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [("short", "abcd"), ("nothex", "zz"), ("empty", "")] {
            let path = dir.path().join(name);
            fs::write(&path, text).unwrap();
            let err = NodeKey::load(&path).unwrap_err();
            assert!(matches!(err, NodeKeyError::Invalid { .. }), "{name}");
            assert!(err.to_string().contains(name), "{err}");
        }
        let err = NodeKey::load(&dir.path().join("absent")).unwrap_err();
        assert!(matches!(err, NodeKeyError::Io { .. }));
    }
}
