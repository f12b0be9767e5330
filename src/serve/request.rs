//! The body of a predict request, in TensorFlow Serving's two JSON layouts, decoded into the
//! run's feature rows: `{"instances": [{"x1": 0.1, "x2": 0.3}, ...]}` (one object, or one list
//! in the run's column order, per row) or `{"inputs": {"x1": [...], "x2": [...]}}` (one list
//! per column). Every refusal names what is wrong, for a 400 answer.

use serde_json::{Map, Value};

/// Why a request's rows cannot be read.
#[derive(Debug, PartialEq)]
pub struct BadRequest(pub String);

/// The rows of `body`, row-major, in the order of `features`; at most `max_rows` of them.
pub fn decode_rows(
    body: &Value,
    features: &[String],
    max_rows: usize,
) -> Result<Vec<f64>, BadRequest> {
    let bad = |m: String| Err(BadRequest(m));
    let Some(object) = body.as_object() else {
        return bad("the body must be a JSON object with `instances` or `inputs`".into());
    };
    match (object.get("instances"), object.get("inputs")) {
        (Some(_), Some(_)) => bad("give `instances` or `inputs`, not both".into()),
        (Some(Value::Array(rows)), None) => {
            check_rows(rows.len(), max_rows)?;
            let mut values = Vec::with_capacity(rows.len() * features.len());
            for (i, row) in rows.iter().enumerate() {
                instance(row, i, features, &mut values)?;
            }
            Ok(values)
        }
        (None, Some(Value::Object(columns))) => by_column(columns, features, max_rows),
        (Some(_), None) => bad("`instances` must be a list of rows".into()),
        (None, Some(_)) => bad("`inputs` must be an object of one list per column".into()),
        (None, None) => bad("the body has neither `instances` nor `inputs`".into()),
    }
}

fn check_rows(rows: usize, max_rows: usize) -> Result<(), BadRequest> {
    match rows {
        0 => Err(BadRequest("there are no rows to predict".into())),
        n if n > max_rows => Err(BadRequest(format!(
            "{n} rows is more than the {max_rows} a request may hold (--max-rows)"
        ))),
        _ => Ok(()),
    }
}

/// A finite number, or why not.
fn number(value: &Value, at: impl Fn() -> String) -> Result<f64, BadRequest> {
    match value.as_f64() {
        Some(v) if v.is_finite() => Ok(v),
        _ => Err(BadRequest(format!("{} is {value}, not a number", at()))),
    }
}

/// Appends one instance (an object by column name, or a list in column order) to `values`.
fn instance(
    row: &Value,
    i: usize,
    features: &[String],
    values: &mut Vec<f64>,
) -> Result<(), BadRequest> {
    match row {
        Value::Object(cells) => {
            if let Some(name) = cells.keys().find(|k| !features.contains(k)) {
                return Err(BadRequest(format!(
                    "instance {i} has a column `{name}` the run does not read; its columns are: {}",
                    features.join(", ")
                )));
            }
            for name in features {
                let cell = cells
                    .get(name)
                    .ok_or_else(|| BadRequest(format!("instance {i} lacks the column `{name}`")))?;
                values.push(number(cell, || format!("instance {i}, column `{name}`,"))?);
            }
            Ok(())
        }
        Value::Array(cells) if cells.len() == features.len() => {
            for (name, cell) in features.iter().zip(cells) {
                values.push(number(cell, || format!("instance {i}, column `{name}`,"))?);
            }
            Ok(())
        }
        Value::Array(cells) => Err(BadRequest(format!(
            "instance {i} has {} values but the run reads {} columns ({})",
            cells.len(),
            features.len(),
            features.join(", ")
        ))),
        other => Err(BadRequest(format!(
            "instance {i} is {other}, not an object or a list"
        ))),
    }
}

/// The rows of `{"inputs": {column: [values]}}`.
fn by_column(
    columns: &Map<String, Value>,
    features: &[String],
    max_rows: usize,
) -> Result<Vec<f64>, BadRequest> {
    if let Some(name) = columns.keys().find(|k| !features.contains(k)) {
        return Err(BadRequest(format!(
            "`inputs` has a column `{name}` the run does not read; its columns are: {}",
            features.join(", ")
        )));
    }
    let mut lists = Vec::with_capacity(features.len());
    for name in features {
        match columns.get(name) {
            Some(Value::Array(list)) => lists.push((name, list)),
            Some(_) => {
                return Err(BadRequest(format!(
                    "input `{name}` must be a list of numbers"
                )));
            }
            None => return Err(BadRequest(format!("`inputs` lacks the column `{name}`"))),
        }
    }
    let rows = lists.first().map_or(0, |(_, list)| list.len());
    check_rows(rows, max_rows)?;
    if let Some((name, list)) = lists.iter().find(|(_, list)| list.len() != rows) {
        return Err(BadRequest(format!(
            "input `{name}` has {} values but `{}` has {rows}",
            list.len(),
            features[0]
        )));
    }
    let mut values = Vec::with_capacity(rows * features.len());
    for i in 0..rows {
        for (name, list) in &lists {
            values.push(number(&list[i], || format!("input `{name}`, row {i},"))?);
        }
    }
    Ok(values)
}

/// The texts of a request to a text run, whose one column is `column`:
/// `{"instances": ["a text", {"COLUMN": "another"}]}` or `{"inputs": {"COLUMN": [...]}}`.
pub fn decode_texts(
    body: &Value,
    column: &str,
    max_rows: usize,
) -> Result<Vec<String>, BadRequest> {
    let bad = |m: String| Err(BadRequest(m));
    let Some(object) = body.as_object() else {
        return bad("the body must be a JSON object with `instances` or `inputs`".into());
    };
    let texts = match (object.get("instances"), object.get("inputs")) {
        (Some(_), Some(_)) => return bad("give `instances` or `inputs`, not both".into()),
        (Some(Value::Array(rows)), None) => rows,
        (None, Some(Value::Object(columns))) => match columns.get(column) {
            Some(Value::Array(rows)) if columns.len() == 1 => rows,
            _ => return bad(format!("`inputs` must hold one list, `{column}`, of texts")),
        },
        (Some(_), None) => return bad("`instances` must be a list of texts".into()),
        (None, Some(_)) => return bad("`inputs` must be an object of one list per column".into()),
        (None, None) => return bad("the body has neither `instances` nor `inputs`".into()),
    };
    check_rows(texts.len(), max_rows)?;
    let text = |(i, row): (usize, &Value)| {
        let cell = match row {
            Value::Object(cells) if cells.len() == 1 => cells.get(column),
            row => Some(row),
        };
        match cell {
            Some(Value::String(text)) => Ok(text.clone()),
            _ => Err(BadRequest(format!(
                "instance {i} must be a text, or `{{\"{column}\": TEXT}}`"
            ))),
        }
    };
    texts.iter().enumerate().map(text).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn features() -> Vec<String> {
        vec!["x1".into(), "x2".into()]
    }

    #[test]
    fn both_layouts_give_the_same_rows() {
        let rows = vec![0.5, -1.0, 2.0, 3.5];
        let instances = json!({"instances": [{"x2": -1.0, "x1": 0.5}, [2.0, 3.5]]});
        let inputs = json!({"inputs": {"x1": [0.5, 2.0], "x2": [-1.0, 3.5]}});
        assert_eq!(decode_rows(&instances, &features(), 10), Ok(rows.clone()));
        assert_eq!(decode_rows(&inputs, &features(), 10), Ok(rows));
    }

    #[test]
    fn every_refusal_names_the_problem() {
        let cases = [
            (json!([1, 2]), "JSON object"),
            (json!({"instances": [{"x1": 1}]}), "lacks the column `x2`"),
            (
                json!({"instances": [{"x1": 1, "x2": 2, "z": 3}]}),
                "column `z`",
            ),
            (
                json!({"instances": [{"x1": "a", "x2": 2}]}),
                "\"a\", not a number",
            ),
            (
                json!({"instances": [{"x1": null, "x2": 2}]}),
                "null, not a number",
            ),
            (json!({"instances": [[1]]}), "has 1 values"),
            (json!({"instances": []}), "no rows"),
            (
                json!({"instances": [[1, 2], [3, 4], [5, 6]]}),
                "more than the 2",
            ),
            (json!({"inputs": {"x1": [1, 2], "x2": [3]}}), "has 1 values"),
            (json!({"inputs": {"x1": [1]}}), "lacks the column `x2`"),
            (json!({"instances": 3}), "list of rows"),
            (json!({}), "neither"),
        ];
        for (body, needle) in cases {
            let error = decode_rows(&body, &features(), 2).unwrap_err();
            assert!(error.0.contains(needle), "{body}: {}", error.0);
        }
    }

    #[test]
    fn texts_come_as_strings_objects_or_one_column() {
        let texts = Ok(vec!["good film".to_string(), "bad".to_string()]);
        let instances = json!({"instances": ["good film", {"review": "bad"}]});
        let inputs = json!({"inputs": {"review": ["good film", "bad"]}});
        assert_eq!(decode_texts(&instances, "review", 10), texts);
        assert_eq!(decode_texts(&inputs, "review", 10), texts);
        for (body, needle) in [
            (json!({"instances": [3]}), "instance 0 must be a text"),
            (
                json!({"instances": [{"text": "a"}]}),
                "`{\"review\": TEXT}`",
            ),
            (json!({"inputs": {"review": ["a"], "x": []}}), "one list"),
            (json!({"instances": ["a", "b", "c"]}), "more than the 2"),
        ] {
            let error = decode_texts(&body, "review", 2).unwrap_err();
            assert!(error.0.contains(needle), "{body}: {}", error.0);
        }
    }
}
