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
