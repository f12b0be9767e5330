//! Preprocessing fitted on the training rows only and saved with the run, so that `predict`
//! takes raw rows and answers in raw units.
//!
//! - `standard` (z-score): x' = (x − mean) / std, with the population std (as scikit-learn's
//!   `StandardScaler`);
//! - `min_max`: x' = (x − min) / (max − min), into [0, 1];
//! - `pixels`: x' = x / max|x| over every training value, one divisor for all columns;
//! - `channels`: x' = (x − mean_c) / std_c with the mean and std of image channel c over every
//!   pixel of it in the training rows (torchvision's `Normalize` with the data's own
//!   statistics); a table without an image shape is one channel;
//! - the regression target likewise with `standard`; predictions are mapped back with
//!   y = y'·std + mean. A constant column keeps scale 1.

use burn::config::Config;
use serde::{Deserialize, Serialize};

use super::{Dataset, TargetValues};

/// How feature columns are scaled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum FeatureScaling {
    /// Zero mean and unit variance on the training rows.
    Standard,
    /// Into [0, 1] on the training rows.
    #[value(alias = "min-max")]
    #[serde(alias = "min-max")]
    MinMax,
    /// Every value divided by the largest magnitude in the training rows, one number for all
    /// columns (as dividing images by 255): pixels keep their proportions, the CNN default.
    Pixels,
    /// Zero mean and unit variance per image channel, over all of its pixels in the training
    /// rows (one channel for a table).
    Channels,
    /// As they are.
    None,
}

/// How a regression target is scaled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum TargetScaling {
    /// Zero mean and unit variance on the training rows; predictions mapped back.
    Standard,
    /// As it is.
    None,
}

/// What to fit on the training rows before training.
#[derive(Config, Debug, PartialEq)]
pub struct PreprocessConfig {
    /// `standard`, `min_max`, `pixels`, `channels` or `none`.
    #[config(default = "FeatureScaling::Standard")]
    pub features: FeatureScaling,
    /// `standard` or `none`; regression only (class labels are never scaled).
    #[config(default = "TargetScaling::Standard")]
    pub target: TargetScaling,
}

/// x' = (x − shift) / scale.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Affine {
    pub shift: f64,
    pub scale: f64,
}

impl Affine {
    const IDENTITY: Affine = Affine {
        shift: 0.0,
        scale: 1.0,
    };

    pub fn apply(self, x: f64) -> f64 {
        (x - self.shift) / self.scale
    }

    pub fn restore(self, x: f64) -> f64 {
        x * self.scale + self.shift
    }

    fn standard(values: impl Iterator<Item = f64> + Clone) -> Affine {
        let n = values.clone().count().max(1) as f64;
        let mean = values.clone().sum::<f64>() / n;
        let var = values.map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        Affine {
            shift: mean,
            scale: nonzero(var.sqrt()),
        }
    }

    fn min_max(values: impl Iterator<Item = f64>) -> Affine {
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        if lo.is_finite() {
            Affine {
                shift: lo,
                scale: nonzero(hi - lo),
            }
        } else {
            Affine::IDENTITY
        }
    }
}

fn nonzero(scale: f64) -> f64 {
    if scale > 1e-12 { scale } else { 1.0 }
}

/// The fitted preprocessing of a run: one map per feature column and, for regression, the
/// target's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    pub features: Vec<Affine>,
    pub target: Option<Affine>,
}

impl Scaler {
    /// No scaling, for `width` features.
    pub fn identity(width: usize) -> Self {
        Scaler {
            features: vec![Affine::IDENTITY; width],
            target: None,
        }
    }

    /// Fits the maps `config` asks for on `data` (the training rows), whose rows are images
    /// of `channels` channels, channel last (1 for a table).
    pub fn fit(config: &PreprocessConfig, data: &Dataset, channels: usize) -> Self {
        let width = data.width();
        let column = |j: usize| data.features.iter().skip(j).step_by(width.max(1)).copied();
        let largest = data.features.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let channels = channels.max(1);
        let per_channel: Vec<Affine> = match config.features {
            FeatureScaling::Channels => (0..channels)
                .map(|c| Affine::standard(data.features.iter().skip(c).step_by(channels).copied()))
                .collect(),
            _ => Vec::new(),
        };
        let features = (0..width)
            .map(|j| match config.features {
                FeatureScaling::Standard => Affine::standard(column(j)),
                FeatureScaling::MinMax => Affine::min_max(column(j)),
                FeatureScaling::Pixels => Affine {
                    shift: 0.0,
                    scale: nonzero(largest),
                },
                FeatureScaling::Channels => per_channel[j % channels],
                FeatureScaling::None => Affine::IDENTITY,
            })
            .collect();
        let target = match (&data.targets, config.target) {
            (TargetValues::Values(y), TargetScaling::Standard) => {
                Some(Affine::standard(y.iter().copied()))
            }
            _ => None,
        };
        Scaler { features, target }
    }

    /// Scales row-major features of this scaler's width.
    pub fn features(&self, values: &[f64]) -> Vec<f64> {
        let width = self.features.len().max(1);
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| self.features[i % width].apply(v))
            .collect()
    }

    /// Row-major features in this scaler's scaled units mapped back to the original units.
    pub fn restore_features(&self, values: &[f64]) -> Vec<f64> {
        let mut restored = values.to_vec();
        self.restore_in_place(&mut restored);
        restored
    }

    /// [`Scaler::restore_features`] in place, row by row.
    pub fn restore_in_place(&self, values: &mut [f64]) {
        for row in values.chunks_mut(self.features.len().max(1)) {
            for (v, map) in row.iter_mut().zip(&self.features) {
                *v = map.restore(*v);
            }
        }
    }

    /// `data` scaled in place: features, and the target where it has a map.
    pub fn apply(&self, mut data: Dataset) -> Dataset {
        let width = self.features.len().max(1);
        for (i, v) in data.features.iter_mut().enumerate() {
            *v = self.features[i % width].apply(*v);
        }
        if let (TargetValues::Values(y), Some(t)) = (&mut data.targets, self.target) {
            for v in y {
                *v = t.apply(*v);
            }
        }
        data
    }

    /// A model output in the target's original units.
    pub fn restore_target(&self, y: f64) -> f64 {
        self.target.map_or(y, |t| t.restore(y))
    }
}

/// What a scaler is fitted from, per column: the count, mean, sum of squared deviations,
/// least and greatest value. Moments of parts of a table pool into those of the whole
/// exactly (Chan et al. 1979), so federated nodes share these and not their rows.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Moments {
    rows: usize,
    columns: Vec<Column>,
    target: Option<Column>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Column {
    mean: f64,
    squares: f64,
    min: f64,
    max: f64,
}

impl Column {
    fn of(values: impl Iterator<Item = f64> + Clone) -> Column {
        let n = values.clone().count().max(1) as f64;
        let mean = values.clone().sum::<f64>() / n;
        let fold =
            |(sq, lo, hi): (f64, f64, f64), v: f64| (sq + (v - mean).powi(2), lo.min(v), hi.max(v));
        let (squares, min, max) = values.fold((0.0, f64::INFINITY, f64::NEG_INFINITY), fold);
        Column {
            mean,
            squares,
            min,
            max,
        }
    }

    /// The column of the union of parts of `n` rows each.
    fn pool(parts: &[(usize, Column)]) -> Column {
        let total = parts.iter().map(|(n, _)| *n).sum::<usize>().max(1) as f64;
        let mean = parts.iter().map(|(n, c)| *n as f64 * c.mean).sum::<f64>() / total;
        let squares = parts
            .iter()
            .map(|(n, c)| c.squares + *n as f64 * (c.mean - mean).powi(2))
            .sum();
        let min = parts
            .iter()
            .map(|(_, c)| c.min)
            .fold(f64::INFINITY, f64::min);
        let max = parts
            .iter()
            .map(|(_, c)| c.max)
            .fold(f64::NEG_INFINITY, f64::max);
        Column {
            mean,
            squares,
            min,
            max,
        }
    }

    fn standard(self, rows: usize) -> Affine {
        Affine {
            shift: self.mean,
            scale: nonzero((self.squares / rows.max(1) as f64).sqrt()),
        }
    }
}

impl Moments {
    /// The moments of `data`'s columns and regression target.
    pub fn of(data: &Dataset) -> Moments {
        let width = data.width();
        let column = |j: usize| data.features.iter().skip(j).step_by(width.max(1)).copied();
        Moments {
            rows: data.rows(),
            columns: (0..width).map(|j| Column::of(column(j))).collect(),
            target: match &data.targets {
                TargetValues::Values(y) => Some(Column::of(y.iter().copied())),
                TargetValues::Classes { .. } => None,
            },
        }
    }

    /// The moments of the union of the parts' rows.
    pub fn pool(parts: &[Moments]) -> Moments {
        let pool = |pick: &dyn Fn(&Moments) -> Option<Column>| {
            let parts: Option<Vec<(usize, Column)>> =
                parts.iter().map(|m| Some((m.rows, pick(m)?))).collect();
            parts.map(|p| Column::pool(&p))
        };
        let width = parts[0].columns.len();
        Moments {
            rows: parts.iter().map(|m| m.rows).sum(),
            columns: (0..width)
                .filter_map(|j| pool(&|m| m.columns.get(j).copied()))
                .collect(),
            target: pool(&|m| m.target),
        }
    }

    /// The scaler [`Scaler::fit`] fits on rows with these moments, images of `channels`
    /// channels, channel last.
    pub fn scaler(&self, config: &PreprocessConfig, channels: usize) -> Scaler {
        let channels = channels.max(1);
        let per_channel: Vec<Affine> = (0..channels)
            .map(|c| {
                let parts: Vec<(usize, Column)> = self
                    .columns
                    .iter()
                    .skip(c)
                    .step_by(channels)
                    .map(|col| (self.rows, *col))
                    .collect();
                Column::pool(&parts).standard(self.rows * parts.len())
            })
            .collect();
        let largest = self
            .columns
            .iter()
            .fold(0.0f64, |m, c| m.max(c.min.abs()).max(c.max.abs()));
        let features = self
            .columns
            .iter()
            .enumerate()
            .map(|(j, c)| match config.features {
                FeatureScaling::Standard => c.standard(self.rows),
                FeatureScaling::MinMax if c.min.is_finite() => Affine {
                    shift: c.min,
                    scale: nonzero(c.max - c.min),
                },
                FeatureScaling::MinMax | FeatureScaling::None => Affine::IDENTITY,
                FeatureScaling::Pixels => Affine {
                    shift: 0.0,
                    scale: nonzero(largest),
                },
                FeatureScaling::Channels => per_channel[j % channels],
            })
            .collect();
        let target = match (self.target, config.target) {
            (Some(t), TargetScaling::Standard) => Some(t.standard(self.rows)),
            _ => None,
        };
        Scaler { features, target }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Dataset {
        Dataset {
            features: vec![1.0, 10.0, 2.0, 10.0, 3.0, 10.0, 6.0, 10.0],
            feature_names: vec!["a".into(), "constant".into()],
            target_name: "y".into(),
            targets: TargetValues::Values(vec![2.0, 4.0, 6.0, 8.0]),
        }
    }

    #[test]
    fn standard_gives_zero_mean_unit_variance_and_restores_the_target() {
        let data = table();
        let scaler = Scaler::fit(&PreprocessConfig::new(), &data, 1);
        let scaled = scaler.apply(data.clone());
        let a: Vec<f64> = scaled.features.iter().step_by(2).copied().collect();
        let mean = a.iter().sum::<f64>() / 4.0;
        let var = a.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 4.0;
        assert!(mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-12);
        // A constant column is centred, not divided by zero.
        assert!(scaled.features.iter().skip(1).step_by(2).all(|&v| v == 0.0));
        let TargetValues::Values(y) = &scaled.targets else {
            unreachable!()
        };
        for (scaled, raw) in y.iter().zip([2.0, 4.0, 6.0, 8.0]) {
            assert!((scaler.restore_target(*scaled) - raw).abs() < 1e-12);
        }
    }

    #[test]
    fn moments_of_parts_pool_into_the_scaler_of_the_whole() {
        let data = table();
        let parts: Vec<Moments> = [vec![0, 1, 2], vec![3]]
            .iter()
            .map(|rows| Moments::of(&data.subset(rows)))
            .collect();
        let pooled = Moments::pool(&parts);
        let kinds = [
            FeatureScaling::Standard,
            FeatureScaling::MinMax,
            FeatureScaling::Pixels,
            FeatureScaling::Channels,
            FeatureScaling::None,
        ];
        for features in kinds {
            for channels in [1, 2] {
                let config = PreprocessConfig::new().with_features(features);
                let whole = Scaler::fit(&config, &data, channels);
                let from_parts = pooled.scaler(&config, channels);
                let pairs = whole.features.iter().chain(&whole.target);
                let others = from_parts.features.iter().chain(&from_parts.target);
                for (a, b) in pairs.zip(others) {
                    let close = (a.shift - b.shift).abs() + (a.scale - b.scale).abs() < 1e-12;
                    assert!(close, "{features:?} {channels}: {a:?} against {b:?}");
                }
            }
        }
    }

    #[test]
    fn min_max_maps_the_training_range_onto_the_unit_interval() {
        let config = PreprocessConfig::new()
            .with_features(FeatureScaling::MinMax)
            .with_target(TargetScaling::None);
        let scaler = Scaler::fit(&config, &table(), 1);
        assert_eq!(
            scaler.features(&[1.0, 10.0, 6.0, 10.0]),
            [0.0, 0.0, 1.0, 0.0]
        );
        assert_eq!(scaler.target, None);
    }

    #[test]
    fn channels_standardizes_each_channel_over_all_of_its_pixels() {
        // Two images of 2 pixels and 2 channels, channel last: (c0, c1, c0, c1).
        let data = Dataset {
            features: vec![0.0, 100.0, 2.0, 300.0, 4.0, 100.0, 6.0, 300.0],
            feature_names: (0..4).map(|i| format!("p{i}")).collect(),
            target_name: "y".into(),
            targets: TargetValues::Classes {
                indices: vec![0, 1],
                labels: vec!["a".into(), "b".into()],
            },
        };
        let config = PreprocessConfig::new().with_features(FeatureScaling::Channels);
        let scaler = Scaler::fit(&config, &data, 2);
        // Channel 0 holds 0, 2, 4, 6 (mean 3, std √5); channel 1 holds 100 and 300 twice.
        let (c0, c1) = (scaler.features[0], scaler.features[1]);
        assert_eq!((c0, c1), (scaler.features[2], scaler.features[3]));
        assert!((c0.shift - 3.0).abs() < 1e-12 && (c0.scale - 5f64.sqrt()).abs() < 1e-12);
        assert!((c1.shift - 200.0).abs() < 1e-12 && (c1.scale - 100.0).abs() < 1e-12);
        // One channel: every value of the table shares one mean and std.
        let one = Scaler::fit(&config, &data, 1);
        assert!(one.features.iter().all(|f| *f == one.features[0]));
    }
}
