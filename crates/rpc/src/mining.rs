//! Mining: geth's remote-sealer methods (`eth_getWork`, `eth_submitWork`,
//! `eth_submitHashrate`), `eth_mining`, `eth_hashrate`, `eth_coinbase`,
//! and `tally_miningInfo`; and the compact-target arithmetic the server
//! uses to report a header's difficulty.

use std::sync::Arc;

use alloy_primitives::{Address, Bytes, B256, U256, U64};
use jsonrpsee::core::RpcResult;
use jsonrpsee::types::ErrorObjectOwned;

use crate::api::{MiningApiServer, MiningStatus};
use crate::backend::{Backend, BackendError, MiningInfo};
use crate::error::{invalid_params, rpc_err, SERVER_ERROR};

/// Handlers for the mining methods.
#[derive(Clone)]
pub struct MiningRpc {
    pub(crate) backend: Arc<dyn Backend>,
}

impl MiningRpc {
    fn info(&self) -> Result<MiningInfo, ErrorObjectOwned> {
        self.backend
            .mining_info()
            .ok_or_else(|| BackendError::not_mining().into())
    }
}

impl MiningApiServer for MiningRpc {
    fn mining(&self) -> RpcResult<bool> {
        Ok(self.backend.mining_info().is_some_and(|m| m.mining))
    }

    fn hashrate(&self) -> RpcResult<U256> {
        Ok(self.backend.mining_info().map_or(U256::ZERO, |m| {
            U256::from(m.hashrate).saturating_add(m.external_hashrate)
        }))
    }

    fn coinbase(&self) -> RpcResult<Address> {
        Ok(self.info()?.coinbase)
    }

    fn get_work(&self) -> RpcResult<(B256, B256, B256, U64)> {
        self.info()?;
        let work = self
            .backend
            .get_work()
            .ok_or_else(|| rpc_err(SERVER_ERROR, "no mining work available yet"))?;
        // Tally's PoW has no DAG, so no seed: geth's slot is kept, zeroed.
        Ok((
            work.pow_hash,
            B256::ZERO,
            work.target,
            U64::from(work.number),
        ))
    }

    fn submit_work(
        &self,
        nonce: Bytes,
        pow_hash: B256,
        _mix_digest: Option<B256>,
    ) -> RpcResult<bool> {
        let nonce: [u8; 8] = nonce.as_ref().try_into().map_err(|_| {
            invalid_params(format!(
                "nonce must be 8 bytes (0x and 16 hex digits), got {} bytes",
                nonce.len()
            ))
        })?;
        self.info()?;
        // The seal is the nonce's 8 bytes as given (big-endian).
        Ok(self
            .backend
            .submit_work(u64::from_be_bytes(nonce), pow_hash)?)
    }

    fn submit_hashrate(&self, rate: U256, id: B256) -> RpcResult<bool> {
        if self.backend.mining_info().is_none() {
            return Ok(false);
        }
        Ok(self.backend.submit_hashrate(rate, id))
    }

    fn mining_info(&self) -> RpcResult<MiningStatus> {
        let info = self.info()?;
        Ok(MiningStatus {
            mining: info.mining,
            threads: info.threads,
            coinbase: info.coinbase,
            hashrate: U256::from(info.hashrate),
            difficulty: work_from_bits(info.bits),
            target: B256::from(target_from_bits(info.bits).unwrap_or_default()),
            bits: U64::from(info.bits),
            block_number: U64::from(info.block_number),
            external_hashrate: info.external_hashrate,
        })
    }
}

/// The target that compact `bits` encode, decoded as Bitcoin Core's
/// `SetCompact` does (the consensus engine's rule): the top byte is the
/// length in bytes, the low 23 bits the leading bytes, bit 23 a sign.
/// `None` for a negative or overflowing encoding; zero is a valid result.
pub(crate) fn target_from_bits(bits: u32) -> Option<U256> {
    let size = bits >> 24;
    let mut word = bits & 0x007f_ffff;
    if size <= 3 {
        word >>= 8 * (3 - size);
    }
    if word == 0 {
        return Some(U256::ZERO);
    }
    if bits & 0x0080_0000 != 0 {
        return None;
    }
    if size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32) {
        return None;
    }
    if size <= 3 {
        return Some(U256::from(word));
    }
    // size is 4..=34 and the checks above keep the result below 2^256.
    Some(U256::from(word) << (8 * (size as usize - 3)))
}

/// The work (difficulty) of a target: the expected number of hashes to meet
/// it, `floor(2^256 / (target + 1))`. Zero for `bits` 0 (engines without a
/// target) and for invalid encodings.
pub(crate) fn work_from_bits(bits: u32) -> U256 {
    let Some(target) = target_from_bits(bits).filter(|t| !t.is_zero()) else {
        return U256::ZERO;
    };
    // 2^256 does not fit in 256 bits, but 2^256 / (t + 1) equals
    // (2^256 - t - 1) / (t + 1) + 1 = !t / (t + 1) + 1, which does.
    match target.checked_add(U256::from(1u8)) {
        Some(divisor) => (!target / divisor).saturating_add(U256::from(1u8)),
        None => U256::from(1u8),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_targets_decode_as_bitcoin_does() {
        // Bitcoin's genesis target.
        let genesis = target_from_bits(0x1d00_ffff).expect("valid");
        assert_eq!(genesis, U256::from(0xffffu64) << 208);
        // Regtest's limit, Tally's easiest target: 0x7fffff << 232.
        assert_eq!(
            target_from_bits(0x207f_ffff),
            Some(U256::from(0x7f_ffffu64) << 232)
        );
        // Short sizes shift right; zero mantissas are zero targets.
        assert_eq!(target_from_bits(0x0112_3456), Some(U256::from(0x12u64)));
        assert_eq!(target_from_bits(0x0212_3456), Some(U256::from(0x1234u64)));
        assert_eq!(target_from_bits(0), Some(U256::ZERO));
        assert_eq!(target_from_bits(0x0500_0000), Some(U256::ZERO));
        // Negative and overflowing encodings.
        assert_eq!(target_from_bits(0x0480_0001), None);
        assert_eq!(target_from_bits(0xff12_3456), None);
        assert_eq!(target_from_bits(0x2201_0000), None);
    }

    #[test]
    fn work_is_two_pow_256_over_target_plus_one() {
        assert_eq!(work_from_bits(0), U256::ZERO);
        assert_eq!(work_from_bits(0x0480_0001), U256::ZERO, "negative");
        // Half of all hashes meet the regtest limit.
        assert_eq!(work_from_bits(0x207f_ffff), U256::from(2u8));
        // Bitcoin's genesis block: 0x100010001 hashes.
        assert_eq!(work_from_bits(0x1d00_ffff), U256::from(0x1_0001_0001u64));
        // Target 1: 2^255.
        assert_eq!(work_from_bits(0x0300_0001), U256::from(1u8) << 255);
    }
}
