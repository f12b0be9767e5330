//! What each subcommand does, on whichever backend was chosen.

mod compare;
mod cv;
mod distill;
mod encode;
mod eval;
mod experiment;
mod explain;
mod export;
mod generate;
mod gradcheck;
mod info;
mod input;
mod orchestrate;
mod predict;
mod prune;
mod quantize;
mod serve;
mod train;

pub use compare::CompareJob;
pub use cv::CvJob;
pub use experiment::{fit_to_data, train_config};
pub use train::{TrainJob, TrainReport};

use std::path::{Path, PathBuf};

use crate::backend::{BackendJob, BackendName, run_on};
use crate::cli::Command;
use crate::error::{Error, Result};
use crate::eval::metrics::Evaluation;
use crate::lab::compare::HISTORY;
use crate::lab::cv::CV_REPORT;
use crate::run_dir::RunDir;

/// Runs one parsed command.
pub fn run(command: Command) -> Result<()> {
    match command {
        Command::Train(args) => train::train(*args),
        Command::Predict(args) => predict::predict_command(args),
        Command::Eval(args) => eval::eval_command(args),
        Command::Cv(args) => cv::cv_command(*args),
        Command::Info(args) => info::info(args),
        Command::Compare(args) => compare::compare_command(*args),
        Command::Gradcheck(args) => gradcheck::gradcheck_command(args),
        Command::Datasets(args) => info::datasets(args),
        Command::Export(args) => export::export_command(args),
        Command::Explain(args) => explain::explain_command(args),
        Command::Quantize(args) => quantize::quantize_command(args),
        Command::Prune(args) => prune::prune_command(args),
        Command::Distill(args) => distill::distill_command(*args),
        Command::Encode(args) => encode::encode_command(args),
        Command::Generate(args) => generate::generate_command(args),
        Command::Serve(args) => serve::serve_command(args),
        Command::Orchestrate(args) => orchestrate::orchestrate_command(args),
    }
}

/// Refuses to write into a directory that holds a run, a comparison or a cross-validation,
/// unless told to overwrite.
pub(super) fn refuse_existing(out: &Path, overwrite: bool) -> Result<()> {
    if holds_results(out) && !overwrite {
        return Err(Error::Usage(format!(
            "{} already holds a run; pass --overwrite to replace it or --out to choose another directory",
            out.display()
        )));
    }
    Ok(())
}

/// Whether `dir` holds a run, a comparison or a cross-validation.
pub(super) fn holds_results(dir: &Path) -> bool {
    RunDir::new(dir).exists() || dir.join(HISTORY).exists() || dir.join(CV_REPORT).exists()
}

/// Refuses `command` on a run of a model without a target (an autoencoder, a VAE, a GAN):
/// it scores predictions of a target, which these models do not make. `what` names the run.
pub(super) fn refuse_generative(
    config: &crate::config::ExperimentConfig,
    what: &str,
    command: &str,
) -> Result<()> {
    if !config.model.is_generative() {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "{command} scores predictions of a target, and {what} is a --model {} run, which has none: \
         its reconstructions and samples are scored by `nnlab eval` and `nnlab generate`",
        config.model.kind_name()
    )))
}

/// The name of a config enum value, as written in JSON.
pub(super) fn name<T: serde::Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// An evaluation as text: the metrics, and for classification the per-class table and the
/// confusion matrix.
pub fn describe(evaluation: &Evaluation) -> String {
    match evaluation {
        Evaluation::Regression(m) => format!(
            "rows {}\nMSE  {:.6}\nRMSE {:.6}\nMAE  {:.6}\nR²   {:.4}\n",
            m.rows, m.mse, m.rmse, m.mae, m.r2
        ),
        Evaluation::Classification(m) => {
            let mut rows: Vec<Vec<String>> = m
                .classes
                .iter()
                .map(|c| {
                    vec![
                        c.label.clone(),
                        format!("{:.4}", c.precision),
                        format!("{:.4}", c.recall),
                        format!("{:.4}", c.f1),
                        c.support.to_string(),
                    ]
                })
                .collect();
            rows.push(vec![
                "macro average".into(),
                format!("{:.4}", m.macro_precision),
                format!("{:.4}", m.macro_recall),
                format!("{:.4}", m.macro_f1),
                m.rows.to_string(),
            ]);
            let scores = crate::plot::charts::table(
                &["class", "precision", "recall", "F1", "rows"],
                &rows,
                &[0],
            );
            let mut header = vec!["true \\ predicted".to_string()];
            header.extend(m.classes.iter().map(|c| c.label.clone()));
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            let confusion: Vec<Vec<String>> = m
                .classes
                .iter()
                .zip(&m.confusion)
                .map(|(c, row)| {
                    std::iter::once(c.label.clone())
                        .chain(row.iter().map(usize::to_string))
                        .collect()
                })
                .collect();
            format!(
                "rows {}\naccuracy {:.4}\n\n{scores}\nconfusion matrix (rows: true class, columns: predicted)\n{}",
                m.rows,
                m.accuracy,
                crate::plot::charts::table(&header, &confusion, &[0])
            )
        }
    }
}

/// Runs a backend-neutral job (file conversion) on the default backend.
pub(super) fn run_f32<J: BackendJob>(job: J) -> Result<J::Output> {
    run_on(BackendName::default_compiled(), job)
}

/// `header` and `rows` as CSV bytes, for `file` (named in an error).
pub(super) fn csv_bytes(file: &str, header: &[String], rows: &[Vec<String>]) -> Result<Vec<u8>> {
    let error = |e: ::csv::Error| Error::io(file, std::io::Error::other(e));
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    writer.write_record(header).map_err(error)?;
    for row in rows {
        writer.write_record(row).map_err(error)?;
    }
    writer
        .into_inner()
        .map_err(|e| error(e.into_error().into()))
}

/// `DIR-SUFFIX` beside the run directory `DIR`: where a run made from it goes by default.
pub(super) fn beside(checkpoint: &Path, suffix: &str) -> PathBuf {
    let name = checkpoint
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    checkpoint.with_file_name(format!("{name}-{suffix}"))
}
