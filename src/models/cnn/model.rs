//! The convolutional network: blocks `h ← pool(f(BN(W ∗ h + b)))`, where `∗` slides each of a
//! layer's filters over every position of the image (the same weights everywhere: what makes
//! a convolution cheaper and better at pictures than a dense layer of the same reach), then
//! the feature maps flattened into dense layers `h ← f(Wᵀ dropout(h) + b)` and a linear output.
//! Rows arrive flat (height × width × channels, channel last) and are reshaped here, so every
//! command feeds a CNN the same batches as an MLP.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::nn::{BatchNorm, Dropout, Linear};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::models::{Activation, Family};

/// Convolution blocks, then dense layers; see the module docs.
#[derive(Module, Debug)]
pub struct Cnn<B: Backend> {
    pub convs: Vec<Conv2d<B>>,
    /// One batch normalization per convolution, or none.
    pub norms: Vec<BatchNorm<B>>,
    /// The pooling after each convolution (`None` for pool 1).
    pub pools: Vec<Option<MaxPool2d>>,
    /// Dense layers, the output layer last.
    pub dense: Vec<Linear<B>>,
    pub dropout: Option<Dropout>,
    #[module(skip)]
    pub activation: Activation,
    /// Height, width and channels of an input image.
    #[module(skip)]
    pub image: [usize; 3],
}

impl<B: Backend> Cnn<B> {
    /// The feature maps after each block, `[rows, channels, height, width]`, for pictures.
    pub fn feature_maps(&self, x: Tensor<B, 2>) -> Vec<Tensor<B, 4>> {
        let [h, w, c] = self.image;
        let rows = x.dims()[0];
        let mut maps = Vec::with_capacity(self.convs.len());
        let mut h = x.reshape([rows, h, w, c]).permute([0, 3, 1, 2]);
        for (i, conv) in self.convs.iter().enumerate() {
            let z = conv.forward(h);
            let z = match self.norms.get(i) {
                Some(norm) => norm.forward(z),
                None => z,
            };
            h = self.activation.forward(z);
            if let Some(Some(pool)) = self.pools.get(i) {
                h = pool.forward(h);
            }
            maps.push(h.clone());
        }
        if maps.is_empty() {
            maps.push(h);
        }
        maps
    }
}

impl<B: Backend> Family<B> for Cnn<B> {
    fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let rows = x.dims()[0];
        let maps = self.feature_maps(x);
        let h: Tensor<B, 2> = maps
            .into_iter()
            .last()
            .expect("one map")
            .reshape([rows as i32, -1]);
        let last = self.dense.len() - 1;
        self.dense.iter().enumerate().fold(h, |h, (i, layer)| {
            let h = match &self.dropout {
                Some(dropout) => dropout.forward(h),
                None => h,
            };
            let z = layer.forward(h);
            if i == last {
                z
            } else {
                self.activation.forward(z)
            }
        })
    }

    fn shapes(&self) -> Vec<Vec<usize>> {
        let convs = self.convs.iter().map(|c| c.weight.dims().to_vec());
        convs
            .chain(self.dense.iter().map(|l| l.weight.dims().to_vec()))
            .collect()
    }

    fn batch_norm(&self) -> bool {
        !self.norms.is_empty()
    }

    fn has_dropout(&self) -> bool {
        self.dropout.is_some()
    }

    fn freeze(mut self, layers: &[usize]) -> Self {
        let convs = self.convs.len();
        for &i in layers {
            if i < convs {
                self.convs[i] = self.convs[i].clone().no_grad();
                if let Some(norm) = self.norms.get(i) {
                    self.norms[i] = norm.clone().no_grad();
                }
            } else if let Some(layer) = self.dense.get(i - convs) {
                self.dense[i - convs] = layer.clone().no_grad();
            }
        }
        self
    }

    fn weights(&self) -> Vec<Tensor<B, 1>> {
        let convs = self.convs.iter().map(|c| c.weight.val().reshape([-1]));
        convs
            .chain(self.dense.iter().map(|l| l.weight.val().reshape([-1])))
            .collect()
    }
}
