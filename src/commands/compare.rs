//! `nnlab compare`: variants raced from the same initial weights.

use std::io::Write;
use std::path::Path;

use burn::tensor::backend::AutodiffBackend;

use crate::backend::{BackendJob, BackendName, run_on};
use crate::cli::CompareArgs;
use crate::config::ExperimentConfig;
use crate::error::{Error, Result};
use crate::lab::compare::{CompareConfig, Comparison, VariantRun, compare};

use super::experiment::{experiment_config, fit_to_data};
use super::refuse_existing;

/// Trains every variant of a comparison on the data of `base`; the caller saves and prints it.
pub struct CompareJob {
    pub base: ExperimentConfig,
    pub plan: CompareConfig,
    /// No progress bars and no line per finished variant.
    pub quiet: bool,
}

impl BackendJob for CompareJob {
    type Output = Comparison;

    fn run<B: AutodiffBackend>(self, _: BackendName, device: B::Device) -> Result<Self::Output> {
        let CompareJob {
            mut base,
            plan,
            quiet,
        } = self;
        let data = base.load_data()?.data;
        fit_to_data(&mut base, &data)?;
        if let Some(note) = crate::lab::compare::check_variants(&base, &plan, &data)? {
            eprintln!("{note}");
        }
        let variants = plan.variants(&base);
        let report = |run: &VariantRun| {
            if !quiet {
                eprintln!(
                    "trained {} in {:.2}s",
                    run.variant.label(&variants),
                    run.seconds
                );
            }
        };
        compare::<B>(&base, &plan, &data, &device, !quiet, report)
    }
}

pub(super) fn compare_command(args: CompareArgs) -> Result<()> {
    let backend = args.backend.unwrap_or_else(BackendName::default_compiled);
    let base = experiment_config(&args.experiment)?;
    base.validate()?;
    let mut plan = CompareConfig::new()
        .with_learning_rates(args.lr)
        .with_batch_sizes(args.batch_size)
        .with_target_loss(args.target_loss);
    if !args.regularize.is_empty() {
        plan.regularizers = args.regularize;
        plan.optimizers = vec![base.optimizer.name];
    }
    if !args.optimizer.is_empty() {
        plan.optimizers = args.optimizer;
    }
    if let Some(factor) = args.divergence_factor {
        plan.divergence_factor = factor;
    }
    plan.resolved(&base).validate()?;
    let out = args
        .out
        .unwrap_or_else(|| Path::new("artifacts").join(format!("compare-{}", base.data.name())));
    let _lock = crate::run_dir::lock::lock(&out)?;
    refuse_existing(&out, args.overwrite)?;
    let comparison = run_on(
        backend,
        CompareJob {
            base,
            plan,
            quiet: args.quiet,
        },
    )?;
    comparison.save(&out)?;
    if let Some(signal) = comparison.stopped_by {
        return Err(Error::Interrupted {
            signal,
            message: format!(
                "stopped by {} while training variant {}: {} holds the {} finished variants, \
                 marked \"complete\": false",
                crate::interrupt::name(signal),
                comparison.runs.len() + 1,
                out.join("summary.json").display(),
                comparison.runs.len()
            ),
        });
    }
    let text = format!(
        "{} variants on {backend}, {} epochs each, from the same initial weights (training loss {:.6} at epoch 0)\n\n{}\nsaved history.csv, curves.png and curves.svg to {}\n",
        comparison.runs.len(),
        comparison.base.training.epochs,
        comparison.initial_loss,
        comparison.table(),
        out.display()
    );
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Error::io("<stdout>", e))
}
