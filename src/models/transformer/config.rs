//! The transformer's hyperparameters, checked before a model is built.

use burn::config::Config;
use burn::module::Param;
use burn::nn::transformer::TransformerEncoderConfig;
use burn::nn::{EmbeddingConfig, LayerNormConfig, LinearConfig};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use serde::{Deserialize, Serialize};

use super::Transformer;
use crate::error::{Error, Result};
use crate::models::ModelFlags;
use crate::models::init::host_init;
use crate::models::sequence::{SequenceShape, check_sizes};

/// How the encoder learns where each step is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Positions {
    /// Fixed sines and cosines of the position at geometric wavelengths (Vaswani et al., 2017).
    Sinusoidal,
    /// One learned vector per position.
    Learned,
}

/// How the head turns the encoded steps into one vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum Pool {
    /// The last real step.
    Last,
    /// The mean over the real steps.
    Mean,
    /// A learned class token put before the steps, which attends to them (as BERT's [CLS]).
    #[value(alias = "cls")]
    ClassToken,
}

/// Shape of the transformer: steps embedded to `d_model`, positions added, `layers` encoder
/// layers, a pooled vector, a linear output.
#[derive(Config, Debug, PartialEq)]
pub struct TransformerConfig {
    /// Steps per row and values per step; set from the data, as for the recurrent families.
    pub sequence: Option<SequenceShape>,
    /// For token rows (text): the vocabulary size, ids 0 (padding) and 1 (unknown) included;
    /// 0 for rows of numbers, which a linear map embeds.
    #[config(default = 0)]
    pub vocab: usize,
    /// Width of every step's vector.
    #[config(default = 64)]
    pub d_model: usize,
    /// Attention heads per layer; must divide `d_model`.
    #[config(default = 4)]
    pub heads: usize,
    /// Encoder layers.
    #[config(default = 2)]
    pub layers: usize,
    /// Width of each layer's feed-forward part.
    #[config(default = 128)]
    pub feed_forward: usize,
    /// `sinusoidal` or `learned`.
    #[config(default = "Positions::Sinusoidal")]
    pub positions: Positions,
    /// `last`, `mean` or `class_token`.
    #[config(default = "Pool::Mean")]
    pub pool: Pool,
    /// Dropout inside the encoder (attention weights, residual paths); 0 for none.
    #[config(default = 0.1)]
    pub dropout: f64,
    /// Number of outputs, as for the MLP.
    #[config(default = 1)]
    pub output_size: usize,
}

impl TransformerConfig {
    /// The shape of a row; 1 step of 1 value only before the config was fitted to data.
    pub fn shape(&self) -> SequenceShape {
        self.sequence.unwrap_or(SequenceShape {
            steps: 1,
            features: 1,
        })
    }

    /// Positions the encoder sees: the steps, and the class token.
    pub fn positions_needed(&self) -> usize {
        self.shape().steps + usize::from(self.pool == Pool::ClassToken)
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("d_model", self.d_model),
            ("heads", self.heads),
            ("layers", self.layers),
            ("feed_forward", self.feed_forward),
            ("output_size", self.output_size),
        ];
        check_sizes(&positive, self.vocab, self.dropout)?;
        if !self.d_model.is_multiple_of(self.heads) {
            return Err(Error::config(
                "model.heads",
                format!(
                    "is {} but must divide d_model ({})",
                    self.heads, self.d_model
                ),
            ));
        }
        if self.positions == Positions::Sinusoidal && !self.d_model.is_multiple_of(2) {
            return Err(Error::config(
                "model.d_model",
                format!(
                    "is {} but sinusoidal positions need an even width",
                    self.d_model
                ),
            ));
        }
        Ok(())
    }

    /// Fits the row shape to rows of `inputs` values.
    pub fn check_inputs(&mut self, inputs: usize) -> Result<()> {
        self.sequence = Some(SequenceShape::fit(self.sequence, inputs, self.vocab > 0)?);
        Ok(())
    }

    /// About how many values one row's forward pass holds: per layer and position, the
    /// projections, residuals, norms and feed-forward part, and each head's attention weights.
    pub fn activations(&self) -> usize {
        let n = self.positions_needed();
        let per_layer = n * (10 * self.d_model + 2 * self.feed_forward) + 3 * self.heads * n * n;
        self.layers * per_layer + n * self.d_model + self.output_size
    }

    /// Trainable parameters, counted without building the model (saturating).
    pub fn parameters(&self) -> u64 {
        let d = self.d_model as u64;
        let embed = match self.vocab {
            0 => (self.shape().features as u64 + 1) * d,
            v => v as u64 * d,
        };
        let positions = match self.positions {
            Positions::Learned => self.positions_needed() as u64 * d,
            Positions::Sinusoidal => 0,
        };
        let class = if self.pool == Pool::ClassToken { d } else { 0 };
        let ff = self.feed_forward as u64;
        let layer = 4 * (d + 1) * d + (d + 1) * ff + (ff + 1) * d + 4 * d;
        let output = (d + 1) * self.output_size as u64;
        embed
            .saturating_add(positions + class)
            .saturating_add(layer.saturating_mul(self.layers as u64))
            .saturating_add(output)
    }

    /// Layers that `training.freeze` can name: the input embedding (with the positions and
    /// class token), each encoder layer, the output.
    pub fn freezable(&self) -> usize {
        self.layers + 2
    }

    /// One line for `nnlab info`.
    pub fn describe(&self) -> String {
        let input = match self.vocab {
            0 => format!("{}", self.shape()),
            v => format!("{} tokens of {v}", self.shape().steps),
        };
        format!(
            "transformer {input} → d_model {} ({} heads, feed-forward {}) × {} layers, {:?} \
             positions, {:?} pooling → {}",
            self.d_model,
            self.heads,
            self.feed_forward,
            self.layers,
            self.positions,
            self.pool,
            self.output_size
        )
        .to_lowercase()
    }

    /// Applies the command line's model flags.
    pub fn apply(&mut self, flags: &ModelFlags) -> Result<()> {
        flags.refuse("transformer", &flags.not_transformer())?;
        if let Some(d) = flags.d_model {
            self.d_model = d;
        }
        if let Some(heads) = flags.heads {
            self.heads = heads;
        }
        if let Some(layers) = flags.layers {
            self.layers = layers;
        }
        if let Some(positions) = flags.positions {
            self.positions = positions;
        }
        if let Some(pool) = flags.pooling {
            self.pool = pool;
        }
        match flags.dropout.as_deref() {
            None => {}
            Some([p]) => self.dropout = *p,
            Some(_) => {
                return Err(Error::Usage(
                    "--dropout takes one rate for --model transformer".into(),
                ));
            }
        }
        if let Some(steps) = flags.steps {
            self.sequence = Some(SequenceShape { steps, features: 0 });
        }
        Ok(())
    }

    /// Builds the model with weights drawn from `seed` (see `models::init`).
    pub fn init<B: Backend>(&self, seed: u64, device: &B::Device) -> Transformer<B> {
        let d = self.d_model;
        let encoder = TransformerEncoderConfig::new(d, self.feed_forward, self.heads, self.layers)
            .with_dropout(self.dropout)
            .with_norm_first(true)
            .init(device);
        let model = Transformer {
            embedding: (self.vocab > 0).then(|| EmbeddingConfig::new(self.vocab, d).init(device)),
            input: (self.vocab == 0)
                .then(|| LinearConfig::new(self.shape().features, d).init(device)),
            positions: (self.positions == Positions::Learned)
                .then(|| EmbeddingConfig::new(self.positions_needed(), d).init(device)),
            class_token: (self.pool == Pool::ClassToken)
                .then(|| Param::from_tensor(Tensor::zeros([d], device))),
            encoder,
            norm: LayerNormConfig::new(d).init(device),
            output: LinearConfig::new(d, self.output_size).init(device),
            sequence: [self.shape().steps, self.shape().features],
            pool: self.pool,
            activations: self.activations(),
        };
        host_init(model, seed)
    }
}
