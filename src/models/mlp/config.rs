//! The perceptron's hyperparameters, checked before a model is built.

use burn::config::Config;
use burn::module::Param;
use burn::nn::{BatchNormConfig, DropoutConfig, Linear};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::Mlp;
use crate::error::{Error, Result};
use crate::models::{Activation, ModelFlags};

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

/// Checks that every hidden layer has a unit; the families built from perceptrons share it.
pub(crate) fn check_hidden(hidden: &[usize]) -> Result<()> {
    match hidden.iter().position(|&h| h == 0) {
        Some(i) => Err(Error::config(
            format!("model.hidden[{i}]"),
            "must be at least 1 (a layer needs a unit)",
        )),
        None => Ok(()),
    }
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
        check_hidden(&self.hidden)?;
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

    /// One line for `nnlab info`, e.g. `4 → 16 → 3 (relu activation)`.
    pub fn describe(&self) -> String {
        let sizes: Vec<String> = self.sizes().iter().map(usize::to_string).collect();
        let kind = if self.hidden.is_empty() {
            " (a single linear neuron)".to_string()
        } else {
            format!(" ({} activation)", self.activation.as_str())
        };
        sizes.join(" → ") + &kind
    }

    /// Applies the command line's model flags.
    pub fn apply(&mut self, flags: &ModelFlags) -> Result<()> {
        flags.refuse("mlp", &flags.not_mlp())?;
        if let Some(hidden) = &flags.hidden {
            self.hidden = hidden.clone();
        }
        if let Some(activation) = flags.activation {
            self.activation = activation;
        }
        if let Some(dropout) = &flags.dropout {
            self.dropout = dropout.clone();
        }
        self.batch_norm |= flags.batch_norm;
        Ok(())
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
