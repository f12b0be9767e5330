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
/// network learns the change, and no change is the naive forecast), the value a whole
/// number of seasons back (no change is the seasonal-naive forecast), or a linear
/// autoregression's forecast (no change is that forecast).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Base<'a> {
    Level,
    Last,
    SeasonBack(usize),
    /// Per step ahead, the coefficients of the relative window's features and then an
    /// intercept, whose sum with the last value forecasts that step ([`fit_autoregression`]).
    Autoregression(&'a [Vec<f64>]),
}

impl Base<'_> {
    /// The value `h` steps ahead of the window ending before `end` is read relative to
    /// (`target` is `series`' target column).
    pub fn value(self, series: &Series, target: &[f64], end: usize, h: usize) -> f64 {
        match self {
            Base::Level => 0.0,
            Base::Last => target[end - 1],
            Base::SeasonBack(p) => target[end + h - 1 - p * h.div_ceil(p)],
            Base::Autoregression(steps) => {
                let beta = &steps[h - 1];
                let x = series.window_features(end, beta.len() - 1, true);
                let dot: f64 = x.iter().zip(beta).map(|(x, b)| x * b).sum();
                target[end - 1] + dot + beta[beta.len() - 1]
            }
        }
    }
}

/// The linear autoregression on relative windows of `window` steps, fitted by least squares
/// to each of the next `horizon` steps over the windows whose targets lie before step
/// `train_end`; with its mean absolute error on the last fifth of those windows when fitted
/// on the first four fifths, and the same error of `naive`. `None` with fewer than 5
/// windows per coefficient, or singular normal equations.
pub fn fit_autoregression(
    series: &Series,
    window: usize,
    horizon: usize,
    train_end: usize,
    naive: Base,
) -> Option<(Vec<Vec<f64>>, f64, f64)> {
    let windows = series.windows(window, horizon, Base::Last);
    let rows = (train_end + 1)
        .saturating_sub(window + horizon)
        .min(windows.rows());
    let width = windows.width() + 1;
    if rows < 5 * width {
        return None;
    }
    let TargetValues::Values(y) = &windows.targets else {
        return None;
    };
    let x = |r: usize| {
        let mut x = windows.features[r * (width - 1)..(r + 1) * (width - 1)].to_vec();
        x.push(1.0);
        x
    };
    let fit = |rows: std::ops::Range<usize>| -> Option<Vec<Vec<f64>>> {
        (0..horizon)
            .map(|h| {
                let pairs: Vec<(Vec<f64>, f64)> =
                    rows.clone().map(|r| (x(r), y[r * horizon + h])).collect();
                least_squares(&pairs, width)
            })
            .collect()
    };
    let early = rows * 4 / 5;
    let check = fit(0..early)?;
    let target = series.target_values();
    let (mut ar, mut plain) = (0.0, 0.0);
    for r in early..rows {
        let end = window + r;
        for h in 1..=horizon {
            let truth = target[end + h - 1];
            ar += (truth - Base::Autoregression(&check).value(series, &target, end, h)).abs();
            plain += (truth - naive.value(series, &target, end, h)).abs();
        }
    }
    let count = ((rows - early) * horizon) as f64;
    Some((fit(0..rows)?, ar / count, plain / count))
}

/// β minimising Σ (xᵀβ − y)², from the normal equations with a ridge of 1e-12 × their mean
/// diagonal (so that collinear lags still solve), by Gaussian elimination.
pub fn least_squares(rows: &[(Vec<f64>, f64)], width: usize) -> Option<Vec<f64>> {
    let mut a = vec![vec![0.0; width + 1]; width];
    for (x, y) in rows {
        for i in 0..width {
            for j in 0..width {
                a[i][j] += x[i] * x[j];
            }
            a[i][width] += x[i] * y;
        }
    }
    let ridge = 1e-12 * (0..width).map(|i| a[i][i]).sum::<f64>() / width as f64;
    for (i, row) in a.iter_mut().enumerate() {
        row[i] += ridge;
    }
    for col in 0..width {
        let pivot = (col..width).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-300 {
            return None;
        }
        a.swap(col, pivot);
        let top = a[col].clone();
        for row in a.iter_mut().skip(col + 1) {
            let f = row[col] / top[col];
            for (x, t) in row.iter_mut().zip(&top).skip(col) {
                *x -= f * t;
            }
        }
    }
    let mut beta = vec![0.0; width];
    for i in (0..width).rev() {
        let rest: f64 = (i + 1..width).map(|j| a[i][j] * beta[j]).sum();
        beta[i] = (a[i][width] - rest) / a[i][i];
    }
    beta.iter().all(|b| b.is_finite()).then_some(beta)
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
            next.extend(ahead.map(|(h, y)| y - base.value(self, &target, end, h + 1)));
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The one-column series y_t = t², t < `steps`.
    pub(crate) fn squares(steps: usize) -> Series {
        Series {
            names: vec!["y".into()],
            values: (0..steps).map(|t| (t * t) as f64).collect(),
            target: 0,
        }
    }

    #[test]
    fn an_autoregression_base_recovers_a_quadratic_and_forecasts_it_exactly() {
        // y_t = t²: y_t − y_{t−1} = (y_{t−1} − y_{t−2}) + 2, linear in the relative window.
        let series = squares(100);
        let (steps, ar, naive) = fit_autoregression(&series, 3, 2, 60, Base::Last).unwrap();
        assert_eq!((steps.len(), steps[0].len()), (2, 4));
        assert!(ar < 1e-6 && naive > 50.0, "{ar} {naive}");
        let target = series.target_values();
        for h in 1..=2 {
            let value = Base::Autoregression(&steps).value(&series, &target, 80, h);
            let truth = ((79 + h) * (79 + h)) as f64;
            assert!((value - truth).abs() < 1e-6, "{value} against {truth}");
        }
        // The windows' targets are what is left: nothing.
        let windows = series.windows(3, 2, Base::Autoregression(&steps));
        let TargetValues::Values(left) = windows.targets else {
            unreachable!()
        };
        assert!(left.iter().all(|v| v.abs() < 1e-6));
        // Too few windows for the coefficients: no fit.
        assert!(fit_autoregression(&series, 3, 1, 20, Base::Last).is_none());
    }
}
