//! `nnlab gradcheck`: autodiff gradients against finite differences.

use std::io::Write;

use burn::tensor::backend::AutodiffBackend;

use crate::backend::{BackendJob, BackendName, run_f64};
use crate::cli::GradcheckArgs;
use crate::config::ExperimentConfig;
use crate::error::{Error, Result};
use crate::lab::gradcheck::{ParamCheck, gradcheck};

use super::experiment::fit_to_data;

pub(super) struct GradcheckJob {
    config: ExperimentConfig,
    rows: usize,
}

impl BackendJob for GradcheckJob {
    type Output = (usize, Vec<ParamCheck>);

    fn run<B: AutodiffBackend>(self, _: BackendName, device: B::Device) -> Result<Self::Output> {
        let mut config = self.config;
        let data = config.load_data()?.data;
        fit_to_data(&mut config, &data)?;
        let rows: Vec<usize> = (0..data.rows().min(self.rows)).collect();
        let model = config.model.init::<B>(config.training.seed, &device);
        let checks = gradcheck(&model, &config.loss, &data.subset(&rows), &device);
        Ok((rows.len(), checks))
    }
}

pub(super) fn gradcheck_command(args: GradcheckArgs) -> Result<()> {
    if args.rows == 0 {
        return Err(Error::Usage("--rows must be at least 1".into()));
    }
    let config = ExperimentConfig::load_file(&args.config)?;
    let (rows, checks) = run_f64(GradcheckJob {
        config,
        rows: args.rows,
    })?;
    let mut text = format!(
        "gradient check at the initial weights: loss over {rows} rows, {} f64, central differences (4th order, h = {:e}); training mode on both sides (batch statistics, one fixed dropout mask)\n\n{:<18} {:<10} {:>12} {:>16}\n",
        BackendName::default_compiled(),
        crate::lab::gradcheck::STEP,
        "parameter",
        "shape",
        "max |grad|",
        "max rel. error"
    );
    for c in &checks {
        text += &format!(
            "{:<18} {:<10} {:>12.3e} {:>16.3e}\n",
            c.name,
            format!("{:?}", c.shape),
            c.max_gradient,
            c.max_relative_error
        );
    }
    let worst = checks
        .iter()
        .map(|c| c.max_relative_error)
        .fold(0.0, f64::max);
    text += &format!(
        "\nlargest relative error {worst:.3e} (relative to max(|autodiff|, |numeric|, {:e}))\n",
        crate::lab::gradcheck::FLOOR
    );
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Error::io("<stdout>", e))
}
