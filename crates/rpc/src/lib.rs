//! tally-rpc
