//! `tally sql "SELECT …"`: read-only SQL over a node's index of the ledger
//! (`tally_sql`), printed as a table, CSV or JSON; `tally sql --schema`
//! prints the index's tables without a node.

mod format;

use anyhow::Context;
use serde_json::{json, Value};

use crate::client::rpc::{Rpc, RpcArgs, RpcError};
use format::Answer;

#[derive(clap::Args)]
pub struct SqlArgs {
    /// One read-only statement (SELECT or WITH … SELECT), with `?` for
    /// each --param. `tally sql --schema` lists the tables.
    #[arg(value_name = "SQL", required_unless_present = "schema")]
    query: Option<String>,
    /// The value of the next `?`, in order (repeat the flag): JSON (`12`,
    /// `"12"`, `null`, `true`) or else plain text (`0xf39f…`).
    #[arg(long = "param", value_name = "V", allow_hyphen_values = true)]
    params: Vec<String>,
    /// How to print the answer.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Print the index's tables and columns (SQL with comments) and exit;
    /// needs no node.
    #[arg(long, conflicts_with_all = ["query", "params"])]
    schema: bool,
    #[command(flatten)]
    rpc: RpcArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    /// Aligned columns under a header; NULL shown as NULL.
    Table,
    /// RFC 4180 CSV with a header row; NULL as an empty field.
    Csv,
    /// The node's answer: {columns, rows, truncated, elapsedMs}.
    Json,
}

pub fn run(args: SqlArgs) -> anyhow::Result<()> {
    if args.schema {
        print!("{}", tally_sql::schema());
        return Ok(());
    }
    let query = args
        .query
        .context("give a query: tally sql \"SELECT …\" (or --schema)")?;
    let params: Vec<Value> = args.params.iter().map(|p| param(p)).collect();
    let rpc = Rpc::connect(&args.rpc)?;
    let raw: Value = rpc
        .call("tally_sql", vec![json!(query), json!(params)])
        .map_err(|e| explain(&rpc, e))?;
    let answer: Answer = serde_json::from_value(raw.clone()).with_context(|| {
        format!(
            "node at {} sent an unexpected answer to tally_sql",
            rpc.url()
        )
    })?;
    let out = match args.format {
        Format::Table => format::table(&answer),
        Format::Csv => format::csv(&answer),
        Format::Json => format!("{}\n", serde_json::to_string_pretty(&raw)?),
    };
    print!("{out}");
    if answer.truncated {
        eprintln!(
            "note: only the first {} rows are shown: the node's row limit cut the answer \
             (add LIMIT/OFFSET or a narrower WHERE)",
            answer.rows.len()
        );
    }
    Ok(())
}

/// A `--param`: JSON when it parses, else the text itself.
fn param(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// The node's refusal in the user's terms: its message is the point.
fn explain(rpc: &Rpc, e: RpcError) -> anyhow::Error {
    match e {
        RpcError::Node { error, .. } if error.code == -32602 => {
            anyhow::anyhow!("the query was refused: {}", error.message)
        }
        RpcError::Node { error, .. } => anyhow::anyhow!("{}", error.message),
        RpcError::MethodNotFound { .. } => anyhow::anyhow!(
            "node at {} has no SQL interface (tally_sql): is it a Tally node?",
            rpc.url()
        ),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_json_or_text() {
        assert_eq!(param("12"), json!(12));
        assert_eq!(param("\"12\""), json!("12"));
        assert_eq!(param("null"), Value::Null);
        assert_eq!(param("0xF39F"), json!("0xF39F"));
        assert_eq!(param("SKU 12"), json!("SKU 12"));
        assert_eq!(param("-3"), json!(-3));
    }
}
