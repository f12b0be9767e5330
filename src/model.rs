//! The multilayer perceptron: a stack of `y = f(Wᵀx + b)` layers, each hidden one optionally
//! batch-normalized before `f` and followed by dropout:
//! `h ← dropout_p(f(BN(Wᵀh + b)))`, with BN(z) = γ (z − μ_B)/√(σ²_B + ε) + β over the batch
//! while training (running averages of μ and σ² updated with momentum 0.1, Burn's default) and
//! with the running averages in evaluation; dropout zeroes each unit with probability p and
//! scales the rest by 1/(1 − p) while training, and does nothing in evaluation.
//!
//! With no hidden layers the model is the textbook's single neuron, `y = wᵀx + b` (the output
//! layer is always linear; the loss decides how its values are read: as numbers for
//! regression, as logits for classification).

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData, activation};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The non-linearity `f` applied after each hidden layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum Activation {
    /// f(z) = z
    Identity,
    /// f(z) = 1 / (1 + e^(−z))
    Sigmoid,
    /// f(z) = tanh z
    Tanh,
    /// f(z) = max(0, z)
    Relu,
    /// f(z) = z for z > 0, 0.01·z otherwise (Burn's default slope)
    #[value(alias = "leaky-relu")]
    #[serde(alias = "leaky-relu")]
    LeakyRelu,
    /// f(z) = z·Φ(z), Φ the standard normal CDF
    Gelu,
}

impl Activation {
    /// Applies `f` element-wise.
    pub fn forward<B: Backend, const D: usize>(self, z: Tensor<B, D>) -> Tensor<B, D> {
        match self {
            Activation::Identity => z,
            // 1 / (1 + e^(−z)) in the backend's precision: Burn's own sigmoid rounds through
            // f32 on every backend, which would spoil f64 gradient checks.
            Activation::Sigmoid => z.neg().exp().add_scalar(1.0).recip(),
            Activation::Tanh => activation::tanh(z),
            Activation::Relu => activation::relu(z),
            Activation::LeakyRelu => activation::leaky_relu(z, 0.01),
            // z·Φ(z) = z (1 + erf(z/√2)) / 2 from tensor ops, so autodiff differentiates the exact
            // GELU: Burn 0.21's own gelu backward is the derivative of the tanh approximation.
            // 1/√2 comes as a one-element tensor in the backend's precision: a scalar operand
            // would be rounded to f32 in the forward pass but not in the backward one.
            Activation::Gelu => {
                let inv_sqrt2 = TensorData::new(vec![std::f64::consts::FRAC_1_SQRT_2], [1]);
                let inv_sqrt2 = Tensor::<B, 1>::from_data(inv_sqrt2, &z.device()).reshape([1; D]);
                let phi = z.clone().mul(inv_sqrt2).erf().add_scalar(1.0);
                z.mul(phi).div_scalar(2.0)
            }
        }
    }
}

/// Shape of the perceptron. `hidden = []` is the single neuron.
#[derive(Config, Debug, PartialEq)]
pub struct MlpConfig {
    /// Number of input features.
    #[config(default = 1)]
    pub input_size: usize,
    /// Width of each hidden layer, in order; empty for the single neuron.
    #[config(default = "vec![64]")]
    pub hidden: Vec<usize>,
    /// Non-linearity after each hidden layer.
    #[config(default = "Activation::Relu")]
    pub activation: Activation,
    /// Number of outputs: 1 for regression and binary cross-entropy, the class count for
    /// cross-entropy.
    #[config(default = 1)]
    pub output_size: usize,
    /// Dropout probability after each hidden layer: empty for none, one value for every
    /// hidden layer, or one per hidden layer.
    #[config(default = "Vec::new()")]
    pub dropout: Vec<f64>,
    /// Batch normalization after each hidden layer's linear map, before the activation.
    #[config(default = false)]
    pub batch_norm: bool,
}

impl MlpConfig {
    /// Checks every field; errors name the field as it appears in `config.json`.
    pub fn validate(&self) -> Result<()> {
        if self.input_size == 0 {
            return Err(Error::config("model.input_size", "must be at least 1"));
        }
        if self.output_size == 0 {
            return Err(Error::config("model.output_size", "must be at least 1"));
        }
        if let Some(i) = self.hidden.iter().position(|&h| h == 0) {
            return Err(Error::config(
                format!("model.hidden[{i}]"),
                "must be at least 1 (a layer needs a unit)",
            ));
        }
        if !self.dropout.is_empty() && self.hidden.is_empty() {
            return Err(Error::config(
                "model.dropout",
                "needs hidden layers (dropout acts after each one)",
            ));
        }
        if self.dropout.len() > 1 && self.dropout.len() != self.hidden.len() {
            return Err(Error::config(
                "model.dropout",
                format!(
                    "gives {} rates for {} hidden layers: give one rate, or one per layer",
                    self.dropout.len(),
                    self.hidden.len()
                ),
            ));
        }
        if let Some((i, p)) = self
            .dropout
            .iter()
            .enumerate()
            .find(|(_, p)| !(p.is_finite() && (0.0..1.0).contains(*p)))
        {
            return Err(Error::config(
                format!("model.dropout[{i}]"),
                format!("must be in [0, 1), got {p}"),
            ));
        }
        if self.batch_norm && self.hidden.is_empty() {
            return Err(Error::config(
                "model.batch_norm",
                "needs hidden layers (it normalizes each one)",
            ));
        }
        Ok(())
    }

    /// Layer sizes from input to output, e.g. `[2, 16, 16, 3]`.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![self.input_size];
        sizes.extend(&self.hidden);
        sizes.push(self.output_size);
        sizes
    }

    /// The number of trainable parameters (weights, biases, batch norm's γ and β), counted
    /// without building the model; saturates rather than overflows.
    pub fn parameters(&self) -> u64 {
        let sizes = self.sizes();
        let dense = sizes.windows(2).fold(0u64, |n, pair| {
            let (fan_in, fan_out) = (pair[0] as u64, pair[1] as u64);
            n.saturating_add(fan_in.saturating_add(1).saturating_mul(fan_out))
        });
        let norms = if self.batch_norm {
            self.hidden
                .iter()
                .fold(0u64, |n, &h| n.saturating_add(2 * h as u64))
        } else {
            0
        };
        dense.saturating_add(norms)
    }

    /// Builds the model with Glorot-uniform weights and zero biases (Keras's `Dense` default),
    /// drawn from `seed` on the host so that every backend starts from the same numbers.
    pub fn init<B: Backend>(&self, seed: u64, device: &B::Device) -> Mlp<B> {
        let mut rng = StdRng::seed_from_u64(seed);
        let sizes = self.sizes();
        let layers = sizes
            .windows(2)
            .map(|pair| {
                let (fan_in, fan_out) = (pair[0], pair[1]);
                let limit = (6.0 / (fan_in + fan_out) as f64).sqrt();
                let weights: Vec<f32> = (0..fan_in * fan_out)
                    .map(|_| rng.random_range(-limit..limit) as f32)
                    .collect();
                let weight = Tensor::from_data(TensorData::new(weights, [fan_in, fan_out]), device);
                let bias = Tensor::zeros([fan_out], device);
                Linear {
                    weight: Param::from_tensor(weight),
                    bias: Some(Param::from_tensor(bias)),
                }
            })
            .collect();
        let hidden = &sizes[1..sizes.len() - 1];
        let norms = if self.batch_norm {
            hidden
                .iter()
                .map(|&n| BatchNormConfig::new(n).init(device))
                .collect()
        } else {
            Vec::new()
        };
        let dropouts = (0..hidden.len())
            .filter_map(|i| match self.dropout.as_slice() {
                [] => None,
                [p] => Some(*p),
                rates => Some(rates[i]),
            })
            .map(|p| DropoutConfig::new(p).init())
            .collect();
        Mlp {
            layers,
            norms,
            dropouts,
            activation: self.activation,
        }
    }
}

/// A multilayer perceptron: hidden layers with `activation`, then a linear output layer.
#[derive(Module, Debug)]
pub struct Mlp<B: Backend> {
    /// Hidden layers followed by the output layer.
    pub layers: Vec<Linear<B>>,
    /// One batch normalization per hidden layer, or none.
    pub norms: Vec<BatchNorm<B>>,
    /// One dropout per hidden layer, or none.
    pub dropouts: Vec<Dropout>,
    #[module(skip)]
    pub activation: Activation,
}

impl<B: Backend> Mlp<B> {
    /// The shape of each layer's weight matrix, `[in, out]`, input layer first.
    pub fn shapes(&self) -> Vec<Vec<usize>> {
        self.layers
            .iter()
            .map(|l| l.weight.dims().to_vec())
            .collect()
    }

    /// Maps a batch `[rows, input_size]` to `[rows, output_size]`.
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let last = self.layers.len() - 1;
        self.layers.iter().enumerate().fold(x, |h, (i, layer)| {
            let z = layer.forward(h);
            if i == last {
                return z;
            }
            let z = match self.norms.get(i) {
                Some(norm) => norm.forward(z),
                None => z,
            };
            let h = self.activation.forward(z);
            match self.dropouts.get(i) {
                Some(dropout) => dropout.forward(h),
                None => h,
            }
        })
    }
}
