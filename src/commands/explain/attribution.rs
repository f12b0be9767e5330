//! `explain --method gradient|integrated-gradients`: attributions of the input's first rows,
//! attributions.csv and a summary of them.

use std::path::Path;

use burn::tensor::backend::AutodiffBackend;

use crate::backend::{BackendJob, BackendName, run_on};
use crate::cli::{Baseline, ExplainArgs};
use crate::commands::eval::Scorer;
use crate::commands::input::Input;
use crate::error::{Error, Result};
use crate::eval::attribution::{Attribution, Attributor, Method};
use crate::plot::charts::table;
use crate::plot::images;
use crate::run_dir::RunDir;
use crate::run_dir::record::write_atomic;

use super::{ATTRIBUTIONS_CSV, csv_bytes};

/// Attributions of the first rows of an input, with what they explain.
struct Attributions {
    feature_names: Vec<String>,
    /// The image shape of a run trained on images, and the explained rows' raw values.
    image: Option<[usize; 3]>,
    inputs: Vec<f64>,
    /// What each row's answer is: its predicted class, or the target's name.
    answers: Vec<String>,
    /// Whether the answers are predicted classes.
    classes: bool,
    rows: Vec<Attribution>,
}

struct AttributionJob {
    dir: RunDir,
    input: Input,
    last: bool,
    rows: usize,
    method: Method,
    baseline: Baseline,
    class: Option<String>,
}

impl BackendJob for AttributionJob {
    type Output = Attributions;

    fn run<B: AutodiffBackend>(self, _: BackendName, device: B::Device) -> Result<Attributions> {
        let scorer = Scorer::<B::InnerBackend>::load(&self.dir, &self.input, self.last, &device)?;
        let data = &scorer.data;
        let width = data.width();
        let first = crate::data::features_tensor(&data.features[..width], width, &device);
        let tokens = scorer.model.embed_tokens(first).is_some();
        if tokens && !matches!(self.baseline, Baseline::Zeros) {
            return Err(Error::Usage(
                "a text run's integrated gradients start from all-zero token embeddings; \
                 --baseline mean or FILE does not apply to token ids"
                    .into(),
            ));
        }
        let baseline = match &self.baseline {
            Baseline::Zeros => vec![0.0; width],
            Baseline::Mean => (0..width)
                .map(|j| {
                    data.features.iter().skip(j).step_by(width).sum::<f64>() / data.rows() as f64
                })
                .collect(),
            Baseline::File(path) => baseline_row(path, &data.feature_names)?,
        };
        // A binary cross-entropy run's one output is the logit of its second class.
        let shift = usize::from(
            scorer.classes.as_ref().is_some_and(|c| c.len() == 2)
                && scorer.model.shapes().last().is_some_and(|s| s[1] == 1),
        );
        let output = match &self.class {
            Some(label) => {
                let classes = scorer.classes.as_deref();
                Some(class_output(label, classes, shift == 1, &self.dir)?)
            }
            None => None,
        };
        let attributor =
            Attributor::<B>::new(&scorer.model, &scorer.scaler, self.method, output, &device);
        let rows: Vec<Attribution> = data
            .features
            .chunks(width)
            .take(self.rows)
            .map(|row| match tokens {
                true => attributor.tokens(row).expect("a family that embeds tokens"),
                false => attributor.row(row, &baseline),
            })
            .collect();
        let answers = rows
            .iter()
            .map(|a| match &scorer.classes {
                Some(classes) => classes[a.output + shift].clone(),
                None => data.target_name.clone(),
            })
            .collect();
        Ok(Attributions {
            feature_names: data.feature_names.clone(),
            image: scorer.model.image(),
            classes: scorer.classes.is_some(),
            inputs: data.features[..rows.len() * width].to_vec(),
            answers,
            rows,
        })
    }
}

/// The output that answers for the class `label`: refused for a regression run, which has
/// no classes, and for a label the run does not know.
fn class_output(
    label: &str,
    classes: Option<&[String]>,
    one_logit: bool,
    dir: &RunDir,
) -> Result<usize> {
    let Some(classes) = classes else {
        return Err(Error::Usage(format!(
            "--class needs a classification run, and {} is a regression run: its attributions \
             explain the predicted value",
            dir.path.display()
        )));
    };
    let index = classes.iter().position(|c| c == label).ok_or_else(|| {
        Error::Usage(format!(
            "--class {label}: the run's classes are {}",
            classes.join(", ")
        ))
    })?;
    match (one_logit, index) {
        (false, _) => Ok(index),
        (true, 1) => Ok(0),
        (true, _) => Err(Error::Usage(format!(
            "--class {label}: this binary cross-entropy run has one output, the logit of `{}`; \
             attribute that class (the other's logit is its negative)",
            classes[1]
        ))),
    }
}

/// The baseline row of a CSV file: exactly one row with every one of the run's feature columns.
fn baseline_row(path: &Path, names: &[String]) -> Result<Vec<f64>> {
    let values = crate::data::csv::read_features(path, names, None)?;
    if values.len() != names.len() {
        return Err(Error::Data {
            path: path.to_owned(),
            line: None,
            column: None,
            message: format!(
                "holds {} rows; a baseline is one row of the run's feature columns",
                values.len() / names.len().max(1)
            ),
        });
    }
    Ok(values)
}

/// `explain --method gradient|integrated-gradients`: attributions.csv and a summary.
pub(super) fn attributions(
    args: &ExplainArgs,
    backend: BackendName,
    out: &Path,
    method: Method,
) -> Result<()> {
    let input = Input::labelled_rows(&args.source);
    let shown = input.path().display().to_string();
    let job = AttributionJob {
        dir: RunDir::new(&args.checkpoint),
        input,
        last: args.last,
        rows: args.rows as usize,
        method,
        baseline: args.baseline.clone(),
        class: args.class.clone(),
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
            let baseline = &args.baseline;
            format!("integrated gradients from the {baseline} baseline, {steps} steps")
        }
    };
    println!(
        "{} on {}: {what}, {} rows",
        args.checkpoint.display(),
        shown,
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
    if let Some(image) = found.image {
        draw_saliency(out, &found, image)?;
    }
    println!();
    print!("{}", attribution_table(&found));
    println!("\nsaved to {}", out.join(ATTRIBUTIONS_CSV).display());
    Ok(())
}

/// `saliency.png`: the first explained images beside the size of their attributions.
fn draw_saliency(out: &Path, found: &Attributions, image: [usize; 3]) -> Result<()> {
    let width = found.feature_names.len();
    let rows: Vec<(&[f64], &[f64], String)> = found
        .inputs
        .chunks(width)
        .zip(&found.rows)
        .zip(&found.answers)
        .enumerate()
        .map(|(i, ((pixels, row), answer))| {
            let caption = match found.classes {
                true => format!("row {i}: predicted {answer}"),
                false => format!("row {i}"),
            };
            (pixels, &row.values[..], caption)
        })
        .collect();
    let title = "each row's image beside the size of its attributions, |a| per pixel";
    images::draw_saliency(out, title, image, &rows)
}

/// One line per row: its index, what is explained, f(x) (and f(x′) and the completeness error
/// for integrated gradients), then one column per feature.
fn attributions_csv(found: &Attributions, method: Method) -> Result<Vec<u8>> {
    let integrated = matches!(method, Method::IntegratedGradients { .. });
    let mut header: Vec<String> = vec!["row".into(), "output".into(), "answer".into()];
    if integrated {
        header.extend(["baseline_answer".into(), "completeness_error".into()]);
    }
    header.extend(found.feature_names.iter().cloned());
    let rows: Vec<Vec<String>> = found
        .rows
        .iter()
        .zip(&found.answers)
        .enumerate()
        .map(|(i, (row, answer))| {
            let mut cells = vec![i.to_string(), answer.clone(), row.at_row.to_string()];
            if integrated {
                cells.push(row.at_baseline.to_string());
                cells.push(row.completeness_error().to_string());
            }
            cells.extend(row.values.iter().map(f64::to_string));
            cells
        })
        .collect();
    csv_bytes(ATTRIBUTIONS_CSV, &header, &rows)
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
