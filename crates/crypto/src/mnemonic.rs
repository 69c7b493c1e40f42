//! BIP-39 mnemonics and BIP-32 derivation of Ethereum account keys.
//!
//! Dev chains fund the accounts of [`TEST_MNEMONIC`] along the standard
//! Ethereum path `m/44'/60'/0'/0/<index>`, exactly as Hardhat and Anvil do,
//! so wallets and scripts written for those tools work unchanged.

use alloy_primitives::Address;
use coins_bip32::ecdsa::SigningKey;
use coins_bip39::{English, Mnemonic};

use crate::secp::{address_of, secret_key, CryptoError, SecretKey};

/// The well-known development mnemonic. Its keys are public: never use them
/// for anything of value.
pub const TEST_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// The BIP-44 derivation path of Ethereum account `index`.
pub fn derivation_path(index: u32) -> String {
    format!("m/44'/60'/0'/0/{index}")
}

/// Derives the secp256k1 key of account `index` (path `m/44'/60'/0'/0/index`,
/// empty BIP-39 passphrase) from an English mnemonic phrase.
pub fn derive_key(phrase: &str, index: u32) -> Result<SecretKey, CryptoError> {
    // Extra whitespace between words is a typo, not a different phrase.
    let normalized = phrase.split_whitespace().collect::<Vec<_>>().join(" ");
    let mnemonic = Mnemonic::<English>::new_from_phrase(&normalized)
        .map_err(|e| CryptoError::InvalidMnemonic(e.to_string()))?;
    let path = derivation_path(index);
    let xpriv = mnemonic
        .derive_key(path.as_str(), None)
        .map_err(|e| CryptoError::InvalidMnemonic(format!("cannot derive path {path}: {e}")))?;
    let signing: &SigningKey = xpriv.as_ref();
    secret_key(signing.to_bytes().as_slice())
}

/// The first `count` accounts of [`TEST_MNEMONIC`] with their addresses.
pub fn dev_accounts(count: u32) -> Vec<(SecretKey, Address)> {
    (0..count)
        .filter_map(|i| derive_key(TEST_MNEMONIC, i).ok())
        .map(|key| {
            let address = address_of(&key);
            (key, address)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, hex};

    #[test]
    fn dev_accounts_match_hardhat_and_anvil() {
        let accounts = dev_accounts(10);
        assert_eq!(accounts.len(), 10);
        assert_eq!(
            accounts[0].1,
            address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
        );
        assert_eq!(
            hex::encode(accounts[0].0.to_secret_bytes()),
            "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
        );
        assert_eq!(
            accounts[1].1,
            address!("70997970C51812dc3A010C7d01b50e0d17dc79C8")
        );
        assert_eq!(
            accounts[9].1,
            address!("a0Ee7A142d267C1f36714E4a8F75612F20a79720")
        );
    }

    #[test]
    fn derive_key_matches_dev_accounts_and_tolerates_spacing() {
        let spaced = "  test test test test test test test test test test test   junk ";
        let key = derive_key(spaced, 1).unwrap();
        assert_eq!(
            address_of(&key),
            address!("70997970C51812dc3A010C7d01b50e0d17dc79C8")
        );
    }

    #[test]
    fn bad_phrases_are_rejected() {
        // Wrong checksum: "test" twelve times.
        let bad_checksum = ["test"; 12].join(" ");
        assert!(matches!(
            derive_key(&bad_checksum, 0),
            Err(CryptoError::InvalidMnemonic(_))
        ));
        assert!(derive_key("not a mnemonic", 0).is_err());
        assert!(derive_key("", 0).is_err());
    }
}
