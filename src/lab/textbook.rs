//! The textbook's Keras program as an experiment: one neuron y = w·x + b trained by SGD on
//! the textbook's 100 points, set beside the least-squares line. `examples/regression.rs`
//! prints it. The training is called from here, inside the library, so that the README's
//! first command does not compile the training loop a second time for the example
//! (docs/history/benchmarks.md, "Build time").

use std::path::Path;

use burn::tensor::backend::AutodiffBackend;
use serde_json::{Map, json};

use crate::backend::{BackendJob, BackendName, run_on};
use crate::config::{BatchSize, ExperimentConfig, TrainingConfig};
use crate::data::scale::{FeatureScaling, PreprocessConfig, TargetScaling};
use crate::data::{Builtin, DataConfig, TargetValues, synthetic};
use crate::error::Result;
use crate::eval::predict::{Predictions, predict};
use crate::loss::{LossConfig, LossName};
use crate::models::ModelConfig;
use crate::optim::{OptimizerConfig, OptimizerName};
use crate::reference::least_squares_line;
use crate::run_dir::{RunDir, RunInfo};
use crate::train::fit;

/// What the textbook run found, beside the least-squares solution.
pub struct Textbook {
    /// The 100 inputs and targets (NumPy seed 1).
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub steps: u64,
    pub train_seconds: f64,
    /// The trained neuron.
    pub w: f64,
    pub b: f64,
    pub train_mse: f64,
    /// Ordinary least squares on the same points: the best any line does.
    pub lstsq_w: f64,
    pub lstsq_b: f64,
    pub lstsq_mse: f64,
    /// ŷ for every input.
    pub predictions: Vec<f32>,
}

impl Textbook {
    /// How far the training MSE is above the least-squares MSE, as a fraction of it.
    pub fn gap(&self) -> f64 {
        self.train_mse / self.lstsq_mse - 1.0
    }
}

/// Keras's `Dense(1)`, `sgd` (learning rate 0.01), `mse`, 1000 epochs of batch 32 with
/// shuffling, on the raw numbers (nnlab would standardize them by default).
pub fn config() -> ExperimentConfig {
    ExperimentConfig::new()
        .with_data(DataConfig::new().with_dataset(Some(Builtin::Linear)))
        .with_preprocess(
            PreprocessConfig::new()
                .with_features(FeatureScaling::None)
                .with_target(TargetScaling::None),
        )
        .with_model(ModelConfig::neuron(1, 1))
        .with_loss(LossConfig::new().with_name(LossName::Mse))
        .with_optimizer(
            OptimizerConfig::new()
                .with_name(OptimizerName::Sgd)
                .with_learning_rate(0.01),
        )
        .with_training(
            TrainingConfig::new()
                .with_epochs(1000)
                .with_batch_size(BatchSize::Rows(32))
                .with_shuffle(true),
        )
}

/// Trains the textbook's neuron on `backend`, saves the run to `out` and returns the numbers.
pub fn run(backend: BackendName, out: &Path) -> Result<Textbook> {
    run_on(backend, Job { out })
}

struct Job<'a> {
    out: &'a Path,
}

impl BackendJob for Job<'_> {
    type Output = Textbook;

    fn run<B: AutodiffBackend>(self, backend: BackendName, device: B::Device) -> Result<Textbook> {
        let config = config();
        let data = synthetic::linear();
        let x = data.features.clone();
        let TargetValues::Values(y) = data.targets.clone() else {
            unreachable!("the textbook data is a regression problem")
        };
        let trained = fit::<B>(&config, &data, &device, None, true)?;
        let Some((weights, b)) = trained.model.neuron() else {
            unreachable!("the config builds a single neuron")
        };
        let w = weights[0];
        let scaler = &trained.scaler;
        let Predictions::Values(predictions) =
            predict(&trained.model, LossName::Mse, None, scaler, &x, 1, &device)
        else {
            unreachable!("regression gives values")
        };
        let train_mse = y
            .iter()
            .zip(&predictions)
            .map(|(y, p)| (f64::from(*p) - y).powi(2))
            .sum::<f64>()
            / y.len() as f64;
        let (lstsq_w, lstsq_b, lstsq_mse) = least_squares_line(&x, &y);
        let extra = json!({
            "w": w, "b": b,
            "lstsq_w": lstsq_w, "lstsq_b": lstsq_b,
            "train_mse": train_mse, "lstsq_mse": lstsq_mse,
        });
        let extra: Map<_, _> = extra.as_object().cloned().unwrap_or_default();
        let info = RunInfo::new(backend, &config, &data, &trained);
        RunDir::new(self.out).save(&config, &info, &trained, extra)?;
        Ok(Textbook {
            x,
            y,
            steps: trained.steps,
            train_seconds: trained.train_seconds,
            w,
            b,
            train_mse,
            lstsq_w,
            lstsq_b,
            lstsq_mse,
            predictions,
        })
    }
}
