//! Time series: numeric columns in time order, cut into windows of past steps that predict the
//! next value of the target column, or its next `horizon` values at once (direct multi-step
//! forecasting: one output per step ahead, no forecast fed back in).
//!
//! By default a window is read relative to its last step: each column's values minus its
//! value at the last step, and the target as the change from the last value. The network
//! then learns how the series moves, which carries over to levels it never saw (a series
//! that trends out of its training range), and predicting no change is the naive forecast.

use std::path::Path;

use crate::data::{Dataset, TargetValues};
use crate::error::{Error, Result};

/// What a window's targets are read relative to: nothing (levels), the last value (the
/// network learns the change, and no change is the naive forecast), or the value a whole
/// number of seasons back (no change is the seasonal-naive forecast).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    Level,
    Last,
    SeasonBack(usize),
}

impl Base {
    /// The value `h` steps ahead of the window ending before `end` is read relative to.
    pub fn value(self, target: &[f64], end: usize, h: usize) -> f64 {
        match self {
            Base::Level => 0.0,
            Base::Last => target[end - 1],
            Base::SeasonBack(p) => target[end + h - 1 - p * h.div_ceil(p)],
        }
    }
}

/// Columns in time order, row-major, and which one is forecast.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub names: Vec<String>,
    /// `steps × names.len()` values, step after step.
    pub values: Vec<f64>,
    /// The index in `names` of the forecast column.
    pub target: usize,
}

impl Series {
    /// Time steps.
    pub fn steps(&self) -> usize {
        self.values.len() / self.names.len().max(1)
    }

    /// The target column, every step.
    pub fn target_values(&self) -> Vec<f64> {
        let width = self.names.len();
        self.values
            .iter()
            .skip(self.target)
            .step_by(width)
            .copied()
            .collect()
    }

    /// The features of the window of `window` steps that ends before step `end`
    /// (`end − window..end`), step-major, relative to the last step's values if `relative`.
    pub fn window_features(&self, end: usize, window: usize, relative: bool) -> Vec<f64> {
        let width = self.names.len();
        let rows = &self.values[(end - window) * width..end * width];
        let last = &rows[(window - 1) * width..];
        rows.chunks(width)
            .flat_map(|step| {
                step.iter()
                    .zip(last)
                    .map(|(v, l)| if relative { v - l } else { *v })
            })
            .collect()
    }

    /// The windows of `window` steps, each labelled with the next `horizon` target values
    /// less their [`Base`]: row `r` forecasts steps `window + r .. window + r + horizon`.
    pub fn windows(&self, window: usize, horizon: usize, base: Base) -> Dataset {
        let target = self.target_values();
        let rows = (self.steps() + 1).saturating_sub(window + horizon);
        let mut features = Vec::with_capacity(rows * window * self.names.len());
        let mut next = Vec::with_capacity(rows * horizon);
        let relative = base != Base::Level;
        for end in (window..).take(rows) {
            features.extend(self.window_features(end, window, relative));
            let ahead = target[end..end + horizon].iter().enumerate();
            next.extend(ahead.map(|(h, y)| y - base.value(&target, end, h + 1)));
        }
        Dataset {
            features,
            feature_names: self.lag_names(window),
            target_name: self.names[self.target].clone(),
            targets: TargetValues::Values(next),
        }
    }

    /// `col[t-k]` for each step of a window, oldest first, each column within a step.
    pub fn lag_names(&self, window: usize) -> Vec<String> {
        (1..=window)
            .rev()
            .flat_map(|k| self.names.iter().map(move |n| format!("{n}[t-{k}]")))
            .collect()
    }

    /// Refuses a window (forecasting `horizon` steps) that leaves fewer than `least` windows to
    /// learn from; `file` names the series in the message.
    pub fn check_window(
        &self,
        window: usize,
        horizon: usize,
        least: usize,
        file: &str,
    ) -> Result<()> {
        let steps = self.steps();
        // Each window needs `horizon` steps after it; `least` windows need `least - 1` more.
        let after = horizon + least - 1;
        if window == 0 {
            return Err(Error::config("data.window", "must be at least 1"));
        }
        if steps <= after {
            return Err(Error::config(
                "data.series",
                format!(
                    "has {steps} steps in {file}: too short to learn from; a series needs more \
                     than {after} steps (a window, and {least} windows forecasting {horizon} \
                     step(s) each)"
                ),
            ));
        }
        if window + after > steps {
            return Err(Error::config(
                "data.window",
                format!(
                    "is {window} but the series in {file} has {steps} steps: a window needs \
                     {window} past steps, and {least} windows forecasting {horizon} step(s) \
                     need {after} more; use --window {} or less",
                    steps - after
                ),
            ));
        }
        Ok(())
    }
}

/// Reads the columns `names` of a CSV file as a series forecasting `target` (one of them).
/// Every cell must be a number: a gap would shift every later step.
pub fn read_series(
    path: &Path,
    names: &[String],
    target: &str,
    delimiter: Option<char>,
) -> Result<Series> {
    let target = names.iter().position(|n| n == target).ok_or_else(|| {
        Error::config(
            "data.target",
            format!("is `{target}`, which is not one of the series columns {names:?}"),
        )
    })?;
    let values = crate::data::csv::read_series_columns(path, names, delimiter)?;
    Ok(Series {
        names: names.to_vec(),
        values,
        target,
    })
}
