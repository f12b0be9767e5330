//! Learning-rate schedules: the rate α_e used in epoch e = 1, 2, …, from Burn's schedulers,
//! stepped once per epoch, with an optional linear warm-up.
//!
//! - `constant`: α_e = α.
//! - `step`: α_e = α · γ^⌊(e − 1) / step_size⌋.
//! - `exponential`: α_e = α · γ^(e − 1).
//! - `cosine`: α_e = α_min + (α − α_min)(1 + cos(π (e − 1) / (H − 1))) / 2 over a horizon of H
//!   epochs (`cosine_epochs`, or all the training's epochs when 0), reaching α_min at e = H and
//!   holding it after that (Burn's scheduler would restart from α; nnlab does not).
//! - warm-up over W epochs multiplies α_e by e / W for e < W.
//!
//! Rates depend only on the epoch number, so a resumed run uses the rates an uninterrupted one
//! would — for `cosine` as long as the horizon is the same, so set `cosine_epochs` when a run
//! will be resumed past its first `epochs`.

use burn::config::Config;
use burn::optim::lr_scheduler::LrScheduler;
use burn::optim::lr_scheduler::cosine::{
    CosineAnnealingLrScheduler, CosineAnnealingLrSchedulerConfig,
};
use burn::optim::lr_scheduler::exponential::{
    ExponentialLrScheduler, ExponentialLrSchedulerConfig,
};
use burn::optim::lr_scheduler::step::{StepLrScheduler, StepLrSchedulerConfig};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A schedule's name, as written in configs and on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum ScheduleName {
    Constant,
    Step,
    Exponential,
    Cosine,
}

/// How the learning rate changes from epoch to epoch.
#[derive(Config, Debug, PartialEq)]
pub struct ScheduleConfig {
    /// `constant`, `step`, `exponential` or `cosine`.
    #[config(default = "ScheduleName::Constant")]
    pub name: ScheduleName,
    /// `step`: epochs between two decays.
    #[config(default = 10)]
    pub step_size: usize,
    /// `step` and `exponential`: the factor γ of each decay.
    #[config(default = 0.1)]
    pub gamma: f64,
    /// `cosine`: the rate at the end of the horizon.
    #[config(default = 0.0)]
    pub min_lr: f64,
    /// `cosine`: the horizon in epochs; 0 for the training's epochs.
    #[config(default = 0)]
    pub cosine_epochs: usize,
    /// Epochs of linear warm-up; 0 for none.
    #[config(default = 0)]
    pub warmup_epochs: usize,
}

fn burn_error(message: String) -> Error {
    Error::config(
        "schedule",
        format!("is rejected by Burn's scheduler: {message}"),
    )
}

/// A Burn scheduler, stepped once per epoch.
enum Scheduler {
    Constant(f64),
    Step(StepLrScheduler),
    Exponential(ExponentialLrScheduler),
    /// Burn's cosine scheduler restarts after its horizon; nnlab holds `min_lr` from there.
    Cosine {
        scheduler: CosineAnnealingLrScheduler,
        horizon: usize,
        min_lr: f64,
    },
}

/// The rates of epochs 1, 2, … one at a time: nothing is allocated in proportion to the
/// epochs asked for.
pub struct Rates {
    scheduler: Scheduler,
    warmup: usize,
    /// The epoch whose rate comes next, from 1.
    epoch: usize,
}

impl Iterator for Rates {
    type Item = f64;

    fn next(&mut self) -> Option<f64> {
        let epoch = self.epoch;
        self.epoch += 1;
        let rate = match &mut self.scheduler {
            Scheduler::Constant(lr) => *lr,
            Scheduler::Step(s) => s.step(),
            Scheduler::Exponential(s) => s.step(),
            Scheduler::Cosine {
                horizon, min_lr, ..
            } if epoch > *horizon => *min_lr,
            Scheduler::Cosine { scheduler, .. } => scheduler.step(),
        };
        Some(if epoch < self.warmup {
            rate * epoch as f64 / self.warmup as f64
        } else {
            rate
        })
    }
}

impl ScheduleConfig {
    /// The rate of each epoch from 1 on, for base rate `lr` and a run of `epochs` epochs (the
    /// cosine horizon when `cosine_epochs` is 0).
    pub fn rates(&self, lr: f64, epochs: usize) -> Result<Rates> {
        let scheduler = match self.name {
            ScheduleName::Constant => Scheduler::Constant(lr),
            ScheduleName::Step => Scheduler::Step(
                StepLrSchedulerConfig::new(lr, self.step_size)
                    .with_gamma(self.gamma)
                    .init()
                    .map_err(burn_error)?,
            ),
            ScheduleName::Exponential => Scheduler::Exponential(
                ExponentialLrSchedulerConfig::new(lr, self.gamma)
                    .init()
                    .map_err(burn_error)?,
            ),
            ScheduleName::Cosine => {
                let horizon = if self.cosine_epochs == 0 {
                    epochs
                } else {
                    self.cosine_epochs
                };
                Scheduler::Cosine {
                    scheduler: CosineAnnealingLrSchedulerConfig::new(
                        lr,
                        horizon.saturating_sub(1).max(1),
                    )
                    .with_min_lr(self.min_lr)
                    .init()
                    .map_err(burn_error)?,
                    horizon,
                    min_lr: self.min_lr,
                }
            }
        };
        Ok(Rates {
            scheduler,
            warmup: self.warmup_epochs,
            epoch: 1,
        })
    }

    /// The rates of epochs `1..=epochs` as a list, for tables and tests.
    pub fn learning_rates(&self, lr: f64, epochs: usize) -> Result<Vec<f64>> {
        Ok(self.rates(lr, epochs)?.take(epochs).collect())
    }

    /// Checks the fields for a base rate `lr` (Burn's exponential and cosine schedulers want
    /// it in (0, 1]).
    pub fn validate(&self, lr: f64) -> Result<()> {
        if self.name == ScheduleName::Step && self.step_size == 0 {
            return Err(Error::config("schedule.step_size", "must be at least 1"));
        }
        let unit = (0.0..=1.0).contains(&self.gamma) && self.gamma > 0.0;
        if matches!(self.name, ScheduleName::Step | ScheduleName::Exponential) && !unit {
            return Err(Error::config(
                "schedule.gamma",
                format!("must be in (0, 1], got {}", self.gamma),
            ));
        }
        if self.name == ScheduleName::Cosine && !(self.min_lr >= 0.0 && self.min_lr < lr) {
            return Err(Error::config(
                "schedule.min_lr",
                format!("must be in [0, learning rate {lr}), got {}", self.min_lr),
            ));
        }
        self.rates(lr, 1).map(|_| ())
    }
}

/// How gradients are clipped before each step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum ClipBy {
    /// No clipping.
    None,
    /// Scale each parameter tensor's gradient g to at most `threshold` in L2 norm.
    Norm,
    /// Clamp every gradient entry to [−threshold, threshold].
    Value,
}

/// Gradient clipping, applied by Burn's optimizer to each parameter tensor's gradient.
#[derive(Config, Debug, PartialEq)]
pub struct ClipConfig {
    #[config(default = "ClipBy::None")]
    pub by: ClipBy,
    #[config(default = 1.0)]
    pub threshold: f64,
}

impl ClipConfig {
    /// Checks the threshold when clipping is on.
    pub fn validate(&self) -> Result<()> {
        if self.by != ClipBy::None && !(self.threshold.is_finite() && self.threshold > 0.0) {
            return Err(Error::config(
                "optimizer.clip.threshold",
                format!("must be positive, got {}", self.threshold),
            ));
        }
        Ok(())
    }

    /// Burn's clipping setting.
    pub fn burn(&self) -> Option<burn::optim::grad_clipping::GradientClippingConfig> {
        use burn::optim::grad_clipping::GradientClippingConfig as Clip;
        match self.by {
            ClipBy::None => None,
            ClipBy::Norm => Some(Clip::Norm(self.threshold as f32)),
            ClipBy::Value => Some(Clip::Value(self.threshold as f32)),
        }
    }
}
