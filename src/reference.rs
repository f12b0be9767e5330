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

/// A network with one tanh hidden layer, in `f64`: z₁ = XW₁ + b₁, h = tanh(z₁), z = hW₂ + b₂.
/// Weights are row-major `[inputs × hidden]` and `[hidden × outputs]`, as Burn's `Linear`
/// stores them.
#[derive(Clone, Debug, PartialEq)]
pub struct TanhNet {
    pub w1: Vec<f64>,
    pub b1: Vec<f64>,
    pub w2: Vec<f64>,
    pub b2: Vec<f64>,
}

impl TanhNet {
    /// One full-batch gradient-descent step on J = −(1/N) Σ log softmax(z)[yₙ] at rate `lr`:
    /// δ = (softmax(z) − onehot(y))/N, ∇W₂ = hᵀδ, ∇b₂ = Σδ, δ₁ = δW₂ᵀ ⊙ (1 − h²), ∇W₁ = Xᵀδ₁,
    /// ∇b₁ = Σδ₁. Index loops, so that the code reads as the formulas' subscripts.
    #[allow(clippy::needless_range_loop)]
    pub fn descend(&mut self, x: &[f64], classes: &[usize], lr: f64) {
        let (hidden, outputs) = (self.b1.len(), self.b2.len());
        let inputs = self.w1.len() / hidden;
        let n = classes.len() as f64;
        let mut grads = TanhNet {
            w1: vec![0.0; self.w1.len()],
            b1: vec![0.0; hidden],
            w2: vec![0.0; self.w2.len()],
            b2: vec![0.0; outputs],
        };
        for (row, &class) in x.chunks(inputs).zip(classes) {
            let h: Vec<f64> = (0..hidden)
                .map(|j| {
                    let z: f64 = (0..inputs).map(|i| row[i] * self.w1[i * hidden + j]).sum();
                    (z + self.b1[j]).tanh()
                })
                .collect();
            let z: Vec<f64> = (0..outputs)
                .map(|k| {
                    (0..hidden)
                        .map(|j| h[j] * self.w2[j * outputs + k])
                        .sum::<f64>()
                        + self.b2[k]
                })
                .collect();
            let top = z.iter().cloned().fold(f64::MIN, f64::max);
            let total: f64 = z.iter().map(|z| (z - top).exp()).sum();
            let delta: Vec<f64> = (0..outputs)
                .map(|k| ((z[k] - top).exp() / total - if k == class { 1.0 } else { 0.0 }) / n)
                .collect();
            for j in 0..hidden {
                let back: f64 = (0..outputs)
                    .map(|k| delta[k] * self.w2[j * outputs + k])
                    .sum();
                let d1 = back * (1.0 - h[j] * h[j]);
                for k in 0..outputs {
                    grads.w2[j * outputs + k] += h[j] * delta[k];
                }
                for i in 0..inputs {
                    grads.w1[i * hidden + j] += row[i] * d1;
                }
                grads.b1[j] += d1;
            }
            for k in 0..outputs {
                grads.b2[k] += delta[k];
            }
        }
        let step =
            |p: &mut Vec<f64>, g: &[f64]| p.iter_mut().zip(g).for_each(|(p, g)| *p -= lr * g);
        step(&mut self.w1, &grads.w1);
        step(&mut self.b1, &grads.b1);
        step(&mut self.w2, &grads.w2);
        step(&mut self.b2, &grads.b2);
    }
}
