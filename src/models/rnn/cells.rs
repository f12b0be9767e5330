//! The recurrences of Burn's `Rnn`, `Lstm` and `Gru`, run on their own parameters with two
//! changes that keep the same function:
//!
//! - the gates are fused: each step makes one product of its inputs and one of the state with
//!   the gates' matrices side by side, where Burn's loop makes two per gate; the states stay
//!   one tensor per step rather than being written into a tensor of all steps;
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
    /// The state after each step `[rows, hidden]`, from a zero start, for the inputs of each
    /// step `[rows, inputs]`. Steps stay separate tensors: slicing one tensor of all steps
    /// would make each step's backward pass write a zero tensor of all steps.
    pub fn forward(&self, steps: Vec<Tensor<B, 2>>) -> Vec<Tensor<B, 2>> {
        let fused = match self {
            Layer::Elman(m) => fuse(&[&m.gate]),
            Layer::Lstm(m) => fuse(&[&m.input_gate, &m.forget_gate, &m.output_gate, &m.cell_gate]),
            Layer::Gru(m) => fuse(&[&m.update_gate, &m.reset_gate, &m.new_gate]),
        };
        if let Layer::Lstm(_) = self
            && let Some(states) = lstm_kernel(&fused, &steps)
        {
            return states;
        }
        let width = fused.hidden.dims()[0];
        let rows = steps.first().map_or(0, |x| x.dims()[0]);
        let device = fused.hidden.device();
        let mut h = Tensor::<B, 2>::zeros([rows, width], &device);
        let mut c = h.clone();
        let input_bias = fused.input_bias.unsqueeze::<2>();
        let hidden_bias = fused.hidden_bias.unsqueeze::<2>();
        let mut states = Vec::with_capacity(steps.len());
        for x in steps {
            let xz = x.matmul(fused.input.clone()) + input_bias.clone();
            let hz = h.clone().matmul(fused.hidden.clone()) + hidden_bias.clone();
            h = match self {
                Layer::Elman(_) => tanh(xz + hz),
                Layer::Lstm(_) => {
                    let z = xz + hz;
                    let i = sigmoid(gate(&z, 0, width));
                    let f = sigmoid(gate(&z, 1, width));
                    let o = sigmoid(gate(&z, 2, width));
                    let g = tanh(gate(&z, 3, width));
                    c = f * c + i * g;
                    o * tanh(c.clone())
                }
                Layer::Gru(_) => {
                    let u = sigmoid(gate(&xz, 0, width) + gate(&hz, 0, width));
                    let r = sigmoid(gate(&xz, 1, width) + gate(&hz, 1, width));
                    let n = tanh(gate(&xz, 2, width) + r * gate(&hz, 2, width));
                    n * u.clone().neg().add_scalar(1.0) + u * h
                }
            };
            states.push(h.clone());
        }
        states
    }
}

/// The LSTM's states through its CPU kernel (one product of every step's inputs, then the
/// recurrence as one operation); `None` on a backend without kernels (wgpu).
fn lstm_kernel<B: Backend>(fused: &Fused<B>, steps: &[Tensor<B, 2>]) -> Option<Vec<Tensor<B, 2>>> {
    let (count, rows) = (steps.len(), steps.first()?.dims()[0]);
    let x = Tensor::cat(steps.to_vec(), 0);
    let bias = (fused.input_bias.clone() + fused.hidden_bias.clone()).unsqueeze::<2>();
    let xz = x.matmul(fused.input.clone()) + bias;
    let h = super::kernel::lstm(xz, fused.hidden.clone(), count).ok()?;
    Some(
        (0..count)
            .map(|t| h.clone().slice(t * rows..(t + 1) * rows))
            .collect(),
    )
}
