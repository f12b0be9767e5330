//! The non-linearities `f` of the textbook's neuron `y = f(wᵀx + b)`, shared by every family.

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData, activation};
use serde::{Deserialize, Serialize};

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
    /// The name used on the command line and in config files.
    pub fn as_str(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::LeakyRelu => "leaky_relu",
            Activation::Gelu => "gelu",
        }
    }

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
