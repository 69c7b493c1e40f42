//! Value encodings of the chain database.
//!
//! Block data is RLP (the protocol's own encoding). State values use small
//! fixed-width layouts instead: they are read and written several times per
//! transaction, and a fixed layout needs no length checks beyond one.

use crate::StorageError;
use alloy_primitives::{Address, B256, U256};
use alloy_rlp::{Decodable, RlpDecodable, RlpEncodable};
use tally_primitives::{Account, Receipt, TxEnvelope};

/// Length of an encoded account: nonce (8) ++ balance (32) ++ code hash (32).
pub const ACCOUNT_LEN: usize = 72;

/// The account layout, also the value committed to by the state trie.
pub fn encode_account(a: &Account) -> [u8; ACCOUNT_LEN] {
    let mut out = [0u8; ACCOUNT_LEN];
    out[..8].copy_from_slice(&a.nonce.to_be_bytes());
    out[8..40].copy_from_slice(&a.balance.to_be_bytes::<32>());
    out[40..].copy_from_slice(a.code_hash.as_slice());
    out
}

pub fn decode_account(bytes: &[u8]) -> Result<Account, String> {
    if bytes.len() != ACCOUNT_LEN {
        return Err(format!(
            "account record is {} bytes, expected {ACCOUNT_LEN}",
            bytes.len()
        ));
    }
    let mut nonce = [0u8; 8];
    nonce.copy_from_slice(&bytes[..8]);
    Ok(Account {
        nonce: u64::from_be_bytes(nonce),
        balance: U256::from_be_slice(&bytes[8..40]),
        code_hash: B256::from_slice(&bytes[40..]),
    })
}

/// `None` (absent) is the empty record.
pub fn encode_opt_account(a: &Option<Account>) -> Vec<u8> {
    a.as_ref()
        .map(|a| encode_account(a).to_vec())
        .unwrap_or_default()
}

pub fn decode_opt_account(bytes: &[u8]) -> Result<Option<Account>, String> {
    if bytes.is_empty() {
        Ok(None)
    } else {
        decode_account(bytes).map(Some)
    }
}

/// What one block changed, with the values from before the block: enough to
/// undo it and to find its history entries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changeset {
    pub accounts: Vec<(Address, Option<Account>)>,
    /// Zero means the slot did not exist.
    pub storage: Vec<(Address, U256, U256)>,
}

impl Changeset {
    /// `u32 n ++ n × (address ++ flag ++ [account]) ++ u32 m ++ m × (address ++ slot ++ value)`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            8 + self.accounts.len() * (21 + ACCOUNT_LEN) + self.storage.len() * 84,
        );
        out.extend_from_slice(&(self.accounts.len() as u32).to_be_bytes());
        for (a, acc) in &self.accounts {
            out.extend_from_slice(a.as_slice());
            match acc {
                Some(acc) => {
                    out.push(1);
                    out.extend_from_slice(&encode_account(acc));
                }
                None => out.push(0),
            }
        }
        out.extend_from_slice(&(self.storage.len() as u32).to_be_bytes());
        for (a, slot, v) in &self.storage {
            out.extend_from_slice(a.as_slice());
            out.extend_from_slice(&slot.to_be_bytes::<32>());
            out.extend_from_slice(&v.to_be_bytes::<32>());
        }
        out
    }

    pub fn decode(mut buf: &[u8]) -> Result<Changeset, String> {
        fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
            if buf.len() < n {
                return Err(format!(
                    "changeset truncated: needed {n} more bytes, {} left",
                    buf.len()
                ));
            }
            let (head, rest) = buf.split_at(n);
            *buf = rest;
            Ok(head)
        }
        fn count(buf: &mut &[u8]) -> Result<usize, String> {
            let b = take(buf, 4)?;
            Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        }
        let mut cs = Changeset::default();
        let n = count(&mut buf)?;
        for _ in 0..n {
            let a = Address::from_slice(take(&mut buf, 20)?);
            let acc = match take(&mut buf, 1)?[0] {
                0 => None,
                1 => Some(decode_account(take(&mut buf, ACCOUNT_LEN)?)?),
                f => return Err(format!("changeset account flag {f}, expected 0 or 1")),
            };
            cs.accounts.push((a, acc));
        }
        let m = count(&mut buf)?;
        for _ in 0..m {
            let a = Address::from_slice(take(&mut buf, 20)?);
            let slot = U256::from_be_slice(take(&mut buf, 32)?);
            let v = U256::from_be_slice(take(&mut buf, 32)?);
            cs.storage.push((a, slot, v));
        }
        if !buf.is_empty() {
            return Err(format!("changeset has {} trailing bytes", buf.len()));
        }
        Ok(cs)
    }
}

/// A block body as stored: the transactions and their recovered senders.
#[derive(Clone, Debug, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct StoredBody {
    pub transactions: Vec<TxEnvelope>,
    pub senders: Vec<Address>,
}

/// A block kept off the canonical chain: header, transactions and their
/// senders (recovered when the block arrived, so a reorg need not).
#[derive(Clone, Debug, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct StoredSideBlock {
    pub header: tally_primitives::Header,
    pub transactions: Vec<TxEnvelope>,
    pub senders: Vec<Address>,
}

pub fn encode_receipts(receipts: &[Receipt]) -> Vec<u8> {
    let mut out = Vec::new();
    alloy_rlp::encode_list(receipts, &mut out);
    out
}

/// Decodes RLP that must be consumed entirely; `what` and `key` name the
/// record in the error.
pub fn decode_rlp<T: Decodable>(
    what: &'static str,
    key: impl std::fmt::Display,
    mut bytes: &[u8],
) -> Result<T, StorageError> {
    let v = T::decode(&mut bytes).map_err(|e| StorageError::corrupt(what, &key, e))?;
    if !bytes.is_empty() {
        return Err(StorageError::corrupt(
            what,
            key,
            format!("{} trailing bytes after the RLP item", bytes.len()),
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn account() -> impl Strategy<Value = Account> {
        (any::<u64>(), any::<[u8; 32]>(), any::<[u8; 32]>()).prop_map(|(n, b, c)| Account {
            nonce: n,
            balance: U256::from_be_bytes(b),
            code_hash: B256::from(c),
        })
    }

    proptest! {
        #[test]
        fn changeset_round_trips(
            accounts in proptest::collection::vec((any::<[u8; 20]>(), proptest::option::of(account())), 0..8),
            storage in proptest::collection::vec((any::<[u8; 20]>(), any::<[u8; 32]>(), any::<[u8; 32]>()), 0..8),
        ) {
            let cs = Changeset {
                accounts: accounts.into_iter().map(|(a, acc)| (Address::from(a), acc)).collect(),
                storage: storage
                    .into_iter()
                    .map(|(a, s, v)| (Address::from(a), U256::from_be_bytes(s), U256::from_be_bytes(v)))
                    .collect(),
            };
            let enc = cs.encode();
            prop_assert_eq!(Changeset::decode(&enc).unwrap(), cs.clone());
            // Every truncation is an error, never a panic.
            for cut in 0..enc.len() {
                prop_assert!(Changeset::decode(&enc[..cut]).is_err());
            }
        }

        #[test]
        fn account_round_trips(acc in account()) {
            prop_assert_eq!(decode_account(&encode_account(&acc)).unwrap(), acc);
        }
    }

    #[test]
    fn bad_account_length_is_an_error() {
        assert!(decode_account(&[0u8; 71]).is_err());
        assert_eq!(decode_opt_account(&[]).unwrap(), None);
    }
}
