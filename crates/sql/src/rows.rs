//! Turning a block into rows: pure, no SQLite. Every row carries the
//! number of the block it came from, which is how a reorg removes it.

use alloy_consensus::Transaction;
use alloy_eips::Typed2718;
use alloy_primitives::{Address, Log, B256, U256};
use rusqlite::types::{ToSqlOutput, Value};
use rusqlite::ToSql;

use crate::decoders::{Decoder, LogContext};
use crate::{IndexError, IndexedBlock};

/// One value of a row, as stored.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Text(String),
}

impl Cell {
    /// An unsigned number; beyond `i64` (never seen on a real chain) it is
    /// stored as decimal text rather than wrapped.
    pub fn uint(n: u64) -> Self {
        i64::try_from(n).map_or_else(|_| Self::Text(n.to_string()), Self::Int)
    }

    /// A 256-bit amount as decimal text: SQLite integers stop at 2^63.
    pub fn amount(n: U256) -> Self {
        Self::Text(n.to_string())
    }

    pub fn address(a: Address) -> Self {
        Self::Text(hex_address(a))
    }

    pub fn hash(h: B256) -> Self {
        Self::Text(hex_hash(h))
    }

    pub fn text(s: impl Into<String>) -> Self {
        Self::Text(s.into())
    }

    /// `None` becomes SQL NULL.
    pub fn opt(value: Option<Cell>) -> Self {
        value.unwrap_or(Self::Null)
    }
}

impl ToSql for Cell {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Cell::Null => ToSqlOutput::Owned(Value::Null),
            Cell::Int(i) => ToSqlOutput::Owned(Value::Integer(*i)),
            Cell::Text(s) => ToSqlOutput::Borrowed(rusqlite::types::ValueRef::Text(s.as_bytes())),
        })
    }
}

/// A row for one table: named cells, `block_number` always among them.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub table: &'static str,
    pub cells: Vec<(&'static str, Cell)>,
}

impl Row {
    /// A row of `table` from block `block_number` (stored in its
    /// `block_number` column).
    pub fn new(table: &'static str, block_number: u64) -> Self {
        Self::keyed(table, "block_number", block_number)
    }

    fn keyed(table: &'static str, column: &'static str, block_number: u64) -> Self {
        Self {
            table,
            cells: vec![(column, Cell::uint(block_number))],
        }
    }

    /// Adds a cell.
    pub fn cell(mut self, column: &'static str, value: Cell) -> Self {
        self.cells.push((column, value));
        self
    }
}

/// Lowercase 0x-hex, as every address column holds it.
pub fn hex_address(a: Address) -> String {
    format!("{a:#x}")
}

/// Lowercase 0x-hex, as every hash column holds it.
pub fn hex_hash(h: B256) -> String {
    format!("{h:#x}")
}

/// Lowercase 0x-hex of any bytes (`0x` when empty).
pub fn hex_bytes(b: &[u8]) -> String {
    alloy_primitives::hex::encode_prefixed(b)
}

/// The address in a 32-byte topic or ABI word, if it is one (12 zero bytes
/// then 20 bytes).
pub fn word_address(word: &[u8]) -> Option<Address> {
    if word.len() != 32 || word[..12].iter().any(|b| *b != 0) {
        return None;
    }
    Some(Address::from_slice(&word[12..]))
}

/// `keccak256("Transfer(address,address,uint256)")`: ERC-20 and ERC-721
/// share it; the number of topics tells them apart.
pub const TRANSFER_TOPIC: B256 =
    alloy_primitives::b256!("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");

/// All rows of one block, in insertion order (the block row first).
pub fn block_rows(
    indexed: &IndexedBlock,
    decoders: &[Box<dyn Decoder>],
) -> Result<Vec<Row>, IndexError> {
    let block = &indexed.block;
    let number = block.number();
    let header = &block.header;
    let malformed = |reason: String| IndexError::Malformed { number, reason };
    if block.senders.len() != block.transactions.len() {
        return Err(malformed(format!(
            "{} transactions but {} senders",
            block.transactions.len(),
            block.senders.len()
        )));
    }
    if indexed.receipts.len() != block.transactions.len() {
        return Err(malformed(format!(
            "{} transactions but {} receipts",
            block.transactions.len(),
            indexed.receipts.len()
        )));
    }

    let mut rows = vec![Row::keyed("blocks", "number", number)
        .cell("hash", Cell::hash(block.hash()))
        .cell("parent_hash", Cell::hash(header.parent_hash))
        .cell("timestamp", Cell::uint(header.timestamp))
        .cell("beneficiary", Cell::address(header.beneficiary))
        .cell("gas_used", Cell::uint(header.gas_used))
        .cell("gas_limit", Cell::uint(header.gas_limit))
        .cell("base_fee", Cell::uint(header.base_fee))
        .cell("tx_count", Cell::uint(block.transactions.len() as u64))];
    let mut log_index = 0u64;

    let txs = block.transactions.iter().zip(&block.senders);
    for (tx_index, ((tx, sender), receipt)) in txs.zip(&indexed.receipts).enumerate() {
        let tx_index = tx_index as u64;
        let tx_hash = *tx.tx_hash();
        let recipient = tx.to();
        let created = recipient.is_none().then(|| sender.create(tx.nonce()));
        let input = tx.input();
        rows.push(
            Row::new("transactions", number)
                .cell("hash", Cell::hash(tx_hash))
                .cell("idx", Cell::uint(tx_index))
                .cell("sender", Cell::address(*sender))
                .cell("recipient", Cell::opt(recipient.map(Cell::address)))
                .cell("value", Cell::amount(tx.value()))
                .cell("nonce", Cell::uint(tx.nonce()))
                .cell("gas_limit", Cell::uint(tx.gas_limit()))
                .cell("gas_used", Cell::uint(receipt.gas_used))
                .cell("status", Cell::Int(i64::from(receipt.success)))
                .cell("type", Cell::Int(i64::from(tx.ty())))
                .cell("input_bytes", Cell::uint(input.len() as u64))
                .cell(
                    "selector",
                    Cell::opt(input.get(..4).map(|s| Cell::text(hex_bytes(s)))),
                )
                .cell("contract_address", Cell::opt(created.map(Cell::address))),
        );
        if let (Some(contract), true) = (created, receipt.success) {
            rows.push(
                Row::new("contracts", number)
                    .cell("address", Cell::address(contract))
                    .cell("creator", Cell::address(*sender))
                    .cell("tx_hash", Cell::hash(tx_hash)),
            );
        }

        for log in &receipt.logs {
            rows.push(log_row(number, tx_hash, tx_index, log_index, log));
            rows.extend(transfer_row(number, tx_hash, log_index, log));
            let ctx = LogContext {
                block_number: number,
                block_hash: block.hash(),
                timestamp: header.timestamp,
                tx_hash,
                tx_index,
                log_index,
                sender: *sender,
                log,
            };
            for decoder in decoders {
                decoder.decode(&ctx, &mut rows);
            }
            log_index += 1;
        }
    }
    Ok(rows)
}

fn log_row(number: u64, tx_hash: B256, tx_index: u64, log_index: u64, log: &Log) -> Row {
    let topics = log.topics();
    let topic = |i: usize| Cell::opt(topics.get(i).map(|t| Cell::hash(*t)));
    Row::new("logs", number)
        .cell("log_index", Cell::uint(log_index))
        .cell("tx_hash", Cell::hash(tx_hash))
        .cell("tx_index", Cell::uint(tx_index))
        .cell("address", Cell::address(log.address))
        .cell("topic0", topic(0))
        .cell("topic1", topic(1))
        .cell("topic2", topic(2))
        .cell("topic3", topic(3))
        .cell("data", Cell::text(hex_bytes(&log.data.data)))
}

/// A `Transfer` log as a `token_transfers` row with its two parties:
/// ERC-20 has three topics and the amount as data, ERC-721 four topics
/// (the token id indexed) and no data. Anything else with the topic is not
/// a standard transfer and stays in `logs` only.
fn transfer_row(number: u64, tx_hash: B256, log_index: u64, log: &Log) -> Option<Row> {
    let topics = log.topics();
    if topics.first() != Some(&TRANSFER_TOPIC) {
        return None;
    }
    let from = word_address(topics.get(1)?.as_slice())?;
    let to = word_address(topics.get(2)?.as_slice())?;
    let data = &log.data.data;
    let (standard, value, token_id) = match (topics.len(), data.len()) {
        (3, 32) => ("erc20", Some(U256::from_be_slice(data)), None),
        (4, 0) => ("erc721", None, Some(U256::from_be_bytes(topics[3].0))),
        _ => return None,
    };
    Some(
        Row::new("token_transfers", number)
            .cell("log_index", Cell::uint(log_index))
            .cell("tx_hash", Cell::hash(tx_hash))
            .cell("token", Cell::address(log.address))
            .cell("sender", Cell::address(from))
            .cell("recipient", Cell::address(to))
            .cell("value", Cell::opt(value.map(Cell::amount)))
            .cell("token_id", Cell::opt(token_id.map(Cell::amount)))
            .cell("standard", Cell::text(standard)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, keccak256};

    #[test]
    fn hex_is_lowercase_with_prefix() {
        let a = address!("00000000000000000000000000000000000A1006");
        assert_eq!(hex_address(a), format!("0x{}a1006", "0".repeat(35)));
        assert_eq!(hex_bytes(&[]), "0x");
        assert_eq!(hex_bytes(&[0xAB, 0x01]), "0xab01");
        assert_eq!(
            hex_hash(B256::repeat_byte(0xCD)),
            format!("0x{}", "cd".repeat(32))
        );
    }

    #[test]
    fn transfer_topic_is_the_standard_one() {
        assert_eq!(
            TRANSFER_TOPIC,
            keccak256("Transfer(address,address,uint256)")
        );
    }

    #[test]
    fn huge_numbers_become_text() {
        assert_eq!(Cell::uint(5), Cell::Int(5));
        assert_eq!(Cell::uint(u64::MAX), Cell::text(u64::MAX.to_string()));
    }

    #[test]
    fn word_address_needs_zero_padding() {
        let mut word = [0u8; 32];
        word[31] = 7;
        assert_eq!(word_address(&word), Some(Address::with_last_byte(7)));
        word[0] = 1;
        assert_eq!(word_address(&word), None);
        assert_eq!(word_address(&word[1..]), None);
    }
}
