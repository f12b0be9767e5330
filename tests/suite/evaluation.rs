//! Honest evaluation through the real binary: `eval` scores a saved run on labelled rows,
//! `cv` cross-validates, preprocessing travels with the run, and the test split is scored once.

use std::path::Path;

use predicates::prelude::*;
use serde_json::Value;

use crate::common;
use common::{json, nnlab, predicted_rows as predict, stdout};

fn eval_json(run: &Path, input: &Path) -> Value {
    let text = stdout(
        nnlab()
            .args(["eval", "--json", "--checkpoint"])
            .arg(run)
            .arg("--input")
            .arg(input),
    );
    serde_json::from_str(&text).unwrap()
}

#[test]
fn predictions_come_back_in_raw_units_and_eval_scores_them() {
    let dir = tempfile::tempdir().unwrap();
    // y = 1000·x1 − 3·x2 + 5000, exactly linear, in large raw units.
    let csv = dir.path().join("units.csv");
    let mut text = String::from("x1,x2,y\n");
    let mut truth = Vec::new();
    for i in 0..60 {
        let (x1, x2) = (i as f64 / 10.0, ((i * 7) % 13) as f64 * 100.0);
        let y = 1000.0 * x1 - 3.0 * x2 + 5000.0;
        truth.push(y);
        text += &format!("{x1},{x2},{y}\n");
    }
    std::fs::write(&csv, text).unwrap();
    let run = dir.path().join("run");
    nnlab()
        .args([
            "train", "--target", "y", "--epochs", "300", "--lr", "0.05", "-q",
        ])
        .arg("--data")
        .arg(&csv)
        .arg("--out")
        .arg(&run)
        .assert()
        .success();
    let scaler = json(&run.join("scaler.json"));
    let mean_y = truth.iter().sum::<f64>() / truth.len() as f64;
    assert!(
        (scaler["target"]["shift"].as_f64().unwrap() - mean_y).abs() < 1e-6,
        "{scaler}"
    );

    // Printed as f32, which eval scores exactly.
    let predicted: Vec<f64> = predict(&run, &csv)
        .iter()
        .map(|row| f64::from(row[0].parse::<f32>().unwrap()))
        .collect();
    for (p, y) in predicted.iter().zip(&truth) {
        assert!(
            (p - y).abs() < 100.0,
            "{p} vs {y}: predictions in raw units"
        );
    }

    // eval's numbers are those of the predictions above.
    let metrics = eval_json(&run, &csv);
    let sse: f64 = predicted
        .iter()
        .zip(&truth)
        .map(|(p, y)| (p - y).powi(2))
        .sum();
    let sst: f64 = truth.iter().map(|y| (y - mean_y).powi(2)).sum();
    let n = truth.len() as f64;
    let m = &metrics["regression"];
    assert_eq!(m["rows"], 60);
    assert!(
        (m["mse"].as_f64().unwrap() / (sse / n) - 1.0).abs() < 1e-3,
        "{metrics}"
    );
    assert!(
        (m["r2"].as_f64().unwrap() - (1.0 - sse / sst)).abs() < 1e-6,
        "{metrics}"
    );
    assert!(m["r2"].as_f64().unwrap() > 0.999);
}

#[test]
fn eval_of_a_classifier_matches_its_predictions_and_refuses_unknown_labels() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    crate::common::train_run(
        &run,
        &[
            "--dataset",
            "iris",
            "--hidden",
            "16",
            "--optimizer",
            "adam",
            "--lr",
            "0.01",
            "--epochs",
            "40",
            "-q",
        ],
    );
    // Iris as a CSV with text labels, as a user would have it.
    let data = nnlab::data::Builtin::Iris.load(0, 0.0, 0, 0);
    let labels = data.labels().unwrap().to_vec();
    let nnlab::data::TargetValues::Classes { indices, .. } = &data.targets else {
        unreachable!()
    };
    let csv = dir.path().join("iris.csv");
    let mut text = format!("{},species\n", data.feature_names.join(","));
    for (row, &class) in data.features.chunks(4).zip(indices) {
        let cells: Vec<String> = row.iter().map(f64::to_string).collect();
        text += &format!("{},{}\n", cells.join(","), labels[class]);
    }
    std::fs::write(&csv, &text).unwrap();

    let predicted: Vec<String> = predict(&run, &csv)
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    let correct = predicted
        .iter()
        .zip(indices)
        .filter(|(p, c)| **p == labels[**c])
        .count();
    let metrics = eval_json(&run, &csv);
    let m = &metrics["classification"];
    assert!((m["accuracy"].as_f64().unwrap() - correct as f64 / 150.0).abs() < 1e-12);
    assert!(m["accuracy"].as_f64().unwrap() > 0.9, "{metrics}");
    let confusion: Vec<Vec<u64>> = serde_json::from_value(m["confusion"].clone()).unwrap();
    assert_eq!(
        confusion
            .iter()
            .map(|r| r.iter().sum::<u64>())
            .collect::<Vec<_>>(),
        [50, 50, 50]
    );
    assert_eq!(m["classes"][0]["label"], "setosa");
    // The baselines are fitted on the run's own training rows (all 150) and scored on these.
    let baselines = &metrics["baselines"];
    assert_eq!(baselines["count"], 150, "{metrics}");
    let logistic = baselines["baselines"]["logistic regression"]
        .as_f64()
        .unwrap();
    assert!(logistic > 0.9, "{metrics}");
    assert!(
        (baselines["network"].as_f64().unwrap() - m["accuracy"].as_f64().unwrap()).abs() < 1e-12
    );

    let text_output = stdout(
        nnlab()
            .args(["eval", "--checkpoint"])
            .arg(&run)
            .arg("--input")
            .arg(&csv),
    );
    assert!(text_output.contains("macro average"), "{text_output}");
    assert!(text_output.contains("confusion matrix"), "{text_output}");
    let line = "baselines on these 150 rows, fitted on the run's 150 training rows, where the \
                network scores accuracy";
    assert!(text_output.contains(line), "{text_output}");

    let odd = dir.path().join("odd.csv");
    std::fs::write(&odd, text.replacen("setosa", "daisy", 1)).unwrap();
    nnlab()
        .args(["eval", "--checkpoint"])
        .arg(&run)
        .arg("--input")
        .arg(&odd)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "odd.csv, line 2, column `species`: `daisy` is not a class the model knows (setosa, versicolor, virginica)",
        ));
}

#[test]
fn cross_validation_holds_out_each_stratified_fold_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cv");
    let text = stdout(
        nnlab()
            .args(["cv", "--dataset", "iris", "--folds", "3", "--hidden", "8"])
            .args([
                "--optimizer",
                "adam",
                "--lr",
                "0.02",
                "--epochs",
                "20",
                "-q",
                "--out",
            ])
            .arg(&out),
    );
    assert!(
        text.contains("3-fold cross-validation on iris (stratified)"),
        "{text}"
    );
    let cv = json(&out.join("cv.json"));
    let folds = cv["folds"].as_array().unwrap();
    assert_eq!(folds.len(), 3);
    let mut scores = Vec::new();
    for fold in folds {
        assert_eq!(fold["test_rows"], 50);
        assert_eq!(fold["train_rows"], 100);
        let m = &fold["evaluation"]["classification"];
        // Stratified: 50 per class dealt over 3 folds is 17, 17, 16.
        for class in m["classes"].as_array().unwrap() {
            let support = class["support"].as_u64().unwrap();
            assert!((16..=17).contains(&support), "{fold}");
        }
        scores.push(m["accuracy"].as_f64().unwrap());
        // The majority class of the training folds, scored on the held-out one.
        let majority = &fold["baselines"][0];
        assert_eq!(majority[0], "the majority class", "{fold}");
        assert!(
            (0.3..0.36).contains(&majority[1].as_f64().unwrap()),
            "{fold}"
        );
        let logistic = &fold["baselines"][1];
        assert_eq!(logistic[0], "logistic regression", "{fold}");
        assert!(logistic[1].as_f64().unwrap() > 0.85, "{fold}");
    }
    assert!(text.contains("the majority class: accuracy 0.3"), "{text}");
    let mean = scores.iter().sum::<f64>() / 3.0;
    let std = (scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / 3.0).sqrt();
    assert!((cv["mean"].as_f64().unwrap() - mean).abs() < 1e-12);
    assert!((cv["std"].as_f64().unwrap() - std).abs() < 1e-12);
    assert!(
        text.contains(&format!("accuracy {mean:.4} ± {std:.4}")),
        "{text}"
    );

    nnlab()
        .args(["cv", "--dataset", "iris", "--folds", "1", "--out"])
        .arg(dir.path().join("bad"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--folds must be between 2"));
}

#[test]
fn cv_scores_the_baselines_on_each_fold_and_a_small_table_gets_the_l2_default() {
    let dir = tempfile::tempdir().unwrap();
    let cv = |name: &str, extra: &[&str]| -> (String, Value, Value) {
        let out = dir.path().join(name);
        let text = stdout(
            nnlab()
                .args([
                    "cv",
                    "--dataset",
                    "diabetes",
                    "--folds",
                    "3",
                    "--epochs",
                    "1",
                    "-q",
                ])
                .args(extra)
                .arg("--out")
                .arg(&out),
        );
        (
            text,
            json(&out.join("cv.json")),
            json(&out.join("config.json")),
        )
    };
    let (text, report, config) = cv("default", &[]);
    assert_eq!(config["loss"]["l2"], 0.01);
    let folds = report["folds"].as_array().unwrap();
    let least_squares: Vec<f64> = folds
        .iter()
        .map(|f| {
            assert_eq!(f["baselines"][0][0], "the training mean", "{f}");
            assert_eq!(f["baselines"][1][0], "linear least squares", "{f}");
            f["baselines"][1][1].as_f64().unwrap()
        })
        .collect();
    let mean = least_squares.iter().sum::<f64>() / 3.0;
    assert!((report["baseline_means"][1][1].as_f64().unwrap() - mean).abs() < 1e-12);
    // Least squares on diabetes scores about 0.48 on any fold: a real fit, not a stub.
    assert!(
        least_squares.iter().all(|r| (0.35..0.6).contains(r)),
        "{least_squares:?}"
    );
    assert!(
        text.contains("the training mean  linear least squares"),
        "{text}"
    );
    assert!(
        text.contains(&format!("linear least squares: R² {mean:.4}")),
        "{text}"
    );
    // One epoch leaves the network below least squares, and the note says so.
    assert!(
        text.contains("note: linear least squares scores R²"),
        "{text}"
    );
    let (_, _, off) = cv("off", &["--l2", "0"]);
    assert_eq!(off["loss"]["l2"], 0.0);
    let (_, _, neuron) = cv("neuron", &["--hidden", "none"]);
    assert_eq!(neuron["loss"]["l2"], 0.0);
}

#[test]
fn the_test_split_is_scored_once_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    nnlab()
        .args([
            "train",
            "--dataset",
            "iris",
            "--hidden",
            "8",
            "--optimizer",
            "adam",
        ])
        .args([
            "--lr",
            "0.02",
            "--epochs",
            "10",
            "--validation",
            "0.2",
            "--test",
            "0.2",
        ])
        .args(["-q", "--out"])
        .arg(&run)
        .assert()
        .success()
        .stderr(predicate::str::contains("on 30 held-out rows"));
    let summary = json(&run.join("summary.json"));
    assert_eq!(summary["test"]["classification"]["rows"], 30);
    assert_eq!(summary["valid_at_best_epoch"]["classification"]["rows"], 30);
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let last = metrics.lines().last().unwrap();
    assert_eq!(
        last.split(',').filter(|c| !c.is_empty()).count(),
        6,
        "{last}"
    );
}

/// Decodes DIR/NAME.png and checks it is a drawn picture; NAME.svg must exist too.
fn picture(dir: &Path, name: &str) {
    let png = image::open(dir.join(format!("{name}.png")))
        .unwrap_or_else(|e| panic!("{name}.png: {e}"))
        .to_rgb8();
    let colors: std::collections::HashSet<_> = png.pixels().map(|p| p.0).collect();
    assert!(colors.len() > 8, "{name}.png is blank");
    let svg = std::fs::read_to_string(dir.join(format!("{name}.svg"))).unwrap();
    assert!(svg.starts_with("<svg"), "{name}.svg");
}

#[test]
fn every_run_gets_the_pictures_that_fit_it() {
    let dir = tempfile::tempdir().unwrap();
    let train = |name: &str, args: &[&str]| {
        let run = dir.path().join(name);
        nnlab()
            .arg("train")
            .args(args)
            .args(["--epochs", "5", "--validation", "0.2", "-q", "--out"])
            .arg(&run)
            .assert()
            .success();
        run
    };
    let moons = train("moons", &["--dataset", "moons", "--samples", "200"]);
    for name in ["curves", "confusion", "decision_regions"] {
        picture(&moons, name);
    }
    assert!(!moons.join("predicted_vs_actual.png").exists());
    let svg = std::fs::read_to_string(moons.join("curves.svg")).unwrap();
    assert!(
        svg.contains("training") && svg.contains("validation"),
        "legend"
    );

    let sine = train("sine", &["--dataset", "sine", "--samples", "200"]);
    for name in ["curves", "predicted_vs_actual"] {
        picture(&sine, name);
    }
    assert!(!sine.join("confusion.png").exists());

    let iris = train("iris", &["--dataset", "iris"]);
    picture(&iris, "confusion");
    assert!(
        !iris.join("decision_regions.png").exists(),
        "iris has 4 features"
    );
}

#[test]
fn macro_averages_leave_out_classes_absent_from_truth_and_predictions() {
    let dir = tempfile::tempdir().unwrap();
    // Three classes far apart on one axis.
    let mut text = String::from("x,kind\n");
    for i in 0..60 {
        let (x, kind) = match i % 3 {
            0 => (0.0, "low"),
            1 => (5.0, "mid"),
            _ => (10.0, "high"),
        };
        text += &format!("{},{kind}\n", x + (i / 3) as f64 * 0.01);
    }
    let csv = dir.path().join("three.csv");
    std::fs::write(&csv, text).unwrap();
    let run = dir.path().join("run");
    nnlab()
        .args(["train", "--target", "kind", "--task", "classification"])
        .args(["--lr", "0.05", "--epochs", "100", "--batch-size", "full"])
        .args(["-q", "--data"])
        .arg(&csv)
        .arg("--out")
        .arg(&run)
        .assert()
        .success();
    // Only two of the three classes, every row predicted right.
    let two = dir.path().join("two.csv");
    std::fs::write(&two, "x,kind\n0.05,low\n0.1,low\n5.05,mid\n5.1,mid\n").unwrap();
    let metrics = eval_json(&run, &two);
    let m = &metrics["classification"];
    assert_eq!(m["accuracy"].as_f64(), Some(1.0), "{metrics}");
    assert_eq!(m["macro_f1"].as_f64(), Some(1.0), "{metrics}");
    assert_eq!(m["macro_precision"].as_f64(), Some(1.0), "{metrics}");
    assert_eq!(m["macro_recall"].as_f64(), Some(1.0), "{metrics}");
    // The absent class keeps its row in the per-class table.
    assert_eq!(m["classes"].as_array().unwrap().len(), 3, "{metrics}");
}

/// Trains a run in `run` on `csv` with `flags`, quietly.
fn train_on(csv: &Path, run: &Path, flags: &[&str]) {
    nnlab()
        .args(["train", "-q", "--data"])
        .arg(csv)
        .arg("--out")
        .arg(run)
        .args(flags)
        .assert()
        .success();
}

/// `nnlab explain` of `run` on `csv`, writing to `out`, with `flags`.
fn explain(run: &Path, csv: &Path, out: &Path, flags: &[&str]) -> assert_cmd::Command {
    let mut command = nnlab();
    command
        .arg("explain")
        .args(flags)
        .arg("--checkpoint")
        .arg(run)
        .arg("--input")
        .arg(csv)
        .arg("--out")
        .arg(out);
    command
}

/// Five columns, y = 2·x1 − 3·x4 (plus a little noise): the two ranked first by `explain`,
/// far above the three the target does not depend on.
#[test]
fn explain_ranks_the_two_columns_the_target_depends_on_first() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("two-of-five.csv");
    let mut text = String::from("x0,x1,x2,x3,x4,y\n");
    let mut state = 12345u64;
    let mut uniform = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    for _ in 0..400 {
        let x: Vec<f64> = (0..5).map(|_| uniform()).collect();
        let y = 2.0 * x[1] - 3.0 * x[4] + 0.01 * uniform();
        let cells: Vec<String> = x.iter().map(|v| format!("{v:.6}")).collect();
        text += &format!("{},{y:.6}\n", cells.join(","));
    }
    std::fs::write(&csv, text).unwrap();
    let run = dir.path().join("run");
    train_on(&csv, &run, &["--target", "y", "--epochs", "60"]);
    let out = dir.path().join("explained");
    let explain_again = || explain(&run, &csv, &out, &["--repeats", "3"]);
    let printed = stdout(&mut explain_again());
    assert!(printed.contains("drop in R²"), "{printed}");
    let table = std::fs::read_to_string(out.join("importance.csv")).unwrap();
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let ranked: Vec<&str> = rows.iter().map(|r| r[1]).collect();
    assert_eq!(ranked.len(), 5, "{table}");
    let mut top = ranked[..2].to_vec();
    top.sort();
    assert_eq!(top, ["x1", "x4"], "{table}");
    let drop = |r: &Vec<&str>| r[2].parse::<f64>().unwrap();
    // Shuffling x4 (variance 9/3 of the target's 13/3) costs about 2·9/13 of R².
    assert!(drop(&rows[0]) > 0.5 && drop(&rows[1]) > 0.1, "{table}");
    assert!(rows[2..].iter().all(|r| drop(r).abs() < 0.05), "{table}");
    for picture in ["importance.png", "importance.svg"] {
        assert!(out.join(picture).metadata().unwrap().len() > 1000);
    }
    // An earlier explanation is kept unless told to replace it.
    explain_again()
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--overwrite"));
    explain_again().arg("--overwrite").assert().success();
}

/// Integrated gradients of a smooth (tanh) classifier: the attributions of each row add up to
/// the change in its answer from the baseline, closer as the steps grow, and a column that is
/// the same in every row, which the mean baseline matches, gets exactly 0.
#[test]
fn integrated_gradients_add_up_to_the_change_in_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("curve.csv");
    let mut text = String::from("x1,x2,c,label\n");
    for i in 0..300 {
        let (x1, x2) = (
            (i % 20) as f64 / 10.0 - 1.0,
            ((i * 7) % 30) as f64 / 15.0 - 1.0,
        );
        let label = if x1 * x1 + 0.5 * x2 < 0.3 {
            "in"
        } else {
            "out"
        };
        text += &format!("{x1},{x2},3.0,{label}\n");
    }
    std::fs::write(&csv, text).unwrap();
    let run = dir.path().join("run");
    let flags = [
        "--target",
        "label",
        "--task",
        "classification",
        "--activation",
        "tanh",
    ];
    train_on(
        &csv,
        &run,
        &[&flags[..], &["--hidden", "16,16", "--epochs", "40"]].concat(),
    );
    let explain = |steps: &str, baseline: &str| -> Vec<Vec<f64>> {
        let out = dir
            .path()
            .join(format!("ig-{steps}-{}", baseline.replace('/', "_")));
        let method = ["--method", "integrated-gradients", "--rows", "40"];
        let flags = [&method[..], &["--steps", steps, "--baseline", baseline]].concat();
        stdout(&mut explain(&run, &csv, &out, &flags));
        let table = std::fs::read_to_string(out.join("attributions.csv")).unwrap();
        let header = table.lines().next().unwrap();
        assert_eq!(
            header,
            "row,output,answer,baseline_answer,completeness_error,x1,x2,c"
        );
        let numbers = |line: &str| -> Vec<f64> {
            line.split(',')
                .skip(2)
                .map(|v| v.parse().unwrap())
                .collect()
        };
        table.lines().skip(1).map(numbers).collect()
    };
    // Columns: answer, baseline answer, error, x1, x2, c. The error pooled over the rows.
    let error = |rows: &[Vec<f64>]| {
        let off: f64 = rows
            .iter()
            .map(|r| (r[3] + r[4] + r[5] - (r[0] - r[1])).abs())
            .sum();
        off / rows.iter().map(|r| (r[0] - r[1]).abs()).sum::<f64>()
    };
    let errors: Vec<f64> = ["20", "50", "200"]
        .iter()
        .map(|s| error(&explain(s, "zeros")))
        .collect();
    eprintln!("pooled completeness errors at 20, 50 and 200 steps: {errors:?}");
    assert!(errors[2] < 0.01, "{errors:?}");
    assert!(errors[0] > errors[2], "{errors:?}");
    let mean = explain("200", "mean");
    assert_eq!(mean.len(), 40);
    assert!(mean.iter().all(|r| r[5] == 0.0), "{mean:?}");
    assert!(error(&mean) < 0.01, "{}", error(&mean));
    // A baseline row from a file, its columns in another order.
    let file = dir.path().join("baseline.csv");
    std::fs::write(&file, "c,x2,x1\n3.0,-0.25,0.5\n").unwrap();
    let from_file = explain("200", file.to_str().unwrap());
    assert!(from_file.iter().all(|r| r[5] == 0.0), "{from_file:?}");
    // f at the one baseline row: one logit per class answered.
    let mut at_baseline: Vec<u64> = from_file.iter().map(|r| r[1].to_bits()).collect();
    at_baseline.sort();
    at_baseline.dedup();
    assert!(at_baseline.len() <= 2, "{from_file:?}");
    assert!(error(&from_file) < 0.01, "{}", error(&from_file));
    // The class `out` attributed on every row, whichever the row's prediction.
    let out = dir.path().join("ig-class-out");
    let method = ["--method", "integrated-gradients", "--rows", "40"];
    stdout(&mut self::explain(
        &run,
        &csv,
        &out,
        &[&method[..], &["--class", "out"]].concat(),
    ));
    let table = std::fs::read_to_string(out.join("attributions.csv")).unwrap();
    let answers: Vec<&str> = table
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert!(answers.iter().all(|a| *a == "out"), "{answers:?}");
}

/// Input × gradient of a linear model is each input times its coefficient, in the target's
/// units: y = 2·x1 − 3·x2 + 1 gives 2·x1 and −3·x2 for every row.
#[test]
fn input_times_gradient_of_a_line_is_each_input_times_its_coefficient() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("plane.csv");
    let mut text = String::from("x1,x2,y\n");
    for i in 0..80 {
        let (x1, x2) = (i as f64 / 8.0, ((i * 7) % 11) as f64);
        text += &format!("{x1},{x2},{}\n", 2.0 * x1 - 3.0 * x2 + 1.0);
    }
    std::fs::write(&csv, text).unwrap();
    let run = dir.path().join("run");
    train_on(
        &csv,
        &run,
        &[
            "--target", "y", "--hidden", "none", "--epochs", "300", "--lr", "0.05",
        ],
    );
    let out = dir.path().join("gradient");
    stdout(&mut explain(
        &run,
        &csv,
        &out,
        &["--method", "gradient", "--rows", "10"],
    ));
    let table = std::fs::read_to_string(out.join("attributions.csv")).unwrap();
    assert!(table.starts_with("row,output,answer,x1,x2\n"), "{table}");
    for (i, line) in table.lines().skip(1).enumerate() {
        let cells: Vec<f64> = line
            .split(',')
            .skip(2)
            .map(|v| v.parse().unwrap())
            .collect();
        let (x1, x2) = (i as f64 / 8.0, ((i * 7) % 11) as f64);
        assert!((cells[1] - 2.0 * x1).abs() < 0.02 * (1.0 + x1), "{line}");
        assert!((cells[2] + 3.0 * x2).abs() < 0.02 * (1.0 + x2), "{line}");
    }
    // A class to attribute means nothing on a regression run.
    explain(
        &run,
        &csv,
        &dir.path().join("class"),
        &["--method", "gradient", "--class", "1"],
    )
    .assert()
    .code(2)
    .stderr(predicates::str::contains(
        "--class needs a classification run",
    ));
}

/// A text run's attributions are per token position: integrated gradients from all-zero
/// embeddings add up to f(e) − f(0), and the one word that decides the label (at a random
/// place among filler words) gets the largest share in most rows.
#[test]
fn text_runs_get_per_token_attributions_that_find_the_deciding_word() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("reviews.csv");
    let (good, bad, filler) = (
        ["great", "good", "lovely"],
        ["awful", "bad", "rude"],
        ["the", "food", "was", "staff", "very"],
    );
    let mut state = 7u64;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize % n
    };
    let mut text = String::from("text,label\n");
    let mut deciding = Vec::new();
    for _ in 0..300 {
        let positive = next(2) == 0;
        let word = if positive {
            good[next(3)]
        } else {
            bad[next(3)]
        };
        let mut words: Vec<&str> = (0..2 + next(5)).map(|_| filler[next(5)]).collect();
        let at = next(words.len() + 1);
        words.insert(at, word);
        deciding.push(at);
        let label = if positive { "pos" } else { "neg" };
        text += &format!("{},{label}\n", words.join(" "));
    }
    std::fs::write(&csv, text).unwrap();
    let run = dir.path().join("run");
    train_on(
        &csv,
        &run,
        &["--text", "text", "--target", "label", "--epochs", "15"],
    );
    let out = dir.path().join("explained");
    let flags = ["--method", "integrated-gradients", "--rows", "40"];
    stdout(&mut explain(&run, &csv, &out, &flags));
    let table = std::fs::read_to_string(out.join("attributions.csv")).unwrap();
    let mut found = 0;
    for (line, &at) in table.lines().skip(1).zip(&deciding) {
        let cells: Vec<f64> = line
            .split(',')
            .skip(2)
            .map(|v| v.parse().unwrap())
            .collect();
        let (answer, baseline, error) = (cells[0], cells[1], cells[2]);
        let tokens = &cells[3..];
        let sum: f64 = tokens.iter().sum();
        assert!(
            (sum - (answer - baseline)).abs() <= 0.01 * (answer - baseline).abs(),
            "{line}"
        );
        assert!(error < 0.01, "{line}");
        let top = (0..tokens.len())
            .max_by(|&a, &b| tokens[a].abs().total_cmp(&tokens[b].abs()))
            .unwrap();
        found += usize::from(top == at);
    }
    assert!(
        found >= 30,
        "the deciding word ranked first in {found} of 40 rows"
    );
}

/// `nnlab train -q --validation 0.2 --dataset NAME` with `flags`, into `out`: what it printed.
fn train_dataset(name: &str, flags: &[&str], out: &Path) -> String {
    let run = nnlab()
        .args(["train", "-q", "--validation", "0.2", "--dataset", name])
        .args(flags)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&run.stderr).into_owned();
    assert!(run.status.success(), "{said}");
    said
}

#[test]
fn train_prints_the_baselines_on_the_same_rows_and_a_note_when_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    // One epoch at a tiny rate: the network is worse than a straight line on y = 3x + U.
    let weak = dir.path().join("weak");
    let said = train_dataset("linear", &["--epochs", "1", "--lr", "0.00001"], &weak);
    assert!(
        said.contains("baselines on the 20 validation rows"),
        "{said}"
    );
    let note = "note: linear least squares scores R² ";
    assert!(said.contains(note), "{said}");
    let found = &json(&weak.join("summary.json"))["baselines"];
    let least_squares = found["baselines"]["linear least squares"].as_f64().unwrap();
    assert!(least_squares > 0.5, "{found}");
    assert!(found["network"].as_f64().unwrap() < least_squares);
    // A network that wins gets no note; the majority class scores about a half.
    let said = train_dataset("moons", &[], &dir.path().join("moons"));
    assert!(said.contains("the majority class accuracy 0.5"), "{said}");
    assert!(said.contains("logistic regression accuracy 0."), "{said}");
    assert!(!said.contains("note:"), "{said}");
}
