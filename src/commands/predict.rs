//! `nnlab predict`: a saved run's predictions for new rows.

use std::path::PathBuf;

use burn::tensor::backend::AutodiffBackend;

use crate::backend::{BackendJob, BackendName, run_on};
use crate::cli::PredictArgs;
use crate::data::csv;
use crate::error::{Error, Result};
use crate::eval::predict::predict;
use crate::run_dir::RunDir;

pub(super) struct PredictJob {
    dir: RunDir,
    input: PathBuf,
    delimiter: Option<char>,
    last: bool,
}

impl BackendJob for PredictJob {
    type Output = crate::eval::predict::Predictions;

    fn run<B: AutodiffBackend>(self, _: BackendName, device: B::Device) -> Result<Self::Output> {
        let (config, info) = self.dir.load_meta()?;
        let model = self
            .dir
            .load_chosen::<B::InnerBackend>(&config, &info, self.last, &device)?;
        let scaler = self.dir.load_scaler(&info)?;
        let features = csv::read_features(&self.input, &info.feature_names, self.delimiter)?;
        Ok(predict(
            &model,
            config.loss.name,
            info.classes.as_deref(),
            &scaler,
            &features,
            info.feature_names.len(),
            &device,
        ))
    }
}

pub(super) fn predict_command(args: PredictArgs) -> Result<()> {
    let backend = args.backend.unwrap_or_else(BackendName::default_compiled);
    let predictions = run_on(
        backend,
        PredictJob {
            dir: RunDir::new(&args.checkpoint),
            input: args.input,
            delimiter: args.delimiter,
            last: args.last,
        },
    )?;
    let stdout = std::io::stdout().lock();
    predictions
        .write_csv(stdout)
        .map_err(|e| Error::io("<stdout>", std::io::Error::other(e)))
}
