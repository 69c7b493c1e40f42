//! tally-state
