//! A non-linear classifier: two interleaving moons (1000 points, noise 0.2, seed 0), an MLP
//! 2-16-16-2 with ReLU, cross-entropy and Adam; 20% of the points are held out and never
//! trained on. Saves the run to `artifacts/classification/`.
//!
//! `cargo run --example classification [-- OUT_DIR] [--backend ndarray|wgpu]`

use nnlab::backend::run_on;
use nnlab::checkpoint::RunDir;
use nnlab::cli::ExampleArgs;
use nnlab::commands::TrainJob;
use nnlab::config::{BatchSize, ExperimentConfig, TrainingConfig};
use nnlab::data::{Builtin, DataConfig};
use nnlab::loss::{LossConfig, LossName};
use nnlab::model::{Activation, MlpConfig};
use nnlab::optim::{OptimizerConfig, OptimizerName};

fn main() {
    let (out, backend) = ExampleArgs::parse_or("artifacts/classification");

    let config = ExperimentConfig::new()
        .with_data(
            DataConfig::new()
                .with_dataset(Some(Builtin::Moons))
                .with_samples(1000)
                .with_noise(0.2),
        )
        .with_model(
            MlpConfig::new()
                .with_hidden(vec![16, 16])
                .with_activation(Activation::Relu),
        )
        .with_loss(LossConfig::new().with_name(LossName::CrossEntropy))
        .with_optimizer(
            OptimizerConfig::new()
                .with_name(OptimizerName::Adam)
                .with_learning_rate(0.01),
        )
        .with_training(
            TrainingConfig::new()
                .with_epochs(100)
                .with_batch_size(BatchSize::Rows(32))
                .with_validation_fraction(0.2),
        );
    let job = TrainJob {
        config,
        out: RunDir::new(&out),
        resume: None,
        quiet: false,
    };
    match run_on(backend, job) {
        Ok(report) => {
            let last = report.history.last().expect("at least one epoch");
            let accuracy = last.valid_accuracy.unwrap_or(0.0);
            println!(
                "two moons, MLP 2-16-16-2, Adam: {} epochs ({} steps) on {backend} in {:.2}s",
                report.history.len(),
                report.steps,
                report.train_seconds
            );
            println!(
                "train loss {:.4}, held-out loss {:.4}, held-out accuracy {:.1}%",
                last.train_loss,
                last.valid_loss.unwrap_or(f64::NAN),
                100.0 * accuracy
            );
            println!("saved to {}", report.dir.display());
            if accuracy < 0.95 {
                eprintln!(
                    "error: held-out accuracy {:.1}% is below 95%",
                    100.0 * accuracy
                );
                std::process::exit(1);
            }
        }
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(error.exit_code());
        }
    }
}
