//! How `tally vote show` and `tally vote list` print ballots (weights in
//! the asset's units).

use alloy_primitives::U256;

use super::Ballot;
use crate::asset::{amount::format_units, show::percent, Asset};

fn status(b: &Ballot) -> &str {
    b.status.as_deref().unwrap_or("?")
}

pub fn print_ballot(b: &Ballot, asset: &Asset) {
    let cast = b
        .tallies
        .iter()
        .fold(U256::ZERO, |s, t| s.saturating_add(*t));
    println!("ballot:    {} on {} ({})", b.id, asset.symbol, b.token);
    println!("question:  {}", b.question);
    println!(
        "status:    {} (votes up to block {}; weights as of block {})",
        status(b),
        b.end_block,
        b.snapshot_block
    );
    println!("opened by: {}", b.creator);
    println!(
        "voters:    {}, casting {} of {} eligible ({})",
        b.voters,
        asset.amount(cast),
        asset.amount(b.eligible_weight),
        percent(cast, b.eligible_weight)
    );
    let width = b.options.iter().map(String::len).max().unwrap_or(0);
    for (i, (option, tally)) in b.options.iter().zip(&b.tallies).enumerate() {
        println!(
            "  [{i}] {option:<width$}  {:>20}  {:>6} of eligible",
            format_units(*tally, asset.decimals),
            percent(*tally, b.eligible_weight)
        );
    }
}

pub fn print_list(list: &[Ballot]) {
    if list.is_empty() {
        println!("no ballots");
        return;
    }
    println!(
        "{:>4}  {:<42}  {:<6}  {:>8}  {:>6}  question",
        "id", "token", "status", "ends", "voters"
    );
    for b in list {
        println!(
            "{:>4}  {:<42}  {:<6}  {:>8}  {:>6}  {}",
            b.id,
            b.token.to_string(),
            status(b),
            b.end_block,
            b.voters,
            b.question
        );
    }
}
