//! K-fold cross-validation: each fold is held out once while a fresh model trains on the
//! others (with the same config and seed), and scored on it.

use std::path::Path;

use burn::tensor::backend::AutodiffBackend;
use serde::Serialize;

use crate::checkpoint::write_atomic;
use crate::config::ExperimentConfig;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::metrics::{Evaluation, evaluate};
use crate::predict::predict;
use crate::train::{self, fit};

/// One fold's result.
#[derive(Clone, Debug, Serialize)]
pub struct Fold {
    /// 1-based.
    pub fold: usize,
    pub train_rows: usize,
    pub test_rows: usize,
    pub evaluation: Evaluation,
    pub train_seconds: f64,
}

/// Every fold, and the mean and standard deviation of their scores.
#[derive(Clone, Debug, Serialize)]
pub struct CvReport {
    /// `R²` or `accuracy`.
    pub score: String,
    pub mean: f64,
    /// Population standard deviation over the folds (as NumPy's `std`, which scikit-learn's
    /// examples report).
    pub std: f64,
    pub folds: Vec<Fold>,
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

/// Runs `k`-fold cross-validation of `config` on `data` (stratified for classification),
/// calling `done` after each fold.
pub fn cross_validate<B: AutodiffBackend>(
    config: &ExperimentConfig,
    data: &Dataset,
    k: usize,
    device: &B::Device,
    progress: bool,
    mut done: impl FnMut(&Fold),
) -> Result<CvReport> {
    if k < 2 || k > data.rows() {
        return Err(Error::Usage(format!(
            "--folds must be between 2 and the number of rows ({}), got {k}",
            data.rows()
        )));
    }
    let mut config = config.clone();
    // Each fold is the test set; nothing else is held out but the validation rows.
    config.training.test_fraction = 0.0;
    let folds = train::fold_rows(&config, data, k);
    for held_out in &folds {
        let rest: Vec<usize> = (0..data.rows())
            .filter(|r| held_out.binary_search(r).is_err())
            .collect();
        train::check(&config, &data.subset(&rest))?;
    }
    let mut results = Vec::new();
    for (i, held_out) in folds.iter().enumerate() {
        let rest: Vec<usize> = (0..data.rows())
            .filter(|r| held_out.binary_search(r).is_err())
            .collect();
        let train_set = data.subset(&rest);
        let test_set = data.subset(held_out);
        let trained = fit::<B>(&config, &train_set, device, None, progress)?;
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
            evaluation: evaluate(&predictions, &test_set.targets),
            train_seconds: trained.train_seconds,
        };
        done(&fold);
        results.push(fold);
    }
    let scores: Vec<f64> = results.iter().map(|f| f.evaluation.score()).collect();
    let mean = scores.iter().sum::<f64>() / k as f64;
    let std = (scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / k as f64).sqrt();
    Ok(CvReport {
        score: results[0].evaluation.score_name().into(),
        mean,
        std,
        folds: results,
    })
}
