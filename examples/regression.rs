//! The textbook example, its data reproduced exactly (NumPy's generator bit for bit):
//!
//! ```python
//! np.random.seed(1)
//! X = np.random.rand(100, 1)
//! y = 3 * X + np.random.rand(100, 1)
//! model = tf.keras.models.Sequential([tf.keras.layers.Dense(1, input_shape=(1,))])
//! model.compile(optimizer='sgd', loss='mse')
//! model.fit(X, y, epochs=1000, verbose=0)
//! pred = model.predict(X)
//! ```
//!
//! One neuron y = w·x + b, SGD with learning rate 0.01, MSE, 1000 epochs of batch 32 with
//! shuffling (Keras's defaults): 4000 steps. The initial weight and the shuffles come from
//! nnlab's seeded generators, not TensorFlow's, so w and b are not Keras's bit for bit; it
//! prints them beside the least-squares solution and saves the run.
//!
//! `cargo run --example regression [-- OUT_DIR] [--backend ndarray|flex|wgpu]`
//! (default `artifacts/regression`, on ndarray when compiled in, else flex, else wgpu).

use std::path::PathBuf;

use burn::tensor::ElementConversion;
use burn::tensor::backend::AutodiffBackend;
use nnlab::backend::{BackendJob, BackendName, run_on};
use nnlab::cli::ExampleArgs;
use nnlab::config::{BatchSize, ExperimentConfig, TrainingConfig};
use nnlab::data::scale::{FeatureScaling, PreprocessConfig, TargetScaling};
use nnlab::data::{Builtin, DataConfig, TargetValues, synthetic};
use nnlab::eval::predict::{Predictions, predict};
use nnlab::loss::{LossConfig, LossName};
use nnlab::models::{MlpConfig, Network};
use nnlab::optim::{OptimizerConfig, OptimizerName};
use nnlab::reference::least_squares_line;
use nnlab::run_dir::{RunDir, RunInfo};
use nnlab::train::fit;
use nnlab::{Error, Result};
use serde_json::{Map, json};

struct Textbook {
    out: PathBuf,
}

impl BackendJob for Textbook {
    type Output = ();

    fn run<B: AutodiffBackend>(self, backend: BackendName, device: B::Device) -> Result<()> {
        let config = ExperimentConfig::new()
            .with_data(DataConfig::new().with_dataset(Some(Builtin::Linear)))
            // Keras trains on the raw numbers; nnlab would standardize them by default.
            .with_preprocess(
                PreprocessConfig::new()
                    .with_features(FeatureScaling::None)
                    .with_target(TargetScaling::None),
            )
            .with_model(
                MlpConfig::new()
                    .with_input_size(1)
                    .with_hidden(vec![])
                    .with_output_size(1)
                    .into(),
            )
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
            );
        let data = synthetic::linear();
        let x = data.features.clone();
        let TargetValues::Values(y) = &data.targets else {
            unreachable!("the textbook data is a regression problem")
        };
        println!("data: NumPy seed 1, 100 points");
        println!(
            "  X[0] = {:.9}  X[1] = {:.9}  X[2] = {:.9e}  y[0] = {:.8}",
            x[0], x[1], x[2], y[0]
        );
        println!(
            "  ΣX = {:.7}  Σy = {:.6}",
            x.iter().sum::<f64>(),
            y.iter().sum::<f64>()
        );

        let trained = fit::<B>(&config, &data, &device, None, true)?;
        let Network::Mlp(mlp) = &trained.model else {
            unreachable!("the config builds an MLP")
        };
        let layer = &mlp.layers[0];
        let w: f64 = layer.weight.val().into_scalar().elem();
        let b: f64 = layer
            .bias
            .as_ref()
            .expect("bias")
            .val()
            .into_scalar()
            .elem();
        let Predictions::Values(pred) = predict(
            &trained.model,
            config.loss.name,
            None,
            &trained.scaler,
            &x,
            1,
            &device,
        ) else {
            unreachable!("regression gives values")
        };
        let train_mse = y
            .iter()
            .zip(&pred)
            .map(|(y, p)| (f64::from(*p) - y).powi(2))
            .sum::<f64>()
            / y.len() as f64;
        let (lstsq_w, lstsq_b, lstsq_mse) = least_squares_line(&x, y);
        let gap = train_mse / lstsq_mse - 1.0;

        println!(
            "\ntrained on {backend}: {} steps in {:.3}s",
            trained.steps, trained.train_seconds
        );
        println!("             {:>12} {:>12} {:>12}", "w", "b", "MSE");
        println!("  SGD        {w:>12.8} {b:>12.8} {train_mse:>12.10}");
        println!("  lstsq      {lstsq_w:>12.8} {lstsq_b:>12.8} {lstsq_mse:>12.10}");
        println!(
            "  training MSE is {:+.4}% of the least-squares MSE",
            100.0 * gap
        );
        println!("\npredictions:");
        for i in 0..5 {
            println!("  x = {:.6}  y = {:.6}  ŷ = {:.6}", x[i], y[i], pred[i]);
        }

        let info = RunInfo::new(backend, &config, &data, &trained);
        let extra: Map<String, serde_json::Value> = json!({
            "w": w, "b": b,
            "lstsq_w": lstsq_w, "lstsq_b": lstsq_b,
            "train_mse": train_mse, "lstsq_mse": lstsq_mse,
        })
        .as_object()
        .cloned()
        .unwrap_or_default();
        let dir = RunDir::new(&self.out);
        dir.save(&config, &info, &trained, extra)?;
        println!("\nsaved to {}", self.out.display());
        if gap.abs() > 0.005 {
            return Err(Error::Training(format!(
                "the training MSE is {:.3}% away from the least-squares MSE (allowed 0.5%)",
                100.0 * gap
            )));
        }
        Ok(())
    }
}

fn main() {
    let (out, backend) = ExampleArgs::parse_or("artifacts/regression");
    if let Err(error) = run_on(backend, Textbook { out }) {
        eprintln!("error: {error}");
        std::process::exit(error.exit_code());
    }
}
