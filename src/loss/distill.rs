//! Knowledge distillation (Hinton, Vinyals & Dean, 2015): a student learns from a trained
//! teacher's class probabilities softened by a temperature T as well as from the labels,
//!
//! `L = α·T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)) + (1 − α)·CE(y, z_s)`,
//!
//! averaged over the batch. The T² keeps the soft term's gradient, `α·T·(p_s − p_t)` per row
//! at temperature T, on the scale of the hard term's as T changes. The teacher's
//! `log softmax(z_t/T)` is computed once per row before training and batched with the labels.

use burn::config::Config;
use burn::nn::loss::CrossEntropyLoss;
use burn::tensor::activation::log_softmax;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use crate::error::{Error, Result};

/// How a student learns from its teacher.
#[derive(Config, Debug, PartialEq)]
pub struct DistillConfig {
    /// The teacher's run directory.
    pub teacher: std::path::PathBuf,
    /// T: how far the teacher's probabilities are softened (1 leaves them as they are).
    #[config(default = 2.0)]
    pub temperature: f64,
    /// α: the weight of the teacher's term; 1 − α weighs the labels'.
    #[config(default = 0.5)]
    pub alpha: f64,
}

impl DistillConfig {
    pub fn validate(&self) -> Result<()> {
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Err(Error::config(
                "loss.distill.temperature",
                format!("must be a positive number, got {}", self.temperature),
            ));
        }
        if !(0.0..=1.0).contains(&self.alpha) {
            return Err(Error::config(
                "loss.distill.alpha",
                format!("must be in [0, 1], got {}", self.alpha),
            ));
        }
        Ok(())
    }
}

/// The distillation loss of the student's logits `output` `[rows, classes]` for the labels
/// `classes` and the teacher's `log softmax(z_t/T)` `teacher` `[rows, classes]`.
pub fn distill_loss<B: Backend>(
    cross_entropy: &CrossEntropyLoss<B>,
    config: &DistillConfig,
    output: Tensor<B, 2>,
    classes: Tensor<B, 1, Int>,
    teacher: Tensor<B, 2>,
) -> Tensor<B, 1> {
    let (t, alpha) = (config.temperature, config.alpha);
    let student = log_softmax(output.clone().div_scalar(t), 1);
    let kl = teacher
        .clone()
        .exp()
        .mul(teacher - student)
        .sum_dim(1)
        .mean();
    let hard = cross_entropy.forward(output, classes);
    kl.mul_scalar(alpha * t * t) + hard.mul_scalar(1.0 - alpha)
}

#[cfg(test)]
mod tests {
    use burn::nn::loss::CrossEntropyLossConfig;
    use burn::tensor::TensorData;

    use super::*;

    type B = crate::backend::Cpu;

    const LOGITS: [[f64; 3]; 4] = [
        [1.2, -0.4, 0.3],
        [-2.0, 0.5, 1.7],
        [0.1, 0.2, -0.3],
        [3.0, -1.0, 0.0],
    ];
    const TEACHER: [[f64; 3]; 4] = [
        [2.5, -1.0, 0.2],
        [-1.5, 0.0, 2.2],
        [0.9, 0.1, -0.8],
        [1.0, 0.5, -2.0],
    ];
    const LABELS: [usize; 4] = [0, 2, 1, 0];

    fn log_softmax64(z: &[f64], t: f64) -> Vec<f64> {
        let m = z.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v / t));
        let sum: f64 = z.iter().map(|&v| (v / t - m).exp()).sum();
        z.iter().map(|&v| v / t - m - sum.ln()).collect()
    }

    /// The loss in f64, straight from the formula.
    fn reference(z: &[[f64; 3]; 4], t: f64, alpha: f64) -> f64 {
        let n = z.len() as f64;
        let mut total = 0.0;
        for ((zs, zt), &y) in z.iter().zip(&TEACHER).zip(&LABELS) {
            let (ls, lt) = (log_softmax64(zs, t), log_softmax64(zt, t));
            let kl: f64 = lt.iter().zip(&ls).map(|(a, b)| a.exp() * (a - b)).sum();
            let ce = -log_softmax64(zs, 1.0)[y];
            total += alpha * t * t * kl + (1.0 - alpha) * ce;
        }
        total / n
    }

    #[test]
    fn the_loss_and_its_gradient_match_an_f64_reference() {
        let device = Default::default();
        let cross_entropy = CrossEntropyLossConfig::new().init(&device);
        for (t, alpha) in [(1.0, 0.5), (4.0, 0.9), (2.0, 0.0), (10.0, 1.0)] {
            let config = DistillConfig::new("teacher".into())
                .with_temperature(t)
                .with_alpha(alpha);
            let flat = |rows: [[f64; 3]; 4]| rows.concat().iter().map(|&v| v as f32).collect();
            let output = Tensor::<B, 2>::from_data(TensorData::new(flat(LOGITS), [4, 3]), &device)
                .require_grad();
            let teacher_rows: Vec<f32> = TEACHER
                .iter()
                .flat_map(|z| log_softmax64(z, t))
                .map(|v| v as f32)
                .collect();
            let teacher = Tensor::from_data(TensorData::new(teacher_rows, [4, 3]), &device);
            let labels: Vec<i64> = LABELS.iter().map(|&c| c as i64).collect();
            let classes = Tensor::from_data(TensorData::new(labels, [4]), &device);
            let loss = distill_loss(&cross_entropy, &config, output.clone(), classes, teacher);
            let value: f64 = loss.clone().into_scalar().into();
            let expected = reference(&LOGITS, t, alpha);
            assert!(
                (value - expected).abs() < 1e-5 * expected.abs().max(1.0),
                "{t} {alpha}"
            );
            let grad: Vec<f32> = output
                .grad(&loss.backward())
                .unwrap()
                .to_data()
                .to_vec()
                .unwrap();
            // Central differences of the f64 reference.
            for (k, g) in grad.iter().enumerate() {
                let (i, j) = (k / 3, k % 3);
                let h = 1e-6;
                let (mut up, mut down) = (LOGITS, LOGITS);
                up[i][j] += h;
                down[i][j] -= h;
                let numeric = (reference(&up, t, alpha) - reference(&down, t, alpha)) / (2.0 * h);
                assert!(
                    (f64::from(*g) - numeric).abs() < 1e-5,
                    "{t} {alpha} [{i},{j}]: {g} vs {numeric}"
                );
            }
        }
    }
}
