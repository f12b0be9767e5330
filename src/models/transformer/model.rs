//! The transformer encoder: every step becomes a `d_model` vector (a linear map of its values,
//! or its token's embedding) plus a vector for its position; each layer then lets every step
//! attend to every other, `softmax(QKᵀ/√d_k) V` per head, followed by a feed-forward part,
//! each inside a residual path with layer norm first. Padding steps are masked out of the
//! attention and of the pooling, so padding appended to a row changes nothing.

use burn::module::{Module, Param};
use burn::nn::transformer::TransformerEncoder;
use burn::nn::{DropoutConfig, Embedding, LayerNorm, Linear, generate_sinusoids};
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Int, Tensor};

use super::attention::{encoder_layer, layer_norm};
use super::config::Pool;
use crate::models::Family;
use crate::models::sequence::{Steps, last_step};

/// See the module docs.
#[derive(Module, Debug)]
pub struct Transformer<B: Backend> {
    /// Token rows: the id → vector table.
    pub embedding: Option<Embedding<B>>,
    /// Rows of numbers: the map of each step's values to `d_model`.
    pub input: Option<Linear<B>>,
    /// Learned positions (else sinusoidal, computed).
    pub positions: Option<Embedding<B>>,
    /// The class token of `class_token` pooling.
    pub class_token: Option<Param<Tensor<B, 1>>>,
    pub encoder: TransformerEncoder<B>,
    /// The layer norm after the last layer (each layer normalizes its inputs only).
    pub norm: LayerNorm<B>,
    pub output: Linear<B>,
    /// Steps and values per step of a row.
    #[module(skip)]
    pub sequence: [usize; 2],
    #[module(skip)]
    pub pool: Pool,
    /// About how many values one row's forward pass holds.
    #[module(skip)]
    pub activations: usize,
}

/// The encoder's input: step vectors with positions, and where the padding is.
struct Encoded<B: Backend> {
    h: Tensor<B, 3>,
    lengths: Option<Tensor<B, 1, Int>>,
    padding: Option<Tensor<B, 2, Bool>>,
}

impl<B: Backend> Transformer<B> {
    /// The rows as step vectors with their positions, the class token first if pooled by it.
    fn embed(&self, steps: Steps<B>) -> Encoded<B> {
        let Steps {
            x: h,
            lengths,
            padding,
        } = steps;
        let h = match &self.input {
            Some(input) => input.forward(h),
            None => h,
        };
        let [rows, _, d] = h.dims();
        let device = h.device();
        let (h, padding) = match &self.class_token {
            None => (h, padding),
            Some(token) => {
                let token = token.val().reshape([1, 1, d]).expand([rows, 1, d]);
                let padding = padding.map(|p| {
                    let real = Tensor::<B, 2, Int>::zeros([rows, 1], &device).bool();
                    Tensor::cat(vec![real, p], 1)
                });
                (Tensor::cat(vec![token, h], 1), padding)
            }
        };
        let n = h.dims()[1];
        let at = match &self.positions {
            Some(positions) => {
                positions.forward(Tensor::<B, 1, Int>::arange(0..n as i64, &device).reshape([1, n]))
            }
            None => generate_sinusoids::<B>(n, d, 10_000, &device).reshape([1, n, d]),
        };
        Encoded {
            h: h + at,
            lengths,
            padding,
        }
    }

    /// The rows read as steps.
    fn steps(&self, x: Tensor<B, 2>) -> Steps<B> {
        Steps::read(x, self.sequence, self.embedding.as_ref())
    }

    /// The encoded steps `[rows, positions, d_model]`, and each row's real length and padding.
    fn encode(&self, steps: Steps<B>) -> Encoded<B> {
        let Encoded {
            h,
            lengths,
            padding,
        } = self.embed(steps);
        let h = self
            .encoder
            .layers
            .iter()
            .fold(h, |h, layer| encoder_layer(layer, h, padding.clone()).0);
        Encoded {
            h: layer_norm(&self.norm, h),
            lengths,
            padding,
        }
    }

    /// One vector per row, as [`Pool`] says.
    fn pool(&self, encoded: Encoded<B>) -> Tensor<B, 2> {
        let Encoded {
            h,
            lengths,
            padding,
        } = encoded;
        let [rows, n, d] = h.dims();
        let first = usize::from(self.class_token.is_some());
        match self.pool {
            Pool::ClassToken => h.slice([0..rows, 0..1]).reshape([rows, d]),
            Pool::Last => last_step(h.slice([0..rows, first..n]), lengths.as_ref()),
            Pool::Mean => match (padding, lengths) {
                (Some(padding), Some(lengths)) => {
                    let keep = padding.bool_not().float().reshape([rows, n, 1]);
                    (h * keep).sum_dim(1).reshape([rows, d]) / lengths.float().reshape([rows, 1])
                }
                _ => h.slice([0..rows, first..n]).mean_dim(1).reshape([rows, d]),
            },
        }
    }
}

impl<B: Backend> Family<B> for Transformer<B> {
    fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        self.output.forward(self.pool(self.encode(self.steps(x))))
    }

    fn embed_tokens(&self, x: Tensor<B, 2>) -> Option<Tensor<B, 3>> {
        Some(self.embedding.as_ref()?.forward(x.int()))
    }

    fn forward_embedded(&self, x: Tensor<B, 2>, embedded: Tensor<B, 3>) -> Option<Tensor<B, 2>> {
        self.embedding.as_ref()?;
        let encoded = self.encode(Steps::tokens(x, embedded));
        Some(self.output.forward(self.pool(encoded)))
    }

    /// The input map (or embedding), each layer's query projection, the output layer.
    fn shapes(&self) -> Vec<Vec<usize>> {
        let input = match (&self.embedding, &self.input) {
            (Some(e), _) => e.weight.dims().to_vec(),
            (None, Some(l)) => l.weight.dims().to_vec(),
            (None, None) => Vec::new(),
        };
        let mut shapes = vec![input];
        for layer in &self.encoder.layers {
            shapes.push(layer.mha.query.weight.dims().to_vec());
        }
        shapes.push(self.output.weight.dims().to_vec());
        shapes
    }

    fn batch_norm(&self) -> bool {
        false
    }

    fn has_dropout(&self) -> bool {
        self.encoder.dropout > 0.0
    }

    /// Layer 0 is the input (embedding or map, positions, class token); then each encoder
    /// layer; the output layer last.
    fn without_dropout(mut self) -> Self {
        let none = || DropoutConfig::new(0.0).init();
        for layer in &mut self.encoder.layers {
            layer.dropout = none();
            layer.mha.dropout = none();
            layer.pwff.dropout = none();
        }
        self.encoder.dropout = 0.0;
        self
    }

    fn freeze(mut self, layers: &[usize]) -> Self {
        let count = self.encoder.layers.len();
        for &i in layers {
            match i {
                0 => {
                    self.embedding = self.embedding.map(|m| m.no_grad());
                    self.input = self.input.map(|m| m.no_grad());
                    self.positions = self.positions.map(|m| m.no_grad());
                    self.class_token = self.class_token.map(|m| m.no_grad());
                }
                i if i <= count => {
                    self.encoder.layers[i - 1] = self.encoder.layers[i - 1].clone().no_grad();
                }
                _ => self.output = self.output.no_grad(),
            }
        }
        self
    }

    /// The matrices of the input map, the attention projections, the feed-forward parts and
    /// the output layer (not embeddings, positions or norms).
    fn weights(&self) -> Vec<Tensor<B, 1>> {
        let mut weights: Vec<Tensor<B, 2>> = self.input.iter().map(|l| l.weight.val()).collect();
        for layer in &self.encoder.layers {
            let m = &layer.mha;
            for linear in [&m.query, &m.key, &m.value, &m.output] {
                weights.push(linear.weight.val());
            }
            weights.push(layer.pwff.linear_inner.weight.val());
            weights.push(layer.pwff.linear_outer.weight.val());
        }
        weights.push(self.output.weight.val());
        weights.into_iter().map(|w| w.reshape([-1])).collect()
    }

    fn activations(&self) -> usize {
        self.activations
    }

    fn attention(&self, x: Tensor<B, 2>) -> Option<Vec<Tensor<B, 4>>> {
        let Encoded { mut h, padding, .. } = self.embed(self.steps(x));
        let mut maps = Vec::with_capacity(self.encoder.layers.len());
        for layer in &self.encoder.layers {
            let (next, weights) = encoder_layer(layer, h, padding.clone());
            h = next;
            maps.push(weights);
        }
        Some(maps)
    }
}
