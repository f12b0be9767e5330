//! The simple baselines a network must beat, fitted on the training rows and scored on the
//! same held-out rows as the network: for regression the training mean and linear least
//! squares (ridge with a tiny λ, so that collinear columns still solve); for
//! classification the majority class.

use crate::data::{Dataset, TargetValues};
use crate::eval::metrics::{Evaluation, classification, regression};

/// One baseline's score on the held-out rows.
pub struct Baseline {
    pub name: &'static str,
    pub evaluation: Evaluation,
}

/// The most multiply-adds least squares may take (rows × columns²): beyond it, a wide table
/// gets the mean only.
const MAX_WORK: f64 = 4e9;

/// The baselines of `train`'s task, scored on `held`.
pub fn baselines(train: &Dataset, held: &Dataset) -> Vec<Baseline> {
    match (&train.targets, &held.targets) {
        (TargetValues::Values(y), TargetValues::Values(truth)) => {
            let mean = y.iter().sum::<f64>() / y.len().max(1) as f64;
            let score = |name, predicted: &[f64]| Baseline {
                name,
                evaluation: Evaluation::Regression(regression(predicted, truth, truth.len())),
            };
            let mut found = vec![score("the training mean", &vec![mean; truth.len()])];
            let work = train.rows() as f64 * (train.width() as f64).powi(2);
            if work <= MAX_WORK
                && let Some(fit) = LeastSquares::fit(train, y)
            {
                found.push(score("linear least squares", &fit.predict(held)));
            }
            found
        }
        (
            TargetValues::Classes { indices, labels },
            TargetValues::Classes { indices: truth, .. },
        ) => {
            let mut counts = vec![0usize; labels.len()];
            indices.iter().for_each(|&c| counts[c] += 1);
            let majority = (0..counts.len()).max_by_key(|&c| counts[c]).unwrap_or(0);
            let predicted = vec![majority; truth.len()];
            vec![Baseline {
                name: "the majority class",
                evaluation: Evaluation::Classification(classification(&predicted, truth, labels)),
            }]
        }
        _ => Vec::new(),
    }
}

/// y ≈ b + Σ wⱼ (xⱼ − μⱼ)/σⱼ, by ridge regression with λ = 1e-8 × rows on the standardized
/// columns.
struct LeastSquares {
    centre: Vec<f64>,
    spread: Vec<f64>,
    weights: Vec<f64>,
    intercept: f64,
}

impl LeastSquares {
    fn fit(train: &Dataset, y: &[f64]) -> Option<LeastSquares> {
        let (n, d) = (train.rows(), train.width());
        if n == 0 {
            return None;
        }
        let column = |j: usize| train.features.iter().skip(j).step_by(d).copied();
        let centre: Vec<f64> = (0..d).map(|j| column(j).sum::<f64>() / n as f64).collect();
        let spread: Vec<f64> = (0..d)
            .map(|j| {
                let var = column(j).map(|v| (v - centre[j]).powi(2)).sum::<f64>() / n as f64;
                if var > 1e-24 { var.sqrt() } else { 1.0 }
            })
            .collect();
        let intercept = y.iter().sum::<f64>() / n as f64;
        // The normal equations (ZᵀZ + λI) w = Zᵀ(y − ȳ).
        let mut gram = vec![0.0; d * d];
        let mut right = vec![0.0; d];
        let mut z = vec![0.0; d];
        for (row, target) in train.features.chunks(d.max(1)).zip(y) {
            for j in 0..d {
                z[j] = (row[j] - centre[j]) / spread[j];
            }
            for a in 0..d {
                right[a] += z[a] * (target - intercept);
                for b in 0..=a {
                    gram[a * d + b] += z[a] * z[b];
                }
            }
        }
        for a in 0..d {
            gram[a * d + a] += 1e-8 * n as f64;
        }
        let weights = cholesky_solve(gram, right, d)?;
        Some(LeastSquares {
            centre,
            spread,
            weights,
            intercept,
        })
    }

    fn predict(&self, data: &Dataset) -> Vec<f64> {
        let d = self.weights.len();
        data.features
            .chunks(d.max(1))
            .take(data.rows())
            .map(|row| {
                let z = row.iter().zip(&self.centre).zip(&self.spread);
                let dot: f64 = z
                    .zip(&self.weights)
                    .map(|(((x, c), s), w)| w * (x - c) / s)
                    .sum();
                self.intercept + dot
            })
            .collect()
    }
}

/// Solves A x = b for a symmetric positive definite A, of which the lower triangle is
/// filled (row-major, `d` × `d`); `None` when A is not positive definite.
fn cholesky_solve(mut a: Vec<f64>, mut b: Vec<f64>, d: usize) -> Option<Vec<f64>> {
    for j in 0..d {
        let mut pivot = a[j * d + j];
        for k in 0..j {
            pivot -= a[j * d + k].powi(2);
        }
        if !(pivot > 0.0 && pivot.is_finite()) {
            return None;
        }
        let pivot = pivot.sqrt();
        a[j * d + j] = pivot;
        for i in j + 1..d {
            let mut v = a[i * d + j];
            for k in 0..j {
                v -= a[i * d + k] * a[j * d + k];
            }
            a[i * d + j] = v / pivot;
        }
    }
    for i in 0..d {
        let mut v = b[i];
        for k in 0..i {
            v -= a[i * d + k] * b[k];
        }
        b[i] = v / a[i * d + i];
    }
    for i in (0..d).rev() {
        let mut v = b[i];
        for k in i + 1..d {
            v -= a[k * d + i] * b[k];
        }
        b[i] = v / a[i * d + i];
    }
    Some(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[[f64; 3]]) -> Dataset {
        Dataset {
            features: rows.iter().flat_map(|r| [r[0], r[1]]).collect(),
            feature_names: vec!["a".into(), "b".into()],
            target_name: "y".into(),
            targets: TargetValues::Values(rows.iter().map(|r| r[2]).collect()),
        }
    }

    #[test]
    fn least_squares_recovers_a_plane_even_with_a_copied_column() {
        let rows: Vec<[f64; 3]> = (0..50)
            .map(|i| {
                let (a, b) = (i as f64 / 7.0, (i % 9) as f64);
                [a, b, 2.0 * a - 3.0 * b + 1.0]
            })
            .collect();
        let found = baselines(&table(&rows[..40]), &table(&rows[40..]));
        assert_eq!(found[1].name, "linear least squares");
        assert!(found[1].evaluation.score() > 1.0 - 1e-9);
        assert!(found[0].evaluation.score() < 0.1);
        // Collinear columns: b is a copy of a.
        let copied: Vec<[f64; 3]> = rows.iter().map(|r| [r[0], r[0], 5.0 * r[0]]).collect();
        let found = baselines(&table(&copied[..40]), &table(&copied[40..]));
        assert!(found[1].evaluation.score() > 1.0 - 1e-6);
    }

    #[test]
    fn the_majority_class_scores_its_share_of_the_held_out_rows() {
        let classes = |indices: Vec<usize>| Dataset {
            features: vec![0.0; indices.len()],
            feature_names: vec!["x".into()],
            target_name: "y".into(),
            targets: TargetValues::Classes {
                indices,
                labels: vec!["a".into(), "b".into()],
            },
        };
        let found = baselines(&classes(vec![1, 1, 0]), &classes(vec![1, 0, 0, 0]));
        assert_eq!(found[0].name, "the majority class");
        assert_eq!(found[0].evaluation.score(), 0.25);
    }
}
