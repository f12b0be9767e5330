//! The GAN's two networks: the generator G: z → x, an MLP from the noise to a row, and the
//! discriminator D: x → logit, an MLP with the generator's hidden widths in reverse.

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor};

use super::GanLoss;
use crate::models::{Family, Mlp};

#[derive(Module, Debug)]
pub struct Gan<B: Backend> {
    pub generator: Mlp<B>,
    pub discriminator: Mlp<B>,
    /// Values of noise per generated row.
    #[module(skip)]
    pub noise: usize,
    #[module(skip)]
    pub loss: GanLoss,
    /// The critic's weight clip c of the Wasserstein loss.
    #[module(skip)]
    pub clip: f64,
}

impl<B: Backend> Gan<B> {
    /// `rows` generated rows, from noise drawn on the backend's generator.
    pub fn sample(&self, rows: usize, device: &B::Device) -> Tensor<B, 2> {
        let z = Tensor::random([rows, self.noise], Distribution::Normal(0.0, 1.0), device);
        self.generator.forward(z)
    }

    /// J_D + J_G on the real rows `x`, each on its own draw of as many generated rows, as a
    /// training step draws them: the sum of the functions the two networks descend (with one
    /// draw the Wasserstein sum would cancel the generator out).
    pub fn objective(&self, x: Tensor<B, 2>) -> Tensor<B, 1> {
        let (rows, device) = (x.dims()[0], x.device());
        let for_d = self.discriminator.forward(self.sample(rows, &device));
        let d = super::loss::discriminator(self.loss, self.discriminator.forward(x), for_d);
        let for_g = self.discriminator.forward(self.sample(rows, &device));
        d + super::loss::generator(self.loss, for_g)
    }

    /// The critic with every weight and bias clamped to [−clip, clip].
    pub fn clipped(mut self) -> Self {
        let c = self.clip;
        for layer in &mut self.discriminator.layers {
            layer.weight = layer.weight.clone().map(|w| w.clamp(-c, c));
            layer.bias = layer.bias.clone().map(|b| b.map(|b| b.clamp(-c, c)));
        }
        self
    }

    fn halves(&self) -> [&Mlp<B>; 2] {
        [&self.generator, &self.discriminator]
    }
}

impl<B: Backend> Family<B> for Gan<B> {
    /// The discriminator's logit of each row: how real it looks.
    fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        self.discriminator.forward(x)
    }

    fn shapes(&self) -> Vec<Vec<usize>> {
        self.halves().iter().flat_map(|m| m.shapes()).collect()
    }

    fn batch_norm(&self) -> bool {
        false
    }

    /// A GAN draws its noise from the backend's generator, as dropout draws its masks.
    fn has_dropout(&self) -> bool {
        true
    }

    /// Layers count from the generator's first to the discriminator's last.
    fn freeze(mut self, layers: &[usize]) -> Self {
        (self.generator, self.discriminator) =
            crate::models::mlp::freeze_in_turn((self.generator, self.discriminator), layers);
        self
    }

    fn without_dropout(self) -> Self {
        self
    }

    fn weights(&self) -> Vec<Tensor<B, 1>> {
        self.halves().iter().flat_map(|m| m.weights()).collect()
    }

    fn activations(&self) -> usize {
        self.generator.activations() + self.discriminator.activations()
    }
}
