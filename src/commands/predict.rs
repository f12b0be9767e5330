//! `nnlab predict`: a saved run's predictions for new rows or images.

use std::path::Path;

use burn::tensor::backend::{AutodiffBackend, Backend};

use crate::backend::{BackendJob, BackendName, run_on};
use crate::cli::PredictArgs;
use crate::config::ExperimentConfig;
use crate::data::scale::Scaler;
use crate::data::sequence::series::read_series;
use crate::error::{Error, Result};
use crate::eval::predict::{Predictions, predict};
use crate::models::Network;
use crate::run_dir::{RunDir, RunInfo};

use super::encode::{Ask, AutoencoderJob, print_csv};
use super::input::Input;

pub(super) struct PredictJob {
    dir: RunDir,
    input: Input,
    last: bool,
    /// Values to forecast after a series (`--steps`; the run's horizon when unset).
    steps: Option<usize>,
}

/// The column that names each output row, and the names.
type Names = Option<(&'static str, Vec<String>)>;

impl BackendJob for PredictJob {
    /// The predictions, with the name of each image when the input was images, or the step
    /// of each forecast of a series.
    type Output = (Predictions, Names);

    fn run<B: AutodiffBackend>(self, _: BackendName, device: B::Device) -> Result<Self::Output> {
        let (config, info) = self.dir.load_meta()?;
        let model = self
            .dir
            .load_chosen::<B::InnerBackend>(&config, &info, self.last, &device)?;
        let scaler = self.dir.load_scaler(&info)?;
        if let (true, Input::Csv { path, delimiter }) = (config.data.is_series(), &self.input) {
            let read = ReadSeries {
                path,
                delimiter: *delimiter,
                columns: series_columns(&config, &info),
                target: &info.target_name,
            };
            let steps = self.steps.unwrap_or(config.data.horizon);
            let forecasts = forecast(&model, &config, &scaler, read, steps, &device)?;
            let steps = (1..=forecasts.len()).map(|k| format!("t+{k}")).collect();
            return Ok((Predictions::Values(forecasts), Some(("step", steps))));
        }
        if self.steps.is_some() {
            return Err(Error::Usage(format!(
                "--steps forecasts a series, but {} was not trained on one",
                self.dir.path.display()
            )));
        }
        let (features, names) = self.input.rows(&config, &info)?;
        let names = names.map(|n| ("image", n));
        let predictions = predict(
            &model,
            config.loss.name,
            info.classes.as_deref(),
            &scaler,
            &features,
            info.feature_names.len(),
            &device,
        );
        Ok((predictions, names))
    }
}

/// The columns of a series run's CSV file: the ones it trained on (a built-in series: its
/// target).
fn series_columns(config: &ExperimentConfig, info: &RunInfo) -> Vec<String> {
    config
        .data
        .series
        .clone()
        .unwrap_or_else(|| vec![info.target_name.clone()])
}

/// Where the series to forecast from is.
struct ReadSeries<'a> {
    path: &'a Path,
    delimiter: Option<char>,
    columns: Vec<String>,
    target: &'a str,
}

/// Forecasts `steps` values after the last row of a series: the last window, read as in
/// training, through the model, which forecasts the run's horizon at once; beyond it, the
/// forecasts join the series and the next window forecasts from them (a series of one column
/// only: other columns have no future values).
fn forecast<B: Backend>(
    model: &Network<B>,
    config: &ExperimentConfig,
    scaler: &Scaler,
    read: ReadSeries,
    steps: usize,
    device: &B::Device,
) -> Result<Vec<f32>> {
    let mut series = read_series(read.path, &read.columns, read.target, read.delimiter)?;
    let (window, horizon) = (config.data.window(), config.data.horizon);
    if series.steps() < window {
        return Err(Error::Data {
            path: read.path.to_path_buf(),
            line: None,
            column: None,
            message: format!(
                "has {} rows but the run forecasts from windows of {window}: give at least \
                 {window} rows of the series",
                series.steps()
            ),
        });
    }
    if steps == 0 || (steps > horizon && series.names.len() > 1) {
        return Err(Error::Usage(format!(
            "--steps must be 1 or more, and above the run's horizon ({horizon}) only for a \
             series of one column (the run's has {}: their future values are unknown)",
            series.names.len()
        )));
    }
    let relative = config.data.relative;
    let base = config.data.target_base();
    let mut out = Vec::with_capacity(steps);
    while out.len() < steps {
        let end = series.steps();
        let x = series.window_features(end, window, relative);
        let Predictions::Values(v) =
            predict(model, config.loss.name, None, scaler, &x, x.len(), device)
        else {
            unreachable!("a series run is a regression")
        };
        let target = series.target_values();
        for (h, change) in v.into_iter().take(steps - out.len()).enumerate() {
            let next = f64::from(change) + base.value(&series, &target, end, h + 1);
            out.push(next as f32);
            series.values.push(next);
        }
    }
    Ok(out)
}

pub(super) fn predict_command(args: PredictArgs) -> Result<()> {
    let backend = args.backend.unwrap_or_else(BackendName::default_compiled);
    let input = Input::unlabelled(args.rows);
    let dir = RunDir::new(&args.checkpoint);
    let (config, _) = dir.load_meta()?;
    if config.model.gan().is_some() {
        return Err(Error::Usage(format!(
            "{} holds a GAN, which has no predictions: new rows come from `nnlab generate \
             --checkpoint {}`",
            dir.path.display(),
            dir.path.display()
        )));
    }
    if config.model.reconstructs() {
        let job = AutoencoderJob {
            dir,
            input,
            last: args.last,
            ask: Ask::Reconstruct,
        };
        return print_csv(&run_on(backend, job)?);
    }
    let (predictions, names) = run_on(
        backend,
        PredictJob {
            dir: RunDir::new(&args.checkpoint),
            input,
            last: args.last,
            steps: args.steps,
        },
    )?;
    let stdout = std::io::stdout().lock();
    let names = names.as_ref().map(|(h, n)| (*h, n.as_slice()));
    predictions
        .write_csv(stdout, names)
        .map_err(|e| Error::io("<stdout>", std::io::Error::other(e)))
}
