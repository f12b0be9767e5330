//! Classification two ways, with nnlab's default MLP (standardized features, one hidden
//! layer of 64 ReLU units, Adam 0.001, batch 32, 150 epochs):
//!
//! 1. Real data: Fisher's iris flowers, scored by stratified 5-fold cross-validation.
//! 2. A 2-D problem: two interleaving moons (1000 points, noise 0.2), 20% held out, saved as
//!    a run whose `decision_regions.png` shows where the classifier draws the boundary.
//!
//! Writes `OUT/iris-cv/cv.json` and the run `OUT/moons/` (OUT defaults to
//! `artifacts/classification`); exits 1 if iris scores below 0.953 or the moons below 95%.
//!
//! `cargo run --release --example classification [-- OUT_DIR] [--backend flex|ndarray|wgpu]`

use nnlab::backend::run_on;
use nnlab::cli::ExampleArgs;
use nnlab::commands::{CvJob, TrainJob, describe};
use nnlab::config::{ExperimentConfig, TrainingConfig};
use nnlab::data::{Builtin, DataConfig};
use nnlab::loss::{LossConfig, LossName};
use nnlab::run_dir::RunDir;
use nnlab::{Error, Result};

fn main() {
    let (out, backend) = ExampleArgs::parse_or("artifacts/classification");
    let classifier =
        || ExperimentConfig::new().with_loss(LossConfig::new().with_name(LossName::CrossEntropy));
    let result = (|| -> Result<(f64, f64)> {
        let iris = classifier().with_data(DataConfig::new().with_dataset(Some(Builtin::Iris)));
        let job = CvJob {
            config: iris,
            folds: 5,
            quiet: true,
        };
        let (config, cv) = run_on(backend, job)?;
        cv.save(&out.join("iris-cv"), &config)?;
        println!("iris, 5-fold stratified cross-validation on {backend}:");
        for fold in &cv.folds {
            println!(
                "  fold {}: accuracy {:.4} ({} held out)",
                fold.fold,
                fold.evaluation.score(),
                fold.test_rows
            );
        }
        println!(
            "  accuracy {:.4} ± {:.4}\n",
            cv.mean.unwrap_or(f64::NAN),
            cv.std.unwrap_or(f64::NAN)
        );

        let moons = classifier()
            .with_data(
                DataConfig::new()
                    .with_dataset(Some(Builtin::Moons))
                    .with_samples(1000)
                    .with_noise(0.2),
            )
            .with_training(TrainingConfig::new().with_validation_fraction(0.2));
        let job = TrainJob {
            config: moons,
            out: RunDir::new(out.join("moons")),
            resume: None,
            quiet: true,
            node: None,
            devices: None,
        };
        let report = run_on(backend, job)?;
        let last = report.history.last().expect("at least one epoch");
        let accuracy = last.valid_accuracy.unwrap_or(0.0);
        println!(
            "two moons, noise 0.2: {} epochs on {backend} in {:.2}s; held-out accuracy {:.1}%",
            report.history.len(),
            report.train_seconds,
            100.0 * accuracy
        );
        if let Some(valid) = &report.valid {
            println!("\n{}", describe(valid));
        }
        println!(
            "saved {} (see decision_regions.png) and {}",
            report.dir.display(),
            out.join("iris-cv").display()
        );
        Ok((cv.mean.unwrap_or(f64::NAN), accuracy))
    })();
    match result {
        Ok((iris, moons)) => {
            if iris < 0.953 || moons < 0.95 {
                eprintln!(
                    "error: iris CV accuracy {iris:.4} (needs 0.953) or moons held-out {moons:.4} (needs 0.95) too low"
                );
                std::process::exit(1);
            }
        }
        Err(error) => fail(error),
    }
}

fn fail(error: Error) -> ! {
    eprintln!("error: {error}");
    std::process::exit(error.exit_code());
}
