//! One encoder layer of Burn's `TransformerEncoder`, run on its parameters from tensor ops, so
//! that autodiff differentiates exactly what the forward pass computes: Burn 0.21's fused
//! softmax and layer norm, its GELU's backward (the tanh approximation's derivative) and its
//! `f32` scalar 1/√d_k each put an error of about 1e-6 between the two, which the `f64`
//! gradient check catches. The attention weights come out too, for pictures.
//!
//! Norm first: `x ← x + Attention(LN₁(x))`, `x ← x + FF(LN₂(x))`, with
//! `Attention(h) = concat_heads(softmax(Q Kᵀ / √d_k + mask) V) W_o`, `Q = h W_q` and so on,
//! and `FF(h) = GELU(h W₁ + b₁) W₂ + b₂`.

use burn::nn::LayerNorm;
use burn::nn::attention::MultiHeadAttention;
use burn::nn::transformer::TransformerEncoderLayer;
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Tensor, TensorData};

use crate::models::Activation;

/// Layer norm's ε (Burn's default, which the layers were built with).
const EPSILON: f64 = 1e-5;

/// Scores of masked (padding) keys: e^(−1e9) is exactly 0 after the softmax.
const MASKED: f64 = -1e9;

/// A one-element tensor of `value` in the backend's precision, broadcast to rank `D`: a scalar
/// operand is rounded to `f32` in the forward pass but not in the backward one.
fn constant<B: Backend, const D: usize>(value: f64, like: &Tensor<B, D>) -> Tensor<B, D> {
    let one = TensorData::new(vec![value], [1]);
    Tensor::<B, 1>::from_data(one.convert_dtype(like.dtype()), &like.device()).reshape([1; D])
}

/// (x − mean) / √(var + ε) · γ + β over the last dimension.
pub fn layer_norm<B: Backend>(norm: &LayerNorm<B>, x: Tensor<B, 3>) -> Tensor<B, 3> {
    let centred = x.clone() - x.mean_dim(2);
    let variance = centred.clone().powi_scalar(2).mean_dim(2);
    let h = centred / variance.add_scalar(EPSILON).sqrt();
    let h = h * norm.gamma.val().unsqueeze::<3>();
    match &norm.beta {
        Some(beta) => h + beta.val().unsqueeze::<3>(),
        None => h,
    }
}

/// Softmax over the last dimension, the maximum subtracted (a constant, so not differentiated)
/// for range.
fn softmax<B: Backend>(scores: Tensor<B, 4>) -> Tensor<B, 4> {
    let e = (scores.clone() - scores.max_dim(3).detach()).exp();
    e.clone() / e.sum_dim(3)
}

/// Multi-head self-attention of `h` `[rows, n, d]`; returns the output and the attention
/// weights `[rows, heads, n, n]`. Padding keys get no weight.
pub fn self_attention<B: Backend>(
    mha: &MultiHeadAttention<B>,
    h: Tensor<B, 3>,
    padding: Option<Tensor<B, 2, Bool>>,
) -> (Tensor<B, 3>, Tensor<B, 4>) {
    let [rows, n, d] = h.dims();
    let (heads, d_k) = (mha.n_heads, mha.d_k);
    let split = |t: Tensor<B, 3>| t.reshape([rows, n, heads, d_k]).swap_dims(1, 2);
    let q = split(mha.query.forward(h.clone()));
    let k = split(mha.key.forward(h.clone()));
    let v = split(mha.value.forward(h));
    let scale = constant(1.0 / (d_k as f64).sqrt(), &q);
    let mut scores = q.matmul(k.swap_dims(2, 3)) * scale;
    if let Some(padding) = padding {
        scores = scores.mask_fill(padding.reshape([rows, 1, 1, n]), MASKED);
    }
    let weights = softmax(scores);
    let context = mha
        .dropout
        .forward(weights.clone())
        .matmul(v)
        .swap_dims(1, 2)
        .reshape([rows, n, d]);
    (mha.output.forward(context), weights)
}

/// One encoder layer, norm first; returns its output and its attention weights.
pub fn encoder_layer<B: Backend>(
    layer: &TransformerEncoderLayer<B>,
    x: Tensor<B, 3>,
    padding: Option<Tensor<B, 2, Bool>>,
) -> (Tensor<B, 3>, Tensor<B, 4>) {
    // Burn's layer normalizes the attention's input with `norm_2` and the feed-forward's with
    // `norm_1` when the norm comes first; the same parameters are used the same way here.
    let (attended, weights) =
        self_attention(&layer.mha, layer_norm(&layer.norm_2, x.clone()), padding);
    let x = x + layer.dropout.forward(attended);
    let ff = &layer.pwff;
    let inner = ff
        .linear_inner
        .forward(layer_norm(&layer.norm_1, x.clone()));
    let inner = ff.dropout.forward(Activation::Gelu.forward(inner));
    let x = x.clone() + layer.dropout.forward(ff.linear_outer.forward(inner));
    (x, weights)
}
