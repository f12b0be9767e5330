//! Loss functions J(ŷ, y), built from Burn's loss modules.
//!
//! Regression: `mse` = (1/N) Σ (ŷ − y)², `mae` = (1/N) Σ |ŷ − y|, `huber` = (1/N) Σ h_δ(ŷ − y)
//! with h_δ(r) = r²/2 for |r| ≤ δ and δ(|r| − δ/2) otherwise.
//! Classification: `cross_entropy` = −(1/N) Σ log softmax(ŷ)_y over the logits of every class,
//! `binary_cross_entropy` = −(1/N) Σ [y log σ(ŷ) + (1 − y) log(1 − σ(ŷ))] on one logit.

pub mod distill;
pub mod mse;

use burn::config::Config;
use burn::nn::loss::{
    BinaryCrossEntropyLoss, BinaryCrossEntropyLossConfig, CrossEntropyLoss, CrossEntropyLossConfig,
    HuberLoss, HuberLossConfig, LpLoss, LpLossConfig, MseLoss, Reduction,
};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::Network;
pub use crate::models::Task;
use distill::{DistillConfig, distill_loss};

/// The loss function's name, as written in configs and on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum LossName {
    Mse,
    Mae,
    Huber,
    #[value(alias = "cross-entropy")]
    #[serde(alias = "cross-entropy")]
    CrossEntropy,
    #[value(alias = "binary-cross-entropy")]
    #[serde(alias = "binary-cross-entropy")]
    BinaryCrossEntropy,
}

impl LossName {
    /// The task this loss belongs to.
    pub fn task(self) -> Task {
        match self {
            LossName::Mse | LossName::Mae | LossName::Huber => Task::Regression,
            LossName::CrossEntropy | LossName::BinaryCrossEntropy => Task::Classification,
        }
    }

    /// The usual loss for a task: MSE for regression, cross-entropy for classification.
    pub fn default_for(task: Task) -> Self {
        match task {
            Task::Regression => LossName::Mse,
            Task::Classification => LossName::CrossEntropy,
        }
    }

    /// The model output size this loss expects for `classes` classes (0 for regression).
    pub fn output_size(self, classes: usize) -> usize {
        match self {
            LossName::CrossEntropy => classes,
            _ => 1,
        }
    }
}

/// Which loss to minimise.
#[derive(Config, Debug, PartialEq)]
pub struct LossConfig {
    /// `mse`, `mae`, `huber`, `cross_entropy` or `binary_cross_entropy`.
    #[config(default = "LossName::Mse")]
    pub name: LossName,
    /// δ of the Huber loss: where the quadratic part turns linear.
    #[config(default = 1.0)]
    pub huber_delta: f64,
    /// λ₁ of an L1 penalty λ₁ Σ|w| on the weights (not the biases) added to the loss.
    #[config(default = 0.0)]
    pub l1: f64,
    /// λ₂ of an L2 penalty λ₂ Σw² on the weights (not the biases) added to the loss. Its
    /// gradient 2λ₂w equals an optimizer weight decay of 2λ₂ (see `optim.rs`).
    #[config(default = 0.0)]
    pub l2: f64,
    /// Learn from a teacher's softened probabilities as well as the labels (`nnlab distill`).
    pub distill: Option<DistillConfig>,
}

impl LossConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        if !(self.huber_delta.is_finite() && self.huber_delta > 0.0) {
            return Err(Error::config(
                "loss.huber_delta",
                format!("must be a positive number, got {}", self.huber_delta),
            ));
        }
        if let Some(distill) = &self.distill {
            distill.validate()?;
            if self.name != LossName::CrossEntropy {
                return Err(Error::config(
                    "loss.distill",
                    "needs loss.name cross_entropy: the student learns one probability per class",
                ));
            }
        }
        for (field, value) in [("loss.l1", self.l1), ("loss.l2", self.l2)] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(Error::config(
                    field,
                    format!("must be zero or positive, got {value}"),
                ));
            }
        }
        Ok(())
    }

    /// The penalty λ₁ Σ|w| + λ₂ Σw² over the weight matrices of `model`, or `None` when both
    /// λ are 0.
    pub fn penalty<B: Backend>(&self, model: &Network<B>) -> Option<Tensor<B, 1>> {
        if self.l1 == 0.0 && self.l2 == 0.0 {
            return None;
        }
        model
            .weights()
            .into_iter()
            .map(|w| {
                let mut term = w.clone().square().sum().mul_scalar(self.l2);
                if self.l1 > 0.0 {
                    term = term + w.abs().sum().mul_scalar(self.l1);
                }
                term
            })
            .reduce(|a, b| a + b)
    }

    /// The loss training minimises: [`LossConfig::init`]'s, or with `distill` the
    /// distillation loss, whose targets carry the teacher's probabilities.
    pub fn init_training<B: Backend>(&self, device: &B::Device) -> Loss<B> {
        match &self.distill {
            Some(distill) => {
                Loss::Distill(CrossEntropyLossConfig::new().init(device), distill.clone())
            }
            None => self.init(device),
        }
    }

    /// Builds the Burn loss module (what validation and evaluation measure).
    pub fn init<B: Backend>(&self, device: &B::Device) -> Loss<B> {
        match self.name {
            LossName::Mse => Loss::Mse(MseLoss::new()),
            LossName::Mae => Loss::Mae(LpLossConfig::l1()),
            LossName::Huber => Loss::Huber(HuberLossConfig::new(self.huber_delta as f32).init()),
            LossName::CrossEntropy => {
                Loss::CrossEntropy(CrossEntropyLossConfig::new().init(device))
            }
            LossName::BinaryCrossEntropy => Loss::BinaryCrossEntropy(
                BinaryCrossEntropyLossConfig::new()
                    .with_logits(true)
                    .init(device),
            ),
        }
    }
}

/// Targets of a batch: values `[rows, outputs]` for regression, class indices `[rows]` for
/// classification.
#[derive(Clone, Debug)]
pub enum Targets<B: Backend> {
    Values(Tensor<B, 2>),
    Classes(Tensor<B, 1, Int>),
    /// Class indices and a teacher's `log softmax(z/T)` `[rows, classes]`, for distillation.
    Taught {
        classes: Tensor<B, 1, Int>,
        teacher: Tensor<B, 2>,
    },
}

impl<B: Backend> Targets<B> {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        match self {
            Targets::Values(t) => t.dims()[0],
            Targets::Classes(t) | Targets::Taught { classes: t, .. } => t.dims()[0],
        }
    }

    /// Rows `start..end`.
    pub fn slice(&self, start: usize, end: usize) -> Self {
        match self {
            Targets::Values(t) => Targets::Values(t.clone().slice(start..end)),
            Targets::Classes(t) => Targets::Classes(t.clone().slice(start..end)),
            Targets::Taught { classes, teacher } => Targets::Taught {
                classes: classes.clone().slice(start..end),
                teacher: teacher.clone().slice(start..end),
            },
        }
    }

    /// The rows named by `indices`, in that order.
    pub fn select(&self, indices: Tensor<B, 1, Int>) -> Self {
        match self {
            Targets::Values(t) => Targets::Values(t.clone().select(0, indices)),
            Targets::Classes(t) => Targets::Classes(t.clone().select(0, indices)),
            Targets::Taught { classes, teacher } => Targets::Taught {
                classes: classes.clone().select(0, indices.clone()),
                teacher: teacher.clone().select(0, indices),
            },
        }
    }
}

/// A built loss function, ready to compare model outputs with targets.
#[derive(Debug)]
pub enum Loss<B: Backend> {
    Mse(MseLoss),
    Mae(LpLoss),
    Huber(HuberLoss),
    CrossEntropy(CrossEntropyLoss<B>),
    BinaryCrossEntropy(BinaryCrossEntropyLoss<B>),
    Distill(CrossEntropyLoss<B>, DistillConfig),
}

impl<B: Backend> Loss<B> {
    /// The mean loss over the batch, a one-element tensor.
    ///
    /// # Panics
    /// If the targets' kind does not match the loss (values for a classification loss or classes
    /// for a regression loss); [`crate::config::ExperimentConfig::validate`] rules that out.
    pub fn forward(&self, output: Tensor<B, 2>, targets: &Targets<B>) -> Tensor<B, 1> {
        match (self, targets) {
            (Loss::Mse(l), Targets::Values(y)) => match mse::mse(output, y.clone()) {
                Ok(loss) => loss,
                Err((output, y)) => l.forward(output, y, Reduction::Mean),
            },
            (Loss::Mae(l), Targets::Values(y)) => l.forward(output, y.clone(), Reduction::Mean),
            (Loss::Huber(l), Targets::Values(y)) => l.forward(output, y.clone(), Reduction::Mean),
            (Loss::CrossEntropy(l), Targets::Classes(y)) => l.forward(output, y.clone()),
            (Loss::BinaryCrossEntropy(l), Targets::Classes(y)) => {
                let rows = y.dims()[0];
                l.forward(output, y.clone().reshape([rows, 1]))
            }
            (Loss::Distill(ce, config), Targets::Taught { classes, teacher }) => {
                distill_loss(ce, config, output, classes.clone(), teacher.clone())
            }
            _ => panic!("loss and targets disagree on the task; the config was not validated"),
        }
    }
}
