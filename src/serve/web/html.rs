//! HTML by hand: escaping, the page around every view, tables, and JSON flattened into rows.
//! Every value that comes from a file or a request goes through [`escape`].

use std::fmt::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// `text` with the five characters that mean something in HTML replaced.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` made safe inside a URL path segment or query value.
pub fn url(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b => write!(out, "%{b:02X}").expect("writes to a string"),
        }
    }
    out
}

/// A whole page: `title` in the tab and as the heading, `body` (already HTML) below it.
pub fn page(title: &str, body: &str) -> String {
    let title = escape(title);
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · nnlab</title><link rel=\"stylesheet\" href=\"/static/style.css\">\
         </head><body><header><a href=\"/\">nnlab</a> serve</header><main><h1>{title}</h1>\n\
         {body}</main></body></html>\n"
    )
}

/// A table with a header row; cells are HTML already.
pub fn table(id: &str, header: &[String], rows: &[Vec<String>]) -> String {
    let mut out = format!("<table id=\"{id}\"><thead><tr>");
    for h in header {
        write!(out, "<th>{h}</th>").expect("writes to a string");
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            write!(out, "<td>{cell}</td>").expect("writes to a string");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
    out
}

/// A two-column table of names and values (escaped here).
pub fn pairs(id: &str, rows: &[(String, String)]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|(k, v)| vec![format!("<code>{}</code>", escape(k)), escape(v)])
        .collect();
    table(id, &["name".into(), "value".into()], &rows)
}

/// The scalars of a JSON value as `a.b.c = value` rows, in the file's order; nulls are left
/// out, and arrays of objects (tables of their own, see [`json_tables`]) too.
pub fn flatten(value: &Value) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    flatten_into(value, String::new(), &mut rows);
    rows
}

fn flatten_into(value: &Value, key: String, rows: &mut Vec<(String, String)>) {
    let join = |k: &str| match key.is_empty() {
        true => k.to_string(),
        false => format!("{key}.{k}"),
    };
    match value {
        Value::Null => {}
        Value::Object(map) => map.iter().for_each(|(k, v)| flatten_into(v, join(k), rows)),
        Value::Array(items) if items.iter().any(Value::is_object) => {}
        Value::Array(items) if items.iter().any(Value::is_array) => {}
        Value::Array(items) => {
            rows.push((key, items.iter().map(scalar).collect::<Vec<_>>().join(", ")))
        }
        v => rows.push((key, scalar(v))),
    }
}

/// A scalar as text: strings without quotes, whole numbers as they are, others to six
/// significant digits.
pub fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Number(n) if n.is_f64() => n.as_f64().map_or(String::new(), significant),
        v => v.to_string(),
    }
}

/// `x` to six significant digits, without trailing zeros.
fn significant(x: f64) -> String {
    let magnitude = x.abs().log10().floor();
    if x == 0.0 || !(-4.0..6.0).contains(&magnitude) {
        return format!("{x:.5e}");
    }
    let text = format!("{x:.*}", (5.0 - magnitude) as usize);
    match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => text,
    }
}

/// Each top-level array of objects in `value` (a comparison's variants, a cross-validation's
/// folds) as a table whose columns are the objects' scalar fields.
pub fn json_tables(value: &Value) -> String {
    let Value::Object(map) = value else {
        return String::new();
    };
    let mut out = String::new();
    for (name, items) in map {
        let Value::Array(items) = items else { continue };
        let objects: Vec<Vec<(String, String)>> = items
            .iter()
            .filter(|v| v.is_object())
            .map(flatten)
            .collect();
        if objects.is_empty() {
            continue;
        }
        let mut columns: Vec<String> = Vec::new();
        for (k, _) in objects.iter().flatten() {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
        let rows: Vec<Vec<String>> = objects
            .iter()
            .map(|o| {
                let cell = |c: &String| o.iter().find(|(k, _)| k == c).map(|(_, v)| escape(v));
                columns
                    .iter()
                    .map(|c| cell(c).unwrap_or_default())
                    .collect()
            })
            .collect();
        let header: Vec<String> = columns.iter().map(|c| escape(c)).collect();
        write!(out, "<h2>{}</h2>", escape(name)).expect("writes to a string");
        out.push_str(&table(name, &header, &rows));
    }
    out
}

/// A time as `YYYY-MM-DD HH:MM UTC`.
pub fn when(time: SystemTime) -> String {
    let seconds = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (y, m, d) = civil(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60
    )
}

/// The calendar date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn escape_leaves_no_markup() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(url("a b/../é"), "a%20b%2F..%2F%C3%A9");
    }

    #[test]
    fn numbers_show_six_significant_digits() {
        let shown = |v: Value| scalar(&v);
        assert_eq!(shown(serde_json::json!(0.8666666666666667)), "0.866667");
        assert_eq!(shown(serde_json::json!(106.70657157897948)), "106.707");
        assert_eq!(shown(serde_json::json!(0.5)), "0.5");
        assert_eq!(shown(serde_json::json!(120)), "120");
        assert_eq!(shown(serde_json::json!(1.5e-7)), "1.50000e-7");
    }

    #[test]
    fn dates_match_the_calendar() {
        let at = |s: u64| when(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01 00:00 UTC");
        // 2000-02-29 12:34, a leap day in a year divisible by 400.
        assert_eq!(at(951_827_640), "2000-02-29 12:34 UTC");
        assert_eq!(at(1_796_083_200), "2026-12-01 00:00 UTC");
    }

    #[test]
    fn json_flattens_to_dotted_names_and_tables() {
        let v = serde_json::json!({
            "a": {"b": 1, "c": null, "d": [1, 2]},
            "rows": [{"x": 1, "y": "<b>"}, {"x": 2, "z": true}],
        });
        assert_eq!(
            flatten(&v),
            vec![("a.b".into(), "1".into()), ("a.d".into(), "1, 2".into())]
        );
        let tables = json_tables(&v);
        assert!(
            tables.contains("<th>x</th><th>y</th><th>z</th>"),
            "{tables}"
        );
        assert!(
            tables.contains("<td>2</td><td></td><td>true</td>"),
            "{tables}"
        );
        assert!(
            tables.contains("&lt;b&gt;") && !tables.contains("<b>"),
            "{tables}"
        );
    }
}
