//! The difficulty rule: absolute ASERT (Bitcoin Cash's aserti3-2d)
//! anchored at genesis (docs/adr/0005-pow-difficulty.md). The rule lives
//! in `tally_verify::pow::asert`, where the offline proof checker applies
//! it to the headers of a proof; the engine uses the same functions.

pub use tally_verify::pow::asert::{initial_target, next_bits, next_target};
