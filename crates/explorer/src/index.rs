//! Reading the node's SQL index through [`Backend::sql`]: the answer's
//! rows as typed cells, and the index's head, so a page can say how far
//! the index has caught up.

use alloy_primitives::{Address, B256, U256};
use serde_json::Value;
use tally_rpc::{Backend, BackendError};

/// A query's answer (`{columns, rows, truncated, elapsedMs}`).
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    pub truncated: bool,
    pub elapsed_ms: f64,
}

/// Runs one read-only statement with positional parameters.
pub fn query(backend: &dyn Backend, sql: &str, params: Vec<Value>) -> Result<Rows, BackendError> {
    let answer = backend.sql(sql, params)?;
    let bad = || {
        BackendError::Internal(format!(
            "the index answered in an unexpected shape: {answer}"
        ))
    };
    let columns = answer["columns"]
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|c| c.as_str().unwrap_or("?").to_string())
        .collect();
    let rows = answer["rows"]
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|r| r.as_array().cloned().unwrap_or_default())
        .collect();
    Ok(Rows {
        columns,
        rows,
        truncated: answer["truncated"].as_bool().unwrap_or(false),
        elapsed_ms: answer["elapsedMs"].as_f64().unwrap_or(0.0),
    })
}

/// The highest block in the index; `None` when it is off or empty.
pub fn head(backend: &dyn Backend) -> Option<u64> {
    let rows = query(backend, "SELECT max(number) FROM blocks", vec![]).ok()?;
    rows.rows.first()?.first()?.as_u64()
}

/// Typed reads of one row's cells; `None` for NULL or another type.
pub trait Cells {
    fn text(&self, i: usize) -> Option<&str>;
    fn int(&self, i: usize) -> Option<u64>;

    fn address(&self, i: usize) -> Option<Address> {
        self.text(i)?.parse().ok()
    }

    fn hash(&self, i: usize) -> Option<B256> {
        self.text(i)?.parse().ok()
    }

    /// A decimal amount (amounts are decimal text in the index).
    fn amount(&self, i: usize) -> Option<U256> {
        U256::from_str_radix(self.text(i)?, 10).ok()
    }
}

impl Cells for Vec<Value> {
    fn text(&self, i: usize) -> Option<&str> {
        self.get(i)?.as_str()
    }

    fn int(&self, i: usize) -> Option<u64> {
        self.get(i)?.as_u64()
    }
}

/// A cell as text for the SQL console: NULL, numbers, strings.
pub fn display(value: &Value) -> String {
    match value {
        Value::Null => "NULL".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_read_typed() {
        let row = vec![
            json!("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"),
            json!(7),
            json!("1000000000000000000000000"),
            Value::Null,
        ];
        assert!(row.address(0).is_some());
        assert_eq!(row.int(1), Some(7));
        assert_eq!(row.amount(2), Some(U256::from(10u64).pow(U256::from(24))));
        assert_eq!(row.text(3), None);
        assert_eq!(row.int(9), None);
        assert_eq!(display(&row[3]), "NULL");
        assert_eq!(display(&row[1]), "7");
        assert_eq!(
            display(&row[0]),
            "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
        );
    }
}
