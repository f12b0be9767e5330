//! Learning-rate schedules and gradient clipping do what their formulas say.

use std::f64::consts::PI;

use nnlab::config::BatchSize;
use nnlab::data::synthetic;
use nnlab::optim::OptimizerName;
use nnlab::optim::schedule::{ClipBy, ClipConfig, ScheduleConfig, ScheduleName};
use nnlab::train::fit;

use crate::common;
use common::Cpu;

fn rates(schedule: ScheduleConfig) -> Vec<f64> {
    schedule.learning_rates(0.5, 8).unwrap()
}

fn assert_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len());
    for (e, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() < 1e-12,
            "epoch {}: {g} != {w} ({got:?})",
            e + 1
        );
    }
}

#[test]
fn each_schedule_follows_its_formula() {
    let epochs: Vec<f64> = (1..=8).map(f64::from).collect();
    assert_close(&rates(ScheduleConfig::new()), &[0.5; 8]);
    let step = ScheduleConfig::new()
        .with_name(ScheduleName::Step)
        .with_step_size(3)
        .with_gamma(0.5);
    let want: Vec<f64> = epochs
        .iter()
        .map(|e| 0.5 * 0.5f64.powi(((e - 1.0) / 3.0).floor() as i32))
        .collect();
    assert_close(&rates(step), &want);
    let exp = ScheduleConfig::new()
        .with_name(ScheduleName::Exponential)
        .with_gamma(0.9);
    let want: Vec<f64> = epochs.iter().map(|e| 0.5 * 0.9f64.powf(e - 1.0)).collect();
    assert_close(&rates(exp), &want);
    let cosine = ScheduleConfig::new()
        .with_name(ScheduleName::Cosine)
        .with_min_lr(0.1);
    let want: Vec<f64> = epochs
        .iter()
        .map(|e| 0.1 + 0.4 * (1.0 + (PI * (e - 1.0) / 7.0).cos()) / 2.0)
        .collect();
    assert_close(&rates(cosine), &want);
    assert!((want[7] - 0.1).abs() < 1e-12);
}

#[test]
fn cosine_holds_min_lr_after_its_horizon() {
    // Burn's scheduler restarts from the full rate after its horizon; docs/guide/mathematics.md promises a
    // fall to min_lr, and a run longer than the horizon stays there.
    let cosine = ScheduleConfig::new()
        .with_name(ScheduleName::Cosine)
        .with_min_lr(0.1)
        .with_cosine_epochs(4);
    let got = rates(cosine);
    let want: Vec<f64> = (1..=4)
        .map(|e| 0.1 + 0.4 * (1.0 + (PI * f64::from(e - 1) / 3.0).cos()) / 2.0)
        .chain([0.1; 4])
        .collect();
    assert_close(&got, &want);
}

#[test]
fn rates_are_drawn_one_epoch_at_a_time() {
    // A run of 10^11 epochs must not allocate a rate per epoch before it starts.
    let schedule = ScheduleConfig::new()
        .with_name(ScheduleName::Cosine)
        .with_warmup_epochs(2);
    let mut rates = schedule.rates(0.5, 100_000_000_000).unwrap();
    assert_eq!(rates.next(), Some(0.25));
    assert_eq!(rates.next(), Some(0.5));
}

#[test]
fn warm_up_ramps_linearly_into_the_schedule() {
    let got = rates(ScheduleConfig::new().with_warmup_epochs(4));
    assert_close(&got, &[0.125, 0.25, 0.375, 0.5, 0.5, 0.5, 0.5, 0.5]);
}

#[test]
fn training_records_the_rate_of_each_epoch() {
    let mut config = common::textbook(OptimizerName::Sgd, 0.1, 6, BatchSize::Rows(32));
    config.schedule = ScheduleConfig::new()
        .with_name(ScheduleName::Step)
        .with_step_size(2)
        .with_gamma(0.1);
    let trained = fit::<Cpu>(
        &config,
        &synthetic::linear(),
        &Default::default(),
        None,
        false,
    )
    .unwrap();
    let used: Vec<f64> = trained.history.iter().map(|r| r.learning_rate).collect();
    assert_close(&used, &[0.1, 0.1, 0.01, 0.01, 0.001, 0.001]);
}

#[test]
fn bad_schedules_name_the_field() {
    let mut config = common::textbook(OptimizerName::Sgd, 0.1, 6, BatchSize::Full);
    config.schedule = ScheduleConfig::new()
        .with_name(ScheduleName::Exponential)
        .with_gamma(1.5);
    assert!(
        config
            .validate()
            .unwrap_err()
            .to_string()
            .contains("schedule.gamma")
    );
    config.schedule = ScheduleConfig::new()
        .with_name(ScheduleName::Cosine)
        .with_min_lr(0.2);
    assert!(
        config
            .validate()
            .unwrap_err()
            .to_string()
            .contains("schedule.min_lr")
    );
}

/// One full-batch gradient-descent step with a huge learning rate and clipping: how far each
/// parameter tensor moved, per entry and in L2 norm.
fn one_clipped_step(clip: ClipConfig) -> (f64, f64) {
    let mut config = common::textbook(OptimizerName::Gd, 100.0, 1, BatchSize::Full);
    config.optimizer.clip = clip;
    config.training.shuffle = false;
    let data = synthetic::linear();
    let device = Default::default();
    let before = common::parameters(&config.model.init::<Cpu>(config.training.seed, &device));
    let after = common::parameters(
        &fit::<Cpu>(&config, &data, &device, None, false)
            .unwrap()
            .model,
    );
    let delta: Vec<f64> = after
        .iter()
        .zip(&before)
        .map(|(a, b)| (a - b) / 100.0)
        .collect();
    // Weight is one entry, bias the other: each is its own tensor.
    let entry = delta.iter().fold(0.0f64, |m, d| m.max(d.abs()));
    (entry, delta[0].abs().max(delta[1].abs()))
}

#[test]
fn clipping_bounds_the_step() {
    let (unclipped, _) = one_clipped_step(ClipConfig::new());
    assert!(
        unclipped > 1.0,
        "the unclipped gradient is large: {unclipped}"
    );
    let (by_value, _) = one_clipped_step(
        ClipConfig::new()
            .with_by(ClipBy::Value)
            .with_threshold(0.25),
    );
    assert!((by_value - 0.25).abs() < 1e-6, "{by_value}");
    let (_, by_norm) =
        one_clipped_step(ClipConfig::new().with_by(ClipBy::Norm).with_threshold(0.5));
    assert!(by_norm <= 0.5 + 1e-6 && by_norm > 0.4, "{by_norm}");
}
