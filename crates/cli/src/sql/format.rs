//! Printing a `tally_sql` answer: an aligned table or CSV.

use serde::Deserialize;
use serde_json::Value;

/// What `tally_sql` answers.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    pub truncated: bool,
    pub elapsed_ms: u64,
}

/// A cell as text: strings as they are, NULL as `null_as`, numbers and
/// booleans as JSON writes them.
fn text(value: &Value, null_as: &str) -> String {
    match value {
        Value::Null => null_as.to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Header, a rule, the rows (numbers right-aligned), and a count.
pub fn table(answer: &Answer) -> String {
    // One line per row: line breaks and tabs in text are shown escaped.
    let cell = |v: &Value| {
        text(v, "NULL")
            .replace('\\', "\\\\")
            .replace('\n', "\\n")
            .replace('\r', "\\r")
            .replace('\t', "\\t")
    };
    let rows: Vec<Vec<(String, bool)>> = answer
        .rows
        .iter()
        .map(|r| r.iter().map(|v| (cell(v), v.is_number())).collect())
        .collect();
    let mut widths: Vec<usize> = answer.columns.iter().map(|c| c.chars().count()).collect();
    for row in &rows {
        for (i, (c, _)) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<(String, bool)>, out: &mut String| {
        let parts: Vec<String> = cells
            .into_iter()
            .zip(&widths)
            .map(|((c, right), &w)| {
                if right {
                    format!("{c:>w$}")
                } else {
                    format!("{c:<w$}")
                }
            })
            .collect();
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(
        answer.columns.iter().map(|c| (c.clone(), false)).collect(),
        &mut out,
    );
    out.push_str(
        &widths
            .iter()
            .map(|&w| "-".repeat(w))
            .collect::<Vec<_>>()
            .join("  "),
    );
    out.push('\n');
    for row in rows {
        line(row, &mut out);
    }
    let n = answer.rows.len();
    out.push_str(&format!(
        "({n} row{}{}, {} ms)\n",
        if n == 1 { "" } else { "s" },
        if answer.truncated { ", truncated" } else { "" },
        answer.elapsed_ms
    ));
    out
}

/// RFC 4180: a header row, then one record per row; NULL is an empty
/// field.
pub fn csv(answer: &Answer) -> String {
    let mut out = String::new();
    let mut record = |fields: Vec<String>| {
        let quoted: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&quoted.join(","));
        out.push_str("\r\n");
    };
    record(answer.columns.clone());
    for row in &answer.rows {
        record(row.iter().map(|v| text(v, "")).collect());
    }
    out
}

/// Quoted (with `"` doubled) when it holds a comma, a quote, a line break
/// or edge spaces.
fn csv_field(field: &str) -> String {
    let needs =
        field.contains([',', '"', '\n', '\r']) || field.starts_with(' ') || field.ends_with(' ');
    if needs {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer() -> Answer {
        serde_json::from_value(json!({
            "columns": ["n", "who", "note"],
            "rows": [
                [1, "0xabc", null],
                [250, "b", "say \"hi\", twice"],
                [3.5, "line\nbreak", " pad"],
            ],
            "truncated": false,
            "elapsedMs": 2
        }))
        .unwrap()
    }

    #[test]
    fn table_aligns_and_shows_null() {
        assert_eq!(
            table(&answer()),
            "n    who          note\n\
             ---  -----------  ---------------\n\
             \x20 1  0xabc        NULL\n\
             250  b            say \"hi\", twice\n\
             3.5  line\\nbreak   pad\n\
             (3 rows, 2 ms)\n"
        );
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        assert_eq!(
            csv(&answer()),
            "n,who,note\r\n\
             1,0xabc,\r\n\
             250,b,\"say \"\"hi\"\", twice\"\r\n\
             3.5,\"line\nbreak\",\" pad\"\r\n"
        );
    }

    #[test]
    fn empty_answers_still_have_a_header() {
        let a: Answer = serde_json::from_value(json!({
            "columns": ["count(*)"], "rows": [], "truncated": true, "elapsedMs": 0
        }))
        .unwrap();
        assert_eq!(table(&a), "count(*)\n--------\n(0 rows, truncated, 0 ms)\n");
        assert_eq!(csv(&a), "count(*)\r\n");
    }
}
