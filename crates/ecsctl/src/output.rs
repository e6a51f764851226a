//! Output for people (tables) and for scripts (the API's JSON, one document on stdout).

use comfy_table::{presets, Table};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// A value as a table cell: strings without quotes, nothing for null.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Prints the API's JSON, pretty, as the whole of stdout.
pub fn json(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string()));
}

fn new_table() -> Table {
    let mut t = Table::new();
    // Plain columns without borders: readable, and easy to `grep`/`awk` as well.
    t.load_preset(presets::NOTHING);
    t
}

/// A table with a header row, one row per item.
pub fn rows(header: &[&str], items: Vec<Vec<String>>) {
    let mut t = new_table();
    t.set_header(header.iter().map(|h| h.to_string()));
    for r in items {
        t.add_row(r);
    }
    println!("{t}");
}

/// One object as `field  value` lines.
pub fn fields(items: Vec<(&str, String)>) {
    let mut t = new_table();
    for (k, v) in items {
        t.add_row(vec![k.to_string(), v]);
    }
    println!("{t}");
}
