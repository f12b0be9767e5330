//! CSV tables with a header row: numeric features picked by column name, a numeric or labelled
//! target. Every error names the file, the line and the column.

use std::collections::BTreeSet;
use std::path::Path;

use super::{Dataset, TargetValues};
use crate::error::{Error, Result};
use crate::loss::Task;

fn data_error(path: &Path, line: Option<u64>, column: Option<&str>, message: String) -> Error {
    Error::Data {
        path: path.to_path_buf(),
        line,
        column: column.map(str::to_owned),
        message,
    }
}

/// An open CSV file with its header read.
struct Table {
    reader: ::csv::Reader<std::fs::File>,
    header: Vec<String>,
}

fn open(path: &Path) -> Result<Table> {
    if path.is_dir() {
        return Err(data_error(
            path,
            None,
            None,
            "is a directory, not a CSV file".into(),
        ));
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(file);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| data_error(path, Some(1), None, e.to_string()))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    if header.is_empty() || header.iter().all(String::is_empty) {
        return Err(data_error(
            path,
            None,
            None,
            "is empty: expected a header row".into(),
        ));
    }
    Ok(Table { reader, header })
}

fn column_index(path: &Path, header: &[String], name: &str) -> Result<usize> {
    header.iter().position(|h| h == name).ok_or_else(|| {
        data_error(
            path,
            Some(1),
            None,
            format!("no column `{name}`; the columns are: {}", header.join(", ")),
        )
    })
}

fn parse_number(path: &Path, line: u64, column: &str, cell: &str) -> Result<f64> {
    let value: f64 = cell.trim().parse().map_err(|_| {
        data_error(
            path,
            Some(line),
            Some(column),
            format!("`{cell}` is not a number"),
        )
    })?;
    if !value.is_finite() {
        return Err(data_error(
            path,
            Some(line),
            Some(column),
            format!("`{cell}` is not a finite number"),
        ));
    }
    Ok(value)
}

/// Visits each data row with its 1-based line number, checking that it has every column.
fn for_each_row(
    path: &Path,
    table: &mut Table,
    mut visit: impl FnMut(u64, &::csv::StringRecord) -> Result<()>,
) -> Result<()> {
    let mut record = ::csv::StringRecord::new();
    loop {
        let more = table.reader.read_record(&mut record).map_err(|e| {
            let line = e.position().map(|p| p.line());
            data_error(path, line, None, e.to_string())
        })?;
        if !more {
            return Ok(());
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != table.header.len() {
            return Err(data_error(
                path,
                Some(line),
                None,
                format!(
                    "has {} fields but the header has {}",
                    record.len(),
                    table.header.len()
                ),
            ));
        }
        visit(line, &record)?;
    }
}

/// Reads a training table: `target` is the column to predict; `features` the columns to learn
/// from (every other column when `None`).
pub fn read_table(
    path: &Path,
    target: &str,
    features: Option<&[String]>,
    task: Task,
) -> Result<Dataset> {
    let mut table = open(path)?;
    let target_index = column_index(path, &table.header, target)?;
    let feature_names: Vec<String> = match features {
        Some(names) => names.to_vec(),
        None => table
            .header
            .iter()
            .filter(|h| h.as_str() != target)
            .cloned()
            .collect(),
    };
    if feature_names.is_empty() {
        return Err(data_error(
            path,
            Some(1),
            None,
            format!("has no feature column besides the target `{target}`"),
        ));
    }
    let feature_indices = feature_names
        .iter()
        .map(|name| column_index(path, &table.header, name))
        .collect::<Result<Vec<_>>>()?;

    let mut values = Vec::new();
    let mut raw_targets = Vec::new();
    for_each_row(path, &mut table, |line, record| {
        for (&i, name) in feature_indices.iter().zip(&feature_names) {
            values.push(parse_number(path, line, name, &record[i])?);
        }
        let cell = record[target_index].trim();
        raw_targets.push((line, cell.to_owned()));
        Ok(())
    })?;
    if raw_targets.is_empty() {
        return Err(data_error(
            path,
            None,
            None,
            "has a header but no data rows".into(),
        ));
    }

    let targets = match task {
        Task::Regression => TargetValues::Values(
            raw_targets
                .iter()
                .map(|(line, cell)| parse_number(path, *line, target, cell))
                .collect::<Result<_>>()?,
        ),
        Task::Classification => classes(path, target, &raw_targets)?,
    };
    Ok(Dataset {
        features: values,
        feature_names,
        target_name: target.to_owned(),
        targets,
    })
}

/// Maps class cells to indices: labels sorted numerically when they are all numbers, else
/// alphabetically.
fn classes(path: &Path, target: &str, cells: &[(u64, String)]) -> Result<TargetValues> {
    if let Some((line, _)) = cells.iter().find(|(_, c)| c.is_empty()) {
        return Err(data_error(
            path,
            Some(*line),
            Some(target),
            "is empty".into(),
        ));
    }
    let distinct: BTreeSet<&str> = cells.iter().map(|(_, c)| c.as_str()).collect();
    let mut labels: Vec<String> = distinct.into_iter().map(str::to_owned).collect();
    if labels.iter().all(|l| l.parse::<f64>().is_ok()) {
        labels.sort_by(|a, b| {
            a.parse::<f64>()
                .unwrap()
                .total_cmp(&b.parse::<f64>().unwrap())
        });
    }
    if labels.len() < 2 {
        return Err(data_error(
            path,
            None,
            Some(target),
            format!(
                "has a single class (`{}`); classification needs two or more",
                labels[0]
            ),
        ));
    }
    let indices = cells
        .iter()
        .map(|(_, c)| {
            labels
                .iter()
                .position(|l| l == c)
                .expect("label collected above")
        })
        .collect();
    Ok(TargetValues::Classes { indices, labels })
}

/// Reads the columns `names` (in that order) from a CSV file for prediction; other columns are
/// ignored. Returns the values row-major.
pub fn read_features(path: &Path, names: &[String]) -> Result<Vec<f64>> {
    let mut table = open(path)?;
    let indices = names
        .iter()
        .map(|name| column_index(path, &table.header, name))
        .collect::<Result<Vec<_>>>()?;
    let mut values = Vec::new();
    for_each_row(path, &mut table, |line, record| {
        for (&i, name) in indices.iter().zip(names) {
            values.push(parse_number(path, line, name, &record[i])?);
        }
        Ok(())
    })?;
    if values.is_empty() {
        return Err(data_error(
            path,
            None,
            None,
            "has a header but no data rows".into(),
        ));
    }
    Ok(values)
}
