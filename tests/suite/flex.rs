//! Burn's flex CPU backend (`--features flex`): it trains to ndarray's weights, and a run saved
//! on it predicts the same through the binary on ndarray.

#![cfg(all(feature = "flex", feature = "ndarray"))]

use nnlab::backend::Flex;
use nnlab::config::BatchSize;
use nnlab::optim::OptimizerName;
use nnlab::train::fit;

use crate::common;
use common::Cpu;

#[test]
fn flex_and_ndarray_train_to_the_same_weights() {
    for config in [
        common::textbook(OptimizerName::Sgd, 0.01, 50, BatchSize::Rows(32)),
        common::moons(3),
    ] {
        let data = config.data.load(config.task()).unwrap();
        let on_flex = fit::<Flex>(&config, &data, &Default::default(), None, false).unwrap();
        let on_cpu = fit::<Cpu>(&config, &data, &Default::default(), None, false).unwrap();
        let diff = common::max_abs_diff(
            &common::parameters(&on_flex.model),
            &common::parameters(&on_cpu.model),
        );
        assert!(
            diff <= 1e-4,
            "weights differ by {diff} ({:?})",
            config.loss.name
        );
        assert_eq!(on_flex.steps, on_cpu.steps);
    }
}

#[test]
fn a_run_trained_on_flex_predicts_on_ndarray() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    crate::common::train_run(
        &out,
        &[
            "--dataset",
            "moons",
            "--epochs",
            "5",
            "--quiet",
            "--backend",
            "flex",
        ],
    );
    let input = dir.path().join("points.csv");
    std::fs::write(&input, "x1,x2\n0.0,1.0\n1.0,-0.5\n").unwrap();
    let rows: Vec<Vec<Vec<String>>> = ["flex", "ndarray"]
        .iter()
        .map(|backend| {
            let mut command = common::predict_command(&out, &input);
            command.args(["--backend", backend]);
            common::stdout(&mut command)
                .lines()
                .skip(1)
                .map(|l| l.split(',').map(String::from).collect())
                .collect()
        })
        .collect();
    assert_eq!(rows[0].len(), 2);
    for (flex, cpu) in rows[0].iter().zip(&rows[1]) {
        assert_eq!(flex[0], cpu[0], "the predicted classes differ");
        for (a, b) in flex[1..].iter().zip(&cpu[1..]) {
            let (a, b): (f64, f64) = (a.parse().unwrap(), b.parse().unwrap());
            assert!((a - b).abs() <= 1e-6, "probabilities {a} and {b} differ");
        }
    }
}
