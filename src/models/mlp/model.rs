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

use burn::module::Module;
use burn::nn::{BatchNorm, Dropout, Linear};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::models::{Activation, Family};

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
    /// The weights and bias of a single neuron (no hidden layers, one output), `None` for any
    /// other perceptron.
    pub fn neuron(&self) -> Option<(Vec<f64>, f64)> {
        let [layer] = &self.layers[..] else {
            return None;
        };
        let bias = layer.bias.as_ref()?.val().into_data().convert::<f64>();
        let weights = layer.weight.val().into_data().convert::<f64>();
        match &bias.to_vec::<f64>().ok()?[..] {
            [b] => Some((weights.to_vec().ok()?, *b)),
            _ => None,
        }
    }
}

impl<B: Backend> Family<B> for Mlp<B> {
    /// Maps a batch `[rows, input_size]` to `[rows, output_size]`.
    fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let last = self.layers.len() - 1;
        self.layers.iter().enumerate().fold(x, |h, (i, layer)| {
            let z = crate::models::dense::forward(layer, h);
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

    /// The shape of each layer's weight matrix, `[in, out]`, input layer first.
    fn shapes(&self) -> Vec<Vec<usize>> {
        self.layers
            .iter()
            .map(|l| l.weight.dims().to_vec())
            .collect()
    }

    fn activations(&self) -> usize {
        // Each layer's pre-activation, normalized and activated values.
        3 * self
            .layers
            .iter()
            .map(|l| l.weight.dims()[1])
            .sum::<usize>()
    }

    fn batch_norm(&self) -> bool {
        !self.norms.is_empty()
    }

    fn has_dropout(&self) -> bool {
        !self.dropouts.is_empty()
    }

    /// Freezes each listed layer's weights, biases and batch-norm γ and β.
    fn without_dropout(mut self) -> Self {
        self.dropouts.clear();
        self
    }

    fn freeze(mut self, layers: &[usize]) -> Self {
        for &i in layers {
            self.layers[i] = self.layers[i].clone().no_grad();
            if let Some(norm) = self.norms.get(i) {
                self.norms[i] = norm.clone().no_grad();
            }
        }
        self
    }

    fn weights(&self) -> Vec<Tensor<B, 1>> {
        self.layers
            .iter()
            .map(|l| l.weight.val().reshape([-1]))
            .collect()
    }
}
