//! One step of adversarial training, the GAN's own train step: the discriminator learns from a
//! batch of real rows and as many generated ones, and on every `d_steps`-th batch the
//! generator then learns to fool it. Both go through the run's one optimizer, each with the
//! gradients of its own network only (the other's parameters and optimizer state stay as they
//! are), and each with its own learning rate.

use burn::module::{AutodiffModule, Module};
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;

use super::{GanLoss, loss};
use crate::distributed::average;
use crate::error::Result;
use crate::models::Network;

/// The learning rates of one step.
#[derive(Clone, Copy, Debug)]
pub struct Rates {
    pub discriminator: f64,
    pub generator: f64,
}

/// What one step did: the network after it, J_D, and J_G when the generator stepped.
pub struct Stepped<B: AutodiffBackend> {
    pub model: Network<B>,
    pub d_loss: Tensor<B, 1>,
    pub g_loss: Option<Tensor<B, 1>>,
}

/// Steps the discriminator on the real rows `x`, then the generator if `generator_turn`.
/// `model` must be a [`Network::Gan`]; another family is returned untouched.
pub fn step<B: AutodiffBackend, O: Optimizer<Network<B>, B>>(
    model: Network<B>,
    optim: &mut O,
    rates: Rates,
    x: Tensor<B, 2>,
    generator_turn: bool,
) -> Result<Stepped<B>> {
    let device = x.device();
    let rows = x.dims()[0];
    let Network::Gan(gan) = model else {
        let d_loss = Tensor::zeros([1], &device);
        return Ok(Stepped {
            model,
            d_loss,
            g_loss: None,
        });
    };
    // The rows the discriminator learns to reject are drawn without autodiff: no graph is
    // recorded for a generator whose gradients this half of the step does not take.
    let fake = Tensor::from_inner(gan.valid().sample(rows, &device));
    let (kind, real) = (gan.loss, gan.judge(x));
    let d_loss = loss::discriminator(kind, real, gan.judge(fake));
    // The discriminator's side: its image stages and its layers.
    let side = (gan.down.clone(), gan.discriminator.clone());
    let grads = average(GradientsParams::from_grads(d_loss.backward(), &side), &side)?;
    let gan = match optim.step(rates.discriminator, Network::Gan(gan), grads) {
        Network::Gan(g) if kind == GanLoss::Wasserstein => g.clipped(),
        Network::Gan(g) => g,
        _ => unreachable!("the optimizer keeps the family"),
    };
    if !generator_turn {
        let model = Network::Gan(gan);
        return Ok(Stepped {
            model,
            d_loss,
            g_loss: None,
        });
    }
    // The generator's loss flows through a copy of the discriminator that takes no gradients
    // of its own weights (the step would discard them): only those of its inputs.
    let mut judge = gan.clone();
    judge.discriminator = judge.discriminator.no_grad();
    judge.down = judge.down.map(Module::no_grad);
    let g_loss = loss::generator(kind, judge.judge(gan.sample(rows, &device)));
    let side = (gan.generator.clone(), gan.up.clone());
    let grads = average(GradientsParams::from_grads(g_loss.backward(), &side), &side)?;
    let model = optim.step(rates.generator, Network::Gan(gan), grads);
    Ok(Stepped {
        model,
        d_loss,
        g_loss: Some(g_loss),
    })
}
