//! `explain --method permutation`: the drop in a run's score when each input column is
//! shuffled, as a table, importance.csv and a bar chart.

use std::path::Path;

use burn::tensor::backend::AutodiffBackend;

use crate::backend::{BackendJob, BackendName, run_on};
use crate::cli::ExplainArgs;
use crate::commands::eval::Scorer;
use crate::commands::input::Input;
use crate::error::{Error, Result};
use crate::eval::importance::{FeatureImportance, Importance, permutation_importance};
use crate::plot::charts::table;
use crate::plot::importance::plot_importance;
use crate::run_dir::RunDir;
use crate::run_dir::record::write_atomic;

use super::{IMPORTANCE_CSV, csv_bytes};

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

/// `explain --method permutation`: importance.csv, the bar chart and the table.
pub(super) fn permutation(args: &ExplainArgs, backend: BackendName, out: &Path) -> Result<()> {
    let input = Input::labelled_rows(&args.source);
    let shown = input.path().display().to_string();
    let job = ImportanceJob {
        dir: RunDir::new(&args.checkpoint),
        input,
        repeats: args.repeats as usize,
        seed: args.seed,
        last: args.last,
    };
    let importance = run_on(backend, job)?;
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    write_atomic(&out.join(IMPORTANCE_CSV), &csv(&importance)?)?;
    let title = format!(
        "{}: drop in {} when a column is shuffled ({} times)",
        args.checkpoint.display(),
        importance.score_name,
        args.repeats
    );
    plot_importance(out, &title, &importance)?;
    println!(
        "{} on {}: permutation importance, {} shuffles per column (seed {})",
        args.checkpoint.display(),
        shown,
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

/// One row per column, the largest mean drop first: rank, column, mean and standard deviation
/// of the drops, then each drop.
fn csv(importance: &Importance) -> Result<Vec<u8>> {
    let repeats = importance.features.first().map_or(0, |f| f.drops.len());
    let mut header: Vec<String> = ["rank", "feature", "mean_drop", "std_drop"]
        .map(String::from)
        .to_vec();
    header.extend((1..=repeats).map(|r| format!("drop_{r}")));
    let rows = ranked_rows(importance, |feature| {
        let mut cells = vec![feature.mean().to_string(), feature.std().to_string()];
        cells.extend(feature.drops.iter().map(f64::to_string));
        cells
    });
    csv_bytes(IMPORTANCE_CSV, &header, &rows)
}

/// The printed table, the largest mean drop first.
fn text_table(importance: &Importance) -> String {
    let drop = format!("drop in {}", importance.score_name);
    let rows = ranked_rows(importance, |feature| {
        vec![
            format!("{:.4}", feature.mean()),
            format!("{:.4}", feature.std()),
        ]
    });
    table(&["rank", "feature", &drop, "± std"], &rows, &[1])
}

/// A row per column, the largest mean drop first: its rank from 1, its name, then `cells`.
fn ranked_rows(
    importance: &Importance,
    cells: impl Fn(&FeatureImportance) -> Vec<String>,
) -> Vec<Vec<String>> {
    let ranking = importance.ranking().into_iter().enumerate();
    ranking
        .map(|(rank, i)| {
            let feature = &importance.features[i];
            let mut row = vec![(rank + 1).to_string(), feature.name.clone()];
            row.extend(cells(feature));
            row
        })
        .collect()
}
