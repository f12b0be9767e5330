//! `nnlab export`: the SafeTensors file holds the documented tensors in PyTorch's layout, a
//! forward pass written from the file alone reproduces `nnlab predict`, and `--init-from`
//! reads the file back.

use std::path::Path;

use predicates::prelude::*;
use serde_json::Value;

use crate::common;
use common::{Tensors, export, nnlab, predicted_rows};

/// The class probabilities `nnlab predict` prints for each row.
fn predict(run: &Path, input: &Path) -> Vec<Vec<f64>> {
    predicted_rows(run, input)
        .iter()
        .map(|row| row[1..].iter().map(|v| v.parse().unwrap()).collect())
        .collect()
}

#[test]
fn the_exported_file_alone_reproduces_predict() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    crate::common::train_run(
        &run,
        &[
            "--dataset",
            "moons",
            "--hidden",
            "8, 6",
            "--batch-norm",
            "--validation",
            "0.2",
            "--epochs",
            "5",
            "-q",
        ],
    );
    let (t, meta) = export(&run);
    let mut names: Vec<&String> = t.keys().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "layers.0.bias",
            "layers.0.weight",
            "layers.1.bias",
            "layers.1.weight",
            "layers.2.bias",
            "layers.2.weight",
            "norms.0.bias",
            "norms.0.running_mean",
            "norms.0.running_var",
            "norms.0.weight",
            "norms.1.bias",
            "norms.1.running_mean",
            "norms.1.running_var",
            "norms.1.weight",
        ]
    );
    assert_eq!(t["layers.0.weight"].0, [8, 2], "PyTorch's [out, in]");
    let scaler: Value = serde_json::from_str(meta["nnlab.scaler"].as_str().unwrap()).unwrap();
    let config: Value = serde_json::from_str(meta["nnlab.config"].as_str().unwrap()).unwrap();
    assert_eq!(config["model"]["hidden"], serde_json::json!([8, 6]));

    let points = [[0.0, 1.0], [1.0, -0.5], [0.3, 0.2], [-0.8, 0.4]];
    let input = dir.path().join("in.csv");
    let mut text = String::from("x1,x2\n");
    for p in points {
        text += &format!("{},{}\n", p[0], p[1]);
    }
    std::fs::write(&input, text).unwrap();
    let expected = predict(&run, &input);

    for (point, probabilities) in points.iter().zip(&expected) {
        let mut h: Vec<f64> = point
            .iter()
            .enumerate()
            .map(|(j, x)| {
                let a = &scaler["features"][j];
                (x - a["shift"].as_f64().unwrap()) / a["scale"].as_f64().unwrap()
            })
            .collect();
        for layer in 0..3 {
            let (shape, w) = &t[&format!("layers.{layer}.weight")];
            let b = &t[&format!("layers.{layer}.bias")].1;
            let mut z: Vec<f64> = (0..shape[0])
                .map(|o| {
                    b[o] + (0..shape[1])
                        .map(|i| w[o * shape[1] + i] * h[i])
                        .sum::<f64>()
                })
                .collect();
            if layer < 2 {
                let norm = |k: &str| &t[&format!("norms.{layer}.{k}")].1;
                let (g, beta, m, v) = (
                    norm("weight"),
                    norm("bias"),
                    norm("running_mean"),
                    norm("running_var"),
                );
                for (o, z) in z.iter_mut().enumerate() {
                    *z = g[o] * (*z - m[o]) / (v[o] + 1e-5).sqrt() + beta[o];
                    *z = z.max(0.0);
                }
            }
            h = z;
        }
        let total: f64 = h.iter().map(|v| v.exp()).sum();
        for (logit, p) in h.iter().zip(probabilities) {
            assert!(
                (logit.exp() / total - p).abs() < 1e-5,
                "{h:?} vs {probabilities:?}"
            );
        }
    }
}

#[test]
fn init_from_reads_an_exported_file_back() {
    let dir = tempfile::tempdir().unwrap();
    let (run, again) = (dir.path().join("run"), dir.path().join("again"));
    let base = [
        "--dataset",
        "sine",
        "--samples",
        "100",
        "--hidden",
        "8",
        "-q",
    ];
    nnlab()
        .arg("train")
        .args(base)
        .args(["--epochs", "10", "--out"])
        .arg(&run)
        .assert()
        .success();
    let file = dir.path().join("weights.safetensors");
    nnlab()
        .args(["export", "--checkpoint"])
        .arg(&run)
        .arg("--out")
        .arg(&file)
        .assert()
        .success();
    // Every layer frozen: the new run is the exported model, with its scaling.
    nnlab()
        .arg("train")
        .args(base)
        .args(["--epochs", "1", "--freeze", "0,1", "--init-from"])
        .arg(&file)
        .arg("--out")
        .arg(&again)
        .assert()
        .success();
    let input = dir.path().join("x.csv");
    std::fs::write(&input, "x\n0.1\n0.5\n0.9\n").unwrap();
    // `predicted_rows` fails on a failed predict, so two errors cannot compare equal.
    let values = |r: &Path| predicted_rows(r, &input);
    let exported = values(&run);
    assert_eq!(exported.len(), 3, "one prediction per row: {exported:?}");
    assert!(
        exported
            .iter()
            .all(|r| r.len() == 1 && r[0].parse::<f64>().is_ok_and(f64::is_finite)),
        "{exported:?}"
    );
    assert_eq!(exported, values(&again));

    nnlab()
        .args(["train", "--dataset", "sine", "--hidden", "4", "--init-from"])
        .arg(&file)
        .arg("--out")
        .arg(dir.path().join("bad"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("does not fit this model").and(
            predicate::str::contains(
                "ShapeMismatch { path: \"layers.0.weight\", expected: Shape { dims: [1, 4] }, found: Shape { dims: [1, 8] } }",
            ),
        ));
}

/// A CNN's forward pass from the exported file alone: `convs.0.weight` `[out, in, kh, kw]`,
/// `same` padding, ReLU, 2×2 max pooling, flattened channel-first (as PyTorch's `Flatten` on
/// NCHW), then the dense layers `[out, in]`.
fn cnn_forward(t: &Tensors, image: &[f64], side: usize) -> Vec<f64> {
    let (shape, w) = &t["convs.0.weight"];
    let b = &t["convs.0.bias"].1;
    let (out, k) = (shape[0], shape[2]);
    let pad = (k / 2) as isize;
    let pixel = |r: isize, c: isize| {
        let inside = (0..side as isize).contains(&r) && (0..side as isize).contains(&c);
        if inside {
            image[r as usize * side + c as usize]
        } else {
            0.0
        }
    };
    let conv = |o: usize, r: usize, c: usize| {
        let mut z = b[o];
        for kh in 0..k {
            for kw in 0..k {
                let x = pixel(
                    r as isize + kh as isize - pad,
                    c as isize + kw as isize - pad,
                );
                z += w[(o * k + kh) * k + kw] * x;
            }
        }
        z.max(0.0)
    };
    let half = side / 2;
    let mut h = Vec::with_capacity(out * half * half);
    for o in 0..out {
        for r in 0..half {
            for c in 0..half {
                let window = [(0, 0), (0, 1), (1, 0), (1, 1)];
                h.push(
                    window
                        .iter()
                        .map(|(a, d)| conv(o, 2 * r + a, 2 * c + d))
                        .fold(f64::MIN, f64::max),
                );
            }
        }
    }
    for layer in 0..2 {
        let (shape, w) = &t[&format!("dense.{layer}.weight")];
        let b = &t[&format!("dense.{layer}.bias")].1;
        h = (0..shape[0])
            .map(|o| {
                let z = b[o]
                    + (0..shape[1])
                        .map(|i| w[o * shape[1] + i] * h[i])
                        .sum::<f64>();
                if layer == 0 { z.max(0.0) } else { z }
            })
            .collect();
    }
    h
}

#[test]
fn an_exported_cnn_alone_reproduces_predict() {
    let dir = tempfile::tempdir().unwrap();
    let data = nnlab::data::Builtin::Shapes.load(60, 0.1, 3, 2);
    let csv = dir.path().join("shapes.csv");
    let mut text = data.feature_names.join(",") + ",shape\n";
    for row in data.features.chunks(data.width()) {
        let cells: Vec<String> = row.iter().map(|v| format!("{v:.4}")).collect();
        text += &(cells.join(",") + ",circle\n");
    }
    // Two classes are enough for the check; the labels need not be right.
    text = text.replacen(",circle\n", ",square\n", 1);
    std::fs::write(&csv, &text).unwrap();
    let run = dir.path().join("run");
    nnlab()
        .args(["train", "--data"])
        .arg(&csv)
        .args([
            "--target", "shape", "--model", "cnn", "--conv", "3", "--dense", "4",
        ])
        .args(["--epochs", "2", "-q", "--out"])
        .arg(&run)
        .assert()
        .success();
    let (t, meta) = export(&run);
    assert_eq!(
        t["convs.0.weight"].0,
        [3, 1, 3, 3],
        "PyTorch's [out, in, kh, kw]"
    );
    assert_eq!(t["dense.0.weight"].0, [4, 3 * 8 * 8], "PyTorch's [out, in]");
    let scaler: Value = serde_json::from_str(meta["nnlab.scaler"].as_str().unwrap()).unwrap();
    let divisor = scaler["features"][0]["scale"].as_f64().unwrap();
    let expected = predict(&run, &csv);
    let side = nnlab::data::shapes::SIDE;
    for (row, probabilities) in text.lines().skip(1).zip(&expected).take(5) {
        let image: Vec<f64> = row
            .split(',')
            .take(side * side)
            .map(|v| v.parse::<f64>().unwrap() / divisor)
            .collect();
        let logits = cnn_forward(&t, &image, side);
        let total: f64 = logits.iter().map(|v| v.exp()).sum();
        for (logit, p) in logits.iter().zip(probabilities) {
            assert!(
                (logit.exp() / total - p).abs() < 1e-5,
                "{logits:?} vs {probabilities:?}"
            );
        }
    }
}
