//! `nnlab explain`: which input columns a saved run's answers depend on, as the drop in its
//! score when each column is shuffled (permutation importance).

use std::path::{Path, PathBuf};

use burn::tensor::backend::AutodiffBackend;

use crate::backend::{BackendJob, BackendName, run_on};
use crate::cli::{Baseline, ExplainArgs, ExplainMethod};
use crate::error::{Error, Result};
use crate::eval::attribution::{Attribution, Method, attribute};
use crate::eval::importance::{Importance, permutation_importance};
use crate::plot::charts::table;
use crate::plot::importance::plot_importance;
use crate::run_dir::RunDir;
use crate::run_dir::record::write_atomic;

use super::eval::Scorer;
use super::holds_results;
use super::input::Input;

/// The table of drops that `explain --method permutation` writes.
pub const IMPORTANCE_CSV: &str = "importance.csv";

/// The per-row attributions that the gradient methods write.
pub const ATTRIBUTIONS_CSV: &str = "attributions.csv";

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
    let backend = args.backend.unwrap_or_else(BackendName::default_compiled);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&args.checkpoint));
    let method = match args.method {
        ExplainMethod::Permutation => {
            check_out(&out, IMPORTANCE_CSV, args.overwrite)?;
            return permutation(&args, backend, &out);
        }
        ExplainMethod::Gradient => Method::Gradient,
        ExplainMethod::IntegratedGradients => Method::IntegratedGradients {
            steps: args.steps as usize,
        },
    };
    check_out(&out, ATTRIBUTIONS_CSV, args.overwrite)?;
    attributions(&args, backend, &out, method)
}

/// `explain --method permutation`: importance.csv, the bar chart and the table.
fn permutation(args: &ExplainArgs, backend: BackendName, out: &Path) -> Result<()> {
    let job = ImportanceJob {
        dir: RunDir::new(&args.checkpoint),
        input: Input::new(Some(args.input.clone()), None, None, args.delimiter),
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

/// Attributions of the first rows of an input, with what they explain.
struct Attributions {
    feature_names: Vec<String>,
    /// What each row's answer is: its predicted class, or the target's name.
    answers: Vec<String>,
    rows: Vec<Attribution>,
}

struct AttributionJob {
    dir: RunDir,
    input: Input,
    last: bool,
    rows: usize,
    method: Method,
    baseline: Baseline,
}

impl BackendJob for AttributionJob {
    type Output = Attributions;

    fn run<B: AutodiffBackend>(self, _: BackendName, device: B::Device) -> Result<Attributions> {
        let scorer = Scorer::<B::InnerBackend>::load(&self.dir, &self.input, self.last, &device)?;
        let data = &scorer.data;
        let width = data.width();
        let first = crate::data::features_tensor(&data.features[..width], width, &device);
        if scorer.model.embed_tokens(first).is_some() {
            return Err(Error::Usage(
                "gradient attributions need numeric inputs, and a text run reads token ids; \
                 use --method permutation"
                    .into(),
            ));
        }
        let baseline = match self.baseline {
            Baseline::Zeros => vec![0.0; width],
            Baseline::Mean => (0..width)
                .map(|j| {
                    data.features.iter().skip(j).step_by(width).sum::<f64>() / data.rows() as f64
                })
                .collect(),
        };
        let rows: Vec<Attribution> = data
            .features
            .chunks(width)
            .take(self.rows)
            .map(|row| {
                attribute::<B>(
                    &scorer.model,
                    &scorer.scaler,
                    row,
                    &baseline,
                    self.method,
                    &device,
                )
            })
            .collect();
        let answers = rows
            .iter()
            .map(|a| match &scorer.classes {
                Some(classes) => classes[a.output].clone(),
                None => data.target_name.clone(),
            })
            .collect();
        Ok(Attributions {
            feature_names: data.feature_names.clone(),
            answers,
            rows,
        })
    }
}

/// `explain --method gradient|integrated-gradients`: attributions.csv and a summary.
fn attributions(
    args: &ExplainArgs,
    backend: BackendName,
    out: &Path,
    method: Method,
) -> Result<()> {
    let job = AttributionJob {
        dir: RunDir::new(&args.checkpoint),
        input: Input::new(Some(args.input.clone()), None, None, args.delimiter),
        last: args.last,
        rows: args.rows as usize,
        method,
        baseline: args.baseline,
    };
    let found = run_on(backend, job)?;
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    write_atomic(
        &out.join(ATTRIBUTIONS_CSV),
        &attributions_csv(&found, method)?,
    )?;
    let what = match method {
        Method::Gradient => "input × gradient".to_owned(),
        Method::IntegratedGradients { steps } => {
            let baseline = match args.baseline {
                Baseline::Zeros => "zeros",
                Baseline::Mean => "mean",
            };
            format!("integrated gradients from the {baseline} baseline, {steps} steps")
        }
    };
    println!(
        "{} on {}: {what}, {} rows",
        args.checkpoint.display(),
        args.input.display(),
        found.rows.len()
    );
    if let Method::IntegratedGradients { .. } = method {
        let mut errors: Vec<f64> = found
            .rows
            .iter()
            .map(Attribution::completeness_error)
            .collect();
        errors.sort_by(f64::total_cmp);
        println!(
            "completeness, |Σ attributions − (f(x) − f(x′))| / |f(x) − f(x′)|: median {:.2e}, max {:.2e}",
            errors[errors.len() / 2],
            errors[errors.len() - 1]
        );
    }
    println!();
    print!("{}", attribution_table(&found));
    println!("\nsaved to {}", out.join(ATTRIBUTIONS_CSV).display());
    Ok(())
}

/// One line per row: its index, what is explained, f(x) (and f(x′) and the completeness error
/// for integrated gradients), then one column per feature.
fn attributions_csv(found: &Attributions, method: Method) -> Result<Vec<u8>> {
    let integrated = matches!(method, Method::IntegratedGradients { .. });
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = vec!["row".into(), "output".into(), "answer".into()];
    if integrated {
        header.extend(["baseline_answer".into(), "completeness_error".into()]);
    }
    header.extend(found.feature_names.iter().cloned());
    let error = |e: ::csv::Error| Error::io(ATTRIBUTIONS_CSV, std::io::Error::other(e));
    writer.write_record(&header).map_err(error)?;
    for (i, (row, answer)) in found.rows.iter().zip(&found.answers).enumerate() {
        let mut cells = vec![i.to_string(), answer.clone(), row.at_row.to_string()];
        if integrated {
            cells.push(row.at_baseline.to_string());
            cells.push(row.completeness_error().to_string());
        }
        cells.extend(row.values.iter().map(f64::to_string));
        writer.write_record(&cells).map_err(error)?;
    }
    writer
        .into_inner()
        .map_err(|e| error(e.into_error().into()))
}

/// The features by mean |attribution| over the rows, largest first.
fn attribution_table(found: &Attributions) -> String {
    let n = found.rows.len().max(1) as f64;
    let mean_abs: Vec<f64> = (0..found.feature_names.len())
        .map(|j| found.rows.iter().map(|r| r.values[j].abs()).sum::<f64>() / n)
        .collect();
    let mut order: Vec<usize> = (0..mean_abs.len()).collect();
    order.sort_by(|&a, &b| mean_abs[b].total_cmp(&mean_abs[a]));
    let rows: Vec<Vec<String>> = order
        .iter()
        .enumerate()
        .map(|(rank, &j)| {
            let name = found.feature_names[j].clone();
            vec![(rank + 1).to_string(), name, format!("{:.4}", mean_abs[j])]
        })
        .collect();
    table(&["rank", "feature", "mean |attribution|"], &rows, &[1])
}
