//! The generative families' mathematics against independent references, in `f64`: the VAE's
//! KL term in closed form against a Monte Carlo estimate, the reparameterized draw's gradient
//! against finite differences, the GAN's losses against their formulas on fixed logits, and
//! gradcheck on each family's whole training objective.

use burn::tensor::{Tensor, TensorData};
use nnlab::data::{Dataset, TargetValues};
use nnlab::lab::gradcheck::gradcheck;
use nnlab::loss::{LossConfig, LossName};
use nnlab::models::autoencoder::elbo::{kl_to_standard_normal, reparameterize};
use nnlab::models::gan::loss::{discriminator, generator};
use nnlab::models::{Activation, AutoencoderConfig, GanConfig, GanLoss, ModelConfig};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr_free::normal;

use super::{F64, common};

type Inner = <F64 as burn::tensor::backend::AutodiffBackend>::InnerBackend;

/// A standard normal draw by Box–Muller, so that the Monte Carlo check uses no code of
/// nnlab's or Burn's.
mod rand_distr_free {
    use rand::RngExt;
    pub fn normal(rng: &mut impl rand::Rng) -> f64 {
        let (u1, u2): (f64, f64) = (rng.random_range(f64::MIN_POSITIVE..1.0), rng.random());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

fn tensor<B: burn::tensor::backend::Backend>(values: &[f64], rows: usize) -> Tensor<B, 2> {
    let cols = values.len() / rows;
    Tensor::from_data(
        TensorData::new(values.to_vec(), [rows, cols]),
        &Default::default(),
    )
}

fn values<B: burn::tensor::backend::Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f64> {
    t.into_data().iter::<f64>().collect()
}

#[test]
fn the_kl_term_in_closed_form_matches_a_monte_carlo_estimate() {
    common::f64();
    let (mu, log_var) = ([0.7, -1.2, 0.0], [-0.5, 0.8, 0.3]);
    let closed = values(kl_to_standard_normal(
        tensor::<Inner>(&mu, 1),
        tensor::<Inner>(&log_var, 1),
    ))[0];
    // KL(q ‖ p) = E_q[log q(z) − log p(z)], the constants cancelling, from draws of q.
    let mut rng = StdRng::seed_from_u64(7);
    let draws = 400_000;
    let mut sum = 0.0;
    for _ in 0..draws {
        for k in 0..3 {
            let sigma = (0.5 * log_var[k]).exp();
            let z = mu[k] + sigma * normal(&mut rng);
            let log_q = -0.5 * ((z - mu[k]) / sigma).powi(2) - sigma.ln();
            let log_p = -0.5 * z * z;
            sum += log_q - log_p;
        }
    }
    let estimate = sum / draws as f64;
    // The estimate's standard error here is about 0.003.
    assert!(
        (closed - estimate).abs() < 0.015,
        "closed form {closed}, Monte Carlo {estimate}"
    );
}

#[test]
fn the_reparameterized_draw_has_the_gradient_of_finite_differences() {
    common::f64();
    let (mu, log_var, noise) = ([0.3, -0.8], [0.4, -1.1], [1.3, -0.6]);
    // f(μ, log σ²) = Σ sin(z) with z = μ + e^{½ log σ²} ε: differentiable through the draw.
    let f = |mu: &[f64], log_var: &[f64]| -> f64 {
        let z = reparameterize(
            tensor::<Inner>(mu, 1),
            tensor::<Inner>(log_var, 1),
            tensor::<Inner>(&noise, 1),
        );
        values(z.sin().sum())[0]
    };
    let mu_t = tensor::<F64>(&mu, 1).require_grad();
    let lv_t = tensor::<F64>(&log_var, 1).require_grad();
    let z = reparameterize(mu_t.clone(), lv_t.clone(), tensor::<F64>(&noise, 1));
    let grads = z.sin().sum().backward();
    let autodiff = [
        values(mu_t.grad(&grads).unwrap()),
        values(lv_t.grad(&grads).unwrap()),
    ];
    let h = 1e-6;
    for k in 0..2 {
        let shifted = |which: usize, by: f64| {
            let (mut m, mut l) = (mu.to_vec(), log_var.to_vec());
            [&mut m, &mut l][which][k] += by;
            f(&m, &l)
        };
        for (which, grad) in autodiff.iter().enumerate() {
            let numeric = (shifted(which, h) - shifted(which, -h)) / (2.0 * h);
            let got = grad[k];
            assert!(
                (got - numeric).abs() < 1e-8,
                "{which} {k}: {got} vs {numeric}"
            );
        }
    }
}

#[test]
fn the_gan_losses_match_their_formulas_on_fixed_logits() {
    common::f64();
    let (real, fake) = ([2.0, -0.5, 0.1], [-1.5, 0.7, 3.0]);
    let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
    let mean = |v: Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
    let d_standard = -mean(real.iter().map(|&d| sigmoid(d).ln()).collect())
        - mean(fake.iter().map(|&d| (1.0 - sigmoid(d)).ln()).collect());
    let g_standard = -mean(fake.iter().map(|&d| sigmoid(d).ln()).collect());
    let d_wasserstein = mean(fake.to_vec()) - mean(real.to_vec());
    let g_wasserstein = -mean(fake.to_vec());
    let (r, f) = (tensor::<Inner>(&real, 3), tensor::<Inner>(&fake, 3));
    let cases = [
        (
            values(discriminator(GanLoss::Standard, r.clone(), f.clone()))[0],
            d_standard,
        ),
        (
            values(generator(GanLoss::Standard, f.clone()))[0],
            g_standard,
        ),
        (
            values(discriminator(GanLoss::Wasserstein, r, f.clone()))[0],
            d_wasserstein,
        ),
        (values(generator(GanLoss::Wasserstein, f))[0], g_wasserstein),
    ];
    for (i, (got, want)) in cases.iter().enumerate() {
        assert!((got - want).abs() < 1e-12, "case {i}: {got} vs {want}");
    }
}

/// 8 rows of 4 values, their own targets.
fn rows() -> Dataset {
    let mut rng = StdRng::seed_from_u64(4);
    let features: Vec<f64> = (0..32).map(|_| rng.random_range(-2.0..2.0)).collect();
    Dataset {
        targets: TargetValues::Values(features.clone()),
        features,
        feature_names: (1..=4).map(|i| format!("x{i}")).collect(),
        target_name: String::new(),
    }
}

fn check(config: ModelConfig, what: &str) {
    let model = config.init::<F64>(3, &Default::default());
    let loss = LossConfig::new().with_name(LossName::Mse);
    let checks = gradcheck(&model, &loss, &rows(), &Default::default());
    common::assert_gradients_match(&checks, what);
}

#[test]
fn gradcheck_holds_for_the_autoencoder_the_vae_and_the_gan() {
    common::f64();
    // tanh: no kink for a finite difference to straddle.
    let ae = AutoencoderConfig::new()
        .with_input_size(4)
        .with_hidden(Some(vec![5]))
        .with_latent(Some(2))
        .with_activation(Activation::Tanh);
    check(ModelConfig::Autoencoder(ae.clone()), "autoencoder");
    check(
        ModelConfig::Vae(ae),
        "vae (negative ELBO with one draw of z)",
    );
    for loss in [GanLoss::Standard, GanLoss::Wasserstein] {
        let gan = GanConfig::new()
            .with_input_size(4)
            .with_hidden(vec![6])
            .with_latent(Some(3))
            .with_activation(Activation::Tanh)
            .with_loss(loss);
        check(
            ModelConfig::Gan(gan),
            &format!("gan {loss:?} (J_D + J_G with one draw of noise)"),
        );
    }
}
