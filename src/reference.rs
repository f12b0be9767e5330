//! Closed-form answers that training is checked against.

/// Ordinary least squares for the line y = w·x + b: returns (w, b, mean squared error).
///
/// w = Σ(x − x̄)(y − ȳ) / Σ(x − x̄)², b = ȳ − w·x̄, computed in `f64`.
pub fn least_squares_line(x: &[f64], y: &[f64]) -> (f64, f64, f64) {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxy: f64 = x.iter().zip(y).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = x.iter().map(|x| (x - mx).powi(2)).sum();
    let w = sxy / sxx;
    let b = my - w * mx;
    let mse = x
        .iter()
        .zip(y)
        .map(|(x, y)| (w * x + b - y).powi(2))
        .sum::<f64>()
        / n;
    (w, b, mse)
}

/// The gradient of J = (1/N) Σ (Xw + b − y)² for a linear model: ∇w J = (2/N) Xᵀ(Xw + b − y)
/// and ∇b J = (2/N) Σ (Xw + b − y). `x` is row-major with `w.len()` columns.
pub fn linear_mse_gradient(x: &[f64], y: &[f64], w: &[f64], b: f64) -> (Vec<f64>, f64) {
    let width = w.len();
    let n = y.len() as f64;
    let mut grad_w = vec![0.0; width];
    let mut grad_b = 0.0;
    for (row, target) in x.chunks(width).zip(y) {
        let residual = row.iter().zip(w).map(|(x, w)| x * w).sum::<f64>() + b - target;
        for (g, x) in grad_w.iter_mut().zip(row) {
            *g += 2.0 / n * residual * x;
        }
        grad_b += 2.0 / n * residual;
    }
    (grad_w, grad_b)
}

/// The largest learning rate at which full-batch gradient descent on the line's MSE converges:
/// α < 2/λ_max, with λ_max the largest eigenvalue of the (constant) Hessian
/// H = (2/N) [[Σx², Σx], [Σx, N]]. Above it the error along that eigenvector grows by
/// |1 − α λ_max| > 1 per step.
pub fn line_gd_stability_limit(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (sxx, sx) = (x.iter().map(|x| x * x).sum::<f64>(), x.iter().sum::<f64>());
    let (a, b, d) = (2.0 * sxx / n, 2.0 * sx / n, 2.0);
    let lambda_max = (a + d) / 2.0 + (((a - d) / 2.0).powi(2) + b * b).sqrt();
    2.0 / lambda_max
}
