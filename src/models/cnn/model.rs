//! The convolutional network: blocks `h ← pool(f(BN(W ∗ h + b)))`, where `∗` slides each of a
//! layer's filters over every position of the image (the same weights everywhere: what makes
//! a convolution cheaper and better at pictures than a dense layer of the same reach), then
//! the feature maps flattened into dense layers `h ← f(Wᵀ dropout(h) + b)` and a linear output.
//! Rows arrive flat (height × width × channels, channel last) and are reshaped here, so every
//! command feeds a CNN the same batches as an MLP.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::nn::{BatchNorm, Dropout, Linear, PaddingConfig2d};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};

use super::kernels;
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
    /// About how many values one row's forward pass holds ([`super::CnnConfig::activations`]).
    #[module(skip)]
    pub activations: usize,
}

impl<B: Backend> Cnn<B> {
    /// The feature maps after each block, pixel-major `[height, width, rows, channels]`: the
    /// layout in which a convolution's patches are whole rows of one matrix (see
    /// [`convolve`]); the input alone when there are no blocks.
    fn pixel_major_maps(&self, x: Tensor<B, 2>) -> Vec<Tensor<B, 4>> {
        let mut maps = Vec::with_capacity(self.convs.len());
        let mut h = super::stages::pixel_major(x, self.image);
        // Without batch norm in between, ReLU runs inside the convolution's kernel.
        let fused = self.norms.is_empty() && self.activation == Activation::Relu;
        for (i, conv) in self.convs.iter().enumerate() {
            h = if fused {
                convolve(conv, h, true)
            } else {
                let z = convolve(conv, h, false);
                let z = match self.norms.get(i) {
                    Some(norm) => per_channel(z, |z| norm.forward(z)),
                    None => z,
                };
                self.activation.forward(z)
            };
            if let Some(Some(pool)) = self.pools.get(i) {
                h = max_pool(h, pool.kernel_size[0]);
            }
            maps.push(h.clone());
        }
        if maps.is_empty() {
            maps.push(h);
        }
        maps
    }
}

/// A convolution of pixel-major images `[h, w, n, c]` with `conv`'s weights and padding, then
/// ReLU if `relu`: each output pixel is `b + Σ W[o, c, i, j] · x[y + i, x + j, c]`, the sum
/// Burn's `Conv2d` computes, as one matrix product over the image patches (im2col). On a CPU
/// backend it is one op of [`kernels`]; elsewhere it is composed from Burn's ops
/// ([`convolve_with_ops`]).
pub(super) fn convolve<B: Backend>(conv: &Conv2d<B>, x: Tensor<B, 4>, relu: bool) -> Tensor<B, 4> {
    let [out, _, k, _] = conv.weight.dims();
    let pad = match conv.padding {
        PaddingConfig2d::Same => (k - 1) / 2,
        _ => 0,
    };
    let bias = match &conv.bias {
        Some(bias) => bias.val(),
        None => Tensor::zeros([out], &x.device()),
    };
    match kernels::conv2d((x, conv.weight.val(), bias), pad, relu) {
        Ok(z) => z,
        Err((x, weight, bias)) if relu => {
            burn::tensor::activation::relu(convolve_with_ops(x, weight, bias, pad))
        }
        Err((x, weight, bias)) => convolve_with_ops(x, weight, bias, pad),
    }
}

/// [`convolve`] (without ReLU) composed from Burn's tensor ops, for backends without CPU
/// kernels. With the pixels as rows of a `[h·w, n·c]` matrix, the patches are one `select` of
/// whole rows (a padding pixel is a row of zeros), whose backward pass adds whole rows back:
/// burn-ndarray's direct convolution loops per pixel and, backward, per image.
pub(super) fn convolve_with_ops<B: Backend>(
    x: Tensor<B, 4>,
    weight: Tensor<B, 4>,
    bias: Tensor<B, 1>,
    pad: usize,
) -> Tensor<B, 4> {
    let [out, inputs, k, _] = weight.dims();
    let [h, w, n, _] = x.dims();
    let (oh, ow) = (h + 2 * pad + 1 - k, w + 2 * pad + 1 - k);
    let device = x.device();
    let mut rows = x.reshape([h * w, n * inputs]);
    if pad > 0 {
        rows = Tensor::cat(vec![rows, Tensor::zeros([1, n * inputs], &device)], 0);
    }
    let indices = patch_rows(h, w, k, pad);
    let count = indices.len();
    let picked = Tensor::<B, 1, Int>::from_data(TensorData::new(indices, [count]), &device);
    let patches: Tensor<B, 2> = rows
        .select(0, picked)
        .reshape([oh * ow, k * k, n, inputs])
        .swap_dims(1, 2)
        .reshape([oh * ow * n, k * k * inputs]);
    // [out, in, kh, kw] → [kh·kw·in, out], the order of the patch columns.
    let weight = weight.permute([2, 3, 1, 0]).reshape([k * k * inputs, out]);
    let z = patches.matmul(weight) + bias.unsqueeze::<2>();
    z.reshape([oh, ow, n, out])
}

/// For each output pixel of a `k × k` convolution with `pad` zeros around an `h × w` image,
/// row by row, the input pixel (as `y·w + x`) under each tap of the kernel, row by row; a tap
/// on the padding gets `h·w`, the zero row [`convolve`] appends.
fn patch_rows(h: usize, w: usize, k: usize, pad: usize) -> Vec<i64> {
    let (oh, ow) = (h + 2 * pad + 1 - k, w + 2 * pad + 1 - k);
    let mut rows = Vec::with_capacity(oh * ow * k * k);
    for (y, x) in (0..oh).flat_map(|y| (0..ow).map(move |x| (y, x))) {
        for (i, j) in (0..k).flat_map(|i| (0..k).map(move |j| (i, j))) {
            let (sy, sx) = ((y + i).wrapping_sub(pad), (x + j).wrapping_sub(pad));
            let inside = sy < h && sx < w;
            rows.push(if inside { sy * w + sx } else { h * w } as i64);
        }
    }
    rows
}

/// Applies a per-channel layer (batch norm) to channel-last maps, as over `[pixels, channels]`.
fn per_channel<B: Backend>(
    z: Tensor<B, 4>,
    layer: impl Fn(Tensor<B, 2>) -> Tensor<B, 2>,
) -> Tensor<B, 4> {
    let dims = z.dims();
    layer(z.reshape([dims[0] * dims[1] * dims[2], dims[3]])).reshape(dims)
}

/// Max pooling of pixel-major maps `[h, w, n, c]` over `p × p` windows with stride `p` (a
/// partial window at the edge is dropped, as Burn's and PyTorch's pooling do).
pub(super) fn max_pool<B: Backend>(x: Tensor<B, 4>, p: usize) -> Tensor<B, 4> {
    kernels::max_pool(x, p).unwrap_or_else(|x| max_pool_with_ops(x, p))
}

/// [`max_pool`] composed from Burn's tensor ops, for backends without CPU kernels.
pub(super) fn max_pool_with_ops<B: Backend>(x: Tensor<B, 4>, p: usize) -> Tensor<B, 4> {
    let [h, w, n, c] = x.dims();
    let (oh, ow) = (h / p, w / p);
    let x = x.slice([0..oh * p, 0..ow * p, 0..n, 0..c]);
    let x: Tensor<B, 5> = x.reshape([oh, p, ow, p, n * c]);
    // The element-wise maximum of the p² strided views, each a run of whole pixel rows:
    // Burn's `max_dim` backward scatters one index at a time on ndarray, many times slower.
    (0..p * p)
        .map(|k| {
            let (a, b) = (k / p, k % p);
            x.clone()
                .slice([0..oh, a..a + 1, 0..ow, b..b + 1, 0..n * c])
        })
        .reduce(|m, v| m.max_pair(v))
        .expect("a window has a pixel")
        .reshape([oh, ow, n, c])
}

impl<B: Backend> Family<B> for Cnn<B> {
    fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let rows = x.dims()[0];
        let maps = self.pixel_major_maps(x);
        // Flattened in PyTorch's order (channels, then rows, then columns), so an exported
        // model's first dense layer reads its features in the same order there.
        let last = maps.into_iter().last().expect("one map");
        let h: Tensor<B, 2> = last.permute([2, 3, 0, 1]).reshape([rows as i32, -1]);
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

    fn activations(&self) -> usize {
        self.activations
    }

    fn batch_norm(&self) -> bool {
        !self.norms.is_empty()
    }

    fn has_dropout(&self) -> bool {
        self.dropout.is_some()
    }

    fn without_dropout(mut self) -> Self {
        self.dropout = None;
        self
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

    fn image(&self) -> Option<[usize; 3]> {
        Some(self.image)
    }

    fn first_filters(&self) -> Option<Tensor<B, 4>> {
        self.convs.first().map(|c| c.weight.val())
    }

    fn block_maps(&self, x: Tensor<B, 2>) -> Option<Vec<Tensor<B, 4>>> {
        // The input stands in for the maps of a network without blocks; it is not one.
        let mut maps = self.pixel_major_maps(x);
        maps.truncate(self.convs.len());
        Some(maps.into_iter().map(|m| m.permute([2, 0, 1, 3])).collect())
    }
}
