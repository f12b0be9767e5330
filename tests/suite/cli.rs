//! The `nnlab` binary end to end: train, predict, resume, info, and its errors.

use std::path::Path;

use burn::tensor::backend::AutodiffBackend;
use nnlab::backend::BackendName;
use nnlab::data::synthetic;
use nnlab::eval::predict::{Predictions, predict};
use nnlab::run_dir::RunDir;
use predicates::prelude::*;

use crate::common;
type Inner = <common::Cpu as AutodiffBackend>::InnerBackend;

use common::{nnlab, predict_command};

/// Trains the default model for one epoch into `DIR/run`.
fn one_epoch_run(dir: &Path) -> std::path::PathBuf {
    let run = dir.join("run");
    crate::common::train_run(&run, &["--epochs", "1", "-q"]);
    run
}

/// Writes the textbook data as `id,x,y` (the id is a column to leave out).
fn write_textbook_csv(path: &Path) {
    let data = synthetic::linear();
    let y = common::values(&data);
    let mut text = String::from("id,x,y\n");
    for (i, (x, y)) in data.features.iter().zip(&y).enumerate() {
        text += &format!("{i},{x},{y}\n");
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn train_then_predict_gives_the_saved_models_predictions() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("textbook.csv");
    write_textbook_csv(&csv);
    let run = dir.path().join("run");
    nnlab()
        .args(["train", "--data"])
        .arg(&csv)
        .args([
            "--target",
            "y",
            "--features",
            "x",
            "--epochs",
            "200",
            "--lr",
            "0.02",
            "--quiet",
            "--out",
        ])
        .arg(&run)
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "trained 200 epochs (800 steps) on {}",
            BackendName::default_compiled()
        )));

    // Columns in another order, plus one the model never saw.
    let input = dir.path().join("input.csv");
    std::fs::write(&input, "note,x\na,0.0\nb,0.5\nc,1.0\n").unwrap();
    let output = predict_command(&run, &input).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("prediction"));
    let printed: Vec<f32> = lines.map(|l| l.parse().unwrap()).collect();

    let device = Default::default();
    let saved = RunDir::new(&run);
    let (config, info) = saved.load_meta().unwrap();
    let model = saved.load_model::<Inner>(&config, &device).unwrap();
    let scaler = saved.load_scaler(&info).unwrap();
    let Predictions::Values(expected) = predict(
        &model,
        config.loss.name,
        None,
        &scaler,
        &[0.0, 0.5, 1.0],
        1,
        &device,
    ) else {
        panic!("regression gives values")
    };
    assert_eq!(printed, expected);
    // The fitted line is near y = 2.97x + 0.50.
    assert!((printed[2] - printed[0] - 2.97).abs() < 0.1, "{printed:?}");
}

#[test]
fn classification_prints_labels_and_probabilities() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("moons");
    crate::common::train_run(
        &run,
        &[
            "--dataset",
            "moons",
            "--hidden",
            "16, 16",
            "--optimizer",
            "adam",
            "--epochs",
            "30",
            "-q",
        ],
    );
    let input = dir.path().join("points.csv");
    std::fs::write(&input, "x1,x2\n0.0,1.0\n1.0,-0.5\n").unwrap();
    let output = predict_command(&run, &input).output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "class,probability_0,probability_1");
    // (0, 1) is on the upper moon (class 0), (1, −0.5) on the lower one (class 1).
    for (line, class) in lines[1..].iter().zip(["0", "1"]) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[0], class, "{stdout}");
        let p: f32 = cells[1].parse::<f32>().unwrap() + cells[2].parse::<f32>().unwrap();
        assert!((p - 1.0).abs() < 1e-5, "{line}");
    }
}

#[test]
fn text_labels_are_learned_and_printed_back() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("moons.csv");
    let data = synthetic::moons(200, 0.1, 3);
    let nnlab::data::TargetValues::Classes { indices, .. } = &data.targets else {
        panic!("moons are classes")
    };
    let mut text = String::from("x1,x2,side\n");
    for (row, class) in data.features.chunks(2).zip(indices) {
        let label = ["upper", "lower"][*class];
        text += &format!("{},{},{label}\n", row[0], row[1]);
    }
    std::fs::write(&csv, text).unwrap();
    let run = dir.path().join("run");
    nnlab()
        .args(["train", "--data"])
        .arg(&csv)
        .args([
            "--target",
            "side",
            "--task",
            "classification",
            "--hidden",
            "16",
            "--optimizer",
            "adam",
        ])
        .args(["--epochs", "40", "-q", "--out"])
        .arg(&run)
        .assert()
        .success();
    let input = dir.path().join("points.csv");
    std::fs::write(&input, "x1,x2\n0.0,1.0\n1.0,-0.5\n").unwrap();
    let output = predict_command(&run, &input).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    // Labels are indexed in sorted order: lower = 0, upper = 1.
    assert_eq!(
        lines[0], "class,probability_lower,probability_upper",
        "{stdout}"
    );
    assert!(lines[1].starts_with("upper,"), "{stdout}");
    assert!(lines[2].starts_with("lower,"), "{stdout}");
}

#[test]
fn resume_continues_to_the_requested_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    crate::common::train_run(&run, &["--dataset", "linear", "--epochs", "3", "-q"]);
    nnlab()
        .args(["train", "--epochs", "7", "-q", "--resume"])
        .arg(&run)
        .assert()
        .success()
        .stderr(predicate::str::contains("trained 7 epochs (28 steps)"));
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 8);
    nnlab().arg("info").arg(&run).assert().success().stdout(
        predicate::str::contains("7 epochs, 28 steps")
            .and(predicate::str::contains("\"epochs\": 7")),
    );
    // Asking for fewer epochs than done is a usage error.
    nnlab()
        .args(["train", "--epochs", "5", "--resume"])
        .arg(&run)
        .assert()
        .code(2);
}

#[test]
fn errors_are_one_line_with_the_right_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let run = one_epoch_run(dir.path());
    let cases: Vec<(Vec<String>, i32, &str)> = vec![
        (
            vec!["train".into(), "--out".into(), run.display().to_string()],
            2,
            "--overwrite",
        ),
        (
            vec!["train".into(), "--epochs".into(), "0".into()],
            2,
            "training.epochs",
        ),
        (
            vec!["train".into(), "--lr".into(), "-1".into()],
            2,
            "optimizer.learning_rate",
        ),
        (
            vec![
                "train".into(),
                "--dataset".into(),
                "moons".into(),
                "--loss".into(),
                "mse".into(),
            ],
            2,
            "loss.name",
        ),
        (
            vec![
                "train".into(),
                "--data".into(),
                "no-such.csv".into(),
                "--target".into(),
                "y".into(),
            ],
            1,
            "no-such.csv",
        ),
        (
            vec![
                "predict".into(),
                "--checkpoint".into(),
                run.display().to_string(),
                "--input".into(),
                dir.path().join("nothing.csv").display().to_string(),
            ],
            1,
            "nothing.csv",
        ),
        (
            vec!["info".into(), dir.path().display().to_string()],
            1,
            "run.json",
        ),
    ];
    for (args, code, needle) in cases {
        let output = nnlab().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
    }
}

#[test]
fn predict_names_a_missing_column() {
    let dir = tempfile::tempdir().unwrap();
    let run = one_epoch_run(dir.path());
    let input = dir.path().join("wrong.csv");
    std::fs::write(&input, "z\n1.0\n").unwrap();
    predict_command(&run, &input).assert().code(1).stderr(
        predicate::str::contains("no column `x`").and(predicate::str::contains("wrong.csv")),
    );
}

#[cfg(not(feature = "wgpu"))]
#[test]
fn a_backend_not_compiled_in_names_the_feature() {
    nnlab()
        .args(["train", "--backend", "wgpu"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--features wgpu"));
}

#[cfg(not(feature = "ndarray"))]
#[test]
fn ndarray_is_one_feature_away_and_the_error_names_it() {
    nnlab()
        .args(["train", "--dataset", "moons", "--backend", "ndarray"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "backend `ndarray` was not compiled into this build; rebuild with `--features ndarray`",
        ));
}

#[cfg(not(feature = "cuda"))]
#[test]
fn cuda_not_compiled_in_names_the_feature() {
    nnlab()
        .args(["train", "--dataset", "moons", "--backend", "cuda"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--features cuda"));
}

#[test]
fn gradcheck_reports_every_parameter_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        r#"{"data": {"dataset": "moons", "samples": 40}, "model": {"hidden": [4, 3], "activation": "tanh"},
            "loss": {"name": "cross_entropy"}}"#,
    )
    .unwrap();
    let output = nnlab()
        .args(["gradcheck", "--rows", "16", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("loss over 16 rows"), "{stdout}");
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("layers."))
        .collect();
    assert_eq!(rows.len(), 6, "{stdout}");
    for row in rows {
        let error: f64 = row.split_whitespace().last().unwrap().parse().unwrap();
        assert!(error <= 1e-6, "{row}");
    }
}

#[test]
fn help_explains_every_flag() {
    nnlab().arg("--help").assert().success().stdout(
        predicate::str::contains("train")
            .and(predicate::str::contains("predict"))
            .and(predicate::str::contains("info")),
    );
    let help = nnlab().args(["train", "--help"]).output().unwrap().stdout;
    let help = String::from_utf8(help).unwrap();
    for flag in [
        "--config",
        "--data",
        "--target",
        "--features",
        "--dataset",
        "--task",
        "--out",
        "--resume",
        "--epochs",
        "--lr",
        "--optimizer",
        "--batch-size",
        "--hidden",
        "--activation",
        "--loss",
        "--seed",
        "--backend",
        "--quiet",
    ] {
        assert!(help.contains(flag), "train --help lacks {flag}");
    }
}

#[test]
fn every_spelling_the_readme_lists_is_accepted_with_underscores_and_hyphens() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let train = |extra: &[&str]| {
        let output = nnlab()
            .args(["train", "--samples", "20", "--epochs", "1", "--hidden", "2"])
            .args(["--quiet", "--overwrite", "--out"])
            .arg(&out)
            .args(extra)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{extra:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    for activation in [
        "identity",
        "sigmoid",
        "tanh",
        "relu",
        "leaky_relu",
        "leaky-relu",
        "gelu",
    ] {
        train(&["--activation", activation]);
    }
    for loss in ["mse", "mae", "huber"] {
        train(&["--dataset", "sine", "--loss", loss]);
    }
    for loss in [
        "cross_entropy",
        "cross-entropy",
        "binary_cross_entropy",
        "binary-cross-entropy",
    ] {
        train(&["--dataset", "moons", "--loss", loss]);
    }
    for scale in ["standard", "min_max", "min-max", "none"] {
        train(&["--scale", scale]);
    }
    for optimizer in [
        "gd", "sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw",
    ] {
        train(&["--optimizer", optimizer]);
    }
    for schedule in ["constant", "step", "exponential", "cosine"] {
        train(&["--schedule", schedule]);
    }
    train(&["--dataset", "wine_quality"]);
    train(&["--dataset", "wine-quality"]);
    // Config files take both spellings too.
    let config = dir.path().join("c.json");
    std::fs::write(
        &config,
        r#"{"data": {"dataset": "moons", "samples": 20}, "model": {"activation": "leaky-relu"},
            "loss": {"name": "cross-entropy"}, "preprocess": {"features": "min-max"}}"#,
    )
    .unwrap();
    train(&["--config", config.to_str().unwrap()]);
    let saved = common::json(&out.join("config.json"));
    assert_eq!(saved["model"]["activation"], "leaky_relu");
    assert_eq!(saved["loss"]["name"], "cross_entropy");
}

#[test]
fn small_data_trains_with_the_defaults_in_train_cv_and_compare() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("small.csv");
    let mut text = String::from("x,y\n");
    for i in 0..20 {
        text += &format!("{},{}\n", i, 2 * i + 1);
    }
    std::fs::write(&data, text).unwrap();
    let csv = data.to_str().unwrap();
    let run = |args: &[&str], out: &str| {
        let output = nnlab()
            .args(args)
            .args([
                "--data", csv, "--target", "y", "--epochs", "2", "-q", "--out",
            ])
            .arg(dir.path().join(out))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{args:?}: {stderr}");
        stderr
    };
    let stderr = run(&["train"], "train");
    assert!(
        stderr.contains("batch size 32 is larger than the 20 training rows"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("batch size 32").count(), 1, "{stderr}");
    let stderr = run(&["cv", "--folds", "5"], "cv");
    assert!(stderr.contains("batch size 32 is larger"), "{stderr}");
    run(&["compare", "--optimizer", "sgd,adam"], "compare");
}

#[test]
fn a_config_with_only_a_dataset_gets_its_task_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("iris.json");
    std::fs::write(&config, r#"{"data": {"dataset": "iris"}}"#).unwrap();
    let out = dir.path().join("run");
    nnlab()
        .args(["train", "--epochs", "2", "-q", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let saved = common::json(&out.join("config.json"));
    assert_eq!(saved["loss"]["name"], "cross_entropy");
    assert_eq!(saved["model"]["output_size"], 3);
}

#[test]
fn validation_metrics_are_labelled_as_chosen_on_those_rows() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    crate::common::train_run(
        &out,
        &[
            "--dataset",
            "moons",
            "--samples",
            "100",
            "--epochs",
            "3",
            "--validation",
            "0.3",
            "-q",
        ],
    );
    let summary = common::json(&out.join("summary.json"));
    assert!(summary.get("valid").is_none(), "{summary}");
    assert_eq!(
        summary["valid_at_best_epoch"]["classification"]["rows"], 30,
        "{summary}"
    );
    assert!(
        summary["valid_note"].as_str().unwrap().contains("--test"),
        "{summary}"
    );
    nnlab().arg("info").arg(&out).assert().success().stdout(
        predicate::str::contains("at the best epoch").and(predicate::str::contains("optimistic")),
    );
}

#[test]
fn gradcheck_checks_batch_norm_and_dropout_models() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        r#"{"data": {"dataset": "moons", "samples": 40}, "model": {"hidden": [4, 3],
            "activation": "tanh", "batch_norm": true, "dropout": [0.3]}}"#,
    )
    .unwrap();
    let output = nnlab()
        .args(["gradcheck", "--rows", "16", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("training mode on both sides"), "{stdout}");
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("layers.") || l.starts_with("norms."))
        .collect();
    assert_eq!(rows.len(), 10, "{stdout}");
    for row in rows {
        let error: f64 = row.split_whitespace().last().unwrap().parse().unwrap();
        assert!(error <= 1e-6, "{row}");
    }
}
