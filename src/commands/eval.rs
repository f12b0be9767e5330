//! `nnlab eval`: a saved run scored on labelled rows.

use std::io::Write;

use burn::tensor::backend::AutodiffBackend;

use crate::backend::{BackendJob, BackendName, run_on};
use crate::cli::EvalArgs;
use crate::error::{Error, Result};
use crate::eval::metrics::{Evaluation, evaluate};
use crate::eval::predict::predict;
use crate::run_dir::RunDir;

use super::describe;
use super::input::Input;

pub(super) struct EvalJob {
    dir: RunDir,
    input: Input,
    last: bool,
}

impl BackendJob for EvalJob {
    type Output = Evaluation;

    fn run<B: AutodiffBackend>(self, _: BackendName, device: B::Device) -> Result<Evaluation> {
        let (config, info) = self.dir.load_meta()?;
        let model = self
            .dir
            .load_chosen::<B::InnerBackend>(&config, &info, self.last, &device)?;
        let scaler = self.dir.load_scaler(&info)?;
        let data = self.input.labelled(&config, &info)?;
        let predictions = predict(
            &model,
            config.loss.name,
            info.classes.as_deref(),
            &scaler,
            &data.features,
            data.width(),
            &device,
        );
        Ok(evaluate(&predictions, &data.targets, data.rows()))
    }
}

pub(super) fn eval_command(args: EvalArgs) -> Result<()> {
    let backend = args.backend.unwrap_or_else(BackendName::default_compiled);
    let idx = args.idx_images.map(|images| (images, args.idx_labels));
    let input = Input::new(args.input, args.images, idx, args.delimiter);
    let shown = input.path().display().to_string();
    let evaluation = run_on(
        backend,
        EvalJob {
            dir: RunDir::new(&args.checkpoint),
            input,
            last: args.last,
        },
    )?;
    let text = if args.json {
        serde_json::to_string_pretty(&evaluation).expect("metrics serialize") + "\n"
    } else {
        format!(
            "{} on {}\n\n{}",
            args.checkpoint.display(),
            shown,
            describe(&evaluation)
        )
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Error::io("<stdout>", e))
}
