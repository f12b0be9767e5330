//! One gradient step of the loop: a family's own step where it has one (a GAN's alternation),
//! else the loss of the model's output, plus the family's own term (a VAE's KL divergence) and
//! the weight penalties, descended once.

use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor};

use crate::compress::prune::Mask;
use crate::config::ExperimentConfig;
use crate::error::Result;
use crate::loss::{Loss, Targets};
use crate::models::Network;

/// What one step did.
pub(super) struct Stepped<B: AutodiffBackend> {
    pub model: Network<B>,
    /// The loss the epoch records: the loss function's (a VAE's negative ELBO, a GAN's J_D).
    pub loss: Tensor<B, 1>,
    /// The second term the epoch records: a VAE's KL term, a GAN's J_G on a generator step.
    pub second: Option<Tensor<B, 1>>,
}

/// The rows of one batch, and what they are scored against.
pub(super) struct Batch<'a, B: AutodiffBackend> {
    pub x: Tensor<B, 2>,
    pub y: &'a Targets<B>,
}

/// One step of `optim` at rate `lr` on `batch`, the `steps`-th of the run.
pub(super) fn step<B: AutodiffBackend, O: Optimizer<Network<B>, B>>(
    config: &ExperimentConfig,
    (model, optim): (Network<B>, &mut O),
    (lr, steps): (f64, u64),
    batch: Batch<'_, B>,
    (loss_fn, mask): (&Loss<B>, Option<&Mask<B>>),
) -> Result<Stepped<B>> {
    if let Some(gan) = config.model.gan() {
        let rates = gan.rates(lr, config.optimizer.learning_rate);
        let turn = (steps + 1) % gan.d_steps as u64 == 0;
        let s = crate::models::gan::step::step(model, optim, rates, batch.x, turn)?;
        return Ok(Stepped {
            model: s.model,
            loss: s.d_loss,
            second: s.g_loss,
        });
    }
    let (output, extra) = model.forward_train(batch.x);
    let mut loss = loss_fn.forward(output, batch.y);
    let weight = config.model.loss_weight();
    if weight != 1.0 {
        loss = loss.mul_scalar(weight);
    }
    if let Some(kl) = &extra {
        loss = loss + kl.clone();
    }
    // The penalty joins the objective, not the recorded (data) loss.
    let objective = match config.loss.penalty(&model) {
        Some(penalty) => loss.clone() + penalty,
        None => loss.clone(),
    };
    let grads = GradientsParams::from_grads(objective.backward(), &model);
    let grads = crate::distributed::average(grads, &model)?;
    let mut model = optim.step(lr, model, grads);
    if let Some(mask) = mask {
        model = mask.apply(model);
    }
    Ok(Stepped {
        model,
        loss,
        second: extra,
    })
}

/// The loss of `model` (without autodiff) on held-out rows, as a step measures it (a VAE's
/// KL term taken at each row's posterior, with no draw), and the model's output.
pub(super) fn held_out_loss<B: Backend>(
    config: &ExperimentConfig,
    model: &Network<B>,
    (x, y): (Tensor<B, 2>, &Targets<B>),
    loss_fn: &Loss<B>,
) -> (f64, Tensor<B, 2>) {
    let output = model.forward_rows(x.clone());
    let loss: f64 = loss_fn.forward(output.clone(), y).into_scalar().elem();
    let kl = model
        .kl_rows(x)
        .map_or(0.0, |kl| kl.mean().into_scalar().elem::<f64>());
    (loss * config.model.loss_weight() + kl, output)
}
