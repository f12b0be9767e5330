//! The GAN's two networks: the generator G: z → x, an MLP from the noise to a row, and the
//! discriminator D: x → logit, an MLP with the generator's hidden widths in reverse. For
//! image rows the generator ends in convolution stages and the discriminator begins with
//! their mirror, as in a DCGAN ([`crate::models::cnn::stages`]).

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor};

use super::GanLoss;
use crate::models::cnn::{ConvDown, ConvUp, stages};
use crate::models::{Family, Mlp};

#[derive(Module, Debug)]
pub struct Gan<B: Backend> {
    pub generator: Mlp<B>,
    /// The generator's features to an image.
    pub up: Option<ConvUp<B>>,
    /// An image's features, before the discriminator.
    pub down: Option<ConvDown<B>>,
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
        stages::through_up(&self.up, self.generator.forward(z))
    }

    /// The discriminator's logit of each row, through the stages of an image.
    pub fn judge(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        self.discriminator
            .forward(stages::through_down(&self.down, x))
    }

    /// J_D + J_G on the real rows `x`, each on its own draw of as many generated rows, as a
    /// training step draws them: the sum of the functions the two networks descend (with one
    /// draw the Wasserstein sum would cancel the generator out).
    pub fn objective(&self, x: Tensor<B, 2>) -> Tensor<B, 1> {
        let (rows, device) = (x.dims()[0], x.device());
        let for_d = self.judge(self.sample(rows, &device));
        let d = super::loss::discriminator(self.loss, self.judge(x), for_d);
        let for_g = self.judge(self.sample(rows, &device));
        d + super::loss::generator(self.loss, for_g)
    }

    /// The critic with every weight and bias clamped to [−clip, clip].
    pub fn clipped(mut self) -> Self {
        let c = self.clip;
        for layer in &mut self.discriminator.layers {
            layer.weight = layer.weight.clone().map(|w| w.clamp(-c, c));
            layer.bias = layer.bias.clone().map(|b| b.map(|b| b.clamp(-c, c)));
        }
        for conv in self.down.iter_mut().flat_map(|d| &mut d.convs) {
            conv.weight = conv.weight.clone().map(|w| w.clamp(-c, c));
            conv.bias = conv.bias.clone().map(|b| b.map(|b| b.clamp(-c, c)));
        }
        self
    }

    /// The layers' count per part, in the order `training.freeze` counts them: the
    /// generator's, the stages after it, the stages before the discriminator, its own.
    fn parts(&self) -> [usize; 4] {
        [
            self.generator.layers.len(),
            self.up.as_ref().map_or(0, |u| u.convs.len()),
            self.down.as_ref().map_or(0, |d| d.convs.len()),
            self.discriminator.layers.len(),
        ]
    }

    /// `conv` of each stage's convolution and `dense` of each network, in that order.
    fn in_order<T>(
        &self,
        conv: impl Fn(&Conv2d<B>) -> T,
        dense: impl Fn(&Mlp<B>) -> Vec<T>,
    ) -> Vec<T> {
        let mut all = dense(&self.generator);
        all.extend(self.up.iter().flat_map(|u| &u.convs).map(&conv));
        all.extend(self.down.iter().flat_map(|d| &d.convs).map(&conv));
        all.extend(dense(&self.discriminator));
        all
    }
}

impl<B: Backend> Family<B> for Gan<B> {
    /// The discriminator's logit of each row: how real it looks.
    fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        self.judge(x)
    }

    fn shapes(&self) -> Vec<Vec<usize>> {
        self.in_order(|c| c.weight.dims().to_vec(), |m| m.shapes())
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
        let [g, u, d, dis] = crate::models::layers_in_turn(layers, self.parts());
        self.generator = self.generator.freeze(&g);
        self.up = self.up.map(|s| s.freeze(&u));
        self.down = self.down.map(|s| s.freeze(&d));
        self.discriminator = self.discriminator.freeze(&dis);
        self
    }

    fn without_dropout(self) -> Self {
        self
    }

    fn weights(&self) -> Vec<Tensor<B, 1>> {
        self.in_order(|c| c.weight.val().reshape([-1]), |m| m.weights())
    }

    fn activations(&self) -> usize {
        let up = self.up.as_ref().map_or(0, |u| u.activations());
        let down = self.down.as_ref().map_or(0, |d| d.activations());
        self.generator.activations() + self.discriminator.activations() + up + down
    }
}
