//! Evaluation metrics and the per-epoch record of a run.

use burn::tensor::backend::Backend;
use burn::tensor::{ElementConversion, Int, Tensor};
use serde::{Deserialize, Serialize};

use crate::loss::LossName;

/// What one epoch of training measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Loss on the training rows, measured as `training.train_loss` says ([`TrainLoss`]).
    ///
    /// [`TrainLoss`]: crate::config::TrainLoss
    pub train_loss: f64,
    /// Loss on the validation rows after the epoch, when there are any.
    pub valid_loss: Option<f64>,
    /// Share of validation rows classified correctly (classification only).
    pub valid_accuracy: Option<f64>,
    /// The learning rate used in the epoch.
    pub learning_rate: f64,
}

/// The predicted class of each row: the arg-max logit, or `logit > 0` for a single-logit
/// binary classifier.
pub fn predicted_classes<B: Backend>(output: Tensor<B, 2>, loss: LossName) -> Tensor<B, 1, Int> {
    let rows = output.dims()[0];
    match loss {
        LossName::BinaryCrossEntropy => output.greater_elem(0.0).int().reshape([rows]),
        _ => output.argmax(1).reshape([rows]),
    }
}

/// Share of rows whose predicted class equals the target.
pub fn accuracy<B: Backend>(
    output: Tensor<B, 2>,
    targets: Tensor<B, 1, Int>,
    loss: LossName,
) -> f64 {
    let rows = targets.dims()[0];
    let correct: i64 = predicted_classes(output, loss)
        .equal(targets)
        .int()
        .sum()
        .into_scalar()
        .elem();
    correct as f64 / rows as f64
}

/// Probabilities of each class, `[rows, classes]`: softmax of the logits, or `[1 − p, p]` with
/// `p = σ(logit)` for a single-logit binary classifier.
pub fn class_probabilities<B: Backend>(output: Tensor<B, 2>, loss: LossName) -> Tensor<B, 2> {
    match loss {
        LossName::BinaryCrossEntropy => {
            let p = burn::tensor::activation::sigmoid(output);
            Tensor::cat(vec![p.clone().neg().add_scalar(1.0), p], 1)
        }
        _ => burn::tensor::activation::softmax(output, 1),
    }
}
