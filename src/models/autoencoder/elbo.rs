//! The variational autoencoder's objective, the negative evidence lower bound per row:
//!
//! −ELBO(x) = E_{q(z|x)}[−log p(x|z)] + KL(q(z|x) ‖ N(0, I)),
//!
//! with a Gaussian decoder of unit variance in the scaled units, −log p(x|z) = ½‖x − x̂(z)‖²
//! (the constant (d/2) log 2π left out), and the KL divergence of N(μ, diag σ²) from N(0, I)
//! in closed form: ½ Σ_k (μ_k² + σ_k² − log σ_k² − 1).

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

/// KL(N(μ, diag e^{log σ²}) ‖ N(0, I)) of each row, `[rows]`.
pub fn kl_to_standard_normal<B: Backend>(mu: Tensor<B, 2>, log_var: Tensor<B, 2>) -> Tensor<B, 1> {
    let terms = mu.powi_scalar(2) + log_var.clone().exp() - log_var - 1.0;
    terms.sum_dim(1).squeeze_dim::<1>(1).mul_scalar(0.5)
}

/// The reparameterized draw z = μ + e^{½ log σ²} ⊙ ε, differentiable in μ and log σ².
pub fn reparameterize<B: Backend>(
    mu: Tensor<B, 2>,
    log_var: Tensor<B, 2>,
    noise: Tensor<B, 2>,
) -> Tensor<B, 2> {
    mu + log_var.mul_scalar(0.5).exp() * noise
}

/// ½‖x − x̂‖² of each row, `[rows]`: the reconstruction term.
pub fn half_squared_error<B: Backend>(x_hat: Tensor<B, 2>, x: Tensor<B, 2>) -> Tensor<B, 1> {
    (x_hat - x)
        .powi_scalar(2)
        .sum_dim(1)
        .squeeze_dim::<1>(1)
        .mul_scalar(0.5)
}
