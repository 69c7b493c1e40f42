//! tally-node
