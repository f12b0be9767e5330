//! Property tests as a bounded fuzzer: random bytes, and random but well-shaped input, fed to
//! the CSV reader, the config parser and the checkpoint loader must give `Ok` or an error,
//! never a panic, and never an allocation out of proportion to a small file (the process
//! would abort). CI runs every property's cases on each push (`PROPTEST_CASES` raises them).

use std::cell::Cell;
use std::path::Path;

use burn::tensor::backend::AutodiffBackend;
use nnlab::config::ExperimentConfig;
use nnlab::data::csv::{read_features, read_table};
use nnlab::loss::Task;
use nnlab::run_dir::RunDir;
use nnlab::serve::request::decode_rows;
use proptest::prelude::*;

use crate::common;
use common::Cpu;

type CpuInner = <Cpu as AutodiffBackend>::InnerBackend;

/// Cases per property unless `PROPTEST_CASES` says otherwise.
fn cases() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(400),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Reads `bytes` as a CSV table every way nnlab does.
fn read_csv(dir: &Path, bytes: &[u8]) {
    let path = dir.join("data.csv");
    std::fs::write(&path, bytes).unwrap();
    for task in [Task::Regression, Task::Classification] {
        for drop in [false, true] {
            let _ = read_table(&path, "y", None, task, drop, None);
        }
        let features = ["a".into(), "b".into()];
        let _ = read_table(&path, "y", Some(&features), task, false, None);
        let _ = read_table(&path, "y", Some(&features), task, false, Some(';'));
    }
    let _ = read_features(&path, &["a".into(), "b".into()], None);
}

/// A cell: a number, a number-like string, empty, quoted, or text.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<f64>().prop_map(|v| v.to_string()),
        (-1e6f64..1e6).prop_map(|v| format!("{v:.3}")),
        Just(String::new()),
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("\"1,5\"".to_string()),
        "[a-z ]{0,6}",
        "[-+.eE0-9]{1,8}",
    ]
}

/// A table with a header of a, b, y in some order (or a missing or repeated column) and rows
/// of random width.
fn table() -> impl Strategy<Value = String> {
    let header = prop_oneof![
        Just("a,b,y"),
        Just("y,b,a"),
        Just("a,b"),
        Just("a,a,y"),
        Just("a,b,y,"),
        Just(""),
    ];
    let rows = prop::collection::vec(prop::collection::vec(cell(), 0..5), 0..12);
    (header, rows).prop_map(|(header, rows)| {
        let mut text = format!("{header}\n");
        for row in rows {
            text += &row.join(",");
            text.push('\n');
        }
        text
    })
}

/// A config: valid JSON of nnlab's shape with random values, or a mangled one.
fn config_text() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| format!("{v:?}")),
        Just("null".to_string()),
        Just("\"x\"".to_string()),
        Just("[]".to_string()),
        Just("1e400".to_string()),
    ];
    let name = prop_oneof![
        Just("\"adam\""),
        Just("\"sgd\""),
        Just("\"mse\""),
        Just("\"cross_entropy\""),
        Just("\"moons\""),
        Just("\"nope\""),
        Just("3"),
    ];
    (
        number.clone(),
        number.clone(),
        number.clone(),
        number,
        name.clone(),
        name.clone(),
        name,
    )
        .prop_map(|(epochs, lr, hidden, batch, dataset, optimizer, loss)| {
            format!(
                r#"{{"data": {{"dataset": {dataset}, "samples": {batch}}},
                    "model": {{"hidden": [{hidden}], "dropout": [{lr}]}},
                    "loss": {{"name": {loss}}},
                    "optimizer": {{"name": {optimizer}, "learning_rate": {lr}}},
                    "training": {{"epochs": {epochs}, "batch_size": {batch}}}}}"#
            )
        })
}

fn parse_config(text: &str) {
    if let Ok(config) = ExperimentConfig::from_json(text, Path::new("fuzz.json")) {
        let _ = config.validate();
    }
}

/// A real run directory, saved once, that the checkpoint cases damage.
fn saved_run(dir: &Path) -> std::path::PathBuf {
    let out = dir.join("run");
    crate::common::train_run(
        &out,
        &[
            "--dataset",
            "moons",
            "--samples",
            "50",
            "--hidden",
            "4",
            "--epochs",
            "2",
            "--validation",
            "0.2",
            "--quiet",
        ],
    );
    out
}

/// Loads a run every way nnlab does; whether everything a resume needs loaded.
fn load_run(dir: &Path) -> bool {
    let run = RunDir::new(dir);
    let device = Default::default();
    let Ok((config, info)) = run.load_meta() else {
        return false;
    };
    let chosen = run.load_chosen::<CpuInner>(&config, &info, false, &device);
    let last = run.load_chosen::<CpuInner>(&config, &info, true, &device);
    let scaler = run.load_scaler(&info);
    let resume = run.load_resume::<Cpu>(&config, &info, &device);
    let _ = run.load_summary();
    chosen.is_ok() && last.is_ok() && scaler.is_ok() && resume.is_ok()
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn csv_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let dir = tempfile::tempdir().unwrap();
        read_csv(dir.path(), &bytes);
    }

    #[test]
    fn csv_shaped_tables(text in table()) {
        let dir = tempfile::tempdir().unwrap();
        read_csv(dir.path(), text.as_bytes());
    }

    #[test]
    fn config_random_text(text in ".{0,200}") {
        parse_config(&text);
    }

    #[test]
    fn config_shaped_json(text in config_text()) {
        parse_config(&text);
    }

    /// A predict request's body, random JSON shaped like TensorFlow Serving's or not: rows
    /// of the run's width, or a refusal, never a panic.
    #[test]
    fn serve_request_random_json(body in json_value()) {
        let features = ["x1".to_string(), "x2".to_string()];
        if let Ok(rows) = decode_rows(&body, &features, 50) {
            prop_assert!(!rows.is_empty() && rows.len() % 2 == 0 && rows.len() <= 100);
            prop_assert!(rows.iter().all(|v| v.is_finite()));
        }
    }
}

/// Checkpoint files: each file of a real run replaced by random bytes, truncated, or with
/// bytes flipped.
#[test]
fn checkpoint_damaged_files() {
    let dir = tempfile::tempdir().unwrap();
    let original = saved_run(dir.path());
    let names = [
        "run.json",
        "config.json",
        "model.mpk",
        "best.mpk",
        "optimizer.mpk",
        "scaler.json",
        "metrics.csv",
        "summary.json",
    ];
    let strategy = (
        0..names.len(),
        0usize..3,
        prop::collection::vec(any::<u8>(), 0..256),
        any::<prop::sample::Index>(),
    );
    let (loaded, refused) = (Cell::new(0), Cell::new(0));
    let mut runner = proptest::test_runner::TestRunner::new(cases());
    runner
        .run(&strategy, |(file, how, bytes, at)| {
            let run = dir.path().join("damaged");
            let _ = std::fs::remove_dir_all(&run);
            std::fs::create_dir_all(&run).unwrap();
            for name in names {
                std::fs::copy(original.join(name), run.join(name)).unwrap();
            }
            let path = run.join(names[file]);
            let mut content = std::fs::read(&path).unwrap();
            match how {
                0 => content = bytes,
                1 => content.truncate(at.index(content.len() + 1)),
                _ => {
                    let len = content.len().max(1);
                    for (k, b) in bytes.iter().enumerate().take(8) {
                        let i = (at.index(len) + k * 31) % len;
                        if let Some(c) = content.get_mut(i) {
                            *c ^= b | 1;
                        }
                    }
                }
            }
            std::fs::write(&path, content).unwrap();
            let outcome = if load_run(&run) { &loaded } else { &refused };
            outcome.set(outcome.get() + 1);
            Ok(())
        })
        .unwrap();
    // Both outcomes occur: the cases reach the loaders, and damage is noticed.
    let (loaded, refused) = (loaded.get(), refused.get());
    assert!(
        loaded > 0 && refused > 0,
        "{loaded} loaded, {refused} refused"
    );
}

/// JSON values leaning towards predict requests: `instances` and `inputs` over the columns
/// `x1`, `x2` and a stranger, with numbers, strings, nulls and nesting.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    let leaf = prop_oneof![
        any::<f64>().prop_map(|v| json!(v)),
        (-5i64..5).prop_map(|v| json!(v)),
        Just(Value::Null),
        "[a-z]{0,3}".prop_map(Value::String),
        any::<bool>().prop_map(Value::Bool),
    ];
    let value = leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![Just("x1".to_string()), Just("x2".to_string()), "[a-z]{1,2}"],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    prop_oneof![
        value.clone().prop_map(|v| json!({ "instances": v })),
        value.clone().prop_map(|v| json!({ "inputs": v })),
        value,
    ]
}
