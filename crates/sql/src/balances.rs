//! `token_balances`: each holder's balance of each token, as the indexed
//! `Transfer` events add up, kept in the same SQLite transaction as the
//! transfers themselves.
//!
//! A batch gathers its transfers' changes per (token, holder) in memory and
//! writes each pair once at commit, so an exchange in a thousand transfers
//! of a batch costs one upsert, not two thousand. A reorg subtracts what
//! the abandoned blocks' transfers added before deleting them. Exact
//! 256-bit arithmetic in Rust; SQLite only stores the result.

use std::collections::HashMap;
use std::str::FromStr;

use alloy_primitives::{I256, U256};
use rusqlite::{OptionalExtension, Transaction};

use crate::rows::{Cell, Row};

/// The zero address: mints come from it and burns go to it; it holds
/// nothing.
const ZERO: &str = "0x0000000000000000000000000000000000000000";

/// Changes to balances, not yet written.
#[derive(Default, Debug)]
pub(crate) struct Deltas(HashMap<(String, String), Change>);

#[derive(Debug)]
struct Change {
    standard: String,
    delta: I256,
}

impl Deltas {
    /// Adds what an inserted `token_transfers` row moves.
    pub fn add_row(&mut self, row: &Row) {
        let text = |name: &str| {
            row.cells.iter().find_map(|(c, v)| match v {
                Cell::Text(s) if *c == name => Some(s.as_str()),
                _ => None,
            })
        };
        if let (Some(token), Some(from), Some(to), Some(standard)) = (
            text("token"),
            text("sender"),
            text("recipient"),
            text("standard"),
        ) {
            self.add(token, from, to, standard, text("value"), false);
        }
    }

    /// Adds (or with `undo`, takes back) one transfer: `value` for ERC-20,
    /// one token for ERC-721.
    pub fn add(
        &mut self,
        token: &str,
        from: &str,
        to: &str,
        standard: &str,
        value: Option<&str>,
        undo: bool,
    ) {
        let amount = match standard {
            "erc721" => I256::ONE,
            _ => {
                let v = value
                    .and_then(|v| U256::from_str(v).ok())
                    .unwrap_or_default();
                // Beyond 2^255 only a broken token goes; clamp, never wrap.
                I256::try_from(v).unwrap_or(I256::MAX)
            }
        };
        let amount = if undo {
            amount.saturating_neg()
        } else {
            amount
        };
        self.change(token, to, standard, amount);
        self.change(token, from, standard, amount.saturating_neg());
    }

    fn change(&mut self, token: &str, holder: &str, standard: &str, delta: I256) {
        if holder == ZERO || delta.is_zero() {
            return;
        }
        let entry = self
            .0
            .entry((token.to_owned(), holder.to_owned()))
            .or_insert_with(|| Change {
                standard: standard.to_owned(),
                delta: I256::ZERO,
            });
        entry.delta = entry.delta.saturating_add(delta);
    }

    /// Folds `other` into these changes.
    pub fn merge(&mut self, other: Deltas) {
        for ((token, holder), c) in other.0 {
            self.change(&token, &holder, &c.standard, c.delta);
        }
    }

    /// Writes the changes: one read and one upsert (or delete, when a
    /// balance comes to zero) per (token, holder). Returns how many
    /// balances changed.
    pub fn apply(self, tx: &Transaction<'_>) -> rusqlite::Result<u64> {
        let mut read = tx.prepare_cached(
            "SELECT balance FROM token_balances WHERE token = ?1 AND holder = ?2",
        )?;
        let mut upsert = tx.prepare_cached(
            "INSERT INTO token_balances (token, holder, standard, balance, balance_real) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (token, holder) DO UPDATE SET \
             balance = excluded.balance, balance_real = excluded.balance_real",
        )?;
        let mut delete =
            tx.prepare_cached("DELETE FROM token_balances WHERE token = ?1 AND holder = ?2")?;
        let mut written = 0;
        for ((token, holder), c) in self.0 {
            if c.delta.is_zero() {
                continue;
            }
            let old: Option<String> = read.query_row((&token, &holder), |r| r.get(0)).optional()?;
            let old = old
                .and_then(|s| I256::from_dec_str(&s).ok())
                .unwrap_or(I256::ZERO);
            let new = old.saturating_add(c.delta);
            if new.is_zero() {
                delete.execute((&token, &holder))?;
            } else {
                let real = f64::from_str(&new.to_string()).unwrap_or(0.0);
                upsert.execute((&token, &holder, &c.standard, new.to_string(), real))?;
            }
            written += 1;
        }
        Ok(written)
    }
}

/// The changes that undo the transfers of the blocks above `above`.
pub(crate) fn undo_above(tx: &Transaction<'_>, above: i64) -> rusqlite::Result<Deltas> {
    transfers_above(tx, above, true)
}

/// Fills `token_balances` from every indexed transfer: for an index built
/// before the table existed.
pub(crate) fn fill(tx: &Transaction<'_>) -> rusqlite::Result<u64> {
    tx.execute("DELETE FROM token_balances", [])?;
    transfers_above(tx, -1, false)?.apply(tx)
}

/// What the indexed transfers of the blocks above `above` move (or, with
/// `undo`, take back).
fn transfers_above(tx: &Transaction<'_>, above: i64, undo: bool) -> rusqlite::Result<Deltas> {
    let mut deltas = Deltas::default();
    let mut stmt = tx.prepare(
        "SELECT token, sender, recipient, standard, value FROM token_transfers \
         WHERE block_number > ?1",
    )?;
    let mut rows = stmt.query([above])?;
    while let Some(r) = rows.next()? {
        let (token, from, to, standard): (String, String, String, String) =
            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
        let value: Option<String> = r.get(4)?;
        deltas.add(&token, &from, &to, &standard, value.as_deref(), undo);
    }
    Ok(deltas)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(n: u8) -> String {
        format!("0x{}", format!("{n:02x}").repeat(20))
    }

    #[test]
    fn a_transfer_moves_its_value_and_mints_skip_the_zero_address() {
        let mut d = Deltas::default();
        d.add(&a(9), ZERO, &a(1), "erc20", Some("100"), false);
        d.add(&a(9), &a(1), &a(2), "erc20", Some("30"), false);
        let get = |d: &Deltas, h: &str| d.0.get(&(a(9), h.to_owned())).map(|c| c.delta);
        assert_eq!(get(&d, &a(1)), Some(I256::try_from(70).unwrap()));
        assert_eq!(get(&d, &a(2)), Some(I256::try_from(30).unwrap()));
        assert_eq!(get(&d, ZERO), None);
        let mut undo = Deltas::default();
        undo.add(&a(9), &a(1), &a(2), "erc20", Some("30"), true);
        d.merge(undo);
        assert_eq!(get(&d, &a(2)), Some(I256::ZERO));
    }

    #[test]
    fn an_nft_counts_one_and_huge_values_clamp() {
        let mut d = Deltas::default();
        d.add(&a(9), ZERO, &a(1), "erc721", Some("123456"), false);
        assert_eq!(d.0[&(a(9), a(1))].delta, I256::ONE);
        d.add(
            &a(8),
            ZERO,
            &a(1),
            "erc20",
            Some(&U256::MAX.to_string()),
            false,
        );
        d.add(
            &a(8),
            ZERO,
            &a(1),
            "erc20",
            Some(&U256::MAX.to_string()),
            false,
        );
        assert_eq!(d.0[&(a(8), a(1))].delta, I256::MAX);
    }
}
