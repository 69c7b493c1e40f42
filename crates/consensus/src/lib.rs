//! tally-consensus
