//! Every optimizer trains the textbook problem to within 1% of the least-squares MSE.

use nnlab::config::BatchSize;
use nnlab::data::synthetic;
use nnlab::optim::OptimizerName;
use nnlab::train::fit;

use crate::common;
use common::Cpu;

fn reaches_least_squares(name: OptimizerName, lr: f64, epochs: usize, batch: BatchSize) {
    let config = common::textbook(name, lr, epochs, batch);
    let data = synthetic::linear();
    let device = Default::default();
    let trained = fit::<Cpu>(&config, &data, &device, None, false).unwrap();
    assert_eq!(trained.stop, nnlab::train::Stop::Completed, "{name:?}");
    let mse = common::mse(&trained.model, &data, &device);
    let (_, _, best) = common::least_squares();
    let gap = mse / best - 1.0;
    assert!(
        gap < 0.01,
        "{name:?}: MSE {mse} is {:.3}% above the least-squares MSE {best}",
        100.0 * gap
    );
}

#[test]
fn gd_full_batch() {
    reaches_least_squares(OptimizerName::Gd, 0.5, 500, BatchSize::Full);
}

#[test]
fn sgd() {
    reaches_least_squares(OptimizerName::Sgd, 0.05, 300, BatchSize::Rows(32));
}

#[test]
fn momentum() {
    reaches_least_squares(OptimizerName::Momentum, 0.02, 300, BatchSize::Rows(32));
}

#[test]
fn adagrad() {
    reaches_least_squares(OptimizerName::Adagrad, 0.5, 300, BatchSize::Rows(32));
}

#[test]
fn rmsprop() {
    reaches_least_squares(OptimizerName::Rmsprop, 0.002, 300, BatchSize::Rows(32));
}

#[test]
fn adam() {
    reaches_least_squares(OptimizerName::Adam, 0.05, 300, BatchSize::Rows(32));
}

#[test]
fn adamw() {
    reaches_least_squares(OptimizerName::Adamw, 0.05, 300, BatchSize::Rows(32));
}
