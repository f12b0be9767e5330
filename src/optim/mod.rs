//! Optimizer choices, each mapped onto Burn's own optimizer with Burn's defaults.
//!
//! The rules, as Burn 0.21 computes them, with learning rate α, step t = 1, 2, … and
//! g = ∇J(w) over the current batch (the whole training set when the batch size is `full`,
//! which makes it batch gradient descent). Where a weight decay λ is set (L2 penalty), it first
//! replaces the gradient: g ← g + λw.
//! - `gd`: w ← w − α g.
//! - `sgd`: w ← w − α g, or with momentum μ > 0: v₁ = g, vₜ = μ vₜ₋₁ + (1 − dampening) g,
//!   w ← w − α v (Nesterov: w ← w − α (g + μ v)). Burn starts the velocity at g itself, not at
//!   (1 − dampening) g.
//! - `momentum`: `sgd` with Burn's momentum defaults, μ = 0.9 and dampening 0.1.
//! - `adagrad`: G ← G + g², w ← w − αₜ g / (√G + ε), with αₜ = α / (1 + (t − 1)·lr_decay).
//! - `rmsprop`: s ← ρ s + (1 − ρ) g² (s₀ = 0); centered: ḡ ← ρ ḡ + (1 − ρ) g and s − ḡ² in
//!   place of s; u = g / (√s + ε); with momentum μ > 0: b₁ = u, bₜ = μ bₜ₋₁ + u, u = b;
//!   w ← w − α u. Burn's default μ is 0.9 (PyTorch's is 0).
//! - `adam`: m ← β₁ m + (1 − β₁) g, v ← β₂ v + (1 − β₂) g² (m₀ = v₀ = 0),
//!   w ← w − α m̂ / (√v̂ + ε) with m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ); Burn computes it as
//!   m·(√(1 − β₂ᵗ) / (1 − β₁ᵗ)) / (√v + ε√(1 − β₂ᵗ)), the same value. AMSGrad uses the running
//!   maximum of v.
//! - `adamw`: the Adam step without the L2 term, plus decoupled decay:
//!   w ← w (1 − α λ) − α m̂ / (√v̂ + ε).
//!
//! Burn stores every hyperparameter but α, dampening, μ of `sgd` and `lr_decay` as `f32`
//! (0.999 becomes 0.99900001…) and forms 1 − β and the bias corrections 1 − βᵗ in `f32`;
//! `tests/update_rules.rs` pins these rules against an `f64` reference, step by step.

pub mod schedule;

use burn::config::Config;
use burn::module::AutodiffModule;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{
    AdaGradConfig, AdamConfig, AdamWConfig, Optimizer, RmsPropConfig, SgdConfig, SimpleOptimizer,
};
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::optim::schedule::ClipConfig;

/// The optimizer's name, as written in configs and on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum OptimizerName {
    Gd,
    Sgd,
    Momentum,
    Adagrad,
    Rmsprop,
    Adam,
    Adamw,
}

impl OptimizerName {
    /// The textbook's six, the optimizers `nnlab compare` races by default.
    pub const CLASSIC: [OptimizerName; 6] = [
        OptimizerName::Gd,
        OptimizerName::Sgd,
        OptimizerName::Momentum,
        OptimizerName::Adagrad,
        OptimizerName::Rmsprop,
        OptimizerName::Adam,
    ];

    /// The name as written in configs.
    pub fn as_str(self) -> &'static str {
        match self {
            OptimizerName::Gd => "gd",
            OptimizerName::Sgd => "sgd",
            OptimizerName::Momentum => "momentum",
            OptimizerName::Adagrad => "adagrad",
            OptimizerName::Rmsprop => "rmsprop",
            OptimizerName::Adam => "adam",
            OptimizerName::Adamw => "adamw",
        }
    }
}

/// Hyperparameters of `sgd`. Momentum 0 turns momentum off.
#[derive(Config, Debug, PartialEq)]
pub struct SgdParams {
    /// μ; 0 for none.
    #[config(default = 0.0)]
    pub momentum: f64,
    /// Fraction of the gradient held back from the velocity.
    #[config(default = 0.0)]
    pub dampening: f64,
    /// Nesterov's look-ahead form of momentum.
    #[config(default = false)]
    pub nesterov: bool,
    /// L2 penalty λ added to the gradient as λw; 0 for none.
    #[config(default = 0.0)]
    pub weight_decay: f64,
}

/// Hyperparameters of `adagrad` (Burn's defaults).
#[derive(Config, Debug, PartialEq)]
pub struct AdaGradParams {
    #[config(default = 0.0)]
    pub lr_decay: f64,
    #[config(default = 1e-5)]
    pub epsilon: f64,
    #[config(default = 0.0)]
    pub weight_decay: f64,
}

/// Hyperparameters of `rmsprop` (Burn's defaults).
#[derive(Config, Debug, PartialEq)]
pub struct RmsPropParams {
    /// ρ, the smoothing constant of the squared-gradient average.
    #[config(default = 0.99)]
    pub alpha: f64,
    #[config(default = 0.9)]
    pub momentum: f64,
    #[config(default = 1e-5)]
    pub epsilon: f64,
    /// Divide by an estimate of the gradient's variance instead of its second moment.
    #[config(default = false)]
    pub centered: bool,
    #[config(default = 0.0)]
    pub weight_decay: f64,
}

/// Hyperparameters of `adam` and `adamw` (Burn's defaults; `adamw` decays by 1e-4).
#[derive(Config, Debug, PartialEq)]
pub struct AdamParams {
    #[config(default = 0.9)]
    pub beta_1: f64,
    #[config(default = 0.999)]
    pub beta_2: f64,
    #[config(default = 1e-5)]
    pub epsilon: f64,
    #[config(default = false)]
    pub amsgrad: bool,
    /// L2 penalty (`adam`) or decoupled decay rate (`adamw`).
    #[config(default = 0.0)]
    pub weight_decay: f64,
}

/// Which optimizer to use and its hyperparameters. Only the block named by `name` is read.
#[derive(Config, Debug)]
pub struct OptimizerConfig {
    /// `gd`, `sgd`, `momentum`, `adagrad`, `rmsprop`, `adam` or `adamw`.
    #[config(default = "OptimizerName::Adam")]
    pub name: OptimizerName,
    /// α, the step size.
    #[config(default = 0.001)]
    pub learning_rate: f64,
    #[config(default = "SgdParams::new()")]
    pub sgd: SgdParams,
    /// Burn's momentum settings for `momentum`.
    #[config(default = "MomentumConfig::new()")]
    pub momentum: MomentumConfig,
    #[config(default = "AdaGradParams::new()")]
    pub adagrad: AdaGradParams,
    #[config(default = "RmsPropParams::new()")]
    pub rmsprop: RmsPropParams,
    #[config(default = "AdamParams::new()")]
    pub adam: AdamParams,
    #[config(default = "AdamParams::new().with_weight_decay(1e-4)")]
    pub adamw: AdamParams,
    /// Gradient clipping before each step (by norm or by value); off by default.
    #[config(default = "ClipConfig::new()")]
    pub clip: ClipConfig,
}

/// A computation that needs a concrete optimizer type; [`OptimizerConfig::dispatch`] picks it.
pub trait WithOptimizer<B: AutodiffBackend, M: AutodiffModule<B>> {
    type Output;
    fn run<O: Optimizer<M, B>>(self, optimizer: O) -> Self::Output;
}

fn decay(penalty: f64) -> Option<WeightDecayConfig> {
    (penalty > 0.0).then(|| WeightDecayConfig::new(penalty as f32))
}

fn check(field: &str, value: f64, ok: bool, range: &str) -> Result<()> {
    if value.is_finite() && ok {
        Ok(())
    } else {
        Err(Error::config(
            format!("optimizer.{field}"),
            format!("must be {range}, got {value}"),
        ))
    }
}

fn unit(field: &str, value: f64) -> Result<()> {
    check(field, value, (0.0..1.0).contains(&value), "in [0, 1)")
}

fn positive(field: &str, value: f64) -> Result<()> {
    check(field, value, value > 0.0, "positive")
}

fn non_negative(field: &str, value: f64) -> Result<()> {
    check(field, value, value >= 0.0, "zero or positive")
}

impl OptimizerConfig {
    /// How many tensors of state the chosen optimizer keeps per parameter tensor (velocities,
    /// moments), for memory estimates.
    pub fn state_tensors(&self) -> usize {
        match self.name {
            OptimizerName::Gd => 0,
            OptimizerName::Sgd => usize::from(self.sgd.momentum > 0.0),
            OptimizerName::Momentum | OptimizerName::Adagrad => 1,
            OptimizerName::Rmsprop => {
                1 + usize::from(self.rmsprop.centered) + usize::from(self.rmsprop.momentum > 0.0)
            }
            OptimizerName::Adam => 2 + usize::from(self.adam.amsgrad),
            OptimizerName::Adamw => 2 + usize::from(self.adamw.amsgrad),
        }
    }

    /// Sets the weight decay λ of the chosen optimizer (the L2 term `g ← g + λw`, or AdamW's
    /// decoupled decay). `gd` and `momentum` have none in Burn.
    pub fn set_weight_decay(&mut self, lambda: f64) -> Result<()> {
        let slot = match self.name {
            OptimizerName::Sgd => &mut self.sgd.weight_decay,
            OptimizerName::Adagrad => &mut self.adagrad.weight_decay,
            OptimizerName::Rmsprop => &mut self.rmsprop.weight_decay,
            OptimizerName::Adam => &mut self.adam.weight_decay,
            OptimizerName::Adamw => &mut self.adamw.weight_decay,
            OptimizerName::Gd | OptimizerName::Momentum => {
                return Err(Error::Usage(format!(
                    "optimizer `{}` has no weight decay; use --l2 (a penalty in the loss) or another optimizer",
                    self.name.as_str()
                )));
            }
        };
        *slot = lambda;
        Ok(())
    }

    /// Checks the learning rate and the hyperparameters of the chosen optimizer.
    pub fn validate(&self) -> Result<()> {
        positive("learning_rate", self.learning_rate)?;
        self.clip.validate()?;
        match self.name {
            OptimizerName::Gd => {}
            OptimizerName::Sgd => {
                unit("sgd.momentum", self.sgd.momentum)?;
                unit("sgd.dampening", self.sgd.dampening)?;
                non_negative("sgd.weight_decay", self.sgd.weight_decay)?;
                if self.sgd.nesterov && self.sgd.momentum == 0.0 {
                    return Err(Error::config(
                        "optimizer.sgd.nesterov",
                        "needs optimizer.sgd.momentum above 0",
                    ));
                }
            }
            OptimizerName::Momentum => {
                unit("momentum.momentum", self.momentum.momentum)?;
                unit("momentum.dampening", self.momentum.dampening)?;
            }
            OptimizerName::Adagrad => {
                non_negative("adagrad.lr_decay", self.adagrad.lr_decay)?;
                positive("adagrad.epsilon", self.adagrad.epsilon)?;
                non_negative("adagrad.weight_decay", self.adagrad.weight_decay)?;
            }
            OptimizerName::Rmsprop => {
                unit("rmsprop.alpha", self.rmsprop.alpha)?;
                unit("rmsprop.momentum", self.rmsprop.momentum)?;
                positive("rmsprop.epsilon", self.rmsprop.epsilon)?;
                non_negative("rmsprop.weight_decay", self.rmsprop.weight_decay)?;
            }
            OptimizerName::Adam | OptimizerName::Adamw => {
                let (key, p) = if self.name == OptimizerName::Adam {
                    ("adam", &self.adam)
                } else {
                    ("adamw", &self.adamw)
                };
                unit(&format!("{key}.beta_1"), p.beta_1)?;
                unit(&format!("{key}.beta_2"), p.beta_2)?;
                positive(&format!("{key}.epsilon"), p.epsilon)?;
                non_negative(&format!("{key}.weight_decay"), p.weight_decay)?;
            }
        }
        Ok(())
    }

    /// Adds the configured gradient clipping to a Burn optimizer.
    fn clipped<O, B, M>(&self, optim: OptimizerAdaptor<O, M, B>) -> OptimizerAdaptor<O, M, B>
    where
        B: AutodiffBackend,
        M: AutodiffModule<B>,
        O: SimpleOptimizer<B::InnerBackend>,
    {
        match self.clip.burn() {
            Some(clip) => optim.with_grad_clipping(clip.init()),
            None => optim,
        }
    }

    /// Builds the chosen Burn optimizer and hands it to `job`: the one place where the
    /// optimizer name becomes a type, so the training loop exists once.
    pub fn dispatch<B, M, J>(&self, job: J) -> J::Output
    where
        B: AutodiffBackend,
        M: AutodiffModule<B>,
        J: WithOptimizer<B, M>,
    {
        match self.name {
            OptimizerName::Gd => job.run(self.clipped(SgdConfig::new().init::<B, M>())),
            OptimizerName::Sgd => {
                let p = &self.sgd;
                let momentum = (p.momentum > 0.0).then_some(MomentumConfig {
                    momentum: p.momentum,
                    dampening: p.dampening,
                    nesterov: p.nesterov,
                });
                job.run(
                    self.clipped(
                        SgdConfig::new()
                            .with_momentum(momentum)
                            .with_weight_decay(decay(p.weight_decay))
                            .init::<B, M>(),
                    ),
                )
            }
            OptimizerName::Momentum => job.run(
                self.clipped(
                    SgdConfig::new()
                        .with_momentum(Some(self.momentum.clone()))
                        .init::<B, M>(),
                ),
            ),
            OptimizerName::Adagrad => {
                let p = &self.adagrad;
                job.run(
                    self.clipped(
                        AdaGradConfig::new()
                            .with_lr_decay(p.lr_decay)
                            .with_epsilon(p.epsilon as f32)
                            .with_weight_decay(decay(p.weight_decay))
                            .init::<B, M>(),
                    ),
                )
            }
            OptimizerName::Rmsprop => {
                let p = &self.rmsprop;
                job.run(
                    self.clipped(
                        RmsPropConfig::new()
                            .with_alpha(p.alpha as f32)
                            .with_momentum(p.momentum as f32)
                            .with_epsilon(p.epsilon as f32)
                            .with_centered(p.centered)
                            .with_weight_decay(decay(p.weight_decay))
                            .init::<B, M>(),
                    ),
                )
            }
            OptimizerName::Adam => {
                let p = &self.adam;
                job.run(
                    self.clipped(
                        AdamConfig::new()
                            .with_beta_1(p.beta_1 as f32)
                            .with_beta_2(p.beta_2 as f32)
                            .with_epsilon(p.epsilon as f32)
                            .with_amsgrad(p.amsgrad)
                            .with_weight_decay(decay(p.weight_decay))
                            .init::<B, M>(),
                    ),
                )
            }
            OptimizerName::Adamw => {
                let p = &self.adamw;
                job.run(
                    self.clipped(
                        AdamWConfig::new()
                            .with_beta_1(p.beta_1 as f32)
                            .with_beta_2(p.beta_2 as f32)
                            .with_epsilon(p.epsilon as f32)
                            .with_amsgrad(p.amsgrad)
                            .with_weight_decay(p.weight_decay as f32)
                            .init::<B, M>(),
                    ),
                )
            }
        }
    }
}
