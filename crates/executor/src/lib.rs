//! tally-executor
