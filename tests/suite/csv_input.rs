//! CSV input through the real binary: every bad file gets a one-line error naming the file,
//! line and column, exit code 1, and no run directory; good files with text labels, missing
//! values (when asked to skip them), `;` or tab separators (detected or given) or quoted
//! fields train and predict.

use std::path::{Path, PathBuf};

use predicates::prelude::*;

use crate::common;
use common::nnlab;

/// Writes `text` to DIR/name and returns the path.
fn file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `nnlab train --data FILE --target TARGET -q --out DIR/run` plus `extra`.
fn train(dir: &Path, data: &Path, target: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
    nnlab()
        .args(["train", "--data"])
        .arg(data)
        .args(["--target", target, "-q", "--out"])
        .arg(dir.join("run"))
        .args(extra)
        .assert()
}

/// Expects exit code 1, a one-line message containing every piece of `parts`, and no run.
fn fails_with(dir: &Path, data: &Path, target: &str, extra: &[&str], parts: &[&str]) {
    let assert = train(dir, data, target, extra).code(1);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for part in parts {
        assert!(stderr.contains(part), "`{part}` not in: {stderr}");
    }
    assert!(!dir.join("run").exists(), "no run for bad input");
}

#[test]
fn a_non_numeric_cell_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let csv = file(dir.path(), "t.csv", "x,y\n1,2\n2,abc\n");
    fails_with(
        dir.path(),
        &csv,
        "y",
        &[],
        &["t.csv, line 3, column `y`: `abc` is not a number"],
    );
}

#[test]
fn a_ragged_row_gives_both_field_counts() {
    let dir = tempfile::tempdir().unwrap();
    let csv = file(dir.path(), "t.csv", "a,b,y\n1,2,3\n4,5\n");
    fails_with(
        dir.path(),
        &csv,
        "y",
        &[],
        &["t.csv, line 3: has 2 fields but the header has 3"],
    );
}

#[test]
fn an_empty_file_and_a_header_without_rows() {
    let dir = tempfile::tempdir().unwrap();
    let empty = file(dir.path(), "empty.csv", "");
    fails_with(
        dir.path(),
        &empty,
        "y",
        &[],
        &["empty.csv: is empty: expected a header row"],
    );
    let header = file(dir.path(), "header.csv", "x,y\n");
    fails_with(
        dir.path(),
        &header,
        "y",
        &[],
        &["header.csv: has a header but no data rows"],
    );
}

#[test]
fn a_missing_target_column_lists_the_columns() {
    let dir = tempfile::tempdir().unwrap();
    let csv = file(dir.path(), "t.csv", "x1,x2,label\n1,2,a\n");
    fails_with(
        dir.path(),
        &csv,
        "class",
        &[],
        &["t.csv, line 1: no column `class`; the columns are: x1, x2, label"],
    );
}

#[test]
fn missing_values_are_refused_unless_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let text = "x,y\n0,1\n1,3\n,5\n2,NaN\n3,inf\n4,9\n5,11\n";
    let csv = file(dir.path(), "t.csv", text);
    fails_with(
        dir.path(),
        &csv,
        "y",
        &[],
        &["t.csv, line 4, column `x`: is empty; pass --drop-missing"],
    );
    let nan = file(dir.path(), "nan.csv", "x,y\n0,1\n2,NaN\n");
    fails_with(
        dir.path(),
        &nan,
        "y",
        &[],
        &["line 3, column `y`: is missing (NaN)"],
    );
    let inf = file(dir.path(), "inf.csv", "x,y\n0,1\n3,-inf\n");
    fails_with(
        dir.path(),
        &inf,
        "y",
        &[],
        &["line 3, column `y`: is infinite"],
    );

    train(
        dir.path(),
        &csv,
        "y",
        &["--drop-missing", "--batch-size", "2", "--epochs", "2"],
    )
    .success()
    .stderr(predicate::str::contains(
        "skipped 3 rows with a missing value",
    ));
    let summary = std::fs::read_to_string(dir.path().join("run/metrics.csv")).unwrap();
    assert_eq!(summary.lines().count(), 3);
}

#[test]
fn a_single_class_is_not_a_classification_problem() {
    let dir = tempfile::tempdir().unwrap();
    let csv = file(dir.path(), "t.csv", "x,kind\n1,cat\n2,cat\n");
    fails_with(
        dir.path(),
        &csv,
        "kind",
        &["--task", "classification"],
        &["t.csv, column `kind`: has a single class (`cat`)"],
    );
}

#[test]
fn a_text_target_for_regression_suggests_classification() {
    let dir = tempfile::tempdir().unwrap();
    let csv = file(dir.path(), "t.csv", "x,kind\n1,cat\n2,dog\n");
    fails_with(
        dir.path(),
        &csv,
        "kind",
        &[],
        &[
            "t.csv, line 2, column `kind`: `cat` is not a number; for class labels pass --task classification",
        ],
    );
}

#[test]
fn text_labels_train_and_predict_back_as_labels() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("size,weight,species\n");
    for i in 0..40 {
        let s = i as f64 / 10.0;
        let species = if i < 20 { "mouse" } else { "rat" };
        text += &format!("{s},{},{species}\n", 2.0 * s);
    }
    let csv = file(dir.path(), "pets.csv", &text);
    train(
        dir.path(),
        &csv,
        "species",
        &[
            "--task",
            "classification",
            "--epochs",
            "50",
            "--batch-size",
            "8",
        ],
    )
    .success();
    let input = file(dir.path(), "in.csv", "weight,size\n0.2,0.1\n7.6,3.8\n");
    let output = nnlab()
        .args(["predict", "--checkpoint"])
        .arg(dir.path().join("run"))
        .arg("--input")
        .arg(&input)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next(),
        Some("class,probability_mouse,probability_rat")
    );
    let classes: Vec<&str> = lines.map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(classes, ["mouse", "rat"]);
}

#[test]
fn the_target_cannot_also_be_a_feature() {
    let dir = tempfile::tempdir().unwrap();
    let csv = file(dir.path(), "t.csv", "x,y\n1,2\n2,3\n");
    fails_with(
        dir.path(),
        &csv,
        "y",
        &["--features", "x,y"],
        &["t.csv, line 1, column `y`: is the target and cannot also be a feature"],
    );
}

/// Forty rows of `x1 SEP x2 SEP y`, y = x1 + 2·x2, under `header` (already separated).
fn separated(header: &str, sep: &str) -> String {
    let mut text = format!("{header}\n");
    for i in 0..40 {
        let (x1, x2) = (i as f64 / 10.0, ((i * 7) % 11) as f64 / 10.0);
        text += &format!("{x1}{sep}{x2}{sep}{}\n", x1 + 2.0 * x2);
    }
    text
}

/// `nnlab predict` of the run in DIR/run on `input` (plus `extra`): the predicted values.
fn predicted(dir: &Path, input: &Path, extra: &[&str]) -> Vec<f64> {
    let output = nnlab()
        .args(["predict", "--checkpoint"])
        .arg(dir.join("run"))
        .arg("--input")
        .arg(input)
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().next(), Some("prediction"), "{stdout}");
    stdout.lines().skip(1).map(|l| l.parse().unwrap()).collect()
}

const QUICK: [&str; 4] = ["--epochs", "3", "--batch-size", "8"];

#[test]
fn a_semicolon_file_trains_and_predicts() {
    let dir = tempfile::tempdir().unwrap();
    let csv = file(dir.path(), "semi.csv", &separated("x1;x2;y", ";"));
    train(dir.path(), &csv, "y", &QUICK).success();
    let config = common::json(&dir.path().join("run/config.json"));
    assert_eq!(config["data"]["delimiter"], serde_json::Value::Null);
    // The input is detected on its own: semicolons or commas, columns in any order.
    let semi = file(dir.path(), "in-semi.csv", "x2;x1\n0.5;1\n0;2\n");
    let comma = file(dir.path(), "in-comma.csv", "x1,x2\n1,0.5\n2,0\n");
    let from_semi = predicted(dir.path(), &semi, &[]);
    assert_eq!(from_semi.len(), 2);
    assert_eq!(from_semi, predicted(dir.path(), &comma, &[]));
}

#[test]
fn a_tab_file_trains_and_predicts() {
    let dir = tempfile::tempdir().unwrap();
    let csv = file(dir.path(), "tabs.tsv", &separated("x1\tx2\ty", "\t"));
    train(dir.path(), &csv, "y", &QUICK).success();
    let input = file(dir.path(), "in.tsv", "x1\tx2\n1\t0.5\n");
    assert_eq!(predicted(dir.path(), &input, &[]).len(), 1);
}

#[test]
fn the_delimiter_flag_overrides_detection_and_is_kept_for_resume() {
    let dir = tempfile::tempdir().unwrap();
    // One comma and one semicolon in the header: a tie, which detection gives to the comma.
    let mut text = String::from("x,cm;y\n");
    for i in 0..40 {
        text += &format!("{};{}\n", i as f64 / 10.0, i as f64 / 5.0);
    }
    let csv = file(dir.path(), "t.csv", &text);
    fails_with(
        dir.path(),
        &csv,
        "y",
        &QUICK,
        &[
            "t.csv, line 1: no column `y`; the columns are: x, cm;y",
            "pass --delimiter ';'",
        ],
    );
    let flagged = [&QUICK[..], &["--delimiter", ";"]].concat();
    train(dir.path(), &csv, "y", &flagged).success();
    let config = common::json(&dir.path().join("run/config.json"));
    assert_eq!(config["data"]["delimiter"], ";");
    // The resumed run reads its file the same way.
    nnlab()
        .args(["train", "-q", "--epochs", "5", "--resume"])
        .arg(dir.path().join("run"))
        .assert()
        .success();
    let input = file(dir.path(), "in.csv", "x,cm\n1.5\n");
    assert_eq!(
        predicted(dir.path(), &input, &["--delimiter", ";"]).len(),
        1
    );
    nnlab()
        .args(["predict", "--checkpoint"])
        .arg(dir.path().join("run"))
        .arg("--input")
        .arg(&input)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no column `x,cm`"));
}

#[test]
fn quoted_fields_keep_working_with_every_separator() {
    let dir = tempfile::tempdir().unwrap();
    // Commas inside quotes do not count: this header is `;`-separated (two against none).
    let mut text = String::from("\"a,1\";\"a,2\";y\n");
    for i in 0..40 {
        let (a, b) = (i as f64 / 10.0, ((i * 7) % 11) as f64 / 10.0);
        text += &format!("\"{a}\";{b};\"{}\"\n", a + b);
    }
    let csv = file(dir.path(), "q.csv", &text);
    train(dir.path(), &csv, "y", &QUICK).success();
    let info = common::json(&dir.path().join("run/run.json"));
    assert_eq!(info["feature_names"], serde_json::json!(["a,1", "a,2"]));
    let semi = file(dir.path(), "in-semi.csv", "\"a,2\";\"a,1\"\n\"0.5\";1\n");
    let comma = file(dir.path(), "in-comma.csv", "\"a,1\",\"a,2\"\n1,\"0.5\"\n");
    assert_eq!(
        predicted(dir.path(), &semi, &[]),
        predicted(dir.path(), &comma, &[])
    );
}

#[test]
fn a_header_that_names_a_column_twice_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let csv = file(dir.path(), "dup.csv", "a,a,y\n1,2,3\n4,5,6\n");
    fails_with(
        dir.path(),
        &csv,
        "y",
        &[],
        &["dup.csv, line 1, column `a`: names columns 1 and 2"],
    );
    let semi = file(dir.path(), "dup-semi.csv", "x;y; x\n1;2;3\n");
    fails_with(
        dir.path(),
        &semi,
        "y",
        &[],
        &["dup-semi.csv, line 1, column `x`: names columns 1 and 3"],
    );
}

/// Large tables are read a batch at a time, parsed while the next batch is read: the rows come
/// back in file order, rows with missing values are dropped wherever they fall, and the first
/// error in the file is the one reported, with its line.
#[test]
fn a_table_of_many_batches_reads_in_order_and_reports_its_first_error() {
    use nnlab::data::csv::read_table;
    use nnlab::loss::Task;
    let dir = tempfile::tempdir().unwrap();
    let rows = 20_000;
    let mut text = String::from("x,label\n");
    for i in 0..rows {
        // Every 1000th row has no x; the labels cycle through three classes.
        let x = if i % 1000 == 999 {
            String::new()
        } else {
            i.to_string()
        };
        text += &format!("{x},c{}\n", i % 3);
    }
    let good = file(dir.path(), "good.csv", &text);
    let (data, skipped) =
        read_table(&good, "label", None, Task::Classification, true, None).unwrap();
    assert_eq!((data.rows(), skipped), (rows - 20, 20));
    let kept: Vec<usize> = (0..rows).filter(|i| i % 1000 != 999).collect();
    let xs: Vec<f64> = kept.iter().map(|&i| i as f64).collect();
    assert_eq!(data.features, xs);
    let classes = nnlab::train::class_indices(&data).unwrap();
    assert!(kept.iter().zip(classes).all(|(&i, &c)| c == i % 3));

    // A bad cell on line 12,002 and a ragged row after it, in a later batch: the cell is named.
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[12_001] = "twelve,c0".into();
    lines[15_000] = "1,c0,extra".into();
    let bad = file(dir.path(), "bad.csv", &(lines.join("\n") + "\n"));
    let error = read_table(&bad, "label", None, Task::Classification, true, None).unwrap_err();
    assert!(error.to_string().contains("line 12002"), "{error}");
    assert!(
        error.to_string().contains("`twelve` is not a number"),
        "{error}"
    );
}
