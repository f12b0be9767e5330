//! The optimizer race on the textbook problem: one linear neuron y = w·x + b, MSE, the 100
//! points of the regression example, trained for 100 epochs from the same initial weights by
//! gd (full batch), sgd, momentum, adagrad, rmsprop and adam (batch 32), all with α = 0.1.
//! Prints the table and saves history.csv and the curves to `artifacts/optimizers/`; the same
//! as `nnlab compare --config examples/textbook.json --epochs 100 --lr 0.1
//! --out artifacts/optimizers`.
//!
//! `cargo run --example optimizers [-- OUT_DIR] [--backend flex|ndarray|wgpu]`

use nnlab::backend::run_on;
use nnlab::cli::ExampleArgs;
use nnlab::commands::CompareJob;
use nnlab::config::{ExperimentConfig, TrainingConfig};
use nnlab::data::scale::{FeatureScaling, PreprocessConfig, TargetScaling};
use nnlab::data::{Builtin, DataConfig};
use nnlab::lab::compare::CompareConfig;
use nnlab::models::MlpConfig;

fn main() {
    let (out, backend) = ExampleArgs::parse_or("artifacts/optimizers");

    // One neuron, MSE, batch 32, 100 epochs, seed 42, on the raw numbers as the textbook.
    let base = ExperimentConfig::new()
        .with_data(DataConfig::new().with_dataset(Some(Builtin::Linear)))
        .with_model(MlpConfig::new().with_hidden(vec![]).into())
        .with_training(TrainingConfig::new().with_epochs(100))
        .with_preprocess(
            PreprocessConfig::new()
                .with_features(FeatureScaling::None)
                .with_target(TargetScaling::None),
        );
    let plan = CompareConfig::new().with_learning_rates(vec![0.1]);
    let job = CompareJob {
        base,
        plan,
        quiet: true,
    };
    let result = run_on(backend, job).and_then(|comparison| {
        comparison.save(&out)?;
        Ok(comparison)
    });
    match result {
        Ok(comparison) => {
            println!(
                "one neuron on the textbook data, MSE {:.6} at the shared initial weights, on {backend}\n",
                comparison.initial_loss
            );
            print!("{}", comparison.table());
            println!(
                "\nsaved history.csv, curves.png and curves.svg to {}",
                out.display()
            );
            if let Some(run) = comparison.runs.iter().find(|r| r.diverged_at.is_some()) {
                eprintln!("error: {} diverged", run.variant.optimizer.as_str());
                std::process::exit(1);
            }
        }
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(error.exit_code());
        }
    }
}
