//! How `tally gov list` and `tally gov show` print proposals (the node's
//! `tally_getProposal` JSON: camelCase, the action tagged by `kind`).

use serde_json::Value;
use tally_primitives::Role;

fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v.get(field).and_then(Value::as_str).unwrap_or("?")
}

fn num(v: &Value, field: &str) -> String {
    v.get(field)
        .and_then(Value::as_u64)
        .map_or_else(|| "-".to_string(), |n| n.to_string())
}

/// The action in a few words: `addValidator 0x.. power 1`.
pub fn action(p: &Value) -> String {
    let a = &p["action"];
    let kind = text(a, "kind");
    let roles = || {
        let mask = a["mask"].as_u64().and_then(|m| u8::try_from(m).ok());
        mask.map_or_else(|| "?".into(), |m| Role::names(m).join(","))
    };
    match kind {
        "addValidator" => format!("{kind} {} power {}", text(a, "key"), num(a, "power")),
        "removeValidator" => format!("{kind} {}", text(a, "key")),
        "addMember" => format!(
            "{kind} {} account {} node {}",
            text(a, "name"),
            text(a, "account"),
            text(a, "nodeKey")
        ),
        "removeMember" => format!("{kind} {}", text(a, "account")),
        "setParam" => {
            let name = match a["param"].as_u64() {
                Some(1) => "gas-limit",
                Some(2) => "block-time-ms",
                Some(3) => "min-gas-price",
                _ => "?",
            };
            format!("{kind} {name} = {}", num(a, "value"))
        }
        "grantRole" | "revokeRole" => format!("{kind} {} {}", roles(), text(a, "account")),
        _ => kind.to_string(),
    }
}

/// `executed at block 12 (yes 3, no 0)`.
pub fn summary(p: &Value) -> String {
    let status = text(p, "status");
    let at = match p.get("executedBlock").and_then(Value::as_u64) {
        Some(b) => format!(" at the end of block {b}"),
        None => String::new(),
    };
    format!(
        "{status}{at} (yes {}, no {}; effective height {})",
        num(p, "yes"),
        num(p, "no"),
        num(p, "effectiveHeight")
    )
}

pub fn print_table(list: &[Value]) {
    if list.is_empty() {
        println!("no proposals");
        return;
    }
    println!(
        "{:>4}  {:<16} {:<9} {:>4} {:>4} {:>9}  memo",
        "id", "kind", "status", "yes", "no", "effective"
    );
    for p in list {
        println!(
            "{:>4}  {:<16} {:<9} {:>4} {:>4} {:>9}  {}",
            num(p, "id"),
            text(&p["action"], "kind"),
            text(p, "status"),
            num(p, "yes"),
            num(p, "no"),
            num(p, "effectiveHeight"),
            text(p, "memo"),
        );
    }
}

pub fn print_proposal(p: &Value) {
    println!("proposal:  {}", num(p, "id"));
    println!("action:    {}", action(p));
    println!("status:    {}", summary(p));
    println!("proposer:  {}", text(p, "proposer"));
    println!("created:   block {}", num(p, "createdBlock"));
    let memo = text(p, "memo");
    if !memo.is_empty() {
        println!("memo:      {memo}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn actions_read_plainly() {
        let p = json!({"id": 1, "status": "executed", "yes": 3, "no": 0,
            "effectiveHeight": 9, "executedBlock": 8, "memo": "",
            "action": {"kind": "grantRole", "account": "0xab", "mask": 3}});
        assert_eq!(action(&p), "grantRole admin,deployer 0xab");
        assert!(summary(&p).starts_with("executed at the end of block 8"));
    }
}
