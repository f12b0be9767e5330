//! `nnlab compare`: the variants share their initial weights and differ only by optimizer,
//! learning rate and batch size; divergence is reported, not fatal; the files hold what the
//! table says.

use std::collections::BTreeMap;

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use nnlab::config::{BatchSize, TrainLoss};
use nnlab::data::synthetic;
use nnlab::lab::compare::{CompareConfig, Comparison, compare};
use nnlab::optim::OptimizerName;
use nnlab::train::fit;

use crate::common;
use common::{Cpu, Row, nnlab, read_history};
type Inner = <Cpu as AutodiffBackend>::InnerBackend;

fn run(plan: CompareConfig, epochs: usize) -> Comparison {
    let base = common::textbook(OptimizerName::Sgd, 0.05, epochs, BatchSize::Rows(32));
    let data = synthetic::linear();
    compare::<Cpu>(&base, &plan, &data, &Default::default(), false, |_| {}).unwrap()
}

fn losses(comparison: &Comparison, i: usize) -> Vec<f64> {
    comparison.runs[i]
        .points
        .iter()
        .map(|p| p.train_loss)
        .collect()
}

#[test]
fn variants_start_from_the_same_weights_and_differ_only_by_the_rule() {
    let plan = CompareConfig::new()
        .with_optimizers(vec![
            OptimizerName::Gd,
            OptimizerName::Sgd,
            OptimizerName::Adam,
        ])
        .with_batch_sizes(vec![BatchSize::Rows(32)]);
    let comparison = run(plan, 10);
    let data = synthetic::linear();
    let base = &comparison.base;
    let initial = base
        .model
        .init::<Inner>(base.training.seed, &Default::default());
    let initial_mse = common::mse(&initial, &data, &Default::default());
    for r in &comparison.runs {
        let p = &r.points[0];
        assert_eq!((p.epoch, p.step), (0, 0));
        assert!(
            (p.train_loss / initial_mse - 1.0).abs() < 1e-6,
            "{} starts at {} but the seed's model has MSE {initial_mse}",
            r.variant.optimizer.as_str(),
            p.train_loss
        );
    }
    // gd and sgd without momentum are the same rule, w ← w − α g, on the same batches.
    assert_eq!(losses(&comparison, 0), losses(&comparison, 1));
    assert_ne!(losses(&comparison, 1), losses(&comparison, 2));

    // And a variant is exactly what `fit` gives for its config on its own.
    let config = comparison.runs[2].variant.config(base).unwrap();
    let trained = fit::<Cpu>(&config, &data, &Default::default(), None, false).unwrap();
    let last = comparison.runs[2].points.last().unwrap();
    assert_eq!(last.train_loss, trained.history.last().unwrap().train_loss);
    let final_mse = common::mse(&trained.model.valid(), &data, &Default::default());
    assert!((last.train_loss / final_mse - 1.0).abs() < 1e-6);
}

#[test]
fn gd_defaults_to_the_full_batch() {
    let plan = CompareConfig::new().with_optimizers(vec![OptimizerName::Gd, OptimizerName::Sgd]);
    let comparison = run(plan, 3);
    let batches: Vec<BatchSize> = comparison
        .runs
        .iter()
        .map(|r| r.variant.batch_size)
        .collect();
    assert_eq!(batches, [BatchSize::Full, BatchSize::Rows(32)]);
    let steps: Vec<u64> = comparison.runs.iter().map(|r| r.points[3].step).collect();
    assert_eq!(steps, [3, 12], "100 rows: 1 step per epoch, or 4 of 32");
}

#[test]
fn end_of_epoch_loss_is_the_trained_models_loss() {
    let mut config = common::textbook(OptimizerName::Sgd, 0.1, 5, BatchSize::Rows(8));
    config.training.train_loss = TrainLoss::EndOfEpoch;
    let data = synthetic::linear();
    let trained = fit::<Cpu>(&config, &data, &Default::default(), None, false).unwrap();
    let recorded = trained.history.last().unwrap().train_loss;
    let mse = common::mse(&trained.model.valid(), &data, &Default::default());
    assert!((recorded / mse - 1.0).abs() < 1e-6, "{recorded} vs {mse}");

    // The running mean, measured on moving weights, is a different number.
    config.training.train_loss = TrainLoss::Running;
    let running = fit::<Cpu>(&config, &data, &Default::default(), None, false).unwrap();
    assert_ne!(running.history.last().unwrap().train_loss, recorded);
}

#[test]
fn a_too_large_learning_rate_diverges_without_failing_the_run() {
    let plan = CompareConfig::new()
        .with_optimizers(vec![OptimizerName::Sgd])
        .with_learning_rates(vec![0.1, 5.0])
        .with_batch_sizes(vec![BatchSize::Full]);
    let comparison = run(plan, 30);
    let bound = comparison.divergence_bound;
    assert_eq!(bound, 100.0 * comparison.initial_loss);
    let [stable, wild] = &comparison.runs[..] else {
        panic!("two variants")
    };
    assert_eq!(stable.diverged_at, None);
    assert!(stable.points.iter().all(|p| p.train_loss < bound));
    assert_eq!(stable.points.len(), 31);
    let at = wild.diverged_at.expect("α = 5 diverges on this data");
    for p in &wild.points[1..] {
        let beyond = p.train_loss.is_nan() || p.train_loss > bound;
        assert_eq!(beyond, p.epoch >= at, "epoch {}: {}", p.epoch, p.train_loss);
    }
}

#[test]
fn gradient_descent_diverges_just_above_two_over_the_largest_curvature() {
    let limit = nnlab::reference::line_gd_stability_limit(&synthetic::linear().features);
    assert!((limit - 0.797).abs() < 0.01, "2/λ_max = {limit}");
    let plan = CompareConfig::new()
        .with_optimizers(vec![OptimizerName::Gd])
        .with_learning_rates(vec![0.95 * limit, 1.05 * limit])
        .with_batch_sizes(vec![BatchSize::Full]);
    let comparison = run(plan, 300);
    let (_, _, best) = common::least_squares();
    let [below, above] = &comparison.runs[..] else {
        panic!("two variants")
    };
    assert_eq!(below.diverged_at, None);
    assert!(
        (below.final_loss() / best - 1.0).abs() < 1e-4,
        "{}",
        below.final_loss()
    );
    assert!(above.diverged_at.is_some(), "{:?}", above.points.last());
}

#[test]
fn compare_writes_history_curves_summary_and_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("race");
    let output = nnlab()
        .args(["compare", "--dataset", "linear", "--optimizer", "sgd,adam"])
        .args([
            "--lr",
            "0.05,10",
            "--batch-size",
            "full,32",
            "--epochs",
            "15",
        ])
        .args(["--target-loss", "0.5", "-q", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("epoch < 0.5"), "{stdout}");
    assert!(stdout.contains("diverged at epoch"), "{stdout}");

    let (header, rows) = read_history(&out.join("history.csv"));
    assert_eq!(
        header,
        [
            "optimizer",
            "learning_rate",
            "batch_size",
            "epoch",
            "step",
            "train_loss",
            "valid_loss",
            "elapsed_ms",
            "regularizer"
        ]
    );
    let mut variants: BTreeMap<(String, String, String), Vec<&Row>> = BTreeMap::new();
    for row in &rows {
        let key = (
            row["optimizer"].clone(),
            row["learning_rate"].clone(),
            row["batch_size"].clone(),
        );
        variants.entry(key).or_default().push(row);
    }
    assert_eq!(variants.len(), 8);
    let initial = &rows[0]["train_loss"];
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for ((optimizer, lr, batch), points) in &variants {
        let per_epoch: u64 = if batch == "full" { 1 } else { 4 };
        assert_eq!(&points[0]["train_loss"], initial, "same initial weights");
        let mut elapsed = 0.0;
        for (i, p) in points.iter().enumerate() {
            let epoch: u64 = p["epoch"].parse().unwrap();
            assert_eq!(epoch, i as u64);
            assert_eq!(p["step"].parse::<u64>().unwrap(), epoch * per_epoch);
            assert_eq!(p["valid_loss"], "");
            let ms: f64 = p["elapsed_ms"].parse().unwrap();
            assert!(ms >= elapsed);
            elapsed = ms;
        }
        let entry = summary["variants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| {
                v["optimizer"] == optimizer.as_str()
                    && v["learning_rate"].as_f64() == lr.parse().ok()
                    && v["batch_size"].to_string().trim_matches('"') == batch
            })
            .unwrap();
        let loss = |p: &Row| p["train_loss"].parse::<f64>().unwrap();
        let first_below = points[1..]
            .iter()
            .find(|p| loss(p) < 0.5)
            .map(|p| p["epoch"].parse::<u64>().unwrap());
        assert_eq!(entry["epoch_below_target"].as_u64(), first_below);
        if lr == "0.05" {
            assert_eq!(points.len(), 16, "{optimizer} {lr} {batch} ran every epoch");
            assert_eq!(entry["diverged"], false);
        }
    }
    let diverged = summary["variants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["diverged"] == true)
        .count();
    assert!(diverged >= 1, "{summary}");

    let png = image::load_from_memory(&std::fs::read(out.join("curves.png")).unwrap())
        .unwrap()
        .to_rgb8();
    assert_eq!(png.dimensions(), (1000, 620));
    let colors: std::collections::HashSet<_> = png.pixels().map(|p| p.0).collect();
    assert!(colors.len() > 8, "a picture, not a blank image");
    let svg = std::fs::read_to_string(out.join("curves.svg")).unwrap();
    for label in [
        "epoch",
        "mse (log scale)",
        "sgd α=0.05 batch=full",
        "(diverged)",
    ] {
        assert!(svg.contains(label), "curves.svg lacks `{label}`");
    }
}

#[test]
fn compare_checks_every_variant_before_training_and_keeps_old_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("race");
    nnlab()
        .args(["compare", "--lr", "0.1,0.1", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("lists 0.1 twice"));
    // The second variant cannot run (gd has no weight decay): refused before the first trains.
    // (A batch size above the training rows is no longer an error: it trains on all of them.)
    nnlab()
        .args([
            "compare",
            "--optimizer",
            "sgd,gd",
            "--regularize",
            "weight_decay=0.01",
        ])
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("`gd` has no weight decay"));
    assert!(!out.exists(), "nothing written for a plan that cannot run");

    let quick = [
        "compare",
        "--optimizer",
        "sgd",
        "--epochs",
        "2",
        "-q",
        "--out",
    ];
    nnlab().args(quick).arg(&out).assert().success();
    let before = std::fs::read(out.join("history.csv")).unwrap();
    nnlab()
        .args(quick)
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--overwrite"));
    assert_eq!(std::fs::read(out.join("history.csv")).unwrap(), before);
    nnlab()
        .args(quick)
        .arg(&out)
        .arg("--overwrite")
        .assert()
        .success();
}

#[test]
fn compare_on_a_classification_set_records_validation_loss() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("moons");
    let output = nnlab()
        .args(["compare", "--dataset", "moons", "--hidden", "8"])
        .args(["--optimizer", "sgd,adam", "--lr", "0.05", "--epochs", "5"])
        .args(["--validation", "0.2", "-q", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("final valid loss"), "{stdout}");
    let (_, rows) = read_history(&out.join("history.csv"));
    assert_eq!(rows.len(), 2 * 6);
    for row in &rows {
        let valid: f64 = row["valid_loss"].parse().unwrap();
        assert!(valid.is_finite() && valid > 0.0, "{row:?}");
    }
    // Cross-entropy starts near ln 2 for two balanced classes and small initial logits.
    let initial: f64 = rows[0]["train_loss"].parse().unwrap();
    assert!((initial - 2f64.ln()).abs() < 0.3, "{initial}");
    for file in ["curves.png", "curves.svg", "summary.json", "config.json"] {
        assert!(out.join(file).is_file(), "{file}");
    }
}

#[test]
fn regularizers_are_variants_too() {
    let out = tempfile::tempdir().unwrap();
    // 20 noisy training points and a wide net, so the validation loss turns up again.
    let output = nnlab()
        .args(["compare", "--dataset", "sine", "--samples", "40"])
        .args(["--noise", "0.3", "--validation", "0.5", "--hidden", "64,64"])
        .args(["--lr", "0.01", "--batch-size", "full", "--epochs", "60"])
        .args([
            "--regularize",
            "none,l2=0.01,dropout=0.2,batch_norm,early_stop=3",
        ])
        .args(["-q", "--out"])
        .arg(out.path().join("r"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("r/summary.json")).unwrap())
            .unwrap();
    let variants = summary["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 5, "the config's optimizer only: {stdout}");
    assert!(variants.iter().all(|v| v["optimizer"] == "adam"));
    let (_, rows) = read_history(&out.path().join("r/history.csv"));
    let curve = |regularizer: &str| -> Vec<(usize, f64, f64)> {
        rows.iter()
            .filter(|r| r["regularizer"] == regularizer)
            .map(|r| {
                // serde_json's parser, as for summary.json: the same text, the same number.
                let number = |k: &str| serde_json::from_str::<f64>(&r[k]).unwrap();
                (
                    r["epoch"].parse().unwrap(),
                    number("train_loss"),
                    number("valid_loss"),
                )
            })
            .collect()
    };
    // The lowest validation loss after epoch 0 (epoch 0 is the initial model).
    let lowest = |points: &[(usize, f64, f64)]| {
        points[1..]
            .iter()
            .map(|p| p.2)
            .fold(f64::INFINITY, f64::min)
    };
    for v in variants {
        let points = curve(v["regularizer"].as_str().unwrap());
        // The table's best is the lowest, the one the best checkpoint keeps; its final is
        // the last epoch's.
        assert_eq!(v["best_valid_loss"].as_f64(), Some(lowest(&points)), "{v}");
        assert_eq!(v["final_valid_loss"].as_f64(), points.last().map(|p| p.2));
        assert_eq!(v["epochs"].as_u64(), Some(points.len() as u64 - 1));
    }
    // The plain run over-fits, so its best and final validation losses differ.
    let (plain, early) = (curve("none"), curve("early_stop=3"));
    assert_eq!(plain.len(), 61);
    assert!(lowest(&plain) < plain[60].2, "no over-fitting to stop");
    // Early stopping changes when training ends, not what it does: it follows the plain
    // run's curve and stops 3 epochs after its best (first lowest) validation loss.
    assert_eq!(early[..], plain[..early.len()]);
    let best_epoch = early[1..].iter().find(|p| p.2 == lowest(&early)).unwrap().0;
    let last = early.last().unwrap().0;
    assert!(
        last < 60 && last - best_epoch == 3,
        "stopped at epoch {last}, best epoch {best_epoch}"
    );
    let svg = std::fs::read_to_string(out.path().join("r/curves.svg")).unwrap();
    assert!(
        svg.contains("adam dropout=0.2, validation"),
        "validation curves drawn"
    );

    nnlab()
        .args([
            "compare",
            "--dataset",
            "sine",
            "--regularize",
            "early_stop=3",
            "--out",
        ])
        .arg(out.path().join("bad"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("needs validation_fraction > 0"));
    nnlab()
        .args([
            "compare",
            "--dataset",
            "sine",
            "--regularize",
            "magic=1",
            "--out",
        ])
        .arg(out.path().join("bad"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("`magic=1` is not a regularizer"));
}
