//! K-fold cross-validation: each fold is held out once while a fresh model trains on the
//! others (with the same config and seed), and scored on it.

use std::path::Path;

use burn::tensor::backend::AutodiffBackend;
use serde::Serialize;

use crate::config::ExperimentConfig;
use crate::data::{Dataset, split};
use crate::error::{Error, Result};
use crate::eval::metrics::{Evaluation, evaluate};
use crate::eval::predict::predict;
use crate::loss::Task;
use crate::run_dir::record::write_atomic;
use crate::train::{self, Stop, fit};

/// One fold's result.
#[derive(Clone, Debug, Serialize)]
pub struct Fold {
    /// 1-based.
    pub fold: usize,
    pub train_rows: usize,
    pub test_rows: usize,
    pub evaluation: Evaluation,
    pub train_seconds: f64,
    /// The simple baselines' scores on the same held-out rows, fitted on the same training
    /// rows (see [`crate::eval::baseline`]); none for a series or text.
    pub baselines: Vec<(String, f64)>,
}

/// Every fold, and the mean and standard deviation of their scores.
#[derive(Clone, Debug, Serialize)]
pub struct CvReport {
    /// `R²` or `accuracy`.
    pub score: String,
    /// Whether every fold was trained and scored; a run stopped by a signal lists only the
    /// folds it finished, and has no mean or standard deviation.
    pub complete: bool,
    pub mean: Option<f64>,
    /// Population standard deviation over the folds (as NumPy's `std`, which scikit-learn's
    /// examples report).
    pub std: Option<f64>,
    pub folds: Vec<Fold>,
    /// Each baseline's mean score over the folds, when complete.
    pub baseline_means: Vec<(String, f64)>,
    /// The signal that stopped the cross-validation early, if one did.
    #[serde(skip)]
    pub stopped_by: Option<i32>,
}

impl CvReport {
    /// Writes `config.json` (the experiment) and `cv.json` (this report) to `dir`.
    pub fn save(&self, dir: &Path, config: &ExperimentConfig) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        write_atomic(&dir.join("config.json"), config.to_json().as_bytes())?;
        let json = serde_json::to_string_pretty(self).expect("report serializes") + "\n";
        write_atomic(&dir.join(CV_REPORT), json.as_bytes())
    }
}

/// The file a cross-validation is saved as.
pub const CV_REPORT: &str = "cv.json";

/// The rows of one fold (held out) and of the rest (trained on).
pub type FoldRows = (Vec<usize>, Vec<usize>);

/// The rows of each fold and of the rest, checked: every held-out fold can be scored (two
/// rows for regression, each class present for stratified folds) and `config` can train on
/// every rest. Returns them with a note when the batch size exceeds a fold's training rows.
pub fn check_folds(
    config: &ExperimentConfig,
    data: &Dataset,
    k: usize,
) -> Result<(Vec<FoldRows>, Option<String>)> {
    let config = &held_out_by_folds(config);
    if k < 2 || k > data.rows() {
        return Err(Error::Usage(format!(
            "--folds must be between 2 and the number of rows ({}), got {k}",
            data.rows()
        )));
    }
    match data.labels() {
        Some(labels) => {
            let mut counts = vec![0usize; labels.len()];
            for &c in train::class_indices(data).unwrap_or_default() {
                counts[c] += 1;
            }
            if let Some((c, &n)) = counts.iter().enumerate().find(|&(_, &n)| n < k) {
                let fix = if n >= 2 {
                    format!("use --folds {n} or fewer")
                } else {
                    "cross-validation needs at least 2 rows of every class".into()
                };
                return Err(Error::Usage(format!(
                    "--folds {k}: class `{}` has only {n} row(s), and stratified folds need one \
                     row of every class in each fold; {fix}",
                    labels[c]
                )));
            }
        }
        // A series' rolling origin holds out k of k + 1 blocks.
        None if data.rows() < 2 * (k + usize::from(config.data.is_series())) => {
            let blocks = k + usize::from(config.data.is_series());
            return Err(Error::Usage(format!(
                "--folds {k} needs at least {} rows (2 per held-out fold, to score R²), but the \
                 data has {}; use --folds {} or fewer",
                2 * blocks,
                data.rows(),
                (data.rows() / 2).saturating_sub(blocks - k).max(2)
            )));
        }
        None => {}
    }
    let mut parts = Vec::new();
    let mut note = None;
    let series = config.data.is_series();
    for held_out in train::fold_rows(config, data, k) {
        // A series trains on its past only (rolling origin); other folds on every other row.
        let rest: Vec<usize> = match series {
            true => split::before(held_out[0], config.data.horizon - 1).collect(),
            false => (0..data.rows())
                .filter(|r| held_out.binary_search(r).is_err())
                .collect(),
        };
        note = note.or(train::check(config, &data.subset(&rest))?);
        parts.push((held_out, rest));
    }
    Ok((parts, note))
}

/// `config` for the folds: each fold is the test set, so nothing else is held out but the
/// validation rows.
fn held_out_by_folds(config: &ExperimentConfig) -> ExperimentConfig {
    let mut config = config.clone();
    config.training.test_fraction = 0.0;
    config
}

/// Runs `k`-fold cross-validation of `config` on `data` (stratified for classification),
/// calling `done` after each fold. A signal (Ctrl-C) ends it after the fold in training,
/// with a report of the folds finished before, marked incomplete.
pub fn cross_validate<B: AutodiffBackend>(
    config: &ExperimentConfig,
    data: &Dataset,
    k: usize,
    device: &B::Device,
    progress: bool,
    mut done: impl FnMut(&Fold),
) -> Result<CvReport> {
    let config = held_out_by_folds(config);
    let (parts, _) = check_folds(&config, data, k)?;
    let mut results = Vec::new();
    let mut stopped_by = None;
    for (i, (held_out, rest)) in parts.iter().enumerate() {
        let train_set = data.subset(rest);
        let test_set = data.subset(held_out);
        let trained = fit::<B>(&config, &train_set, device, None, progress)?;
        if let Stop::Interrupted { signal, .. } = trained.stop {
            stopped_by = Some(signal);
            break;
        }
        let predictions = predict(
            &trained.chosen(),
            config.loss.name,
            data.labels(),
            &trained.scaler,
            &test_set.features,
            test_set.width(),
            device,
        );
        let fold = Fold {
            fold: i + 1,
            train_rows: rest.len(),
            test_rows: held_out.len(),
            evaluation: evaluate(&predictions, &test_set.targets, test_set.rows()),
            train_seconds: trained.train_seconds,
            baselines: match config.data.is_series() || config.data.is_text() {
                true => Vec::new(),
                false => crate::eval::baseline::baselines(&train_set, &test_set)
                    .into_iter()
                    .map(|b| (b.name.to_string(), b.evaluation.score()))
                    .collect(),
            },
        };
        done(&fold);
        results.push(fold);
    }
    let complete = stopped_by.is_none();
    let scores: Vec<f64> = results.iter().map(|f| f.evaluation.score()).collect();
    let mean = scores.iter().sum::<f64>() / k as f64;
    let std = (scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / k as f64).sqrt();
    let baseline_means = match (complete, results.first()) {
        (true, Some(first)) => (first.baselines.iter().enumerate())
            .map(|(i, (name, _))| {
                let sum: f64 = results.iter().map(|f| f.baselines[i].1).sum();
                (name.clone(), sum / k as f64)
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(CvReport {
        score: match config.task() {
            Task::Regression => "R²",
            Task::Classification => "accuracy",
        }
        .into(),
        complete,
        mean: complete.then_some(mean),
        std: complete.then_some(std),
        folds: results,
        baseline_means,
        stopped_by,
    })
}
