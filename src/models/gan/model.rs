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
    /// Whether the discriminator's input ends with the batch's spread.
    pub minibatch_std: bool,
}

impl<B: Backend> Gan<B> {
    /// `rows` generated rows, from noise drawn on the backend's generator.
    pub fn sample(&self, rows: usize, device: &B::Device) -> Tensor<B, 2> {
        let z = Tensor::random([rows, self.noise], Distribution::Normal(0.0, 1.0), device);
        stages::through_up(&self.up, self.generator.forward(z))
    }

    /// The discriminator's logit of each row, through the stages of an image.
    pub fn judge(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let x = stages::through_down(&self.down, x);
        match self.minibatch_std {
            true => self.discriminator.forward(with_spread(x)),
            false => self.discriminator.forward(x),
        }
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

/// `x` with one more column, the same in every row: the standard deviation of each column
/// over the batch, averaged over the columns (Karras et al. 2018's minibatch standard
/// deviation, on the discriminator's input).
fn with_spread<B: Backend>(x: Tensor<B, 2>) -> Tensor<B, 2> {
    let rows = x.dims()[0];
    // The small floor keeps the square root's gradient finite for a batch of equal rows.
    let spread = x
        .clone()
        .var(0)
        .add_scalar(1e-8)
        .sqrt()
        .mean()
        .reshape([1, 1]);
    Tensor::cat(vec![x, spread.expand([rows, 1])], 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    #[test]
    fn the_spread_column_is_the_mean_standard_deviation_of_the_columns() {
        type B = crate::backend::Cpu;
        let device = Default::default();
        let x = Tensor::<B, 2>::from_data(
            TensorData::new(vec![0.0f32, 0.0, 2.0, 4.0], [2, 2]),
            &device,
        );
        let out: Vec<f32> = with_spread(x).into_data().to_vec().unwrap();
        // Columns (0, 2) and (0, 4): sample standard deviations √2 and √8.
        let spread = (2f32.sqrt() + 8f32.sqrt()) / 2.0;
        assert_eq!(out.len(), 6);
        assert_eq!(&out[..2], &[0.0, 0.0]);
        assert!(
            (out[2] - spread).abs() < 1e-5 && (out[5] - spread).abs() < 1e-5,
            "{out:?}"
        );
        let same = Tensor::<B, 2>::ones([3, 2], &device);
        let out: Vec<f32> = with_spread(same).into_data().to_vec().unwrap();
        assert!(out[2].is_finite() && out[2] < 1e-3, "{out:?}");
    }
}
