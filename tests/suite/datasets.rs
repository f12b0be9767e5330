//! The built-in datasets are what `nnlab datasets` says they are.

use assert_cmd::Command;
use nnlab::data::{Builtin, TargetValues};
use nnlab::loss::Task;

#[test]
fn every_builtin_has_the_listed_shape() {
    for builtin in Builtin::ALL {
        let about = builtin.about();
        let data = builtin.load(200, 0.1, 4, 7);
        assert_eq!(data.rows(), about.rows.unwrap_or(200), "{}", about.name);
        assert_eq!(data.width(), about.features, "{}", about.name);
        assert_eq!(data.task(), about.task, "{}", about.name);
        assert!(
            data.features.iter().all(|v| v.is_finite()),
            "{}",
            about.name
        );
        if let TargetValues::Classes { indices, labels } = &data.targets {
            assert_eq!(labels.len(), about.classes.unwrap_or(4), "{}", about.name);
            for class in 0..labels.len() {
                assert!(
                    indices.contains(&class),
                    "{}: class {class} is empty",
                    about.name
                );
            }
        } else {
            assert_eq!(about.task, Task::Regression);
        }
        // Same seed, same data; another seed, other data (for the generated ones).
        assert_eq!(data, builtin.load(200, 0.1, 4, 7));
        if builtin.is_generated() {
            assert_ne!(data, builtin.load(200, 0.1, 4, 8), "{}", about.name);
        }
    }
}

#[test]
fn noiseless_shapes_follow_their_definitions() {
    let xor = Builtin::Xor.load(300, 0.0, 2, 1);
    let TargetValues::Classes { indices, .. } = &xor.targets else {
        unreachable!()
    };
    for (p, &c) in xor.features.chunks(2).zip(indices) {
        assert_eq!(c, usize::from(p[0] * p[1] > 0.0));
    }
    let circles = Builtin::Circles.load(300, 0.0, 2, 1);
    let TargetValues::Classes { indices, .. } = &circles.targets else {
        unreachable!()
    };
    for (p, &c) in circles.features.chunks(2).zip(indices) {
        let r = (p[0] * p[0] + p[1] * p[1]).sqrt();
        assert!((r - [1.0, 0.5][c]).abs() < 1e-12);
    }
    let sine = Builtin::Sine.load(100, 0.0, 2, 1);
    let TargetValues::Values(y) = &sine.targets else {
        unreachable!()
    };
    for (x, y) in sine.features.iter().zip(y) {
        assert!((y - (2.0 * std::f64::consts::PI * x).sin()).abs() < 1e-12);
    }
}

#[test]
fn the_datasets_command_lists_them_all() {
    let output = Command::cargo_bin("nnlab")
        .unwrap()
        .arg("datasets")
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    for builtin in Builtin::ALL {
        let line = text
            .lines()
            .find(|l| l.starts_with(builtin.as_str()))
            .unwrap_or_else(|| panic!("{} not listed:\n{text}", builtin.as_str()));
        assert!(line.contains(&builtin.task().to_string()), "{line}");
    }
    assert!(text.contains("linfa-datasets"), "{text}");
}

/// The cells of a CSV file: its header and rows.
fn read_csv(path: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

#[test]
fn a_dataset_written_as_csv_holds_the_very_rows_training_reads() {
    let dir = tempfile::tempdir().unwrap();
    let tables = Builtin::ALL
        .iter()
        .filter(|b| b.series(40, 12, 0.1, 3).is_none() && **b != Builtin::Reviews);
    for &builtin in tables {
        let path = dir.path().join(format!("{}.csv", builtin.as_str()));
        let args = ["--samples", "40", "--classes", "4", "--data-seed", "3"];
        Command::cargo_bin("nnlab")
            .unwrap()
            .args(["datasets", builtin.as_str(), "--out"])
            .arg(&path)
            .args(args)
            .assert()
            .success();
        let data = builtin.load(40, 0.1, 4, 3);
        let (header, rows) = read_csv(&path);
        let name = builtin.as_str();
        assert_eq!(header.last(), Some(&data.target_name), "{name}");
        assert_eq!(header[..header.len() - 1], data.feature_names, "{name}");
        assert_eq!(rows.len(), data.rows(), "{name}");
        for (i, row) in rows.iter().enumerate() {
            let (cells, target) = row.split_at(row.len() - 1);
            let values: Vec<f64> = cells.iter().map(|c| c.parse().unwrap()).collect();
            assert_eq!(
                values,
                data.features[i * data.width()..][..data.width()],
                "{name}"
            );
            let expected = match &data.targets {
                TargetValues::Values(v) => v[i].to_string(),
                TargetValues::Classes { indices, labels } => labels[indices[i]].clone(),
            };
            assert_eq!(target[0], expected, "{name} row {i}");
        }
    }
}

#[test]
fn airline_is_written_with_its_months_and_reviews_with_their_texts() {
    let dir = tempfile::tempdir().unwrap();
    let airline = dir.path().join("airline.csv");
    let nnlab = || Command::cargo_bin("nnlab").unwrap();
    nnlab()
        .args(["datasets", "airline", "--out"])
        .arg(&airline)
        .assert()
        .success();
    let (header, rows) = read_csv(&airline);
    assert_eq!(header, ["month", "passengers"]);
    assert_eq!(rows.len(), 144);
    assert_eq!(
        (rows[0][0].as_str(), rows[0][1].as_str()),
        ("1949-01", "112")
    );
    assert_eq!(
        (rows[143][0].as_str(), rows[143][1].as_str()),
        ("1960-12", "432")
    );
    // The months propose the season, as a file of the reader's own would.
    let run = dir.path().join("run");
    let out = nnlab()
        .args(["train", "--data"])
        .arg(&airline)
        .args(["--series", "passengers", "--epochs", "2", "--out"])
        .arg(&run)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("from the monthly dates in `month`"), "{text}");
    let reviews = nnlab()
        .args(["datasets", "reviews", "--samples", "5"])
        .output()
        .unwrap();
    let text = String::from_utf8(reviews.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("text,sentiment"));
    assert_eq!(lines.count(), 5, "{text}");
    // Without a name there is nothing to write to.
    nnlab()
        .args(["datasets", "--out", "x.csv"])
        .assert()
        .code(2);
}
