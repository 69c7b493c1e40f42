//! Checks that need no account state: decoding, chain id, fees, gas and size.
//! They run before the (costlier) signature recovery so malformed spam is
//! turned away cheaply.

use alloy_consensus::{Transaction, TxEnvelope};
use alloy_eips::eip2718::{Decodable2718, Eip2718Error};

use crate::{PoolConfig, PoolError};

/// EIP-3860 limit on contract creation code (2 × the EIP-170 code size limit).
pub const MAX_INITCODE_SIZE: usize = 2 * 24_576;

const TX_BASE_GAS: u64 = 21_000;
const TX_CREATE_GAS: u64 = 32_000;
const ZERO_BYTE_GAS: u64 = 4;
const NONZERO_BYTE_GAS: u64 = 16;
const ACCESS_LIST_ADDRESS_GAS: u64 = 2_400;
const ACCESS_LIST_KEY_GAS: u64 = 1_900;
const INITCODE_WORD_GAS: u64 = 2;
/// EIP-7623 (Prague): gas per calldata token for the floor price.
const FLOOR_GAS_PER_TOKEN: u64 = 10;

/// Decodes one EIP-2718 transaction (legacy, EIP-2930 or EIP-1559) that must
/// fill `raw` exactly.
pub fn decode(raw: &[u8]) -> Result<TxEnvelope, PoolError> {
    let Some(&first) = raw.first() else {
        return Err(PoolError::Decode("empty input".into()));
    };
    // Refuse unsupported types from the type byte, before any parsing, with a
    // message that says why rather than a generic RLP error.
    match first {
        1 | 2 => {}
        3 => {
            return Err(PoolError::TxTypeNotSupported {
                ty: 3,
                reason: "EIP-4844 blob transactions are not accepted",
            })
        }
        4 => {
            return Err(PoolError::TxTypeNotSupported {
                ty: 4,
                reason: "EIP-7702 set-code transactions are not accepted",
            })
        }
        // Legacy transactions start with an RLP list header (>= 0xc0).
        0xc0..=0xff => {}
        // Garbage (or a type no fork defines): say the bytes are not a
        // transaction, not that some transaction type is unsupported.
        ty @ 0..=0x7f => {
            return Err(PoolError::Decode(format!(
                "first byte {ty:#04x} is not a transaction type Tally knows (0x01, 0x02) nor the \
                 start of a legacy transaction's RLP list"
            )))
        }
        other => {
            return Err(PoolError::Decode(format!(
                "first byte {other:#04x} is neither a transaction type nor an RLP list"
            )))
        }
    }
    let mut buf = raw;
    let tx = TxEnvelope::decode_2718(&mut buf).map_err(|e| match e {
        Eip2718Error::RlpError(e) => PoolError::Decode(e.to_string()),
        Eip2718Error::UnexpectedType(ty) => {
            PoolError::Decode(format!("unexpected transaction type {ty:#04x}"))
        }
        other => PoolError::Decode(other.to_string()),
    })?;
    if !buf.is_empty() {
        return Err(PoolError::Decode(format!(
            "{} trailing bytes after a {}-byte transaction",
            buf.len(),
            raw.len() - buf.len()
        )));
    }
    Ok(tx)
}

/// The gas a transaction uses before executing any code, and the EIP-7623
/// calldata floor its gas limit must also cover.
pub fn intrinsic_gas(tx: &TxEnvelope) -> (u64, u64) {
    let input = tx.input();
    let zeros = input.iter().filter(|b| **b == 0).count() as u64;
    let nonzeros = input.len() as u64 - zeros;
    let mut gas = TX_BASE_GAS
        .saturating_add(zeros.saturating_mul(ZERO_BYTE_GAS))
        .saturating_add(nonzeros.saturating_mul(NONZERO_BYTE_GAS));
    if tx.is_create() {
        let words = (input.len() as u64).div_ceil(32);
        gas = gas
            .saturating_add(TX_CREATE_GAS)
            .saturating_add(words.saturating_mul(INITCODE_WORD_GAS));
    }
    if let Some(list) = tx.access_list() {
        for item in list.iter() {
            gas = gas.saturating_add(ACCESS_LIST_ADDRESS_GAS).saturating_add(
                (item.storage_keys.len() as u64).saturating_mul(ACCESS_LIST_KEY_GAS),
            );
        }
    }
    let tokens = zeros.saturating_add(nonzeros.saturating_mul(4));
    let floor = TX_BASE_GAS.saturating_add(tokens.saturating_mul(FLOOR_GAS_PER_TOKEN));
    (gas, floor)
}

/// Every rule that depends on the transaction and the pool's configuration
/// only.
/// The per-transaction gas cap of EIP-7825.
pub const MAX_TX_GAS: u64 = 1 << 24;

pub fn validate_stateless(
    tx: &TxEnvelope,
    encoded_len: usize,
    config: &PoolConfig,
) -> Result<(), PoolError> {
    if encoded_len > config.max_tx_bytes {
        return Err(PoolError::OversizedData {
            size: encoded_len,
            limit: config.max_tx_bytes,
        });
    }
    // A legacy transaction without a chain id (pre-EIP-155) is replayable
    // across chains but valid; it is accepted, as geth's pool does.
    if let Some(got) = tx.chain_id() {
        if got != config.chain_id {
            return Err(PoolError::InvalidChainId {
                got,
                expected: config.chain_id,
            });
        }
    }
    if tx.gas_limit() > config.block_gas_limit {
        return Err(PoolError::ExceedsBlockGasLimit {
            gas: tx.gas_limit(),
            limit: config.block_gas_limit,
        });
    }
    // EIP-7825 (Osaka, the fork Tally executes): no transaction may ask for
    // more than 2^24 gas, whatever the block gas limit.
    if tx.gas_limit() > MAX_TX_GAS {
        return Err(PoolError::GasLimitTooHigh {
            gas: tx.gas_limit(),
            cap: MAX_TX_GAS,
        });
    }
    let max_fee = tx.max_fee_per_gas();
    if let Some(tip) = tx.max_priority_fee_per_gas() {
        if tip > max_fee {
            return Err(PoolError::TipAboveFeeCap { tip, max_fee });
        }
    }
    if max_fee < u128::from(config.base_fee) {
        return Err(PoolError::FeeCapBelowBaseFee {
            max_fee,
            base_fee: config.base_fee,
        });
    }
    if tx.is_create() && tx.input().len() > MAX_INITCODE_SIZE {
        return Err(PoolError::MaxInitCodeSizeExceeded {
            size: tx.input().len(),
            limit: MAX_INITCODE_SIZE,
        });
    }
    let (intrinsic, floor) = intrinsic_gas(tx);
    if tx.gas_limit() < intrinsic {
        return Err(PoolError::IntrinsicGasTooLow {
            gas: tx.gas_limit(),
            needed: intrinsic,
        });
    }
    if tx.gas_limit() < floor {
        return Err(PoolError::FloorDataGas {
            gas: tx.gas_limit(),
            needed: floor,
        });
    }
    Ok(())
}
