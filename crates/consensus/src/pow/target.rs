//! Bitcoin's compact target encoding ("bits") and the work a target stands
//! for: the rules live in `tally_verify::pow::target` (the offline proof
//! checker applies the same ones); this module gives them the engine's
//! error type and keeps the miner's word-level form of a target.

use super::error::PowError;
use tally_primitives::U256;
use tally_verify::pow::target::BitsError;

pub use tally_verify::pow::target::{
    bits_from_target, target_to_b256, work, POW_LIMIT, POW_LIMIT_BITS,
};

/// Decodes compact `bits` into a 256-bit target
/// ([`tally_verify::pow::target_from_bits`]). Negative encodings and
/// encodings above 2^256 are errors; zero is a valid (unmeetable) result
/// that callers bound themselves.
pub fn target_from_bits(bits: u32) -> Result<U256, PowError> {
    tally_verify::pow::target_from_bits(bits).map_err(|e| match e {
        BitsError::NegativeTarget { bits } => PowError::NegativeTarget { bits },
        BitsError::TargetOverflow { bits } => PowError::TargetOverflow { bits },
    })
}

/// `target` as eight big-endian 32-bit words, most significant first: the
/// form SHA-256's state has, so the miner compares without converting.
pub(crate) fn target_words(target: U256) -> [u32; 8] {
    let bytes = target.to_be_bytes::<32>();
    let mut words = [0u32; 8];
    for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(4)) {
        *word = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_keep_their_bits() {
        assert_eq!(
            target_from_bits(0x01fe_dcba),
            Err(PowError::NegativeTarget { bits: 0x01fe_dcba })
        );
        assert_eq!(
            target_from_bits(0xff12_3456),
            Err(PowError::TargetOverflow { bits: 0xff12_3456 })
        );
        assert_eq!(target_from_bits(POW_LIMIT_BITS), Ok(POW_LIMIT));
    }

    #[test]
    fn target_words_are_big_endian() {
        let words = target_words(POW_LIMIT);
        assert_eq!(words[0], 0x7fff_ff00);
        assert!(words[1..].iter().all(|w| *w == 0));
        assert_eq!(target_words(U256::from(1u8))[7], 1);
    }
}
