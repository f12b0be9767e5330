//! Forecasts of a series' test part, each one step ahead from the true history, beside the
//! forecasts every forecaster checks first: the naive forecast (the previous value), the
//! seasonal naive (the value one season back) and a linear autoregression on the same window,
//! fitted by least squares on the training windows. A network is only worth its weights if it
//! beats them.
//!
//! MAE = mean |y − ŷ|, RMSE = √(mean (y − ŷ)²), and MASE = MAE / mean |y_t − y_{t−m}| over
//! the training part (Hyndman & Koehler, 2006), m the season or 1: below 1, a forecast beats
//! the in-sample naive one.
//!
//! A run forecasting `horizon` steps at once is also scored h steps ahead for each h, against
//! the same baselines made from the same origin: the last known value, the value a whole
//! number of seasons back, and a linear autoregression fitted for that h.

use serde_json::{Value, json};

use crate::data::sequence::series::{Base, least_squares};
use crate::data::split::Split;
use crate::data::{Dataset, Series, TargetValues};

/// One forecaster's scores over the test part.
#[derive(Clone, Debug, PartialEq)]
pub struct Scores {
    pub method: String,
    pub mae: f64,
    pub rmse: f64,
    pub mase: f64,
}

/// The test part's forecasts: the steps, the truth and each method's forecast.
#[derive(Clone, Debug, PartialEq)]
pub struct Forecast {
    /// The time step of each test row.
    pub steps: Vec<usize>,
    pub actual: Vec<f64>,
    /// (method, forecasts), the model first.
    pub methods: Vec<(String, Vec<f64>)>,
    /// The denominator of MASE, and the m it was taken with.
    pub scale: f64,
    pub scale_lag: usize,
    /// The whole target series, for the picture.
    pub history: Vec<f64>,
    /// The first test step.
    pub test_start: usize,
    /// For a run forecasting several steps: each method's scores h steps ahead, h = 1, 2, ….
    pub by_horizon: Vec<Vec<Scores>>,
}

/// What forecasting needs to know of the run: its windows and how they were cut.
pub struct Setup<'a> {
    pub series: &'a Series,
    /// The windows, raw (unscaled), as training read them.
    pub windows: &'a Dataset,
    pub window: usize,
    /// Steps each window forecasts (outputs per row).
    pub horizon: usize,
    pub base: Base<'a>,
    pub season: Option<usize>,
    pub split: &'a Split,
}

impl Setup<'_> {
    /// The forecasts of the test rows by the model (its outputs for the test rows, in the
    /// target's units, `horizon` per row) and by the baselines, one step ahead; with a
    /// horizon, also the scores at each step ahead.
    pub fn forecast(&self, model: &[f64]) -> Forecast {
        let column = |h: usize| -> Vec<f64> {
            model
                .iter()
                .skip(h - 1)
                .step_by(self.horizon)
                .copied()
                .collect()
        };
        let mut forecast = self.forecast_at(&column(1), 1);
        if self.horizon > 1 {
            forecast.by_horizon = (1..=self.horizon)
                .map(|h| self.forecast_at(&column(h), h).scores())
                .collect();
        }
        forecast
    }

    /// The forecasts `h` steps ahead of each test row's window: the model's (`model`, one
    /// per test row) and the baselines'.
    fn forecast_at(&self, model: &[f64], h: usize) -> Forecast {
        let target = self.series.target_values();
        // Each test row's origin (its first unknown step) and the step forecast from it.
        let origins: Vec<usize> = self.split.test.iter().map(|&r| self.window + r).collect();
        let steps: Vec<usize> = origins.iter().map(|&o| o + h - 1).collect();
        let level = |outputs: &[f64]| -> Vec<f64> {
            origins
                .iter()
                .zip(outputs)
                .map(|(&o, y)| y + self.base.value(self.series, &target, o, h))
                .collect()
        };
        let mut methods = vec![
            ("network".to_string(), level(model)),
            (
                "naive (previous value)".to_string(),
                origins.iter().map(|&o| target[o - 1]).collect(),
            ),
        ];
        // The value a whole number of seasons before the step, at or before the origin.
        let back = |p: usize| p * h.div_ceil(p);
        if let Some(p) = self.season.filter(|&p| steps.iter().all(|&t| t >= back(p))) {
            methods.push((
                format!("seasonal naive (m = {p})"),
                steps.iter().map(|&t| target[t - back(p)]).collect(),
            ));
        }
        if let Some(ar) = self.autoregression(h) {
            methods.push((format!("linear AR({})", self.window), level(&ar)));
        }
        let train_end = self.window + self.split.train.len();
        let m = self.season.unwrap_or(1);
        let scale = mean_abs((m..train_end).map(|t| target[t] - target[t - m]));
        Forecast {
            actual: steps.iter().map(|&t| target[t]).collect(),
            test_start: steps.first().copied().unwrap_or(self.window),
            steps,
            methods,
            scale,
            scale_lag: m,
            history: target,
            by_horizon: Vec::new(),
        }
    }

    /// A linear model with intercept on the window's features, fitted by least squares on the
    /// training windows to the target `h` steps ahead; its outputs on the test windows.
    /// `None` when the normal equations are singular.
    fn autoregression(&self, h: usize) -> Option<Vec<f64>> {
        let width = self.windows.width();
        let TargetValues::Values(y) = &self.windows.targets else {
            return None;
        };
        let row = |r: usize| {
            let mut x = self.windows.features[r * width..(r + 1) * width].to_vec();
            x.push(1.0);
            x
        };
        let target = |r: usize| y[r * self.horizon + h - 1];
        let rows: Vec<(Vec<f64>, f64)> = self
            .split
            .train
            .iter()
            .map(|&r| (row(r), target(r)))
            .collect();
        let beta = least_squares(&rows, width + 1)?;
        Some(
            self.split
                .test
                .iter()
                .map(|&r| row(r).iter().zip(&beta).map(|(x, b)| x * b).sum())
                .collect(),
        )
    }
}

fn mean_abs(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v.abs(), n + 1));
    sum / n.max(1) as f64
}

impl Forecast {
    /// Each method's MAE, RMSE and MASE, the model first.
    pub fn scores(&self) -> Vec<Scores> {
        self.methods
            .iter()
            .map(|(method, predicted)| {
                let errors = || predicted.iter().zip(&self.actual).map(|(p, a)| p - a);
                let mae = mean_abs(errors());
                let mse = errors().map(|e| e * e).sum::<f64>() / self.actual.len().max(1) as f64;
                Scores {
                    method: method.clone(),
                    mae,
                    rmse: mse.sqrt(),
                    mase: mae / self.scale,
                }
            })
            .collect()
    }

    /// The scores as a text table, with a line that says whether the network beat every
    /// baseline.
    pub fn table(&self) -> String {
        let scores = self.scores();
        let rows: Vec<Vec<String>> = scores
            .iter()
            .map(|s| {
                vec![
                    s.method.clone(),
                    format!("{:.4}", s.mae),
                    format!("{:.4}", s.rmse),
                    format!("{:.4}", s.mase),
                ]
            })
            .collect();
        let header = ["forecast", "MAE", "RMSE", "MASE"];
        let mut text = format!(
            "one-step forecasts of the last {} steps from their true history (MASE scaled by \
             the training part's lag-{} changes):\n",
            self.actual.len(),
            self.scale_lag
        );
        text += &crate::plot::charts::table(&header, &rows, &[0]);
        let best = scores[1..].iter().min_by(|a, b| a.mae.total_cmp(&b.mae));
        if let Some(best) = best {
            let verdict = if scores[0].mae < best.mae {
                "beats"
            } else {
                "does not beat"
            };
            text += &format!(
                "the network {verdict} the best baseline, {} (MAE {:.4} against {:.4})\n",
                best.method, scores[0].mae, best.mae
            );
        }
        text + &self.horizon_table()
    }

    /// Each method's MAE at each step ahead, for a run forecasting several steps (empty
    /// otherwise).
    fn horizon_table(&self) -> String {
        let Some(first) = self.by_horizon.first() else {
            return String::new();
        };
        let mut header = vec!["MAE".to_string()];
        header.extend((1..=self.by_horizon.len()).map(|h| format!("t+{h}")));
        let rows: Vec<Vec<String>> = first
            .iter()
            .map(|s| {
                let mut row = vec![s.method.clone()];
                row.extend(self.by_horizon.iter().map(|scores| {
                    let at = scores.iter().find(|t| t.method == s.method);
                    at.map_or("-".into(), |t| format!("{:.4}", t.mae))
                }));
                row
            })
            .collect();
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        format!(
            "direct forecasts 1 to {} steps ahead from the same windows:\n{}",
            self.by_horizon.len(),
            crate::plot::charts::table(&header, &rows, &[0])
        )
    }

    /// The scores as JSON, for the run's summary.
    pub fn to_json(&self) -> Value {
        let json = |scores: &[Scores]| -> Vec<Value> {
            scores
                .iter()
                .map(|s| json!({"method": s.method, "mae": s.mae, "rmse": s.rmse, "mase": s.mase}))
                .collect()
        };
        let mut out = json!({
            "test_steps": self.actual.len(),
            "mase_lag": self.scale_lag,
            "scores": json(&self.scores()),
        });
        if !self.by_horizon.is_empty() {
            let by: Vec<Value> = self.by_horizon.iter().map(|s| json!(json(s))).collect();
            out["by_steps_ahead"] = json!(by);
        }
        out
    }

    /// The forecasts as CSV: step, actual, then one column per method.
    pub fn csv(&self) -> String {
        let mut out = String::from("step,actual");
        for (method, _) in &self.methods {
            out += &format!(",\"{method}\"");
        }
        out.push('\n');
        for (i, (step, actual)) in self.steps.iter().zip(&self.actual).enumerate() {
            out += &format!("{step},{actual}");
            for (_, values) in &self.methods {
                out += &format!(",{}", values[i]);
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_squares_recovers_a_linear_rule() {
        let rows: Vec<(Vec<f64>, f64)> = (0..20)
            .map(|i| {
                let (a, b) = (i as f64, ((i * 7) % 5) as f64);
                (vec![a, b, 1.0], 2.0 * a - 3.0 * b + 0.5)
            })
            .collect();
        let beta = least_squares(&rows, 3).unwrap();
        for (got, want) in beta.iter().zip([2.0, -3.0, 0.5]) {
            assert!((got - want).abs() < 1e-6, "{beta:?}");
        }
    }

    #[test]
    fn a_perfect_forecast_scores_zero_and_naive_scores_its_changes() {
        // y = t²: the naive forecast misses by the change, 2t − 1.
        let series = crate::data::sequence::series::tests::squares(30);
        let windows = series.windows(3, 1, Base::Last);
        let split = crate::data::split::ordered(windows.rows(), 0.0, 0.2, 0);
        let setup = Setup {
            series: &series,
            windows: &windows,
            window: 3,
            horizon: 1,
            base: Base::Last,
            season: None,
            split: &split,
        };
        let TargetValues::Values(changes) = &windows.targets else {
            unreachable!()
        };
        let truth: Vec<f64> = split.test.iter().map(|&r| changes[r]).collect();
        let scores = setup.forecast(&truth).scores();
        assert_eq!(scores[0].mae, 0.0);
        let t = split.test.iter().map(|&r| (3 + r) as f64);
        let naive = t.map(|t| 2.0 * t - 1.0).sum::<f64>() / split.test.len() as f64;
        assert!((scores[1].mae - naive).abs() < 1e-9);
        // Changes grow linearly: the autoregression on the window's changes is exact.
        assert!(scores[2].mae < 1e-6, "{scores:?}");
    }

    #[test]
    fn direct_forecasts_are_scored_at_each_step_ahead() {
        // y = t², windows of 3 forecasting 4 steps: row r's targets are the changes from
        // y[r + 2] to y[r + 3 + j], j < 4.
        let series = crate::data::sequence::series::tests::squares(40);
        let windows = series.windows(3, 4, Base::Last);
        assert_eq!((windows.rows(), windows.outputs()), (34, 4));
        let TargetValues::Values(changes) = &windows.targets else {
            unreachable!()
        };
        assert_eq!(
            &changes[4..8],
            &[16.0 - 9.0, 25.0 - 9.0, 36.0 - 9.0, 49.0 - 9.0]
        );
        let split = crate::data::split::ordered(windows.rows(), 0.0, 0.25, 3);
        let setup = Setup {
            series: &series,
            windows: &windows,
            window: 3,
            horizon: 4,
            base: Base::Last,
            season: Some(2),
            split: &split,
        };
        let truth: Vec<f64> = split
            .test
            .iter()
            .flat_map(|&r| changes[r * 4..r * 4 + 4].to_vec())
            .collect();
        let forecast = setup.forecast(&truth);
        assert_eq!(forecast.by_horizon.len(), 4);
        for (h, scores) in (1..=4usize).zip(&forecast.by_horizon) {
            assert_eq!(scores[0].mae, 0.0);
            // The naive forecast from origin o misses y[o + h − 1] − y[o − 1].
            let naive = split.test.iter().map(|&r| {
                let o = (3 + r) as f64;
                (o + h as f64 - 1.0).powi(2) - (o - 1.0).powi(2)
            });
            let naive = naive.sum::<f64>() / split.test.len() as f64;
            assert!((scores[1].mae - naive).abs() < 1e-9, "h = {h}: {scores:?}");
            // Seasonal naive (m = 2) from the same origin: y[t − 2⌈h/2⌉].
            let back = 2 * h.div_ceil(2);
            let seasonal = split.test.iter().map(|&r| {
                let t = (3 + r + h - 1) as f64;
                t.powi(2) - (t - back as f64).powi(2)
            });
            let seasonal = seasonal.sum::<f64>() / split.test.len() as f64;
            assert!(
                (scores[2].mae - seasonal).abs() < 1e-9,
                "h = {h}: {scores:?}"
            );
        }
        assert!(forecast.table().contains("t+4"), "{}", forecast.table());
    }
}
