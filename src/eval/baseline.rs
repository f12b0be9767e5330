//! The simple baselines a network must beat, fitted on the training rows and scored on the
//! same held-out rows as the network: for regression the training mean and linear least
//! squares (ridge with a tiny λ, so that collinear columns still solve); for
//! classification the majority class and multinomial logistic regression.

use ndarray::{Array1, Array2};

use crate::data::{Dataset, TargetValues};
use crate::eval::metrics::{Evaluation, classification, regression};

/// One baseline's score on the held-out rows.
pub struct Baseline {
    pub name: &'static str,
    pub evaluation: Evaluation,
}

/// The baselines beside a network's score on the same rows: a line, a note when one beats
/// the network, and their JSON.
pub struct Report {
    pub line: String,
    pub note: Option<String>,
    pub json: serde_json::Value,
}

impl Report {
    /// `found` beside `network`'s score on `count` rows, which `rows` names (the line
    /// begins `baselines on {rows}`); `None` when there are none.
    pub fn new(
        found: &[Baseline],
        network: &Evaluation,
        rows: &str,
        count: usize,
    ) -> Option<Report> {
        let name = network.score_name();
        let best = found
            .iter()
            .max_by(|a, b| a.evaluation.score().total_cmp(&b.evaluation.score()))?;
        let note = (best.evaluation.score() > network.score()).then(|| {
            format!(
                "note: {} scores {name} {:.4} on these rows, the network {:.4}",
                best.name,
                best.evaluation.score(),
                network.score()
            )
        });
        let scores: Vec<String> = found
            .iter()
            .map(|b| format!("{} {name} {:.4}", b.name, b.evaluation.score()))
            .collect();
        let each = found
            .iter()
            .map(|b| (b.name.to_string(), b.evaluation.score().into()));
        let json = serde_json::json!({
            "rows": rows,
            "count": count,
            "score": name,
            "network": network.score(),
            "baselines": each.collect::<serde_json::Map<_, _>>(),
            "note": note,
        });
        Some(Report {
            line: format!(
                "baselines on {rows}, where the network scores {name} {:.4}: {}",
                network.score(),
                scores.join(", ")
            ),
            note,
            json,
        })
    }
}

/// The most multiply-adds a fit may take (least squares: rows × columns²; logistic
/// regression: its iterations × rows × columns × classes): beyond it, a wide table gets the
/// mean or the majority class only.
const MAX_WORK: f64 = 4e9;

/// The gradient steps logistic regression takes at most (on digits its accuracy is the
/// same at 100 as at 300); it stops earlier once the gradient is below [`TOLERANCE`].
const ITERATIONS: usize = 100;
const TOLERANCE: f64 = 1e-5;

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
            let score = |name, predicted: &[usize]| Baseline {
                name,
                evaluation: Evaluation::Classification(classification(predicted, truth, labels)),
            };
            let mut found = vec![score("the majority class", &vec![majority; truth.len()])];
            let work = (ITERATIONS * train.rows() * (train.width() + 1) * labels.len()) as f64;
            if work <= MAX_WORK
                && let Some(fit) = Logistic::fit(train, indices, labels.len())
            {
                found.push(score("logistic regression", &fit.predict(held)));
            }
            found
        }
        _ => Vec::new(),
    }
}

/// Each column's mean and standard deviation on the training rows (1 for a constant one),
/// so that the fits below work on columns of one scale.
struct Standard {
    centre: Vec<f64>,
    spread: Vec<f64>,
}

impl Standard {
    fn fit(train: &Dataset) -> Standard {
        let (n, d) = (train.rows().max(1) as f64, train.width());
        let column = |j: usize| train.features.iter().skip(j).step_by(d).copied();
        let centre: Vec<f64> = (0..d).map(|j| column(j).sum::<f64>() / n).collect();
        let spread = (0..d)
            .map(|j| {
                let var = column(j).map(|v| (v - centre[j]).powi(2)).sum::<f64>() / n;
                if var > 1e-24 { var.sqrt() } else { 1.0 }
            })
            .collect();
        Standard { centre, spread }
    }

    /// `row` standardized into `z`.
    fn standardize(&self, row: &[f64], z: &mut [f64]) {
        for (j, x) in row.iter().enumerate() {
            z[j] = (x - self.centre[j]) / self.spread[j];
        }
    }

    /// Every row of `data`, standardized, each followed by a 1 for the intercept.
    fn rows_with_one(&self, data: &Dataset) -> Vec<f64> {
        let d = self.centre.len();
        let mut out = vec![1.0; data.rows() * (d + 1)];
        let rows = data.features.chunks(d.max(1)).take(data.rows());
        for (row, z) in rows.zip(out.chunks_mut(d + 1)) {
            self.standardize(row, &mut z[..d]);
        }
        out
    }
}

/// y ≈ b + Σ wⱼ (xⱼ − μⱼ)/σⱼ, by ridge regression with λ = 1e-8 × rows on the standardized
/// columns.
struct LeastSquares {
    standard: Standard,
    weights: Vec<f64>,
    intercept: f64,
}

impl LeastSquares {
    fn fit(train: &Dataset, y: &[f64]) -> Option<LeastSquares> {
        let (n, d) = (train.rows(), train.width());
        if n == 0 {
            return None;
        }
        let standard = Standard::fit(train);
        let intercept = y.iter().sum::<f64>() / n as f64;
        // The normal equations (ZᵀZ + λI) w = Zᵀ(y − ȳ).
        let mut gram = vec![0.0; d * d];
        let mut right = vec![0.0; d];
        let mut z = vec![0.0; d];
        for (row, target) in train.features.chunks(d.max(1)).zip(y) {
            standard.standardize(row, &mut z);
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
            standard,
            weights,
            intercept,
        })
    }

    fn predict(&self, data: &Dataset) -> Vec<f64> {
        let z = self.standard.rows_with_one(data);
        let d = self.weights.len();
        z.chunks(d + 1)
            .map(|z| self.intercept + dot(&z[..d], &self.weights))
            .collect()
    }
}

/// Multinomial logistic regression, softmax(W z + b) on the standardized columns, with the
/// penalty of scikit-learn's `LogisticRegression` by default (C = 1: ½‖W‖² beside the summed
/// cross-entropy), fitted by Nesterov's accelerated gradient descent with adaptive restart.
/// The products are ndarray's matrix products, which stay fast in a debug build.
struct Logistic {
    standard: Standard,
    /// One row of `columns + 1` weights per class, the intercept last.
    weights: Array2<f64>,
}

impl Logistic {
    fn fit(train: &Dataset, classes: &[usize], k: usize) -> Option<Logistic> {
        let (n, d1) = (train.rows(), train.width() + 1);
        if n == 0 || k < 2 {
            return None;
        }
        let standard = Standard::fit(train);
        let z = Array2::from_shape_vec((n, d1), standard.rows_with_one(train)).ok()?;
        let mut onehot = Array2::<f64>::zeros((n, k));
        classes
            .iter()
            .enumerate()
            .for_each(|(r, &c)| onehot[[r, c]] = 1.0);
        let lambda = 1.0 / n as f64;
        // The cross-entropy's Hessian is at most ½ ZᵀZ/n per class, so 1/L is a safe step.
        let gram = z.t().dot(&z) / n as f64;
        let step = 1.0 / (0.5 * 1.1 * largest_eigenvalue(&gram) + lambda);
        let mut penalty = Array2::from_elem((k, d1), lambda);
        penalty.column_mut(d1 - 1).fill(0.0);
        let (mut w, mut ahead) = (Array2::zeros((k, d1)), Array2::zeros((k, d1)));
        let mut t = 1.0f64;
        for _ in 0..ITERATIONS {
            let mut p = z.dot(&ahead.t());
            for mut row in p.rows_mut() {
                let top = row.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
                row.mapv_inplace(|v| (v - top).exp());
                let sum = row.sum();
                row /= sum;
            }
            let g = (p - &onehot).t().dot(&z) / n as f64 + &penalty * &ahead;
            if g.iter().all(|v| v.abs() < TOLERANCE) {
                break;
            }
            let next = &ahead - &(&g * step);
            let moved = &next - &w;
            // Restart the momentum when it points uphill.
            if (&g * &moved).sum() > 0.0 {
                t = 1.0;
            }
            let t_next = (1.0 + (1.0 + 4.0 * t * t).sqrt()) / 2.0;
            ahead = &next + &(moved * ((t - 1.0) / t_next));
            (w, t) = (next, t_next);
        }
        Some(Logistic {
            standard,
            weights: w,
        })
    }

    fn predict(&self, data: &Dataset) -> Vec<usize> {
        let d1 = self.weights.ncols();
        let z = Array2::from_shape_vec((data.rows(), d1), self.standard.rows_with_one(data));
        let logits = z.expect("rows of the run's width").dot(&self.weights.t());
        logits
            .rows()
            .into_iter()
            .map(|row| {
                let best = row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1));
                best.map_or(0, |(c, _)| c)
            })
            .collect()
    }
}

/// The largest eigenvalue of the symmetric `gram`, by 30 steps of power iteration (from
/// below, so the caller leaves a margin).
fn largest_eigenvalue(gram: &Array2<f64>) -> f64 {
    let width = gram.nrows();
    let mut v = Array1::from_elem(width, 1.0 / (width as f64).sqrt());
    let mut value = 1.0;
    for _ in 0..30 {
        let next = gram.dot(&v);
        value = next.dot(&next).sqrt();
        if value.is_nan() || value <= 0.0 {
            return 1.0;
        }
        v = next / value;
    }
    value
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
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

    #[test]
    fn logistic_regression_separates_three_classes_that_a_line_can() {
        // Three classes in two columns on very different scales: the largest of three linear
        // functions, as softmax(W x + b) draws its regions.
        let point = |i: usize| {
            let (a, b) = (
                (i * 37 % 101) as f64 / 101.0,
                (i * 53 % 97) as f64 * 1000.0 / 97.0,
            );
            let scores = [a, b / 1000.0, 0.7 - 0.5 * (a + b / 1000.0)];
            let class = (0..3)
                .max_by(|&i, &j| scores[i].total_cmp(&scores[j]))
                .unwrap();
            ([a, b], class)
        };
        let classes = |range: std::ops::Range<usize>| {
            let points: Vec<_> = range.map(point).collect();
            Dataset {
                features: points.iter().flat_map(|(x, _)| *x).collect(),
                feature_names: vec!["a".into(), "b".into()],
                target_name: "y".into(),
                targets: TargetValues::Classes {
                    indices: points.iter().map(|(_, c)| *c).collect(),
                    labels: vec!["p".into(), "q".into(), "r".into()],
                },
            }
        };
        let found = baselines(&classes(0..300), &classes(300..400));
        assert_eq!(found[1].name, "logistic regression");
        assert!(
            found[1].evaluation.score() >= 0.95,
            "{}",
            found[1].evaluation.score()
        );
        assert!(found[0].evaluation.score() < 0.6);
    }
}
