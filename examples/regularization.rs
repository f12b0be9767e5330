//! Over-fitting and its cures: 60 points of a noisy sine (noise 0.3), half held out for
//! validation, fitted by a wide MLP (two hidden layers of 256 ReLU units, Adam α = 0.003,
//! full batch, 400 epochs) from the same initial weights with no regularizer, an L2 penalty,
//! dropout, batch normalization and early stopping. Prints the table and saves the curves
//! (training solid, validation dashed) to `artifacts/regularization/`; the same as
//!
//! `nnlab compare --dataset sine --samples 60 --noise 0.3 --validation 0.5 --hidden 256,256
//!  --lr 0.003 --epochs 400 --batch-size full
//!  --regularize none,l2=0.001,dropout=0.3,batch_norm,early_stop=20`
//!
//! Exits 1 unless some regularizer ends with a validation loss at least 10% below the
//! unregularized model's.
//!
//! `cargo run --release --example regularization [-- OUT_DIR] [--backend flex|ndarray|wgpu]`

use nnlab::backend::run_on;
use nnlab::cli::ExampleArgs;
use nnlab::commands::CompareJob;
use nnlab::config::{BatchSize, ExperimentConfig, TrainingConfig};
use nnlab::data::{Builtin, DataConfig};
use nnlab::lab::compare::{CompareConfig, Regularizer};
use nnlab::models::MlpConfig;
use nnlab::optim::{OptimizerConfig, OptimizerName};

fn main() {
    let (out, backend) = ExampleArgs::parse_or("artifacts/regularization");
    let base = ExperimentConfig::new()
        .with_data(
            DataConfig::new()
                .with_dataset(Some(Builtin::Sine))
                .with_samples(60)
                .with_noise(0.3),
        )
        .with_model(MlpConfig::new().with_hidden(vec![256, 256]).into())
        .with_optimizer(
            OptimizerConfig::new()
                .with_name(OptimizerName::Adam)
                .with_learning_rate(0.003),
        )
        .with_training(
            TrainingConfig::new()
                .with_epochs(400)
                .with_batch_size(BatchSize::Full)
                .with_validation_fraction(0.5),
        );
    let plan = CompareConfig::new()
        .with_optimizers(vec![OptimizerName::Adam])
        .with_regularizers(vec![
            Regularizer::None,
            Regularizer::L2(0.001),
            Regularizer::Dropout(0.3),
            Regularizer::BatchNorm,
            Regularizer::EarlyStop(20),
        ]);
    let job = CompareJob {
        base,
        plan,
        quiet: true,
    };
    let comparison = match run_on(backend, job).and_then(|c| c.save(&out).map(|_| c)) {
        Ok(c) => c,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(error.exit_code());
        }
    };
    println!("a wide MLP on 30 noisy sine points (30 more for validation), on {backend}\n");
    print!("{}", comparison.table());
    println!("\nsaved history.csv and curves.png to {}", out.display());
    let final_valid = |r: &nnlab::lab::compare::VariantRun| {
        r.points
            .last()
            .and_then(|p| p.valid_loss)
            .unwrap_or(f64::INFINITY)
    };
    let plain = final_valid(&comparison.runs[0]);
    let best = comparison.runs[1..]
        .iter()
        .map(final_valid)
        .fold(f64::INFINITY, f64::min);
    println!("final validation loss: none {plain:.4}, best regularized {best:.4}");
    if best > 0.9 * plain {
        eprintln!("error: no regularizer ended at least 10% below the unregularized model");
        std::process::exit(1);
    }
}
