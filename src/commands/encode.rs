//! What `predict`, `encode` and `eval` do with an autoencoder: reconstructions with each row's
//! error, latent codes, and the reconstruction error (a VAE's negative ELBO too) of rows.

use std::io::Write;

use burn::tensor::backend::AutodiffBackend;

use crate::backend::{BackendJob, BackendName, run_on};
use crate::cli::EncodeArgs;
use crate::config::ExperimentConfig;
use crate::error::{Error, Result};
use crate::eval::generative;
use crate::run_dir::RunDir;

use super::csv_bytes;
use super::input::Input;

/// What is asked of an autoencoder's run.
#[derive(Clone, PartialEq, Eq)]
pub(super) enum Ask {
    /// The reconstruction of each row and its error (`predict`).
    Reconstruct,
    /// The code of each row (`encode`).
    Encode,
    /// The reconstruction error of the rows as a whole (`eval`), and the ROC AUC of each
    /// row's error against the 0/1 column named, if one is.
    Score(Option<String>),
}

pub(super) struct AutoencoderJob {
    pub dir: RunDir,
    pub input: Input,
    pub last: bool,
    pub ask: Ask,
}

/// A table for stdout: a header and rows of numbers.
pub(super) struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Refuses a run that is not an autoencoder, naming what it is; `command` is what was run.
pub(super) fn check_autoencoder(
    config: &ExperimentConfig,
    dir: &RunDir,
    command: &str,
) -> Result<()> {
    if config.model.reconstructs() {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "{command} needs an autoencoder or a VAE, but {} holds a {} (--model {})",
        dir.path.display(),
        if config.model.is_generative() {
            "GAN: it has no encoder"
        } else {
            "model with a target"
        },
        config.model.kind_name()
    )))
}

impl BackendJob for AutoencoderJob {
    type Output = Table;

    fn run<B: AutodiffBackend>(self, _: BackendName, device: B::Device) -> Result<Table> {
        let (config, info) = self.dir.load_meta()?;
        let command = match self.ask {
            Ask::Reconstruct => "predict",
            Ask::Encode => "encode",
            Ask::Score(_) => "eval",
        };
        check_autoencoder(&config, &self.dir, command)?;
        let model = self
            .dir
            .load_chosen::<B::InnerBackend>(&config, &info, self.last, &device)?;
        let scaler = self.dir.load_scaler(&info)?;
        let (rows, names) = self.input.rows(&config, &info)?;
        let text = |v: &f64| v.to_string();
        let named = |i: usize| names.as_ref().map(|n| n[i].clone());
        let mut header: Vec<String> = names.iter().map(|_| "image".to_string()).collect();
        Ok(match self.ask {
            Ask::Encode => {
                let (codes, k) = generative::encode(&model, &scaler, &rows, &device)
                    .expect("an autoencoder encodes");
                header.extend((1..=k).map(|i| format!("z{i}")));
                let rows = codes
                    .chunks(k)
                    .enumerate()
                    .map(|(i, c)| named(i).into_iter().chain(c.iter().map(text)).collect())
                    .collect();
                Table { header, rows }
            }
            Ask::Reconstruct => {
                let r = generative::reconstruct(&model, &scaler, &rows, &device);
                header.extend(info.feature_names.iter().cloned());
                header.push("reconstruction_error".into());
                let width = info.feature_names.len();
                let rows = r
                    .values
                    .chunks(width)
                    .zip(&r.errors)
                    .enumerate()
                    .map(|(i, (v, e))| {
                        let values = v.iter().chain([e]).map(text);
                        named(i).into_iter().chain(values).collect()
                    })
                    .collect();
                Table { header, rows }
            }
            Ask::Score(label) => {
                let anomalies = match label {
                    Some(column) => Some(anomaly_labels(&self.input, &column)?),
                    None => None,
                };
                score(&model, &scaler, &rows, anomalies.as_deref(), &device)?
            }
        })
    }
}

/// The reconstruction MSE of `rows` (input units), and a VAE's negative ELBO per row.
fn score<B: burn::tensor::backend::Backend>(
    model: &crate::models::Network<B>,
    scaler: &crate::data::scale::Scaler,
    rows: &[f64],
    anomalies: Option<&[bool]>,
    device: &B::Device,
) -> Result<Table> {
    let r = generative::reconstruct(model, scaler, rows, device);
    let mut table = vec![
        ("rows", r.errors.len() as f64),
        ("reconstruction_mse", r.mse()),
    ];
    if let Some(elbo) = generative::negative_elbo(model, scaler, rows, device) {
        table.push(("negative_elbo_per_row", elbo));
    }
    if let Some(anomalies) = anomalies {
        let auc = generative::roc_auc(&r.errors, anomalies).ok_or_else(|| {
            Error::Usage(
                "--anomaly-label needs rows of both kinds (some 1, some 0) for a ROC AUC".into(),
            )
        })?;
        table.push(("anomalies", anomalies.iter().filter(|&&a| a).count() as f64));
        table.push(("anomaly_roc_auc", auc));
    }
    Ok(Table {
        header: table.iter().map(|(k, _)| k.to_string()).collect(),
        rows: vec![table.iter().map(|(_, v)| v.to_string()).collect()],
    })
}

/// The 0/1 column `column` of a CSV input, as whether each row is an anomaly.
fn anomaly_labels(input: &Input, column: &str) -> Result<Vec<bool>> {
    let Input::Csv { path, delimiter } = input else {
        return Err(Error::Usage(
            "--anomaly-label names a column of a CSV --input".into(),
        ));
    };
    let values = crate::data::csv::read_features(path, &[column.to_string()], *delimiter)?;
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| match v {
            0.0 => Ok(false),
            1.0 => Ok(true),
            other => Err(Error::Data {
                path: path.clone(),
                line: Some(i as u64 + 2),
                column: Some(column.to_string()),
                message: format!("is {other}: an anomaly label is 1 (anomaly) or 0 (normal)"),
            }),
        })
        .collect()
}

/// Writes a table to stdout as CSV.
pub(super) fn print_csv(table: &Table) -> Result<()> {
    let bytes = csv_bytes("<stdout>", &table.header, &table.rows)?;
    std::io::stdout()
        .lock()
        .write_all(&bytes)
        .map_err(|e| Error::io("<stdout>", e))
}

pub(super) fn encode_command(args: EncodeArgs) -> Result<()> {
    let backend = args.backend.unwrap_or_else(BackendName::default_compiled);
    let job = AutoencoderJob {
        dir: RunDir::new(&args.checkpoint),
        input: Input::unlabelled(args.rows),
        last: args.last,
        ask: Ask::Encode,
    };
    print_csv(&run_on(backend, job)?)
}
