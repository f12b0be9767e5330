//! `nnlab predict`: a saved run's predictions for new rows or images.

use burn::tensor::backend::AutodiffBackend;

use crate::backend::{BackendJob, BackendName, run_on};
use crate::cli::PredictArgs;
use crate::error::{Error, Result};
use crate::eval::predict::{Predictions, predict};
use crate::run_dir::RunDir;

use super::input::Input;

pub(super) struct PredictJob {
    dir: RunDir,
    input: Input,
    last: bool,
}

impl BackendJob for PredictJob {
    /// The predictions, with the name of each image when the input was images.
    type Output = (Predictions, Option<Vec<String>>);

    fn run<B: AutodiffBackend>(self, _: BackendName, device: B::Device) -> Result<Self::Output> {
        let (config, info) = self.dir.load_meta()?;
        let model = self
            .dir
            .load_chosen::<B::InnerBackend>(&config, &info, self.last, &device)?;
        let scaler = self.dir.load_scaler(&info)?;
        let (features, names) = self.input.rows(&config, &info)?;
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

pub(super) fn predict_command(args: PredictArgs) -> Result<()> {
    let backend = args.backend.unwrap_or_else(BackendName::default_compiled);
    let idx = args.idx_images.map(|images| (images, None));
    let input = Input::new(args.input, args.images, idx, args.delimiter);
    let (predictions, names) = run_on(
        backend,
        PredictJob {
            dir: RunDir::new(&args.checkpoint),
            input,
            last: args.last,
        },
    )?;
    let stdout = std::io::stdout().lock();
    predictions
        .write_csv(stdout, names.as_deref())
        .map_err(|e| Error::io("<stdout>", std::io::Error::other(e)))
}
