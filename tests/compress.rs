//! Smaller runs made from a trained one. `nnlab quantize`: the int8 run's weights lie on the
//! int8 grid of their float weights, and it keeps the score. `nnlab prune`: each run has
//! exactly the share of zero weights asked for, and they stay zero through fine-tuning and
//! resume. `nnlab distill`: the student starts where the one trained alone does, and bad
//! teachers are refused.

use std::collections::HashMap;
use std::path::Path;

use predicates::prelude::*;

mod common;
use common::{export, nnlab};

/// The quantize.csv rows of `run`: measure → (float, quantized, ratio).
fn quantize_table(run: &Path) -> HashMap<String, [f64; 3]> {
    let text = std::fs::read_to_string(run.join("quantize.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let number = |i: usize| cells[i].parse::<f64>().unwrap();
            (cells[0].to_string(), [number(1), number(2), number(3)])
        })
        .collect()
}

/// Each int8 weight is its float weight rounded to the grid of s = max|w| / 127 over its
/// tensor (`int8`) or over its row as Burn stores it, `[in, out]` (`int8-per-channel`): a
/// column of the exported `[out, in]`. Biases stay as they were. The score moves by less than
/// a point and, with 17,000 weights, the file is under 30% of the float one's (a record has
/// about 800 bytes of names and shapes, and its biases stay `f32`).
#[test]
fn quantized_weights_lie_on_the_int8_grid_and_keep_the_score() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    common::train_run(
        &run,
        &[
            "--dataset",
            "iris",
            "--hidden",
            "128, 128",
            "--test",
            "0.2",
            "--epochs",
            "60",
            "-q",
        ],
    );
    let (float, _) = export(&run);
    for scheme in ["int8", "int8-per-channel"] {
        let out = dir.path().join(scheme);
        nnlab()
            .args(["quantize", "--batch-rows", "1000", "--scheme", scheme])
            .arg("--checkpoint")
            .arg(&run)
            .arg("--out")
            .arg(&out)
            .assert()
            .success()
            .stdout(predicate::str::contains("the run's test part (30 rows)"));
        let table = quantize_table(&out);
        let [_, _, size_ratio] = table["file bytes"];
        assert!(size_ratio <= 0.30, "{scheme}: {table:?}");
        let [before, after, _] = table["accuracy"];
        assert!(after >= before - 0.01, "{scheme}: {table:?}");
        let (quantized, _) = export(&out);
        let mut moved = 0;
        for (name, (shape, w)) in &float {
            let q = &quantized[name].1;
            if name.ends_with("bias") {
                assert_eq!(q, w, "{scheme}: {name}");
                continue;
            }
            let (outs, ins) = (shape[0], shape[1]);
            let groups: Vec<Vec<usize>> = match scheme {
                "int8" => vec![(0..w.len()).collect()],
                _ => (0..ins)
                    .map(|i| (0..outs).map(|o| o * ins + i).collect())
                    .collect(),
            };
            for group in groups {
                let s = group.iter().map(|&k| w[k].abs()).fold(0.0, f64::max) / 127.0;
                for k in group {
                    let steps = q[k] / s;
                    assert!((steps - steps.round()).abs() < 1e-3, "{scheme} {name}[{k}]");
                    assert!((q[k] - w[k]).abs() <= s * 0.5001, "{scheme} {name}[{k}]");
                    moved += usize::from(q[k] != w[k]);
                }
            }
        }
        assert!(moved > 16_000, "{scheme}: only {moved} weights changed");
    }
}

/// A quantized run is not quantized again, does not resume, and is not written over its
/// source.
#[test]
fn quantize_refuses_a_quantized_run_and_its_own_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    common::train_run(&run, &["--dataset", "moons", "--epochs", "3", "-q"]);
    let quantize = |from: &Path, out: &Path| {
        let mut command = nnlab();
        command
            .args(["quantize", "--batch-rows", "10", "--checkpoint"])
            .arg(from)
            .arg("--out")
            .arg(out);
        command
    };
    let q = dir.path().join("q");
    quantize(&run, &q).assert().success();
    quantize(&q, &dir.path().join("qq"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is already quantized (int8)"));
    quantize(&run, &run)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is the checkpoint itself"));
    nnlab()
        .args(["train", "--epochs", "6", "--resume"])
        .arg(&q)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("predict but do not resume"));
    assert!(!dir.path().join("qq").exists());
}

/// The zero weights of an exported run, by tensor and position (biases are never pruned).
fn zero_weights(run: &Path) -> Vec<(String, usize)> {
    let (tensors, _) = export(run);
    let mut zeros: Vec<(String, usize)> = tensors
        .iter()
        .filter(|(name, _)| name.ends_with("weight"))
        .flat_map(|(name, (_, w))| {
            w.iter()
                .enumerate()
                .filter(|(_, v)| **v == 0.0)
                .map(move |(i, _)| (name.clone(), i))
        })
        .collect();
    zeros.sort();
    zeros
}

/// Each run has round(s · n) of its n weights at zero, after fine-tuning; a resumed run keeps
/// exactly those zeros; the table and the picture are written.
#[test]
fn pruned_runs_hold_the_share_of_zeros_through_fine_tuning_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    common::train_run(
        &run,
        &[
            "--dataset",
            "iris",
            "--hidden",
            "16, 8",
            "--test",
            "0.3",
            "--epochs",
            "80",
            "-q",
        ],
    );
    let out = dir.path().join("pruned");
    let printed = nnlab()
        .args(["prune", "--sparsity", "0.5,0.8", "--fine-tune-epochs", "15"])
        .arg("--checkpoint")
        .arg(&run)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let printed = String::from_utf8(printed).unwrap();
    assert!(
        printed.contains("the run's test part (45 rows)"),
        "{printed}"
    );
    let weights = 4 * 16 + 16 * 8 + 8 * 3;
    for (sparsity, name) in [(0.5, "sparsity-0.50"), (0.8, "sparsity-0.80")] {
        let pruned = out.join(name);
        let zeros = zero_weights(&pruned);
        let expected = (sparsity * weights as f64).round() as usize;
        assert_eq!(zeros.len(), expected, "{name}");
        let summary = common::json(&pruned.join("summary.json"));
        assert_eq!(summary["pruned"]["zeros"], expected);
        assert_eq!(summary["epochs"], 15);
        nnlab()
            .args(["train", "-q", "--epochs", "25", "--resume"])
            .arg(&pruned)
            .assert()
            .success();
        assert_eq!(zero_weights(&pruned), zeros, "{name} after resume");
        assert_eq!(common::json(&pruned.join("summary.json"))["epochs"], 25);
    }
    let table = std::fs::read_to_string(out.join("prune.csv")).unwrap();
    assert_eq!(table.lines().count(), 3, "{table}");
    assert!(
        table.starts_with("sparsity,zeros,weights,accuracy pruned"),
        "{table}"
    );
    assert!(out.join("prune.png").exists() && out.join("prune.svg").exists());
}

#[test]
fn prune_refuses_a_sparsity_outside_zero_to_one() {
    for bad in ["1", "1.5", "-0.1", "half"] {
        nnlab()
            .args(["prune", "--checkpoint", "nowhere", "--sparsity"])
            .arg(bad)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--sparsity"));
    }
}

/// Trains a classifier on circles (300 samples) into `run`.
fn circles_teacher(run: &Path) {
    common::train_run(
        run,
        &[
            "-q",
            "--dataset",
            "circles",
            "--samples",
            "300",
            "--hidden",
            "32",
            "--epochs",
            "40",
            "--test",
            "0.5",
        ],
    );
}

/// `nnlab distill` of a student with `flags` from `teacher` into `out`.
fn distill(teacher: &Path, out: &Path, flags: &[&str]) -> assert_cmd::Command {
    let mut command = nnlab();
    command
        .args(["distill", "-q", "--teacher"])
        .arg(teacher)
        .arg("--out")
        .arg(out)
        .args(flags);
    command
}

/// With α = 0 the distillation loss is the cross-entropy alone, so the distilled student and
/// the one trained alone, from the same initial weights and batches, end the same; with
/// α = 0.9 they do not. The student learns on the teacher's data and split.
#[test]
fn distill_trains_the_student_from_the_same_start_as_alone() {
    let dir = tempfile::tempdir().unwrap();
    let teacher = dir.path().join("teacher");
    circles_teacher(&teacher);
    let student = |alpha: &str| {
        let out = dir.path().join(format!("student-{alpha}"));
        distill(
            &teacher,
            &out,
            &["--hidden", "8", "--epochs", "30", "--alpha", alpha],
        )
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "the student's test part (150 rows)",
        ))
        .stdout(predicate::str::is_match(r"student distilled +42 ").unwrap());
        common::json(&out.join("summary.json"))["distilled"].clone()
    };
    let plain = student("0");
    assert_eq!(plain["alone_score"], plain["distilled_score"], "{plain}");
    let config = common::json(&dir.path().join("student-0/config.json"));
    assert_eq!(config["loss"]["distill"]["alpha"], 0.0);
    assert_eq!(config["training"]["test_fraction"], 0.5);
    let taught = student("0.9");
    assert_eq!(taught["alone_score"], plain["alone_score"]);
    let distilled = dir.path().join("student-0.9");
    let first_loss = |run: &Path| {
        let text = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
        text.lines()
            .nth(1)
            .unwrap()
            .split(',')
            .nth(1)
            .unwrap()
            .to_string()
    };
    assert_ne!(
        first_loss(&distilled),
        first_loss(&dir.path().join("student-0"))
    );
    nnlab()
        .args(["train", "--epochs", "40", "--resume"])
        .arg(&distilled)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "trains only through `nnlab distill`",
        ));
}

#[test]
fn distill_refuses_a_teacher_of_other_columns_a_regression_teacher_and_a_bad_temperature() {
    let dir = tempfile::tempdir().unwrap();
    let teacher = dir.path().join("teacher");
    circles_teacher(&teacher);
    let out = dir.path().join("student");
    distill(&teacher, &out, &["--dataset", "iris", "--epochs", "2"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "reads the columns [\"x1\", \"x2\"]",
        ));
    distill(&teacher, &out, &["--temperature", "0", "--epochs", "2"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("loss.distill.temperature"));
    let regression = dir.path().join("regression");
    common::train_run(&regression, &["-q", "--dataset", "linear", "--epochs", "2"]);
    distill(&regression, &out, &["--epochs", "2"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is a regression run"));
    assert!(!out.join("run.json").exists());
}
