//! Errors of the proof-of-work module: undecodable compact targets and
//! chain specs the engine cannot run. Header-level failures are
//! [`crate::SealError`]s.

/// Why a compact target or a PoW chain spec was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum PowError {
    #[error(
        "compact target {bits:#010x} is negative (sign bit 0x00800000 set on a non-zero mantissa)"
    )]
    NegativeTarget { bits: u32 },
    #[error("compact target {bits:#010x} does not fit in 256 bits")]
    TargetOverflow { bits: u32 },
    #[error("pow initial_bits {bits:#010x} is invalid: {reason}")]
    InitialBits { bits: u32, reason: String },
    #[error("pow target_block_time_ms {ms} is below 1000: block timestamps are whole seconds")]
    BlockTime { ms: u64 },
    #[error("pow halflife_s must be non-zero")]
    ZeroHalflife,
    #[error("the genesis header given to the PoW engine has number {number}, expected 0")]
    GenesisNumber { number: u64 },
    #[error("the genesis header has bits {found:#010x}, expected the chain spec's initial_bits {expected:#010x}: build genesis with bits = initial_bits")]
    GenesisBits { found: u32, expected: u32 },
}
