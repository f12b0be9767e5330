//! What every node tells the others once it has registered: what it trains and on what, so
//! that nodes which cannot train one model together are refused before the first step, with a
//! line naming the node and what differs. burn-collective registers nodes by count only.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::ExperimentConfig;
use crate::data::Dataset;
use crate::error::{Error, Result};

/// One node's account of its run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Signature {
    pub version: String,
    /// The backend's float type.
    pub precision: String,
    /// The experiment's settings, without the paths of its files (nodes keep their data
    /// where they like).
    pub settings: Value,
    pub columns: Vec<String>,
    pub target: String,
    /// The data's classes, for classification.
    pub classes: Option<Vec<String>>,
    pub rows: usize,
    /// Where the others reach this node's tensors.
    pub address: String,
}

impl Signature {
    /// The signature of a node with this run and data, its tensors served at `address`; its
    /// precision is the backend's, filled in by `join`.
    pub fn of(config: &ExperimentConfig, data: &Dataset, address: &str) -> Self {
        let mut settings = serde_json::to_value(config).unwrap_or(Value::Null);
        for path in ["csv", "images", "idx_images", "idx_labels"] {
            settings["data"][path] = Value::Null;
        }
        settings["training"]["init_from"] = Value::Null;
        Signature {
            version: env!("CARGO_PKG_VERSION").to_string(),
            precision: String::new(),
            settings,
            columns: data.feature_names.clone(),
            target: data.target_name.clone(),
            classes: data.labels().map(<[_]>::to_vec),
            rows: data.rows(),
            address: address.to_string(),
        }
    }
}

/// Refuses nodes that differ from node 0. Federated nodes each hold their own rows, and
/// may hold different classes; data-parallel nodes read the same table.
pub fn check(nodes: &[Signature], federated: bool) -> Result<()> {
    let first = &nodes[0];
    for (i, node) in nodes.iter().enumerate().skip(1) {
        if let Some(difference) = difference(first, node, federated) {
            return Err(Error::Usage(format!(
                "registration refused: node {i}'s {difference}"
            )));
        }
    }
    Ok(())
}

fn difference(first: &Signature, node: &Signature, federated: bool) -> Option<String> {
    if node.version != first.version {
        return Some(format!(
            "nnlab is {}, node 0's {}",
            node.version, first.version
        ));
    }
    if node.precision != first.precision {
        return Some(format!(
            "backend computes in {}, node 0's in {}",
            node.precision, first.precision
        ));
    }
    if let Some(column) = column_difference(&first.columns, &node.columns) {
        return Some(column);
    }
    if node.target != first.target {
        return Some(format!(
            "target column is `{}`, node 0's `{}`",
            node.target, first.target
        ));
    }
    if let Some((path, ours, theirs)) = first_difference(&node.settings, &first.settings, "") {
        return Some(format!("{path} is {ours}, node 0's {theirs}"));
    }
    if federated {
        return None;
    }
    if node.rows != first.rows || node.classes != first.classes {
        return Some(format!(
            "data has {} rows{}, node 0's {}{}: data-parallel nodes read the same table \
             (to train on each node's own rows, add --federated)",
            node.rows,
            classes(&node.classes),
            first.rows,
            classes(&first.classes)
        ));
    }
    None
}

fn classes(labels: &Option<Vec<String>>) -> String {
    labels
        .as_ref()
        .map_or(String::new(), |l| format!(" of classes {l:?}"))
}

fn column_difference(first: &[String], node: &[String]) -> Option<String> {
    let at = first.iter().zip(node).position(|(a, b)| a != b);
    match at {
        Some(j) => Some(format!(
            "data has column `{}` where node 0's has `{}` (feature column {})",
            node[j],
            first[j],
            j + 1
        )),
        None if node.len() != first.len() => Some(format!(
            "data has {} feature columns, node 0's {} ({})",
            node.len(),
            first.len(),
            match node.len() > first.len() {
                true => format!("`{}` is extra", node[first.len()]),
                false => format!("`{}` is missing", first[node.len()]),
            }
        )),
        None => None,
    }
}

/// The first place, as a dotted path, where two JSON values differ, with both values.
fn first_difference(ours: &Value, theirs: &Value, path: &str) -> Option<(String, String, String)> {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let (x, y) = (&a.get(k), &b.get(k));
                let inner = match path.is_empty() {
                    true => k.clone(),
                    false => format!("{path}.{k}"),
                };
                first_difference(x.unwrap_or(&Value::Null), y.unwrap_or(&Value::Null), &inner)
            })
        }
        _ if ours != theirs => Some((path.to_string(), ours.to_string(), theirs.to_string())),
        _ => None,
    }
}

/// Every class that some node holds, ordered as one table's classes would be.
pub fn all_classes(nodes: &[Signature]) -> Option<Vec<String>> {
    nodes[0].classes.as_ref()?;
    let mut all: Vec<String> = nodes
        .iter()
        .filter_map(|n| n.classes.clone())
        .flatten()
        .collect();
    all.sort();
    all.dedup();
    crate::data::csv::sort_labels(&mut all);
    Some(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(columns: &[&str], hidden: usize, classes: &[&str]) -> Signature {
        Signature {
            version: "1".into(),
            precision: "f32".into(),
            settings: serde_json::json!({"model": {"hidden": [hidden]}, "seed": 7}),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            target: "y".into(),
            classes: Some(classes.iter().map(|c| c.to_string()).collect()),
            rows: 10,
            address: "h:1".into(),
        }
    }

    #[test]
    fn a_node_that_differs_is_named_with_what_differs() {
        let a = node(&["x1", "x2"], 8, &["0", "1"]);
        assert!(check(&[a.clone(), a.clone()], false).is_ok());
        let said =
            |nodes: &[Signature], federated| check(nodes, federated).unwrap_err().to_string();
        let renamed = node(&["x1", "x3"], 8, &["0", "1"]);
        let text = said(&[a.clone(), a.clone(), renamed], true);
        assert!(text.contains("node 2's") && text.contains("`x3`") && text.contains("`x2`"));
        let short = node(&["x1"], 8, &["0", "1"]);
        assert!(said(&[a.clone(), short], true).contains("`x2` is missing"));
        let wider = node(&["x1", "x2"], 16, &["0", "1"]);
        let text = said(&[a.clone(), wider], true);
        assert!(
            text.contains("model.hidden is [16], node 0's [8]"),
            "{text}"
        );
        let other = node(&["x1", "x2"], 8, &["0", "2"]);
        assert!(check(&[a.clone(), other.clone()], true).is_ok());
        assert!(said(&[a, other], false).contains("--federated"));
    }

    #[test]
    fn classes_of_all_nodes_are_ordered_as_numbers() {
        let nodes = [node(&[], 1, &["2", "10"]), node(&[], 1, &["1", "2"])];
        assert_eq!(all_classes(&nodes).unwrap(), ["1", "2", "10"]);
    }
}
