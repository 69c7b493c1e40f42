//! How `tally trace history` prints a product's history: the
//! registration, then one row per event, oldest first, times in UTC.

use alloy_primitives::B256;
use tally_verify::records::TraceRole;

use super::History;

/// A role's name; an unknown code shows as its number.
pub fn role_name(code: u8) -> String {
    match TraceRole::from_code(code) {
        Some(r) => r.name().to_string(),
        None => format!("role {code}"),
    }
}

/// Text from the chain as one printable line: anything with control
/// characters (a newline could fake a row) is shown quoted and escaped.
pub fn text(s: &str) -> String {
    if s.chars().any(char::is_control) {
        format!("{s:?}")
    } else {
        s.to_string()
    }
}

/// Unix seconds as `2026-12-01 10:00:00`, UTC.
pub fn utc(timestamp: u64) -> String {
    let [y, m, d, hh, mm, ss] = tally_verify::text::utc_parts(timestamp);
    format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}")
}

/// One line of the table: the registration or an event.
struct Row {
    index: String,
    time: String,
    block: String,
    party: String,
    role: String,
    status: String,
    location: String,
    documents: Vec<B256>,
}

fn rows(h: &History) -> Vec<Row> {
    let p = &h.product;
    let mut rows = vec![Row {
        index: "-".into(),
        time: utc(p.timestamp),
        block: p.block_number.to_string(),
        party: p.manufacturer.to_string(),
        role: role_name(TraceRole::Manufacturer.code()),
        status: "registered".into(),
        location: String::new(),
        documents: Vec::new(),
    }];
    rows.extend(h.events.iter().enumerate().map(|(i, e)| Row {
        // Numbered from 1, as `tally verify` numbers them.
        index: (i + 1).to_string(),
        time: utc(e.timestamp),
        block: e.block_number.to_string(),
        party: e.party.to_string(),
        role: role_name(e.role),
        status: text(&e.status),
        location: text(&e.location),
        documents: e.documents.clone(),
    }));
    rows
}

/// The whole history as text (what `print_history` prints).
pub fn render_history(h: &History) -> String {
    let p = &h.product;
    let mut out = String::new();
    out.push_str(&format!("product:      {}\n", text(&h.product_id)));
    if !p.description.is_empty() {
        out.push_str(&format!("description:  {}\n", text(&p.description)));
    }
    out.push_str(&format!("registry:     {}\n", p.registry));
    out.push_str(&format!("manufacturer: {}\n", p.manufacturer));
    out.push_str(&format!(
        "events:       {} (as of block {})\n\n",
        h.events.len(),
        h.block
    ));

    let rows = rows(h);
    let docs = |r: &Row| match r.documents.len() {
        0 => "-".to_string(),
        n => n.to_string(),
    };
    let dash = |s: &str| if s.is_empty() { "-" } else { s }.to_string();
    let header = [
        "#",
        "time (UTC)",
        "block",
        "party",
        "role",
        "status",
        "location",
        "documents",
    ];
    let cells: Vec<[String; 8]> = rows
        .iter()
        .map(|r| {
            [
                r.index.clone(),
                r.time.clone(),
                r.block.clone(),
                r.party.clone(),
                r.role.clone(),
                dash(&r.status),
                dash(&r.location),
                docs(r),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: &[String]| {
        let mut l = String::new();
        for (i, (c, w)) in cols.iter().zip(widths).enumerate() {
            if i + 1 == cols.len() {
                l.push_str(c);
            } else {
                l.push_str(&format!("{c:<w$}  "));
            }
        }
        l.trim_end().to_string() + "\n"
    };
    out.push_str(&line(&header.map(String::from)));
    for (row, r) in cells.iter().zip(&rows) {
        out.push_str(&line(row));
        // Full hashes under their event, so they can be matched against
        // files (`sha256sum`) or the notary.
        for d in &r.documents {
            out.push_str(&format!("{:w$}  document {d}\n", "", w = widths[0]));
        }
    }
    out
}

pub fn print_history(h: &History) {
    print!("{}", render_history(h));
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::Address;
    use tally_verify::{ProductRecord, TraceEventRecord};

    #[test]
    fn dates_are_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00");
        assert_eq!(utc(1_796_119_200), "2026-12-01 10:00:00");
        assert_eq!(utc(4_102_444_799), "2099-12-31 23:59:59");
        assert!(utc(u64::MAX).len() >= 19);
    }

    #[test]
    fn control_characters_cannot_fake_rows() {
        assert_eq!(text("in transit"), "in transit");
        assert_eq!(text("ok\n9  fake row"), "\"ok\\n9  fake row\"");
    }

    #[test]
    fn the_table_lists_the_registration_then_each_event() {
        let maker = Address::repeat_byte(1);
        let shipper = Address::repeat_byte(2);
        let doc = B256::repeat_byte(0xd0);
        let h = History {
            product_id: "SKU-1".into(),
            block: 9,
            product: ProductRecord {
                registry: 1,
                manufacturer: maker,
                timestamp: 1_796_119_200,
                block_number: 4,
                description: "coffee, 1 kg".into(),
            },
            events: vec![
                TraceEventRecord {
                    party: shipper,
                    role: 2,
                    timestamp: 1_796_119_260,
                    block_number: 6,
                    status: "shipped".into(),
                    location: "Rotterdam".into(),
                    documents: vec![doc],
                },
                TraceEventRecord {
                    party: shipper,
                    role: 9,
                    timestamp: 1_796_119_320,
                    block_number: 8,
                    status: "lost".into(),
                    location: String::new(),
                    documents: vec![],
                },
            ],
        };
        let out = render_history(&h);
        let lines: Vec<&str> = out.lines().collect();
        let header = lines.iter().position(|l| l.starts_with("#  ")).unwrap();
        let reg = lines[header + 1];
        assert!(reg.starts_with("-  2026-12-01 10:00:00  4 "), "{out}");
        assert!(reg.contains(&maker.to_string()) && reg.contains("manufacturer"));
        assert!(reg.contains("registered"), "{out}");
        let first = lines[header + 2];
        assert!(first.starts_with("1  2026-12-01 10:01:00  6 "), "{out}");
        assert!(
            first.contains("shipper") && first.contains("Rotterdam"),
            "{out}"
        );
        assert!(
            lines[header + 3].trim() == format!("document {doc}"),
            "{out}"
        );
        let second = lines[header + 4];
        assert!(
            second.starts_with("2 ") && second.contains("role 9"),
            "{out}"
        );
        assert!(out.contains("events:       2 (as of block 9)"), "{out}");
        assert!(out.contains("coffee, 1 kg"), "{out}");
    }
}
