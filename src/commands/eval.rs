//! `nnlab eval`: a saved run scored on labelled rows.

use std::io::Write;

use burn::tensor::backend::{AutodiffBackend, Backend};

use crate::backend::{BackendJob, BackendName, run_on};
use crate::cli::EvalArgs;
use crate::config::ExperimentConfig;
use crate::data::Dataset;
use crate::data::scale::Scaler;
use crate::error::{Error, Result};
use crate::eval::baseline::{Report, baselines};
use crate::eval::metrics::{Evaluation, evaluate};
use crate::eval::predict::predict;
use crate::loss::LossName;
use crate::models::Network;
use crate::run_dir::{RunDir, RunInfo};

use super::describe;
use super::encode::{Ask, AutoencoderJob, Table, check_autoencoder};
use super::input::{Input, run_data};

/// A saved run loaded to score labelled rows: what `eval` does once and `explain` many times.
pub(super) struct Scorer<B: Backend> {
    loss: LossName,
    pub classes: Option<Vec<String>>,
    pub model: Network<B>,
    pub scaler: Scaler,
    /// The labelled rows read from the input.
    pub data: Dataset,
    device: B::Device,
}

impl<B: Backend> Scorer<B> {
    /// The run in `dir` (its best epoch's weights, or its last with `last`) and `input`'s rows.
    pub(super) fn load(
        dir: &RunDir,
        input: &Input,
        last: bool,
        device: &B::Device,
    ) -> Result<Self> {
        let (config, info) = dir.load_meta()?;
        // `eval` takes these runs elsewhere; `explain` cannot.
        super::refuse_generative(&config, &dir.path.display().to_string(), "explain")?;
        let model = dir.load_chosen::<B>(&config, &info, last, device)?;
        let scaler = dir.load_scaler(&info)?;
        let data = input.labelled(&config, &info)?;
        Ok(Scorer {
            loss: config.loss.name,
            classes: info.classes,
            model,
            scaler,
            data,
            device: device.clone(),
        })
    }

    /// The metrics of the model's predictions for `rows` (laid out as the input's) against
    /// the input's targets.
    pub(super) fn score(&self, rows: &[f64]) -> Evaluation {
        let predictions = predict(
            &self.model,
            self.loss,
            self.classes.as_deref(),
            &self.scaler,
            rows,
            self.data.width(),
            &self.device,
        );
        evaluate(&predictions, &self.data.targets, self.data.rows())
    }
}

struct EvalJob {
    dir: RunDir,
    input: Input,
    last: bool,
}

impl BackendJob for EvalJob {
    /// The metrics, and the rows they were computed on.
    type Output = (Evaluation, Dataset);

    fn run<B: AutodiffBackend>(self, _: BackendName, device: B::Device) -> Result<Self::Output> {
        let scorer = Scorer::<B::InnerBackend>::load(&self.dir, &self.input, self.last, &device)?;
        Ok((scorer.score(&scorer.data.features), scorer.data))
    }
}

/// The baselines fitted on the run's own training rows (its data rebuilt from its config and
/// split as `train` split it) and scored on `rows`; `None` for a series or text run, whose
/// rows are windows or tokens. A run whose data can no longer be read gets a line saying so.
fn eval_baselines(
    config: &ExperimentConfig,
    info: &RunInfo,
    rows: &Dataset,
    network: &Evaluation,
) -> Option<Report> {
    if config.data.is_series() || config.data.is_text() {
        return None;
    }
    let data = match run_data(config, info, "") {
        Ok(data) => data,
        Err(e) => {
            return Some(Report {
                line: format!("baselines not scored: the run's training data: {e}"),
                note: None,
                json: serde_json::json!({ "error": e.to_string() }),
            });
        }
    };
    let train = data.subset(&crate::train::split_rows(config, &data).train);
    let found = baselines(&train, rows);
    let named = format!(
        "these {} rows, fitted on the run's {} training rows",
        rows.rows(),
        train.rows()
    );
    Report::new(&found, network, &named, rows.rows())
}

pub(super) fn eval_command(args: EvalArgs) -> Result<()> {
    let backend = args.backend.unwrap_or_else(BackendName::default_compiled);
    let input = Input::labelled_rows(&args.source);
    let shown = input.path().display().to_string();
    let dir = RunDir::new(&args.checkpoint);
    let (config, info) = dir.load_meta()?;
    if config.model.is_generative() {
        check_autoencoder(&config, &dir, "eval")?;
        let job = AutoencoderJob {
            dir,
            input,
            last: args.last,
            ask: Ask::Score(args.anomaly_label.clone()),
        };
        let table = run_on(backend, job)?;
        return print_scores(
            &table,
            args.json,
            &format!("{} on {shown}", args.checkpoint.display()),
        );
    }
    if args.anomaly_label.is_some() {
        return Err(Error::Usage(format!(
            "--anomaly-label scores an autoencoder's reconstruction errors, and {} is a --model \
             {} run",
            args.checkpoint.display(),
            config.model.kind_name()
        )));
    }
    let (evaluation, rows) = run_on(
        backend,
        EvalJob {
            dir: RunDir::new(&args.checkpoint),
            input,
            last: args.last,
        },
    )?;
    let baselines = eval_baselines(&config, &info, &rows, &evaluation);
    let text = if args.json {
        let mut json = serde_json::to_value(&evaluation).expect("metrics serialize");
        if let Some(b) = baselines {
            json["baselines"] = b.json;
        }
        serde_json::to_string_pretty(&json).expect("metrics serialize") + "\n"
    } else {
        let mut text = format!(
            "{} on {}\n\n{}",
            args.checkpoint.display(),
            shown,
            describe(&evaluation)
        );
        if let Some(b) = &baselines {
            text += &format!("\n{}\n", b.line);
            if let Some(note) = &b.note {
                text += &format!("{note}\n");
            }
        }
        text
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Error::io("<stdout>", e))
}

/// An autoencoder's scores: `name value` lines under a title, or one JSON object.
fn print_scores(table: &Table, json: bool, title: &str) -> Result<()> {
    let pairs = table.header.iter().zip(&table.rows[0]);
    let text = if json {
        let map: serde_json::Map<String, serde_json::Value> = pairs
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.parse::<f64>().map_or(serde_json::Value::Null, Into::into),
                )
            })
            .collect();
        serde_json::to_string_pretty(&map).expect("scores serialize") + "\n"
    } else {
        let lines: String = pairs.map(|(k, v)| format!("{k} {v}\n")).collect();
        format!("{title}\n\n{lines}")
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Error::io("<stdout>", e))
}
