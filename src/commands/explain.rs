//! `nnlab explain`: which input columns a saved run's answers depend on, as the drop in its
//! score when each column is shuffled (permutation importance).

use std::path::{Path, PathBuf};

use burn::tensor::backend::AutodiffBackend;

use crate::backend::{BackendJob, BackendName, run_on};
use crate::cli::{ExplainArgs, ExplainMethod};
use crate::error::{Error, Result};
use crate::eval::importance::{Importance, permutation_importance};
use crate::plot::charts::table;
use crate::plot::importance::plot_importance;
use crate::run_dir::RunDir;
use crate::run_dir::record::write_atomic;

use super::eval::Scorer;
use super::holds_results;
use super::input::Input;

/// The table of drops that `explain` writes.
pub const IMPORTANCE_CSV: &str = "importance.csv";

struct ImportanceJob {
    dir: RunDir,
    input: Input,
    repeats: usize,
    seed: u64,
    last: bool,
}

impl BackendJob for ImportanceJob {
    type Output = Importance;

    fn run<B: AutodiffBackend>(self, _: BackendName, device: B::Device) -> Result<Importance> {
        let scorer = Scorer::<B::InnerBackend>::load(&self.dir, &self.input, self.last, &device)?;
        let score = |rows: &[f64]| {
            let evaluation = scorer.score(rows);
            (evaluation.score_name().to_owned(), evaluation.score())
        };
        Ok(permutation_importance(
            &scorer.data,
            self.repeats,
            self.seed,
            score,
        ))
    }
}

pub(super) fn explain_command(args: ExplainArgs) -> Result<()> {
    let ExplainMethod::Permutation = args.method;
    let backend = args.backend.unwrap_or_else(BackendName::default_compiled);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&args.checkpoint));
    check_out(&out, args.overwrite)?;
    let job = ImportanceJob {
        dir: RunDir::new(&args.checkpoint),
        input: Input::new(Some(args.input.clone()), None, None, args.delimiter),
        repeats: args.repeats as usize,
        seed: args.seed,
        last: args.last,
    };
    let importance = run_on(backend, job)?;
    std::fs::create_dir_all(&out).map_err(|e| Error::io(&out, e))?;
    write_atomic(&out.join(IMPORTANCE_CSV), &csv(&importance)?)?;
    let title = format!(
        "{}: drop in {} when a column is shuffled ({} times)",
        args.checkpoint.display(),
        importance.score_name,
        args.repeats
    );
    plot_importance(&out, &title, &importance)?;
    println!(
        "{} on {}: permutation importance, {} shuffles per column (seed {})",
        args.checkpoint.display(),
        args.input.display(),
        args.repeats,
        args.seed
    );
    println!(
        "{} on the rows as given: {:.4}\n",
        importance.score_name, importance.baseline
    );
    print!("{}", text_table(&importance));
    println!("\nsaved to {}", out.display());
    Ok(())
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
fn check_out(out: &Path, overwrite: bool) -> Result<()> {
    if holds_results(out) {
        return Err(Error::Usage(format!(
            "{} holds a run, a comparison or a cross-validation; choose another --out",
            out.display()
        )));
    }
    if out.join(IMPORTANCE_CSV).exists() && !overwrite {
        return Err(Error::Usage(format!(
            "{} already holds an explanation; pass --overwrite to replace it or --out to choose \
             another directory",
            out.display()
        )));
    }
    Ok(())
}

/// One row per column, the largest mean drop first: rank, column, mean and standard deviation
/// of the drops, then each drop.
fn csv(importance: &Importance) -> Result<Vec<u8>> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    let repeats = importance.features.first().map_or(0, |f| f.drops.len());
    let mut header = vec![
        "rank".into(),
        "feature".into(),
        "mean_drop".into(),
        "std_drop".into(),
    ];
    header.extend((1..=repeats).map(|r| format!("drop_{r}")));
    let error = |e: ::csv::Error| Error::io(IMPORTANCE_CSV, std::io::Error::other(e));
    writer.write_record(&header).map_err(error)?;
    for (rank, i) in importance.ranking().into_iter().enumerate() {
        let feature = &importance.features[i];
        let mut row = vec![(rank + 1).to_string(), feature.name.clone()];
        row.push(feature.mean().to_string());
        row.push(feature.std().to_string());
        row.extend(feature.drops.iter().map(f64::to_string));
        writer.write_record(&row).map_err(error)?;
    }
    writer
        .into_inner()
        .map_err(|e| error(e.into_error().into()))
}

/// The printed table, the largest mean drop first.
fn text_table(importance: &Importance) -> String {
    let drop = format!("drop in {}", importance.score_name);
    let rows: Vec<Vec<String>> = importance
        .ranking()
        .into_iter()
        .enumerate()
        .map(|(rank, i)| {
            let feature = &importance.features[i];
            vec![
                (rank + 1).to_string(),
                feature.name.clone(),
                format!("{:.4}", feature.mean()),
                format!("{:.4}", feature.std()),
            ]
        })
        .collect();
    table(&["rank", "feature", &drop, "± std"], &rows, &[1])
}
