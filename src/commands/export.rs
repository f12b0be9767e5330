//! `nnlab export`: a run's weights as SafeTensors.

use std::path::PathBuf;

use burn::tensor::backend::AutodiffBackend;

use crate::backend::{BackendJob, BackendName};
use crate::cli::ExportArgs;
use crate::error::Result;
use crate::run_dir::RunDir;

use super::run_f32;

pub(super) fn export_command(args: ExportArgs) -> Result<()> {
    let dir = RunDir::new(&args.checkpoint);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.checkpoint.join("model.safetensors"));
    run_f32(ExportJob {
        dir,
        out: out.clone(),
        last: args.last,
    })?;
    eprintln!("wrote {}", out.display());
    Ok(())
}

pub(super) struct ExportJob {
    dir: RunDir,
    out: PathBuf,
    last: bool,
}

impl BackendJob for ExportJob {
    type Output = ();

    fn run<B: AutodiffBackend>(self, _: BackendName, device: B::Device) -> Result<()> {
        let (config, info) = self.dir.load_meta()?;
        let model = self
            .dir
            .load_chosen::<B::InnerBackend>(&config, &info, self.last, &device)?;
        let scaler = self.dir.load_scaler(&info)?;
        crate::run_dir::safetensors::write_safetensors(&self.out, &model, &config, &scaler)
    }
}
