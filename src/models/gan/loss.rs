//! The two games a GAN can play, as losses of the discriminator's logits d on real rows and on
//! generated ones.
//!
//! - `standard` (Goodfellow et al., 2014, with the non-saturating generator loss):
//!   J_D = −mean log σ(d_real) − mean log(1 − σ(d_fake)), J_G = −mean log σ(d_fake).
//! - `wasserstein` (Arjovsky et al., 2017): the discriminator is a critic f, and
//!   J_D = mean f(fake) − mean f(real), J_G = −mean f(fake), with the critic's weights clipped to
//!   [−c, c] after every step to keep it (roughly) Lipschitz. The gradient-penalty variant
//!   (Gulrajani et al., 2017) needs the gradient of a gradient, which Burn 0.21's autodiff does
//!   not compute (its backward pass is not itself differentiable), so it is not offered.

use burn::tensor::Tensor;
use burn::tensor::activation::log_sigmoid;
use burn::tensor::backend::Backend;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum GanLoss {
    /// Cross-entropy of real against generated, the generator's loss non-saturating.
    Standard,
    /// The Wasserstein critic, with weight clipping.
    Wasserstein,
}

/// The discriminator's loss J_D on its logits for real and generated rows, `[rows, 1]` each.
pub fn discriminator<B: Backend>(
    loss: GanLoss,
    real: Tensor<B, 2>,
    fake: Tensor<B, 2>,
) -> Tensor<B, 1> {
    match loss {
        GanLoss::Standard => -(log_sigmoid(real).mean() + log_sigmoid(fake.neg()).mean()),
        GanLoss::Wasserstein => fake.mean() - real.mean(),
    }
}

/// The generator's loss J_G on the discriminator's logits for generated rows.
pub fn generator<B: Backend>(loss: GanLoss, fake: Tensor<B, 2>) -> Tensor<B, 1> {
    match loss {
        GanLoss::Standard => -log_sigmoid(fake).mean(),
        GanLoss::Wasserstein => -fake.mean(),
    }
}
