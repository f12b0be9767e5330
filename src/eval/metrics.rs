//! Evaluation metrics and the per-epoch record of a run.
//!
//! Regression: MSE = (1/N)Σ(ŷ − y)², RMSE = √MSE, MAE = (1/N)Σ|ŷ − y|,
//! R² = 1 − Σ(ŷ − y)² / Σ(y − ȳ)², all in the target's original units.
//! Classification: accuracy; per class c, precision = TP/(TP + FP), recall = TP/(TP + FN),
//! F1 = 2PR/(P + R) (0 when undefined, as scikit-learn's `zero_division=0`); macro averages
//! are plain means over the classes present in the truth or the predictions (scikit-learn's
//! default labels), so a file that holds 2 of 3 classes is not capped at 2/3; the
//! confusion matrix counts rows by true class (rows) and predicted class (columns).

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};
use serde::{Deserialize, Serialize};

use crate::data::TargetValues;
use crate::loss::LossName;

/// What one epoch of training measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Loss on the training rows, measured as `training.train_loss` says ([`TrainLoss`]), in
    /// the units the model trains in (scaled, where the target is).
    ///
    /// [`TrainLoss`]: crate::config::TrainLoss
    pub train_loss: f64,
    /// Loss on the validation rows after the epoch, when there are any.
    pub valid_loss: Option<f64>,
    /// Share of validation rows classified correctly (classification).
    pub valid_accuracy: Option<f64>,
    /// Macro-averaged F1 on the validation rows (classification).
    pub valid_f1: Option<f64>,
    /// Root mean squared error on the validation rows, original units (regression).
    pub valid_rmse: Option<f64>,
    /// Mean absolute error on the validation rows, original units (regression).
    pub valid_mae: Option<f64>,
    /// R² on the validation rows (regression).
    pub valid_r2: Option<f64>,
    /// The learning rate used in the epoch.
    pub learning_rate: f64,
    /// A VAE's mean KL term per training row (its `train_loss` is the negative ELBO, this
    /// included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_kl: Option<f64>,
    /// A GAN's mean generator loss J_G over the epoch's generator steps (its `train_loss` is
    /// the discriminator's J_D).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_g_loss: Option<f64>,
}

impl EpochRecord {
    /// The record of an epoch with no validation rows.
    pub fn new(epoch: usize, train_loss: f64, learning_rate: f64) -> Self {
        EpochRecord {
            epoch,
            train_loss,
            valid_loss: None,
            valid_accuracy: None,
            valid_f1: None,
            valid_rmse: None,
            valid_mae: None,
            valid_r2: None,
            learning_rate,
            train_kl: None,
            train_g_loss: None,
        }
    }

    /// Adds the validation loss and metrics.
    pub fn with_validation(mut self, loss: f64, evaluation: &Evaluation) -> Self {
        self.valid_loss = Some(loss);
        match evaluation {
            Evaluation::Regression(m) => {
                self.valid_rmse = Some(m.rmse);
                self.valid_mae = Some(m.mae);
                self.valid_r2 = Some(m.r2);
            }
            Evaluation::Classification(m) => {
                self.valid_accuracy = Some(m.accuracy);
                self.valid_f1 = Some(m.macro_f1);
            }
        }
        self
    }
}

/// Regression metrics, in the target's original units.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegressionMetrics {
    pub rows: usize,
    pub mse: f64,
    pub rmse: f64,
    pub mae: f64,
    pub r2: f64,
}

/// One class's scores.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassScores {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Rows whose true class this is.
    pub support: usize,
}

/// Classification metrics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassificationMetrics {
    pub rows: usize,
    pub accuracy: f64,
    /// Means over the classes present in the truth or the predictions.
    pub macro_precision: f64,
    pub macro_recall: f64,
    pub macro_f1: f64,
    pub classes: Vec<ClassScores>,
    /// `confusion[true][predicted]`.
    pub confusion: Vec<Vec<usize>>,
}

/// The metrics of a set of predictions against the truth.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evaluation {
    Regression(RegressionMetrics),
    Classification(ClassificationMetrics),
}

impl Evaluation {
    /// The headline number: R² for regression, accuracy for classification.
    pub fn score(&self) -> f64 {
        match self {
            Evaluation::Regression(m) => m.r2,
            Evaluation::Classification(m) => m.accuracy,
        }
    }

    /// Rows scored.
    pub fn rows(&self) -> usize {
        match self {
            Evaluation::Regression(m) => m.rows,
            Evaluation::Classification(m) => m.rows,
        }
    }

    /// The headline number's name.
    pub fn score_name(&self) -> &'static str {
        match self {
            Evaluation::Regression(_) => "R²",
            Evaluation::Classification(_) => "accuracy",
        }
    }
}

/// Regression metrics of `predicted` against `truth`, the values of `rows` rows.
pub fn regression(predicted: &[f64], truth: &[f64], rows: usize) -> RegressionMetrics {
    let n = truth.len().max(1) as f64;
    let mean = truth.iter().sum::<f64>() / n;
    let sse: f64 = predicted
        .iter()
        .zip(truth)
        .map(|(p, y)| (p - y).powi(2))
        .sum();
    let sae: f64 = predicted
        .iter()
        .zip(truth)
        .map(|(p, y)| (p - y).abs())
        .sum();
    let sst: f64 = truth.iter().map(|y| (y - mean).powi(2)).sum();
    let r2 = if sst > 0.0 {
        1.0 - sse / sst
    } else if sse == 0.0 {
        1.0
    } else {
        0.0
    };
    RegressionMetrics {
        rows,
        mse: sse / n,
        rmse: (sse / n).sqrt(),
        mae: sae / n,
        r2,
    }
}

/// Classification metrics of `predicted` against `truth`, classes indexing `labels`.
pub fn classification(
    predicted: &[usize],
    truth: &[usize],
    labels: &[String],
) -> ClassificationMetrics {
    let k = labels.len();
    let mut confusion = vec![vec![0usize; k]; k];
    for (&p, &t) in predicted.iter().zip(truth) {
        confusion[t][p] += 1;
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let classes: Vec<ClassScores> = (0..k)
        .map(|c| {
            let tp = confusion[c][c];
            let support: usize = confusion[c].iter().sum();
            let predicted_c: usize = confusion.iter().map(|row| row[c]).sum();
            let precision = ratio(tp, predicted_c);
            let recall = ratio(tp, support);
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            ClassScores {
                label: labels[c].clone(),
                precision,
                recall,
                f1,
                support,
            }
        })
        .collect();
    // A class absent from both truth and predictions has nothing to score: leave it out.
    let present: Vec<&ClassScores> = (0..k)
        .filter(|&c| classes[c].support > 0 || confusion.iter().any(|row| row[c] > 0))
        .map(|c| &classes[c])
        .collect();
    let mean = |f: fn(&ClassScores) -> f64| {
        present.iter().map(|&c| f(c)).sum::<f64>() / present.len().max(1) as f64
    };
    ClassificationMetrics {
        rows: truth.len(),
        accuracy: ratio((0..k).map(|c| confusion[c][c]).sum(), truth.len()),
        macro_precision: mean(|c| c.precision),
        macro_recall: mean(|c| c.recall),
        macro_f1: mean(|c| c.f1),
        classes,
        confusion,
    }
}

/// What a model says about each input row.
#[derive(Clone, Debug, PartialEq)]
pub enum Predictions {
    /// Regression: one value per row (`rows × horizon`, row-major, for a series forecasting
    /// several steps).
    Values(Vec<f32>),
    /// Classification: the class index of each row and the probability of every class.
    Classes {
        classes: Vec<usize>,
        /// `rows × labels.len()`, row-major.
        probabilities: Vec<f32>,
        labels: Vec<String>,
    },
}

/// The metrics of `predictions` against `truth` (which must be of the same task), for `rows`
/// rows (a series window forecasting several steps is one row of several values).
pub fn evaluate(predictions: &Predictions, truth: &TargetValues, rows: usize) -> Evaluation {
    match (predictions, truth) {
        (Predictions::Values(p), TargetValues::Values(y)) => {
            let p: Vec<f64> = p.iter().map(|&v| f64::from(v)).collect();
            Evaluation::Regression(regression(&p, y, rows))
        }
        (
            Predictions::Classes {
                classes, labels, ..
            },
            TargetValues::Classes { indices, .. },
        ) => Evaluation::Classification(classification(classes, indices, labels)),
        _ => panic!("predictions and targets of different tasks"),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regression_metrics_by_hand() {
        let m = regression(&[1.0, 2.0, 4.0], &[1.0, 3.0, 5.0], 3);
        assert!((m.mse - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.rmse - (2.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!((m.mae - 2.0 / 3.0).abs() < 1e-12);
        // ȳ = 3, SST = 4 + 0 + 4 = 8, SSE = 2.
        assert!((m.r2 - 0.75).abs() < 1e-12);
    }

    #[test]
    fn classification_metrics_by_hand() {
        let labels: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        // truth:     a a a b b c
        // predicted: a a b b c c
        let m = classification(&[0, 0, 1, 1, 2, 2], &[0, 0, 0, 1, 1, 2], &labels);
        assert_eq!(
            m.confusion,
            vec![vec![2, 1, 0], vec![0, 1, 1], vec![0, 0, 1]]
        );
        assert!((m.accuracy - 4.0 / 6.0).abs() < 1e-12);
        let (a, b, c) = (&m.classes[0], &m.classes[1], &m.classes[2]);
        assert_eq!((a.precision, a.recall, a.support), (1.0, 2.0 / 3.0, 3));
        assert_eq!((b.precision, b.recall), (0.5, 0.5));
        assert_eq!((c.precision, c.recall), (0.5, 1.0));
        assert!((a.f1 - 0.8).abs() < 1e-12);
        let macro_f1 = (0.8 + 0.5 + 2.0 / 3.0) / 3.0;
        assert!((m.macro_f1 - macro_f1).abs() < 1e-12);
    }

    #[test]
    fn macro_averages_cover_the_classes_in_truth_or_predictions() {
        let labels: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        // `c` is in neither: it keeps its row but does not count.
        let m = classification(&[0, 0, 1, 1], &[0, 0, 1, 1], &labels);
        assert_eq!(m.classes.len(), 3);
        assert_eq!(m.classes[2].support, 0);
        assert_eq!(
            (m.macro_precision, m.macro_recall, m.macro_f1),
            (1.0, 1.0, 1.0)
        );
        // `c` only predicted: it counts, with F1 0, as in scikit-learn.
        // truth a a b, predicted a c b: F1 of a = 2/3, b = 1, c = 0.
        let m = classification(&[0, 2, 1], &[0, 0, 1], &labels);
        assert!((m.macro_f1 - (2.0 / 3.0 + 1.0) / 3.0).abs() < 1e-12);
        assert!((m.macro_precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.macro_recall - 0.5).abs() < 1e-12);
    }
}
