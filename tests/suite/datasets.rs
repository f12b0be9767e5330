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
