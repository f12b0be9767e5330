//! Early stopping, the best checkpoint and the divergence guard, through the real binary.

use std::path::Path;

use predicates::prelude::*;

use crate::common;
use common::{json, nnlab, predict_command, stdout};

/// The validation loss of each epoch in a run's metrics.csv.
fn valid_losses(run: &Path) -> Vec<f64> {
    let mut reader = csv::Reader::from_path(run.join("metrics.csv")).unwrap();
    let column = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "valid_loss")
        .unwrap();
    reader
        .records()
        .map(|r| r.unwrap()[column].parse().unwrap())
        .collect()
}

fn predictions(run: &Path, input: &Path, last: bool) -> String {
    let mut command = predict_command(run, input);
    if last {
        command.arg("--last");
    }
    stdout(&mut command)
}

/// A wide MLP on 40 noisy sine points: it over-fits, so the validation loss turns up.
const OVERFIT: [&str; 14] = [
    "--dataset",
    "sine",
    "--samples",
    "40",
    "--noise",
    "0.3",
    "--hidden",
    "128,128",
    "--lr",
    "0.01",
    "--validation",
    "0.3",
    "--batch-size",
    "8",
];

#[test]
fn early_stopping_keeps_the_best_epoch_and_predict_uses_it() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    nnlab()
        .arg("train")
        .args(OVERFIT)
        .args(["--epochs", "1000", "--patience", "15", "-q", "--out"])
        .arg(&run)
        .assert()
        .success()
        .stderr(predicate::str::contains("stopped early after epoch"));
    let losses = valid_losses(&run);
    assert!(
        losses.len() < 1000,
        "stopped early: {} epochs",
        losses.len()
    );
    let best = losses
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i + 1)
        .unwrap();
    let summary = json(&run.join("summary.json"));
    assert_eq!(summary["best_epoch"], best);
    assert_eq!(
        losses.len(),
        best + 15,
        "stops `patience` epochs after the best"
    );
    assert!(summary["stop"].as_str().unwrap().contains("stopped early"));
    assert!(run.join("best.mpk").is_file() && run.join("model.mpk").is_file());

    let input = dir.path().join("x.csv");
    std::fs::write(&input, "x\n0.1\n0.35\n0.8\n").unwrap();
    let best_predictions = predictions(&run, &input, false);
    assert_ne!(
        best_predictions,
        predictions(&run, &input, true),
        "best ≠ last"
    );
    // The summary's validation metrics are the best model's: its RMSE in raw units is the
    // best epoch's (scaled) validation loss times the target's scale.
    let scale = json(&run.join("scaler.json"))["target"]["scale"]
        .as_f64()
        .unwrap();
    let rmse = summary["valid_at_best_epoch"]["regression"]["rmse"]
        .as_f64()
        .unwrap();
    let expected = losses[best - 1].sqrt() * scale;
    assert!((rmse / expected - 1.0).abs() < 1e-4, "{rmse} vs {expected}");
}

#[test]
fn a_larger_min_delta_stops_sooner() {
    let dir = tempfile::tempdir().unwrap();
    let epochs = |delta: &str, name: &str| {
        let run = dir.path().join(name);
        nnlab()
            .arg("train")
            .args(OVERFIT)
            .args([
                "--epochs",
                "1000",
                "--patience",
                "15",
                "--min-delta",
                delta,
                "-q",
            ])
            .arg("--out")
            .arg(&run)
            .assert()
            .success();
        valid_losses(&run).len()
    };
    assert!(epochs("0.05", "coarse") < epochs("0", "fine"));
}

#[test]
fn patience_needs_a_validation_split() {
    let dir = tempfile::tempdir().unwrap();
    nnlab()
        .args(["train", "--dataset", "sine", "--patience", "5", "--out"])
        .arg(dir.path().join("run"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "`training.patience` needs validation_fraction > 0",
        ));
}

#[test]
fn a_diverging_run_is_an_error_and_keeps_the_previous_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let textbook = ["--config", "examples/textbook.json", "--epochs", "20", "-q"];
    nnlab()
        .arg("train")
        .args(textbook)
        .arg("--out")
        .arg(&run)
        .assert()
        .success();
    let files = ["model.mpk", "run.json", "metrics.csv", "summary.json"];
    let before: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(run.join(f)).unwrap())
        .collect();

    let assert = nnlab()
        .arg("train")
        .args(textbook)
        .args(["--lr", "50", "--overwrite", "--out"])
        .arg(&run)
        .assert()
        .code(1);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("became NaN or infinite in epoch"),
        "{stderr}"
    );
    assert!(
        stderr.contains("try a smaller learning rate than 50"),
        "{stderr}"
    );
    let after: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(run.join(f)).unwrap())
        .collect();
    assert_eq!(before, after, "the earlier checkpoint is untouched");
}

#[test]
fn resuming_keeps_track_of_the_best_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let (whole, split) = (dir.path().join("whole"), dir.path().join("split"));
    let train = |out: &Path, epochs: &str| {
        nnlab()
            .arg("train")
            .args(OVERFIT)
            .args(["--epochs", epochs, "-q", "--out"])
            .arg(out)
            .assert()
            .success();
    };
    train(&whole, "60");
    train(&split, "30");
    nnlab()
        .args(["train", "--epochs", "60", "-q", "--resume"])
        .arg(&split)
        .assert()
        .success();
    assert_eq!(valid_losses(&whole), valid_losses(&split));
    let best = |run: &Path| json(&run.join("run.json"))["best_epoch"].clone();
    assert_eq!(best(&whole), best(&split));
    // The best weights themselves (the files differ in Burn's parameter ids).
    let input = dir.path().join("x.csv");
    std::fs::write(&input, "x\n0.1\n0.35\n0.8\n").unwrap();
    assert_eq!(
        predictions(&whole, &input, false),
        predictions(&split, &input, false)
    );
}

#[test]
fn regularization_flags_reach_the_saved_config() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    nnlab()
        .args([
            "train",
            "--dataset",
            "sine",
            "--samples",
            "64",
            "--epochs",
            "2",
        ])
        .args(["--hidden", "16,16", "--dropout", "0.2,0.1", "--batch-norm"])
        .args(["--l1", "0.001", "--l2", "0.01", "--optimizer", "sgd"])
        .args(["--weight-decay", "0.05", "-q", "--out"])
        .arg(&run)
        .assert()
        .success();
    let config = json(&run.join("config.json"));
    assert_eq!(config["model"]["dropout"], serde_json::json!([0.2, 0.1]));
    assert_eq!(config["model"]["batch_norm"], true);
    assert_eq!(config["loss"]["l1"], 0.001);
    assert_eq!(config["loss"]["l2"], 0.01);
    assert_eq!(config["optimizer"]["sgd"]["weight_decay"], 0.05);

    nnlab()
        .args([
            "train",
            "--dataset",
            "sine",
            "--optimizer",
            "gd",
            "--weight-decay",
            "0.1",
        ])
        .arg("--out")
        .arg(dir.path().join("gd"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "optimizer `gd` has no weight decay",
        ));
    nnlab()
        .args([
            "train",
            "--dataset",
            "sine",
            "--hidden",
            "8",
            "--dropout",
            "1.0",
        ])
        .arg("--out")
        .arg(dir.path().join("p1"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "`model.dropout[0]` must be in [0, 1), got 1",
        ));
}

/// The weights of a run's chosen model, layer by layer.
fn layer_weights(run: &Path) -> Vec<Vec<f32>> {
    use nnlab::run_dir::RunDir;
    type Inner = <common::Cpu as burn::tensor::backend::AutodiffBackend>::InnerBackend;
    let dir = RunDir::new(run);
    let (config, info) = dir.load_meta().unwrap();
    let model = dir
        .load_chosen::<Inner>(&config, &info, false, &Default::default())
        .unwrap();
    common::mlp(&model)
        .layers
        .iter()
        .map(|l| l.weight.val().into_data().to_vec().unwrap())
        .collect()
}

#[test]
fn fine_tuning_starts_from_a_run_and_frozen_layers_do_not_move() {
    let dir = tempfile::tempdir().unwrap();
    let (source, tuned) = (dir.path().join("source"), dir.path().join("tuned"));
    let base = [
        "--dataset",
        "sine",
        "--samples",
        "200",
        "--hidden",
        "16,16",
        "-q",
    ];
    nnlab()
        .arg("train")
        .args(base)
        .args(["--epochs", "20", "--out"])
        .arg(&source)
        .assert()
        .success();
    nnlab()
        .arg("train")
        .args(base)
        .args([
            "--data-seed",
            "9",
            "--epochs",
            "5",
            "--freeze",
            "0,2",
            "--init-from",
        ])
        .arg(&source)
        .arg("--out")
        .arg(&tuned)
        .assert()
        .success();
    let (before, after) = (layer_weights(&source), layer_weights(&tuned));
    assert_eq!(before[0], after[0], "frozen layer 0 is unchanged");
    assert_eq!(before[2], after[2], "frozen output layer is unchanged");
    assert_ne!(before[1], after[1], "layer 1 trained");
    let config = json(&tuned.join("config.json"));
    assert_eq!(config["training"]["freeze"], serde_json::json!([0, 2]));

    nnlab()
        .arg("train")
        .args(["--dataset", "sine", "--hidden", "8", "--init-from"])
        .arg(&source)
        .arg("--out")
        .arg(dir.path().join("bad"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "its layers are shaped [[1, 16], [16, 16], [16, 1]] (batch norm false) but this model's are [[1, 8], [8, 1]]",
        ));
    nnlab()
        .arg("train")
        .args(base)
        .args(["--freeze", "3", "--out"])
        .arg(dir.path().join("bad"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "names layer 3 but the model has layers 0 to 2",
        ));
}
