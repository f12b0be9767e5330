//! The examples, run as built by `cargo test`, reproduce the textbook numbers.

use std::path::PathBuf;
use std::process::Command;

mod common;
use common::json;

/// An example binary built beside this test (`target/<profile>/examples/NAME`).
fn example(name: &str) -> Command {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path: PathBuf = profile_dir.join("examples").join(name);
    assert!(path.is_file(), "{} was not built", path.display());
    Command::new(path)
}

#[test]
fn regression_matches_least_squares() {
    let dir = tempfile::tempdir().unwrap();
    let output = example("regression").arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("X[0] = 0.417022005"), "{stdout}");
    assert!(stdout.contains("ΣX = 48.5877928"), "{stdout}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap())
            .unwrap();
    let get = |key: &str| {
        summary[key]
            .as_f64()
            .unwrap_or_else(|| panic!("summary lacks {key}"))
    };
    assert_eq!(summary["steps"], 4000);
    assert!((get("lstsq_w") - 2.97328974).abs() < 1e-8);
    assert!((get("lstsq_b") - 0.49781698).abs() < 1e-8);
    assert!((get("lstsq_mse") - 0.0999430229).abs() < 1e-10);
    assert!(
        get("train_mse") / get("lstsq_mse") - 1.0 < 0.005,
        "{summary}"
    );
    assert!((get("w") - get("lstsq_w")).abs() < 0.05, "{summary}");
    assert!((get("b") - get("lstsq_b")).abs() < 0.05, "{summary}");
    assert!(get("train_seconds") > 0.0);
}

/// Runs an example into a temporary directory, expecting success.
fn run_example(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let output = example(name).arg(dir.path()).output().unwrap();
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    dir
}

#[test]
fn classification_meets_the_iris_bar_and_draws_the_moons_boundary() {
    let dir = run_example("classification");
    let cv = json(&dir.path().join("iris-cv/cv.json"));
    assert_eq!(cv["folds"].as_array().unwrap().len(), 5);
    assert!(cv["mean"].as_f64().unwrap() >= 0.953, "{cv}");
    let run = dir.path().join("moons");
    let accuracy = json(&run.join("summary.json"))["valid_accuracy"]
        .as_f64()
        .unwrap();
    assert!(accuracy >= 0.95, "held-out accuracy {accuracy}");
    assert!(run.join("decision_regions.png").is_file());
}

#[test]
fn a_cnn_learns_shapes_that_a_dense_network_of_its_size_does_not() {
    let dir = run_example("cnn");
    let accuracy = |name: &str| {
        json(&dir.path().join(name).join("summary.json"))["valid_at_best_epoch"]["classification"]
            ["accuracy"]
            .as_f64()
            .unwrap()
    };
    let (cnn, mlp) = (accuracy("cnn"), accuracy("mlp"));
    assert!(cnn >= 0.95, "CNN held-out accuracy {cnn}");
    assert!(mlp <= cnn - 0.1, "dense {mlp} against CNN {cnn}");
    let config = json(&dir.path().join("cnn/config.json"));
    assert_eq!(config["model"]["kind"], "cnn");
    assert_eq!(config["preprocess"]["features"], "pixels");
}

#[test]
fn diabetes_meets_the_regression_bar() {
    let dir = run_example("diabetes");
    let cv = json(&dir.path().join("cv/cv.json"));
    assert_eq!(cv["score"], "R²");
    assert!(cv["mean"].as_f64().unwrap() >= 0.45, "{cv}");
    assert!(dir.path().join("run/predicted_vs_actual.png").is_file());
}

#[test]
fn optimizers_race_from_one_start_and_none_diverges() {
    let dir = tempfile::tempdir().unwrap();
    let output = example("optimizers").arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap())
            .unwrap();
    let names: Vec<&str> = summary["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["optimizer"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["gd", "sgd", "momentum", "adagrad", "rmsprop", "adam"]
    );
    // At α = 0.1 every optimizer lowers the loss from the shared start, and the momentum
    // family gets within 10% of the best loss reached.
    let initial = summary["initial_loss"].as_f64().unwrap();
    for v in summary["variants"].as_array().unwrap() {
        assert!(
            v["final_train_loss"].as_f64().unwrap() < initial / 10.0,
            "{v}"
        );
    }
    for v in &summary["variants"].as_array().unwrap()[2..] {
        if v["optimizer"] != "adagrad" {
            assert!(v["epoch_below_target"].as_u64().is_some(), "{v}");
        }
    }
    assert!(dir.path().join("curves.png").is_file());
}

#[test]
fn regularization_beats_the_over_fitting_model_on_validation() {
    let dir = run_example("regularization");
    let summary = json(&dir.path().join("summary.json"));
    let variants = summary["variants"].as_array().unwrap();
    let names: Vec<&str> = variants
        .iter()
        .map(|v| v["regularizer"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "none",
            "l2=0.001",
            "dropout=0.3",
            "batch_norm",
            "early_stop=20"
        ]
    );
    let valid = |v: &serde_json::Value| v["final_valid_loss"].as_f64().unwrap();
    let plain = valid(&variants[0]);
    // The unregularized model over-fits: its validation loss ends well above its best.
    assert!(plain > 1.1 * variants[0]["best_valid_loss"].as_f64().unwrap());
    assert!(
        variants[1..].iter().any(|v| valid(v) < 0.9 * plain),
        "{summary}"
    );
    // Early stopping stopped early.
    assert!(variants[4]["epochs"].as_u64().unwrap() < 400);
}

#[test]
fn distributed_trains_on_two_nodes_the_model_of_one_process() {
    let dir = run_example("distributed");
    let json = |run: &str| {
        let text = std::fs::read_to_string(dir.path().join(run).join("run.json")).unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap()
    };
    assert_eq!(json("two-nodes")["nodes"], 2);
    assert_eq!(json("two-nodes")["steps"], json("one-process")["steps"]);
}
