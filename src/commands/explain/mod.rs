//! `nnlab explain`: which input columns a saved run's answers depend on, as the drop in its
//! score when each column is shuffled ([`importance`]), or as per-row attributions
//! ([`attribution`]).

mod attribution;
mod importance;

use std::path::{Path, PathBuf};

use crate::backend::BackendName;
use crate::cli::{ExplainArgs, ExplainMethod};
use crate::error::{Error, Result};
use crate::eval::attribution::Method;

use super::{csv_bytes, holds_results};

/// The table of drops that `explain --method permutation` writes.
pub const IMPORTANCE_CSV: &str = "importance.csv";

/// The per-row attributions that the gradient methods write.
pub const ATTRIBUTIONS_CSV: &str = "attributions.csv";

pub(super) fn explain_command(args: ExplainArgs) -> Result<()> {
    let backend = args.backend.unwrap_or_else(BackendName::default_compiled);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&args.checkpoint));
    let method = match args.method {
        ExplainMethod::Permutation => {
            if args.class.is_some() {
                return Err(Error::Usage(
                    "--class chooses the output the gradient methods attribute; permutation \
                     importance measures the drop in the whole score"
                        .into(),
                ));
            }
            check_out(&out, IMPORTANCE_CSV, args.overwrite)?;
            return importance::permutation(&args, backend, &out);
        }
        ExplainMethod::Gradient => Method::Gradient,
        ExplainMethod::IntegratedGradients => Method::IntegratedGradients {
            steps: args.steps as usize,
        },
    };
    check_out(&out, ATTRIBUTIONS_CSV, args.overwrite)?;
    attribution::attributions(&args, backend, &out, method)
}

/// `artifacts/explain-RUN`, RUN the run directory's name.
fn default_out(checkpoint: &Path) -> PathBuf {
    let run = checkpoint
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "run".into());
    PathBuf::from("artifacts").join(format!("explain-{run}"))
}

/// Refuses to write into a run, comparison or cross-validation directory, and to replace an
/// earlier explanation without `--overwrite`.
fn check_out(out: &Path, file: &str, overwrite: bool) -> Result<()> {
    if holds_results(out) {
        return Err(Error::Usage(format!(
            "{} holds a run, a comparison or a cross-validation; choose another --out",
            out.display()
        )));
    }
    if out.join(file).exists() && !overwrite {
        return Err(Error::Usage(format!(
            "{} already holds an explanation; pass --overwrite to replace it or --out to choose \
             another directory",
            out.display()
        )));
    }
    Ok(())
}
