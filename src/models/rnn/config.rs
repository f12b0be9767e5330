//! The recurrent network's hyperparameters, shared by the Elman RNN, the LSTM and the GRU,
//! checked before a model is built.

use burn::config::Config;
use burn::nn::{DropoutConfig, EmbeddingConfig, GruConfig, LinearConfig, LstmConfig};
use burn::tensor::backend::Backend;

use super::model::{Layer, Recurrent};
use crate::error::{Error, Result};
use crate::models::ModelFlags;
use crate::models::init::host_init;
use crate::models::sequence::{SequenceShape, check_sizes};

/// Which recurrent cell each layer runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    /// Elman: h_t = tanh(W x_t + U h_{t−1} + b).
    Elman,
    /// Long short-term memory: input, forget and output gates around a cell state.
    Lstm,
    /// Gated recurrent unit: update and reset gates.
    Gru,
}

impl Cell {
    pub fn as_str(self) -> &'static str {
        match self {
            Cell::Elman => "RNN",
            Cell::Lstm => "LSTM",
            Cell::Gru => "GRU",
        }
    }

    /// Weight matrices per layer and direction: one per gate and candidate.
    fn gates(self) -> usize {
        match self {
            Cell::Elman => 1,
            Cell::Lstm => 4,
            Cell::Gru => 3,
        }
    }
}

/// Shape of the recurrent network: an embedding for token rows, stacked recurrent layers
/// (each optionally bidirectional), dropout between them, and a linear output read from the
/// last real step.
#[derive(Config, Debug, PartialEq)]
pub struct RnnConfig {
    /// Steps per row and values per step; set from the data (a series' window, or `--steps`;
    /// one value per step when neither says).
    pub sequence: Option<SequenceShape>,
    /// For token rows (text): the vocabulary size, ids 0 (padding) and 1 (unknown) included;
    /// 0 for rows of numbers.
    #[config(default = 0)]
    pub vocab: usize,
    /// Width of each token's embedding (token rows only).
    #[config(default = 32)]
    pub embedding: usize,
    /// Width of each layer's hidden state.
    #[config(default = 64)]
    pub hidden_size: usize,
    /// Stacked recurrent layers.
    #[config(default = 1)]
    pub layers: usize,
    /// Run each layer forwards and backwards and join the two states.
    #[config(default = false)]
    pub bidirectional: bool,
    /// Dropout between stacked layers and before the output layer; 0 for none.
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Number of outputs, as for the MLP.
    #[config(default = 1)]
    pub output_size: usize,
}

impl RnnConfig {
    /// The shape of a row; 1 step of 1 value only before the config was fitted to data.
    pub fn shape(&self) -> SequenceShape {
        self.sequence.unwrap_or(SequenceShape {
            steps: 1,
            features: 1,
        })
    }

    fn directions(&self) -> usize {
        if self.bidirectional { 2 } else { 1 }
    }

    /// Values each step feeds the first layer.
    fn step_width(&self) -> usize {
        match self.vocab {
            0 => self.shape().features,
            _ => self.embedding,
        }
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("hidden_size", self.hidden_size),
            ("layers", self.layers),
            ("output_size", self.output_size),
            ("embedding", self.embedding),
        ];
        check_sizes(&positive, self.vocab, self.dropout)
    }

    /// Fits the row shape to rows of `inputs` values.
    pub fn check_inputs(&mut self, inputs: usize) -> Result<()> {
        self.sequence = Some(SequenceShape::fit(self.sequence, inputs, self.vocab > 0)?);
        Ok(())
    }

    /// About how many values one row's forward pass holds: per step and layer, each gate's
    /// pre-activation and activation, the states, and the copy of the outputs.
    pub fn activations(&self, cell: Cell) -> usize {
        let per_step = self.directions() * self.hidden_size * (2 * cell.gates() + 4);
        self.shape().steps * (self.layers * per_step + self.step_width()) + self.output_size
    }

    /// Trainable parameters, counted without building the model (saturating).
    pub fn parameters(&self, cell: Cell) -> u64 {
        let h = self.hidden_size as u64;
        let mut total = (self.vocab * self.embedding) as u64;
        let mut input = self.step_width() as u64;
        for _ in 0..self.layers {
            // Each gate: an input and a hidden transform, both with a bias.
            let gate = (input + 1).saturating_mul(h) + (h + 1).saturating_mul(h);
            let layer = gate.saturating_mul((cell.gates() * self.directions()) as u64);
            total = total.saturating_add(layer);
            input = h * self.directions() as u64;
        }
        total.saturating_add((input + 1).saturating_mul(self.output_size as u64))
    }

    /// Layers that `training.freeze` can name: the embedding (token rows), each recurrent
    /// layer, the output.
    pub fn freezable(&self) -> usize {
        usize::from(self.vocab > 0) + self.layers + 1
    }

    /// One line for `nnlab info`.
    pub fn describe(&self, cell: Cell) -> String {
        let input = match self.vocab {
            0 => format!("{}", self.shape()),
            v => format!(
                "{} tokens of {v} → embedding {}",
                self.shape().steps,
                self.embedding
            ),
        };
        format!(
            "{}{} {input} → {} × {} → {}{}",
            if self.bidirectional {
                "bidirectional "
            } else {
                ""
            },
            cell.as_str(),
            self.layers,
            self.hidden_size,
            self.output_size,
            if self.dropout > 0.0 {
                format!(" (dropout {})", self.dropout)
            } else {
                String::new()
            }
        )
    }

    /// Applies the command line's model flags.
    pub fn apply(&mut self, flags: &ModelFlags, family: &str) -> Result<()> {
        flags.refuse(family, &flags.not_recurrent())?;
        if let Some(size) = flags.hidden_size {
            self.hidden_size = size;
        }
        if let Some(layers) = flags.layers {
            self.layers = layers;
        }
        self.bidirectional |= flags.bidirectional;
        match flags.dropout.as_deref() {
            None => {}
            Some([p]) => self.dropout = *p,
            Some(_) => {
                return Err(Error::Usage(format!(
                    "--dropout takes one rate for --model {family} (between layers)"
                )));
            }
        }
        if let Some(steps) = flags.steps {
            self.sequence = Some(SequenceShape { steps, features: 0 });
        }
        Ok(())
    }

    /// Builds the model with weights drawn from `seed` (see `models::init`).
    pub fn init<B: Backend>(&self, cell: Cell, seed: u64, device: &B::Device) -> Recurrent<B> {
        let h = self.hidden_size;
        let mut input = self.step_width();
        let mut forward = Vec::with_capacity(self.layers);
        let mut backward = Vec::new();
        for _ in 0..self.layers {
            forward.push(layer(cell, input, h, device));
            if self.bidirectional {
                backward.push(layer(cell, input, h, device));
            }
            input = h * self.directions();
        }
        let model = Recurrent {
            embedding: (self.vocab > 0)
                .then(|| EmbeddingConfig::new(self.vocab, self.embedding).init(device)),
            forward,
            backward,
            output: LinearConfig::new(input, self.output_size).init(device),
            dropout: (self.dropout > 0.0).then(|| DropoutConfig::new(self.dropout).init()),
            sequence: [self.shape().steps, self.shape().features],
            activations: self.activations(cell),
        };
        host_init(model, seed)
    }
}

fn layer<B: Backend>(cell: Cell, input: usize, hidden: usize, device: &B::Device) -> Layer<B> {
    match cell {
        Cell::Elman => Layer::Elman(burn::nn::RnnConfig::new(input, hidden, true).init(device)),
        Cell::Lstm => Layer::Lstm(LstmConfig::new(input, hidden, true).init(device)),
        Cell::Gru => Layer::Gru(GruConfig::new(input, hidden, true).init(device)),
    }
}
