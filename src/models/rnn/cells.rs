//! The recurrences of Burn's `Rnn`, `Lstm` and `Gru`, run on their own parameters with two
//! changes that keep the same function:
//!
//! - the gates are fused: every step's input product for all gates is one matrix product over
//!   all steps at once, and each step then needs one product of the state with the gates'
//!   recurrent matrices side by side, where Burn's loop makes two per gate per step; the
//!   states are stacked once at the end rather than written into a tensor step by step;
//! - σ is `1 / (1 + e^(−z))` in the backend's precision ([`Activation::Sigmoid`]): Burn's
//!   sigmoid rounds through `f32`, which spoils the gradient check in `f64`.
//!
//! LSTM, gates i, f, o and candidate g: `c_t = σ(f)·c_{t−1} + σ(i)·tanh(g)`,
//! `h_t = σ(o)·tanh(c_t)`. GRU (reset after the product, as Burn's default and PyTorch):
//! `n = tanh(W_n x + r·(U_n h + b_n))`, `h_t = (1 − u)·n + u·h_{t−1}`. Elman:
//! `h_t = tanh(W x + U h_{t−1} + b)`.

use burn::nn::GateController;
use burn::tensor::Tensor;
use burn::tensor::activation::tanh;
use burn::tensor::backend::Backend;

use super::model::Layer;
use crate::models::Activation;

fn sigmoid<B: Backend>(z: Tensor<B, 2>) -> Tensor<B, 2> {
    Activation::Sigmoid.forward(z)
}

/// The matrices and biases of `gates`, side by side: `[in, G·H]`, `[G·H]`, `[H, G·H]`, `[G·H]`.
struct Fused<B: Backend> {
    input: Tensor<B, 2>,
    input_bias: Tensor<B, 1>,
    hidden: Tensor<B, 2>,
    hidden_bias: Tensor<B, 1>,
}

fn fuse<B: Backend>(gates: &[&GateController<B>]) -> Fused<B> {
    let matrix = |pick: fn(&GateController<B>) -> Tensor<B, 2>| {
        Tensor::cat(gates.iter().map(|g| pick(g)).collect(), 1)
    };
    let bias = |pick: fn(&GateController<B>) -> Option<Tensor<B, 1>>| {
        Tensor::cat(
            gates
                .iter()
                .map(|g| {
                    let width = g.hidden_transform.weight.dims()[1];
                    pick(g).unwrap_or_else(|| {
                        Tensor::zeros([width], &g.hidden_transform.weight.device())
                    })
                })
                .collect(),
            0,
        )
    };
    Fused {
        input: matrix(|g| g.input_transform.weight.val()),
        input_bias: bias(|g| g.input_transform.bias.as_ref().map(|b| b.val())),
        hidden: matrix(|g| g.hidden_transform.weight.val()),
        hidden_bias: bias(|g| g.hidden_transform.bias.as_ref().map(|b| b.val())),
    }
}

/// Columns `k·width..(k + 1)·width` of `z`: gate `k`'s part of a fused product.
fn gate<B: Backend>(z: &Tensor<B, 2>, k: usize, width: usize) -> Tensor<B, 2> {
    let rows = z.dims()[0];
    z.clone().slice([0..rows, k * width..(k + 1) * width])
}

impl<B: Backend> Layer<B> {
    /// The state after each step, `[rows, steps, hidden]`, from a zero start.
    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let [rows, steps, width] = x.dims();
        let fused = match self {
            Layer::Elman(m) => fuse(&[&m.gate]),
            Layer::Lstm(m) => fuse(&[&m.input_gate, &m.forget_gate, &m.output_gate, &m.cell_gate]),
            Layer::Gru(m) => fuse(&[&m.update_gate, &m.reset_gate, &m.new_gate]),
        };
        let h_width = fused.hidden.dims()[0];
        let all = fused.input.dims()[1];
        // Every step's input part of every gate, in one product.
        let inputs = (x.reshape([rows * steps, width]).matmul(fused.input)
            + fused.input_bias.unsqueeze())
        .reshape([rows, steps, all]);
        let device = inputs.device();
        let mut h = Tensor::<B, 2>::zeros([rows, h_width], &device);
        let mut c = h.clone();
        let mut states = Vec::with_capacity(steps);
        for t in 0..steps {
            let xz = inputs
                .clone()
                .slice([0..rows, t..t + 1])
                .reshape([rows, all]);
            let hz = h.clone().matmul(fused.hidden.clone()) + fused.hidden_bias.clone().unsqueeze();
            h = match self {
                Layer::Elman(_) => tanh(xz + hz),
                Layer::Lstm(_) => {
                    let z = xz + hz;
                    let i = sigmoid(gate(&z, 0, h_width));
                    let f = sigmoid(gate(&z, 1, h_width));
                    let o = sigmoid(gate(&z, 2, h_width));
                    let g = tanh(gate(&z, 3, h_width));
                    c = f * c + i * g;
                    o * tanh(c.clone())
                }
                Layer::Gru(_) => {
                    let u = sigmoid(gate(&xz, 0, h_width) + gate(&hz, 0, h_width));
                    let r = sigmoid(gate(&xz, 1, h_width) + gate(&hz, 1, h_width));
                    let n = tanh(gate(&xz, 2, h_width) + r * gate(&hz, 2, h_width));
                    n * u.clone().neg().add_scalar(1.0) + u * h
                }
            };
            states.push(h.clone());
        }
        Tensor::stack(states, 1)
    }
}
