//! Principal component analysis, the optimal linear autoencoder: of all maps through K
//! dimensions that are linear both ways, projecting onto the covariance matrix's top K
//! eigenvectors reconstructs centred rows with the least squared error (Eckart–Young). It is
//! the baseline an autoencoder must beat for its nonlinearity to have paid off.

/// A fitted projection: the mean and the top components, each of `width` values.
pub struct Pca {
    pub mean: Vec<f64>,
    /// The components, largest variance first, each a unit vector.
    pub components: Vec<Vec<f64>>,
}

impl Pca {
    /// Fits the top `k` components of row-major `rows` of `width` columns.
    pub fn fit(rows: &[f64], width: usize, k: usize) -> Pca {
        let n = (rows.len() / width.max(1)).max(1) as f64;
        let mut mean = vec![0.0; width];
        for row in rows.chunks(width) {
            mean.iter_mut().zip(row).for_each(|(m, v)| *m += v / n);
        }
        let mut cov = vec![0.0; width * width];
        for row in rows.chunks(width) {
            for i in 0..width {
                let di = row[i] - mean[i];
                for j in i..width {
                    cov[i * width + j] += di * (row[j] - mean[j]) / n;
                }
            }
        }
        for i in 0..width {
            for j in 0..i {
                cov[i * width + j] = cov[j * width + i];
            }
        }
        let (values, vectors) = jacobi_eigen(cov, width);
        let mut order: Vec<usize> = (0..width).collect();
        order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
        let components = order
            .iter()
            .take(k.min(width))
            .map(|&c| (0..width).map(|i| vectors[i * width + c]).collect())
            .collect();
        Pca { mean, components }
    }

    /// Each row projected onto the components and mapped back.
    pub fn reconstruct(&self, rows: &[f64]) -> Vec<f64> {
        let width = self.mean.len();
        let mut out = Vec::with_capacity(rows.len());
        for row in rows.chunks(width) {
            let centred: Vec<f64> = row.iter().zip(&self.mean).map(|(v, m)| v - m).collect();
            let mut back = self.mean.clone();
            for c in &self.components {
                let t: f64 = centred.iter().zip(c).map(|(a, b)| a * b).sum();
                back.iter_mut().zip(c).for_each(|(b, ci)| *b += t * ci);
            }
            out.extend(back);
        }
        out
    }
}

/// The eigenvalues and eigenvectors (columns of a row-major `n × n` matrix) of the symmetric
/// matrix `a`, by cyclic Jacobi rotations: slow for wide rows (n³ a sweep) but exact to
/// rounding, and with no dependency.
fn jacobi_eigen(mut a: Vec<f64>, n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0; n * n];
    (0..n).for_each(|i| v[i * n + i] = 1.0);
    let scale: f64 = a.iter().map(|x| x * x).sum::<f64>().max(f64::MIN_POSITIVE);
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * n + j].powi(2))
            .sum();
        if off <= 1e-22 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                rotate(&mut a, &mut v, n, p, q);
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

/// One Jacobi rotation that zeroes a[p][q] (Golub and Van Loan, Algorithm 8.4.2).
fn rotate(a: &mut [f64], v: &mut [f64], n: usize, p: usize, q: usize) {
    let apq = a[p * n + q];
    if apq.abs() < 1e-300 {
        return;
    }
    let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
    let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
    let t = if theta == 0.0 { 1.0 } else { t };
    let c = 1.0 / (t * t + 1.0).sqrt();
    let s = t * c;
    for k in 0..n {
        let (akp, akq) = (a[k * n + p], a[k * n + q]);
        a[k * n + p] = c * akp - s * akq;
        a[k * n + q] = s * akp + c * akq;
    }
    for k in 0..n {
        let (apk, aqk) = (a[p * n + k], a[q * n + k]);
        a[p * n + k] = c * apk - s * aqk;
        a[q * n + k] = s * apk + c * aqk;
    }
    for k in 0..n {
        let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
        v[k * n + p] = c * vkp - s * vkq;
        v[k * n + q] = s * vkp + c * vkq;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_the_direction_of_a_line_and_reconstructs_its_points() {
        // Points on the line through (1, 2) along (3, 4)/5, plus a small wiggle across it.
        let mut rows = Vec::new();
        for i in 0..50 {
            let t = i as f64 / 10.0 - 2.5;
            let e = if i % 2 == 0 { 0.01 } else { -0.01 };
            rows.extend([1.0 + 0.6 * t - 0.8 * e, 2.0 + 0.8 * t + 0.6 * e]);
        }
        let pca = Pca::fit(&rows, 2, 1);
        let c = &pca.components[0];
        assert!(
            (c[0].abs() - 0.6).abs() < 1e-3 && (c[1].abs() - 0.8).abs() < 1e-3,
            "{c:?}"
        );
        let mse = |back: &[f64]| -> f64 {
            rows.iter()
                .zip(back)
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f64>()
                / 100.0
        };
        let found = mse(&pca.reconstruct(&rows));
        // No direction through the mean, scanned every 0.0001 rad, reconstructs better.
        let best = (0..31416)
            .map(|i| {
                let angle = i as f64 * 1e-4;
                let line = Pca {
                    mean: pca.mean.clone(),
                    components: vec![vec![angle.cos(), angle.sin()]],
                };
                mse(&line.reconstruct(&rows))
            })
            .fold(f64::INFINITY, f64::min);
        assert!(
            found <= best + 1e-12 && found < 1e-4,
            "PCA {found}, best scanned {best}"
        );
        // All components reconstruct exactly.
        let full = Pca::fit(&rows, 2, 2).reconstruct(&rows);
        assert!(rows.iter().zip(&full).all(|(a, b)| (a - b).abs() < 1e-9));
    }

    #[test]
    fn eigenvalues_of_a_known_matrix() {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3.
        let (mut values, _) = jacobi_eigen(vec![2.0, 1.0, 1.0, 2.0], 2);
        values.sort_by(f64::total_cmp);
        assert!((values[0] - 1.0).abs() < 1e-12 && (values[1] - 3.0).abs() < 1e-12);
    }
}
