//! secp256k1 account keys: signing, recovery, addresses.

use alloy_consensus::{SignableTransaction, TxEnvelope};
use alloy_primitives::{keccak256, Address, Signature, B256, U256};
use rayon::prelude::*;
use secp256k1::{
    ecdsa::{RecoverableSignature, RecoveryId},
    Message, PublicKey,
};

pub use secp256k1::SecretKey;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("invalid signature: {0}")]
    InvalidSignature(String),
    #[error("invalid secret key: {0}")]
    InvalidSecretKey(String),
    #[error("invalid mnemonic: {0}")]
    InvalidMnemonic(String),
}

/// The Ethereum address of a public key: the last 20 bytes of the Keccak-256
/// of its uncompressed form without the 0x04 prefix.
pub fn address_of_public(key: &PublicKey) -> Address {
    let raw = key.serialize_uncompressed();
    Address::from_slice(&keccak256(&raw[1..])[12..])
}

/// The Ethereum address of a secret key.
pub fn address_of(key: &SecretKey) -> Address {
    address_of_public(&PublicKey::from_secret_key(key))
}

/// Parses a 32-byte secret key.
pub fn secret_key(bytes: &[u8]) -> Result<SecretKey, CryptoError> {
    let arr: [u8; 32] = bytes.try_into().map_err(|_| {
        CryptoError::InvalidSecretKey(format!("expected 32 bytes, got {}", bytes.len()))
    })?;
    SecretKey::from_secret_bytes(arr)
        .map_err(|_| CryptoError::InvalidSecretKey("not a valid secp256k1 scalar".into()))
}

/// Recovers the signer of `hash` from an Ethereum signature. Rejects
/// high-s signatures (EIP-2) so a transaction has exactly one valid form.
pub fn recover(signature: &Signature, hash: &B256) -> Result<Address, CryptoError> {
    const HALF_N: U256 = U256::from_be_slice(&[
        0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b,
        0x20, 0xa0,
    ]);
    if signature.s() > HALF_N {
        return Err(CryptoError::InvalidSignature(
            "s is in the upper half of the curve order".into(),
        ));
    }
    let mut compact = [0u8; 64];
    compact[..32].copy_from_slice(&signature.r().to_be_bytes::<32>());
    compact[32..].copy_from_slice(&signature.s().to_be_bytes::<32>());
    let recid = RecoveryId::from_u8_masked(signature.v() as u8);
    let sig = RecoverableSignature::from_compact(&compact, recid)
        .map_err(|e| CryptoError::InvalidSignature(e.to_string()))?;
    let key = sig
        .recover_ecdsa(Message::from_digest(hash.0))
        .map_err(|e| CryptoError::InvalidSignature(e.to_string()))?;
    Ok(address_of_public(&key))
}

/// Recovers the sender of a signed transaction.
pub fn recover_sender(tx: &TxEnvelope) -> Result<Address, CryptoError> {
    recover(tx.signature(), &tx.signature_hash())
}

/// Recovers many senders in parallel; the result keeps the input order.
pub fn recover_senders(txs: &[TxEnvelope]) -> Vec<Result<Address, CryptoError>> {
    txs.par_iter().map(recover_sender).collect()
}

/// Signs a 32-byte hash (deterministic RFC 6979 nonce).
pub fn sign_hash(key: &SecretKey, hash: &B256) -> Signature {
    let sig = RecoverableSignature::sign_ecdsa_recoverable(Message::from_digest(hash.0), key);
    let (recid, compact) = sig.serialize_compact();
    Signature::new(
        U256::from_be_slice(&compact[..32]),
        U256::from_be_slice(&compact[32..]),
        recid.to_u8() == 1,
    )
}

/// Signs a transaction and wraps it in its envelope.
pub fn sign_transaction<T>(key: &SecretKey, tx: T) -> TxEnvelope
where
    T: SignableTransaction<Signature>,
    TxEnvelope: From<alloy_consensus::Signed<T>>,
{
    let sig = sign_hash(key, &tx.signature_hash());
    tx.into_signed(sig).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{TxEip1559, TxLegacy};
    use alloy_primitives::{address, b256, TxKind};

    // Account 0 of the `test test … junk` mnemonic, as Hardhat and Anvil fund it.
    const KEY0: B256 = b256!("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
    const ADDR0: Address = address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266");

    #[test]
    fn known_key_gives_known_address() {
        let key = secret_key(KEY0.as_slice()).unwrap();
        assert_eq!(address_of(&key), ADDR0);
    }

    #[test]
    fn sign_then_recover_every_tx_type() {
        let key = secret_key(KEY0.as_slice()).unwrap();
        let legacy = TxLegacy {
            chain_id: Some(31337),
            nonce: 3,
            gas_price: 1_000_000_000,
            gas_limit: 21_000,
            to: TxKind::Call(Address::repeat_byte(2)),
            value: U256::from(5),
            input: Default::default(),
        };
        let eip1559 = TxEip1559 {
            chain_id: 31337,
            nonce: 4,
            gas_limit: 21_000,
            max_fee_per_gas: 2_000_000_000,
            max_priority_fee_per_gas: 1,
            to: TxKind::Call(Address::repeat_byte(2)),
            value: U256::from(5),
            access_list: Default::default(),
            input: Default::default(),
        };
        let txs = vec![
            sign_transaction(&key, legacy),
            sign_transaction(&key, eip1559),
        ];
        for r in recover_senders(&txs) {
            assert_eq!(r.unwrap(), ADDR0);
        }
    }

    #[test]
    fn tampered_signature_recovers_someone_else_or_fails() {
        let key = secret_key(KEY0.as_slice()).unwrap();
        let hash = B256::repeat_byte(7);
        let sig = sign_hash(&key, &hash);
        assert_eq!(recover(&sig, &hash).unwrap(), ADDR0);
        let other = recover(&sig, &B256::repeat_byte(8));
        assert!(other.map(|a| a != ADDR0).unwrap_or(true));
    }
}
