//! `nnlab cv`: k-fold cross-validation.

use std::io::Write;
use std::path::Path;

use burn::tensor::backend::AutodiffBackend;

use crate::backend::{BackendJob, BackendName, run_on};
use crate::cli::CvArgs;
use crate::config::ExperimentConfig;
use crate::error::{Error, Result};
use crate::lab::cv::{CV_REPORT, CvReport, Fold, cross_validate};
use crate::loss::Task;

use super::experiment::{fit_to_data, train_config};
use super::refuse_existing;

/// Cross-validates the experiment `config` on its data; the caller saves and prints it.
pub struct CvJob {
    pub config: ExperimentConfig,
    pub folds: usize,
    /// No progress bars and no line per fold.
    pub quiet: bool,
}

impl BackendJob for CvJob {
    type Output = (ExperimentConfig, CvReport);

    fn run<B: AutodiffBackend>(self, _: BackendName, device: B::Device) -> Result<Self::Output> {
        let CvJob {
            mut config,
            folds,
            quiet,
        } = self;
        let season = config.fit_season(false)?.filter(|_| !quiet);
        let data = config.load_data()?.data;
        season.inspect(|line| eprintln!("{line}"));
        fit_to_data(&mut config, &data)?;
        if let (_, Some(note)) = crate::lab::cv::check_folds(&config, &data, folds)? {
            eprintln!("{note}");
        }
        let report = |fold: &Fold| {
            if !quiet {
                eprintln!(
                    "fold {}/{folds}: {} {:.4} ({} rows held out, trained in {:.2}s)",
                    fold.fold,
                    fold.evaluation.score_name(),
                    fold.evaluation.score(),
                    fold.test_rows,
                    fold.train_seconds
                );
            }
        };
        let cv = cross_validate::<B>(&config, &data, folds, &device, !quiet, report)?;
        Ok((config, cv))
    }
}

pub(super) fn cv_command(args: CvArgs) -> Result<()> {
    let backend = args.backend.unwrap_or_else(BackendName::default_compiled);
    let config = train_config(&args.experiment, &args.optim)?;
    super::refuse_generative(&config, "the run asked for", "cv")?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("artifacts").join(format!("cv-{}", config.data.name())));
    let _lock = crate::run_dir::lock::lock(&out)?;
    refuse_existing(&out, args.overwrite)?;
    let (config, cv) = run_on(
        backend,
        CvJob {
            config,
            folds: args.folds,
            quiet: args.quiet,
        },
    )?;
    cv.save(&out, &config)?;
    if let Some(signal) = cv.stopped_by {
        return Err(Error::Interrupted {
            signal,
            message: format!(
                "stopped by {} in fold {} of {}: {} holds the {} finished folds, marked \
                 \"complete\": false, and no mean",
                crate::interrupt::name(signal),
                cv.folds.len() + 1,
                args.folds,
                out.join(CV_REPORT).display(),
                cv.folds.len()
            ),
        });
    }
    let (mean, std) = (cv.mean.unwrap_or(f64::NAN), cv.std.unwrap_or(f64::NAN));
    let rows: Vec<Vec<String>> = cv
        .folds
        .iter()
        .map(|f| {
            let mut row = vec![
                f.fold.to_string(),
                f.test_rows.to_string(),
                format!("{:.4}", f.evaluation.score()),
            ];
            row.extend(f.baselines.iter().map(|(_, s)| format!("{s:.4}")));
            row
        })
        .collect();
    let mut header = vec!["fold", "held-out rows", cv.score.as_str()];
    header.extend(cv.baseline_means.iter().map(|(name, _)| name.as_str()));
    let baselines: String = cv
        .baseline_means
        .iter()
        .map(|(name, m)| format!("{name}: {} {m:.4} (mean over the same folds)\n", cv.score))
        .collect();
    let best = cv.baseline_means.iter().max_by(|a, b| a.1.total_cmp(&b.1));
    let note = match best {
        Some((name, m)) if *m > mean => format!(
            "note: {name} scores {} {m:.4} on these folds, the network {mean:.4}\n",
            cv.score
        ),
        _ => String::new(),
    };
    let text = format!(
        "{}-fold cross-validation on {} ({}), {backend}\n\n{}\n{} {:.4} ± {:.4} (mean ± standard deviation over the folds)\n{baselines}{note}saved {} to {}\n",
        args.folds,
        config.data.name(),
        if config.task() == Task::Classification {
            "stratified"
        } else {
            "shuffled"
        },
        crate::plot::charts::table(&header, &rows, &[]),
        cv.score,
        mean,
        std,
        CV_REPORT,
        out.display()
    );
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Error::io("<stdout>", e))
}
