//! Why convolution helps: a small CNN and a dense network of about the same size (≈9,500
//! parameters each) trained on `shapes`, 16×16 images of a circle, square or triangle placed
//! anywhere. The CNN's filters find edges and corners wherever they are; the dense network must
//! learn every position apart and stays far behind.
//!
//! Writes the runs `OUT/cnn/` and `OUT/mlp/` (OUT defaults to `artifacts/cnn`); exits 1 if the
//! CNN scores below 95% on the held-out images or the dense network is not 10 points behind.
//!
//! `cargo run --release --example cnn [-- OUT_DIR] [--backend flex|ndarray|wgpu]`

use nnlab::backend::run_on;
use nnlab::cli::ExampleArgs;
use nnlab::commands::TrainJob;
use nnlab::config::{ExperimentConfig, TrainingConfig};
use nnlab::data::scale::{FeatureScaling, PreprocessConfig};
use nnlab::data::{Builtin, DataConfig};
use nnlab::loss::{LossConfig, LossName};
use nnlab::models::cnn::ConvLayer;
use nnlab::models::{CnnConfig, MlpConfig, ModelConfig};
use nnlab::optim::OptimizerConfig;
use nnlab::run_dir::RunDir;
use nnlab::{Error, Result};

/// `shapes` (600 images, 25% held out), 12 epochs of Adam at 0.01, with `model`.
fn experiment(model: ModelConfig, scaling: FeatureScaling) -> ExperimentConfig {
    ExperimentConfig::new()
        .with_data(
            DataConfig::new()
                .with_dataset(Some(Builtin::Shapes))
                .with_samples(600),
        )
        .with_preprocess(PreprocessConfig::new().with_features(scaling))
        .with_model(model)
        .with_loss(LossConfig::new().with_name(LossName::CrossEntropy))
        .with_optimizer(OptimizerConfig::new().with_learning_rate(0.01))
        .with_training(
            TrainingConfig::new()
                .with_epochs(12)
                .with_validation_fraction(0.25),
        )
}

fn main() {
    let (out, backend) = ExampleArgs::parse_or("artifacts/cnn");
    let cnn = CnnConfig::new()
        .with_conv(vec![ConvLayer::new(8), ConvLayer::new(16)])
        .with_dense(vec![32]);
    let mlp = MlpConfig::new().with_hidden(vec![36]);
    let result = (|| -> Result<(f64, f64)> {
        let mut scores = Vec::new();
        for (name, config) in [
            ("cnn", experiment(cnn.into(), FeatureScaling::Pixels)),
            ("mlp", experiment(mlp.into(), FeatureScaling::Standard)),
        ] {
            let job = TrainJob {
                config,
                out: RunDir::new(out.join(name)),
                resume: None,
                quiet: true,
                node: None,
                devices: None,
            };
            let report = run_on(backend, job)?;
            // Counted from the saved config, which the data sized.
            let parameters = RunDir::new(&report.dir).load_meta()?.0.model.parameters();
            let accuracy = report.valid.as_ref().map_or(0.0, |v| v.score());
            println!(
                "{name}: {parameters} parameters, {:.2}s on {backend}, held-out accuracy {:.1}%",
                report.train_seconds,
                100.0 * accuracy
            );
            scores.push(accuracy);
        }
        Ok((scores[0], scores[1]))
    })();
    match result {
        Ok((cnn, mlp)) if cnn >= 0.95 && mlp <= cnn - 0.1 => {
            println!("saved {}", out.display());
        }
        Ok((cnn, mlp)) => {
            eprintln!("the CNN scored {cnn:.3} and the dense network {mlp:.3}");
            std::process::exit(1);
        }
        Err(e) => {
            let e: Error = e;
            eprintln!("error: {e}");
            std::process::exit(e.exit_code());
        }
    }
}
