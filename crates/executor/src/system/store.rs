//! Typed access to one system contract's storage.
//!
//! Layout: every value lives at `keccak256(tag ‖ key₁ ‖ key₂ …)` with each
//! key as a 32-byte big-endian word, so tags never collide and a reader
//! with `eth_getStorageAt` can find any value from its tag. A string keeps
//! its byte length at its slot and its 32-byte chunks at the slots after it.

use super::{Slots, SysError};
use alloy_primitives::{Address, Bytes, B256, U256};

/// The slot of `tag` with `keys`; one implementation with the offline
/// checker's ([`tally_verify::records::system_slot`]), which recomputes the
/// notary's and traceability's slots.
pub(crate) fn slot(tag: &str, keys: &[U256]) -> U256 {
    tally_verify::records::system_slot(tag, keys)
}

pub(crate) fn addr_word(a: Address) -> U256 {
    tally_verify::records::address_word(a)
}

pub(crate) fn word_addr(w: U256) -> Address {
    Address::from_word(B256::from(w))
}

/// Longest string a system contract stores (names, memos).
pub(crate) const MAX_STRING: usize = 1024;

/// One contract's storage through some [`Slots`].
pub(crate) struct Store<'s> {
    pub slots: &'s mut dyn Slots,
    pub at: Address,
}

impl<'s> Store<'s> {
    pub fn new(slots: &'s mut dyn Slots, at: Address) -> Self {
        Store { slots, at }
    }

    /// The same slots, addressing another system contract.
    pub fn other(&mut self, at: Address) -> Store<'_> {
        Store {
            slots: &mut *self.slots,
            at,
        }
    }

    pub fn get(&mut self, slot: U256) -> Result<U256, SysError> {
        self.slots.load(self.at, slot)
    }

    pub fn set(&mut self, slot: U256, value: U256) -> Result<(), SysError> {
        self.slots.store(self.at, slot, value)
    }

    /// A value that fits 64 bits by construction; a larger one means the
    /// storage was not written by this code.
    pub fn get_u64(&mut self, slot: U256) -> Result<u64, SysError> {
        let v = self.get(slot)?;
        u64::try_from(v).map_err(|_| {
            SysError::State(format!(
                "system contract {} slot {slot:#x} holds {v}, more than 64 bits",
                self.at
            ))
        })
    }

    pub fn set_u64(&mut self, slot: U256, value: u64) -> Result<(), SysError> {
        self.set(slot, U256::from(value))
    }

    pub fn get_b256(&mut self, slot: U256) -> Result<B256, SysError> {
        Ok(B256::from(self.get(slot)?))
    }

    pub fn get_addr(&mut self, slot: U256) -> Result<Address, SysError> {
        Ok(word_addr(self.get(slot)?))
    }

    pub fn get_string(&mut self, slot: U256) -> Result<String, SysError> {
        let len = usize::try_from(self.get_u64(slot)?).unwrap_or(usize::MAX);
        if len > MAX_STRING {
            return Err(SysError::State(format!(
                "system contract {} string at {slot:#x} claims {len} bytes",
                self.at
            )));
        }
        let mut bytes = Vec::with_capacity(len);
        let mut chunk_slot = slot;
        while bytes.len() < len {
            chunk_slot = chunk_slot.wrapping_add(U256::from(1));
            let word = self.get(chunk_slot)?.to_be_bytes::<32>();
            let take = (len - bytes.len()).min(32);
            bytes.extend_from_slice(&word[..take]);
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Writes `s`, clearing the chunks a longer old string left behind.
    pub fn set_string(&mut self, slot: U256, s: &str) -> Result<(), SysError> {
        let old_len = usize::try_from(self.get_u64(slot)?).unwrap_or(0);
        let bytes = s.as_bytes();
        self.set_u64(slot, bytes.len() as u64)?;
        let chunks = bytes.len().div_ceil(32);
        let old_chunks = old_len.min(MAX_STRING).div_ceil(32);
        let mut chunk_slot = slot;
        for i in 0..chunks.max(old_chunks) {
            chunk_slot = chunk_slot.wrapping_add(U256::from(1));
            let mut word = [0u8; 32];
            if let Some(part) = bytes.chunks(32).nth(i) {
                word[..part.len()].copy_from_slice(part);
            }
            self.set(chunk_slot, U256::from_be_bytes(word))?;
        }
        Ok(())
    }

    pub fn emit(&mut self, topics: Vec<B256>, data: Vec<u8>) -> Result<(), SysError> {
        self.slots.emit(self.at, topics, Bytes::from(data))
    }
}
