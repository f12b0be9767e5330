//! Permutation importance (Breiman, 2001; Fisher et al., 2019): how much a model's score drops
//! when one input column is shuffled across the rows, which breaks that column's link to the
//! target while keeping its values. A model that does not read a column loses nothing.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::Serialize;

use crate::data::Dataset;

/// The drop in the score for each input column.
#[derive(Clone, Debug, Serialize)]
pub struct Importance {
    /// The score's name (R², accuracy) and its value on the rows as given.
    pub score_name: String,
    pub baseline: f64,
    /// One per input column, in the input's order.
    pub features: Vec<FeatureImportance>,
}

/// One column's score drops, baseline − score, one per shuffle.
#[derive(Clone, Debug, Serialize)]
pub struct FeatureImportance {
    pub name: String,
    pub drops: Vec<f64>,
}

impl FeatureImportance {
    pub fn mean(&self) -> f64 {
        self.drops.iter().sum::<f64>() / self.drops.len().max(1) as f64
    }

    /// The sample standard deviation of the drops; 0 for one shuffle.
    pub fn std(&self) -> f64 {
        let n = self.drops.len();
        if n < 2 {
            return 0.0;
        }
        let mean = self.mean();
        let squares: f64 = self.drops.iter().map(|d| (d - mean).powi(2)).sum();
        (squares / (n - 1) as f64).sqrt()
    }
}

impl Importance {
    /// Column indices, the largest mean drop first (ties in input order).
    pub fn ranking(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.features.len()).collect();
        order.sort_by(|&a, &b| {
            let (a, b) = (&self.features[a], &self.features[b]);
            b.mean().total_cmp(&a.mean())
        });
        order
    }
}

/// Shuffles each column of `data` `repeats` times and scores the rows with `score` (higher is
/// better), which sees the rows with one column shuffled. Column j's shuffles come from the
/// seed `seed + j`, so a column's result does not depend on the others.
pub fn permutation_importance(
    data: &Dataset,
    repeats: usize,
    seed: u64,
    mut score: impl FnMut(&[f64]) -> (String, f64),
) -> Importance {
    let (width, rows) = (data.width(), data.rows());
    let (score_name, baseline) = score(&data.features);
    let mut shuffled = data.features.clone();
    let mut order: Vec<usize> = (0..rows).collect();
    let features = (0..width)
        .map(|column| {
            let mut rng = StdRng::seed_from_u64(seed.wrapping_add(column as u64));
            let drops = (0..repeats)
                .map(|_| {
                    order.shuffle(&mut rng);
                    for (row, &from) in order.iter().enumerate() {
                        shuffled[row * width + column] = data.features[from * width + column];
                    }
                    baseline - score(&shuffled).1
                })
                .collect();
            for row in 0..rows {
                shuffled[row * width + column] = data.features[row * width + column];
            }
            FeatureImportance {
                name: data.feature_names[column].clone(),
                drops,
            }
        })
        .collect();
    Importance {
        score_name,
        baseline,
        features,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::TargetValues;

    /// 200 rows of 3 columns, y = 2·x0 − x2 exactly; column 1 is noise.
    fn table() -> (Dataset, Vec<f64>) {
        let mut rng = StdRng::seed_from_u64(7);
        let mut features = Vec::new();
        let mut y = Vec::new();
        for _ in 0..200 {
            let row: Vec<f64> = (0..3)
                .map(|_| rand::RngExt::random_range(&mut rng, -1.0..1.0))
                .collect();
            y.push(2.0 * row[0] - row[2]);
            features.extend(row);
        }
        let names = ["a", "b", "c"].map(String::from).to_vec();
        let data = Dataset {
            features,
            feature_names: names,
            target_name: "y".into(),
            targets: TargetValues::Values(y.clone()),
        };
        (data, y)
    }

    /// The negative mean squared error of the true function on `rows`.
    fn score(y: &[f64]) -> impl FnMut(&[f64]) -> (String, f64) + '_ {
        move |rows: &[f64]| {
            let mse = rows
                .chunks(3)
                .zip(y)
                .map(|(r, y)| (2.0 * r[0] - r[2] - y).powi(2))
                .sum::<f64>()
                / y.len() as f64;
            ("-MSE".into(), -mse)
        }
    }

    #[test]
    fn the_columns_the_model_reads_rank_first_and_the_one_it_ignores_drops_nothing() {
        let (data, y) = table();
        let importance = permutation_importance(&data, 5, 0, score(&y));
        assert_eq!(importance.baseline, 0.0);
        assert_eq!(importance.ranking(), [0, 2, 1]);
        assert_eq!(importance.features[1].drops, [0.0; 5]);
        // Shuffling x0 adds 4·2·Var(x0) = 8/3 to the MSE in expectation, x2 2/3.
        let (a, c) = (importance.features[0].mean(), importance.features[2].mean());
        assert!((a - 8.0 / 3.0).abs() < 0.6, "{a}");
        assert!((c - 2.0 / 3.0).abs() < 0.2, "{c}");
        assert!(importance.features[0].std() > 0.0);
    }

    #[test]
    fn the_same_seed_gives_the_same_drops_and_the_rows_come_back_unchanged() {
        let (data, y) = table();
        let mut seen = Vec::new();
        let first = permutation_importance(&data, 3, 9, |rows: &[f64]| {
            seen.push(rows.to_vec());
            score(&y)(rows)
        });
        let again = permutation_importance(&data, 3, 9, score(&y));
        let drops = |i: &Importance| {
            i.features
                .iter()
                .map(|f| f.drops.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(drops(&first), drops(&again));
        // Each shuffle changes one column only.
        for rows in &seen[1..] {
            let changed: Vec<usize> = (0..3)
                .filter(|&c| {
                    rows.chunks(3)
                        .zip(data.features.chunks(3))
                        .any(|(r, d)| r[c] != d[c])
                })
                .collect();
            assert_eq!(changed.len(), 1);
        }
        assert_eq!(seen.len(), 1 + 3 * 3);
    }
}
