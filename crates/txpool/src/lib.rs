//! tally-txpool
