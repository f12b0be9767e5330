//! The autoencoder: an encoder MLP maps a row x to a code z, a decoder MLP maps z back to x̂,
//! and training minimizes the reconstruction error ‖x − x̂‖².
//!
//! The variational autoencoder (Kingma and Welling, 2014) encodes x as a Gaussian
//! q(z|x) = N(μ(x), diag σ²(x)) instead, draws z = μ + σ ⊙ ε with ε ~ N(0, I) (the
//! reparameterization trick: the draw is a differentiable function of μ and σ), and minimizes
//! the negative ELBO, ½‖x − x̂‖² + KL(q(z|x) ‖ N(0, I)) per row ([`super::elbo`]). Outside
//! training it encodes x as μ(x), and `generate` decodes draws from N(0, I).

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor};

use super::elbo;
use crate::models::cnn::{ConvDown, ConvUp, stages};
use crate::models::{Family, Mlp};

#[derive(Module, Debug)]
pub struct Autoencoder<B: Backend> {
    /// An image's features, before the encoder.
    pub down: Option<ConvDown<B>>,
    /// x → z (a VAE's: x → [μ, log σ²]).
    pub encoder: Mlp<B>,
    /// z → x̂.
    pub decoder: Mlp<B>,
    /// The decoder's features to an image.
    pub up: Option<ConvUp<B>>,
    #[module(skip)]
    pub latent: usize,
    #[module(skip)]
    pub variational: bool,
}

impl<B: Backend> Autoencoder<B> {
    /// The code of each row `[rows, latent]`: z, or a VAE's posterior mean μ.
    pub fn encode(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let h = self.encoder_out(x);
        if self.variational {
            h.narrow(1, 0, self.latent)
        } else {
            h
        }
    }

    /// A VAE's posterior of each row: μ and log σ², each `[rows, latent]`.
    pub fn posterior(&self, x: Tensor<B, 2>) -> (Tensor<B, 2>, Tensor<B, 2>) {
        let h = self.encoder_out(x);
        let log_var = h.clone().narrow(1, self.latent, self.latent);
        (h.narrow(1, 0, self.latent), log_var)
    }

    /// x̂ for each code.
    pub fn decode(&self, z: Tensor<B, 2>) -> Tensor<B, 2> {
        stages::through_up(&self.up, self.decoder.forward(z))
    }

    /// The encoder's output, through the stages of an image.
    fn encoder_out(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        self.encoder.forward(stages::through_down(&self.down, x))
    }

    /// One training pass: the reconstruction, and a VAE's mean KL term per row. A VAE draws
    /// z = μ + σ ⊙ ε from the backend's generator, which the training loop seeds every step.
    pub fn forward_train(&self, x: Tensor<B, 2>) -> (Tensor<B, 2>, Option<Tensor<B, 1>>) {
        if !self.variational {
            return (self.forward(x), None);
        }
        let (mu, log_var) = self.posterior(x);
        let noise = Tensor::random(mu.dims(), Distribution::Normal(0.0, 1.0), &mu.device());
        let z = elbo::reparameterize(mu.clone(), log_var.clone(), noise);
        (
            self.decode(z),
            Some(elbo::kl_to_standard_normal(mu, log_var).mean()),
        )
    }

    /// A VAE's KL term of each row at its posterior, `[rows]` (0 for a plain autoencoder).
    pub fn kl_rows(&self, x: Tensor<B, 2>) -> Tensor<B, 1> {
        if !self.variational {
            return Tensor::zeros([x.dims()[0]], &x.device());
        }
        let (mu, log_var) = self.posterior(x);
        elbo::kl_to_standard_normal(mu, log_var)
    }

    /// The layers' count per part, in the order `training.freeze` counts them: the stages
    /// before the encoder, the encoder's, the decoder's, the stages after it.
    fn parts(&self) -> [usize; 4] {
        [
            self.down.as_ref().map_or(0, |d| d.convs.len()),
            self.encoder.layers.len(),
            self.decoder.layers.len(),
            self.up.as_ref().map_or(0, |u| u.convs.len()),
        ]
    }

    /// `conv` of each stage's convolution and `dense` of each half, in that order.
    fn in_order<T>(
        &self,
        conv: impl Fn(&Conv2d<B>) -> T,
        dense: impl Fn(&Mlp<B>) -> Vec<T>,
    ) -> Vec<T> {
        let down = self.down.iter().flat_map(|d| &d.convs);
        let mut all: Vec<T> = down.map(&conv).collect();
        all.extend(dense(&self.encoder));
        all.extend(dense(&self.decoder));
        all.extend(self.up.iter().flat_map(|u| &u.convs).map(&conv));
        all
    }
}

impl<B: Backend> Family<B> for Autoencoder<B> {
    /// The reconstruction of each row, through the code (a VAE's mean: no draw).
    fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        self.decode(self.encode(x))
    }

    fn shapes(&self) -> Vec<Vec<usize>> {
        self.in_order(|c| c.weight.dims().to_vec(), |m| m.shapes())
    }

    fn batch_norm(&self) -> bool {
        false
    }

    /// A VAE draws z from the backend's generator, as dropout draws its masks.
    fn has_dropout(&self) -> bool {
        self.variational
    }

    /// Layers count from the first stage's (or the encoder's first) to the last stage's.
    fn freeze(mut self, layers: &[usize]) -> Self {
        let [d, e, dec, u] = crate::models::layers_in_turn(layers, self.parts());
        self.down = self.down.map(|s| s.freeze(&d));
        self.encoder = self.encoder.freeze(&e);
        self.decoder = self.decoder.freeze(&dec);
        self.up = self.up.map(|s| s.freeze(&u));
        self
    }

    fn without_dropout(self) -> Self {
        self
    }

    fn weights(&self) -> Vec<Tensor<B, 1>> {
        self.in_order(|c| c.weight.val().reshape([-1]), |m| m.weights())
    }

    fn activations(&self) -> usize {
        let down = self.down.as_ref().map_or(0, |d| d.activations());
        let up = self.up.as_ref().map_or(0, |u| u.activations());
        self.encoder.activations() + self.decoder.activations() + down + up
    }
}
