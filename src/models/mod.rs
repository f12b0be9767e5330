//! Model families behind one interface. Every command (train, resume, predict, eval, cv,
//! compare, gradcheck, export, `--init-from`, `--freeze`) talks to [`ModelConfig`] and
//! [`Network`]; only this folder names a family. A family is a folder with its config
//! (hyperparameters, `validate`, `init`) and its Burn module, which implements [`Family`].
//!
//! Adding one means a variant in [`ModelConfig`] and [`Network`] and one arm in each match
//! below (the registry); the training loop is monomorphized once, for [`Network`].

mod activation;
pub mod autoencoder;
pub mod cnn;
pub(crate) mod cpu;
pub mod dense;
pub mod gan;
mod init;
pub mod mlp;
pub mod rnn;
pub mod sequence;
pub mod transformer;

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use activation::Activation;
pub use autoencoder::{Autoencoder, AutoencoderConfig};
pub use cnn::{Cnn, CnnConfig};
pub use gan::{Gan, GanConfig, GanLoss};
pub use mlp::{Mlp, MlpConfig};
pub use rnn::{Cell, Recurrent, RnnConfig};
pub use sequence::SequenceShape;
pub use transformer::{Pool, Positions, Transformer, TransformerConfig};

use crate::data::image::ImageShape;
use crate::data::scale::FeatureScaling;
use crate::error::{Error, Result};
use crate::run_dir::record;

/// What the model predicts: numbers or classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum Task {
    Regression,
    Classification,
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Task::Regression => "regression",
            Task::Classification => "classification",
        })
    }
}

/// The layer indices of `training.freeze`, split among a model's parts of `counts` layers
/// each, in turn, and counted from each part's first.
pub(crate) fn layers_in_turn<const N: usize>(
    layers: &[usize],
    counts: [usize; N],
) -> [Vec<usize>; N] {
    let mut start = 0;
    counts.map(|count| {
        let part = layers.iter().filter(|&&i| i >= start && i < start + count);
        let part = part.map(|i| i - start).collect();
        start += count;
        part
    })
}

/// What the commands need of a model family's module.
pub trait Family<B: Backend>: Module<B> {
    /// Maps a batch of flat rows `[rows, inputs]` to `[rows, outputs]`.
    fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2>;
    /// The weight shape of each layer, input first: what a checkpoint must match.
    fn shapes(&self) -> Vec<Vec<usize>>;
    /// Whether the layers are batch-normalized.
    fn batch_norm(&self) -> bool;
    /// Whether any layer has dropout (training then draws masks from the backend's generator).
    fn has_dropout(&self) -> bool;
    /// Stops gradients to the layers listed (0 = the first), so the optimizer leaves them.
    fn freeze(self, layers: &[usize]) -> Self;
    /// The same model with every dropout rate 0: what an autodiff forward pass outside
    /// training (gradient saliency) must run, as the autodiff backend applies dropout.
    fn without_dropout(self) -> Self;
    /// The weight tensors the L1/L2 penalties act on, flattened (no biases, no γ or β).
    fn weights(&self) -> Vec<Tensor<B, 1>>;
    /// About how many values one row's forward pass holds at once, to size chunks of rows.
    fn activations(&self) -> usize;
    /// The weights as bytes: the family's own Burn record at full precision, so that a run
    /// written before families existed (a bare MLP record) reads as one written now. A family
    /// whose stored form differs overrides this and [`Family::load_bytes`].
    fn to_bytes(&self) -> Result<Vec<u8>> {
        record::encode::<B, _>(self.clone().into_record())
    }
    /// This model with the weights that [`Family::to_bytes`] wrote.
    fn load_bytes(self, bytes: &[u8], device: &B::Device) -> Result<Self> {
        Ok(self.load_record(record::decode(bytes, device, "weights")?))
    }
    /// Height, width and channels of an input image, for a family that reads images: what
    /// decides whether a run directory gets pictures of filters and feature maps.
    fn image(&self) -> Option<[usize; 3]> {
        None
    }
    /// The first convolution's filters `[out, in, height, width]`, for pictures.
    fn first_filters(&self) -> Option<Tensor<B, 4>> {
        None
    }
    /// What each convolution block makes of the rows, `[rows, height, width, channels]`, for
    /// pictures.
    fn block_maps(&self, _x: Tensor<B, 2>) -> Option<Vec<Tensor<B, 4>>> {
        None
    }
    /// The attention weights of each layer for the rows, `[rows, heads, positions,
    /// positions]`, for a family that attends.
    fn attention(&self, _x: Tensor<B, 2>) -> Option<Vec<Tensor<B, 4>>> {
        None
    }
    /// Token rows: the embedding of each token, `[rows, steps, width]`, for a family that
    /// reads tokens.
    fn embed_tokens(&self, _x: Tensor<B, 2>) -> Option<Tensor<B, 3>> {
        None
    }
    /// Token rows: the outputs computed from `embedded` in place of the tokens' embeddings
    /// (what gradient saliency differentiates), for a family that reads tokens.
    fn forward_embedded(&self, _x: Tensor<B, 2>, _embedded: Tensor<B, 3>) -> Option<Tensor<B, 2>> {
        None
    }
}

/// A model of any family. Burn derives `Module` for the enum, so optimizers, autodiff and
/// device moves see one module type.
// One per model; a Box would not derive `Module`.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Network<B: Backend> {
    Mlp(Mlp<B>),
    Cnn(Cnn<B>),
    Recurrent(Recurrent<B>),
    Transformer(Transformer<B>),
    Autoencoder(Autoencoder<B>),
    Gan(Gan<B>),
}

/// Calls the same method on whichever family `$net` holds.
macro_rules! each {
    ($net:expr, $m:ident => $body:expr) => {
        match $net {
            Network::Mlp($m) => $body,
            Network::Cnn($m) => $body,
            Network::Recurrent($m) => $body,
            Network::Transformer($m) => $body,
            Network::Autoencoder($m) => $body,
            Network::Gan($m) => $body,
        }
    };
}
pub(crate) use each;

/// Calls the same method on whichever family `$net` holds and puts its answer, a model of the
/// same family, back into the same variant.
macro_rules! each_same {
    ($net:expr, $m:ident => $body:expr) => {
        match $net {
            Network::Mlp($m) => Network::Mlp($body),
            Network::Cnn($m) => Network::Cnn($body),
            Network::Recurrent($m) => Network::Recurrent($body),
            Network::Transformer($m) => Network::Transformer($body),
            Network::Autoencoder($m) => Network::Autoencoder($body),
            Network::Gan($m) => Network::Gan($body),
        }
    };
}

/// Values of activations one chunk of inference rows may hold (128 MB in `f32`).
const CHUNK_ACTIVATIONS: usize = 32 << 20;

/// The most rows in one chunk of inference. Chunks are powers of two up to this, so a caller
/// that hands over pieces of this many rows (`serve`'s streamed answers) gets the very chunks,
/// and so the very bits, of one call on all the rows: a matrix product's rounding can depend
/// on how many rows it multiplies.
pub const CHUNK_ROWS: usize = 4096;

impl<B: Backend> Network<B> {
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        each!(self, m => m.forward(x))
    }

    /// The forward pass of a training step, and the term that a family adds to the loss of
    /// its output: a VAE's mean KL divergence per row, from a reparameterized draw.
    pub fn forward_train(&self, x: Tensor<B, 2>) -> (Tensor<B, 2>, Option<Tensor<B, 1>>) {
        match self {
            Network::Autoencoder(m) => m.forward_train(x),
            other => (other.forward(x), None),
        }
    }

    /// The function a training step descends, on rows `x`, given the loss of an output: that
    /// loss for most families; a VAE's negative ELBO per row (the loss, the mean squared
    /// error, times half the row's width, plus the KL term, from one draw of z); a GAN's
    /// J_D + J_G on two draws of noise, the sum of what its two networks each descend. What
    /// `gradcheck` checks.
    pub fn objective(
        &self,
        x: Tensor<B, 2>,
        loss: impl FnOnce(Tensor<B, 2>) -> Tensor<B, 1>,
    ) -> Tensor<B, 1> {
        match self {
            Network::Gan(m) => m.objective(x),
            Network::Autoencoder(m) if m.variational => {
                let half_width = x.dims()[1] as f64 / 2.0;
                let (output, kl) = m.forward_train(x);
                let kl = kl.expect("a VAE has a KL term");
                loss(output).mul_scalar(half_width) + kl
            }
            other => loss(other.forward(x)),
        }
    }

    /// A VAE's KL term of each row at its posterior, `[rows]`; `None` for other families.
    pub fn kl_rows(&self, x: Tensor<B, 2>) -> Option<Tensor<B, 1>> {
        match self {
            Network::Autoencoder(m) if m.variational => Some(m.kl_rows(x)),
            _ => None,
        }
    }

    /// The autoencoder's code of each row; `None` for other families.
    pub fn encode(&self, x: Tensor<B, 2>) -> Option<Tensor<B, 2>> {
        match self {
            Network::Autoencoder(m) => Some(m.encode(x)),
            _ => None,
        }
    }

    /// `rows` new rows in the scaled units, from a VAE's decoder of z ~ N(0, I) or a GAN's
    /// generator, drawn on the backend's generator; `None` for the families that cannot.
    pub fn generate(&self, rows: usize, device: &B::Device) -> Option<Tensor<B, 2>> {
        match self {
            Network::Autoencoder(m) if m.variational => {
                let shape = [rows, m.latent];
                let z = Tensor::random(shape, burn::tensor::Distribution::Normal(0.0, 1.0), device);
                Some(m.decode(z))
            }
            Network::Gan(m) => Some(m.sample(rows, device)),
            _ => None,
        }
    }

    /// [`Network::forward`] for inference on any number of rows: in chunks whose activations
    /// fit in [`CHUNK_ACTIVATIONS`], so predicting 10,000 images does not hold every image's
    /// feature maps at once (at most [`CHUNK_ROWS`]). Rows do not interact outside training, so
    /// the output is the same, up to the rounding of products of other sizes.
    pub fn forward_rows(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let rows = x.dims()[0];
        let per_row = each!(self, m => m.activations()).max(1);
        let fits = (CHUNK_ACTIVATIONS / per_row).clamp(1, CHUNK_ROWS);
        let chunk = 1 << fits.ilog2();
        if rows <= chunk {
            return self.forward(x);
        }
        let outputs = (0..rows)
            .step_by(chunk)
            .map(|start| self.forward(x.clone().slice(start..(start + chunk).min(rows))))
            .collect();
        Tensor::cat(outputs, 0)
    }

    pub fn shapes(&self) -> Vec<Vec<usize>> {
        each!(self, m => m.shapes())
    }

    pub fn batch_norm(&self) -> bool {
        each!(self, m => m.batch_norm())
    }

    pub fn has_dropout(&self) -> bool {
        each!(self, m => m.has_dropout())
    }

    pub fn freeze(self, layers: &[usize]) -> Self {
        each_same!(self, m => m.freeze(layers))
    }

    pub fn weights(&self) -> Vec<Tensor<B, 1>> {
        each!(self, m => m.weights())
    }

    pub fn without_dropout(self) -> Self {
        each_same!(self, m => m.without_dropout())
    }

    /// A single neuron's weights and bias, `None` unless the network is one
    /// ([`ModelConfig::neuron`]).
    pub fn neuron(&self) -> Option<(Vec<f64>, f64)> {
        match self {
            Network::Mlp(m) => m.neuron(),
            _ => None,
        }
    }

    /// The weights as bytes, in the family's own form ([`Family::to_bytes`]).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        each!(self, m => m.to_bytes())
    }

    /// This network, of the family that wrote `bytes` with [`Network::to_bytes`], with their
    /// weights.
    pub fn load_bytes(self, bytes: &[u8], device: &B::Device) -> Result<Self> {
        Ok(each_same!(self, m => m.load_bytes(bytes, device)?))
    }

    pub fn image(&self) -> Option<[usize; 3]> {
        each!(self, m => m.image())
    }

    pub fn first_filters(&self) -> Option<Tensor<B, 4>> {
        each!(self, m => m.first_filters())
    }

    pub fn block_maps(&self, x: Tensor<B, 2>) -> Option<Vec<Tensor<B, 4>>> {
        each!(self, m => m.block_maps(x))
    }

    pub fn attention(&self, x: Tensor<B, 2>) -> Option<Vec<Tensor<B, 4>>> {
        each!(self, m => m.attention(x))
    }

    pub fn embed_tokens(&self, x: Tensor<B, 2>) -> Option<Tensor<B, 3>> {
        each!(self, m => m.embed_tokens(x))
    }

    pub fn forward_embedded(
        &self,
        x: Tensor<B, 2>,
        embedded: Tensor<B, 3>,
    ) -> Option<Tensor<B, 2>> {
        each!(self, m => m.forward_embedded(x, embedded))
    }
}

/// The model section of a config: `{"kind": "mlp", ...}`, `{"kind": "lstm", ...}` and so on.
/// A config without `kind` (every run written before families existed) is an MLP. The three
/// recurrent cells share one config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelConfig {
    Mlp(MlpConfig),
    Cnn(CnnConfig),
    Rnn(RnnConfig),
    Lstm(RnnConfig),
    Gru(RnnConfig),
    Transformer(TransformerConfig),
    Autoencoder(AutoencoderConfig),
    Vae(AutoencoderConfig),
    Gan(GanConfig),
}

/// The family names, as `--model` and `model.kind` spell them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The multilayer perceptron, for tables of numbers.
    Mlp,
    /// The convolutional network, for images.
    Cnn,
    /// The Elman recurrent network (tanh), for sequences.
    Rnn,
    /// The long short-term memory network, for sequences.
    Lstm,
    /// The gated recurrent unit network, for sequences.
    Gru,
    /// The transformer encoder (self-attention), for sequences.
    Transformer,
    /// The autoencoder: learns a narrow code of the rows, with no target.
    Autoencoder,
    /// The variational autoencoder: a code that can also be sampled, with no target.
    Vae,
    /// The generative adversarial network: a generator of new rows, with no target.
    Gan,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig::Mlp(MlpConfig::new())
    }
}

impl ModelConfig {
    /// The default config of a family.
    pub fn of(kind: Kind) -> Self {
        match kind {
            Kind::Mlp => ModelConfig::Mlp(MlpConfig::new()),
            Kind::Cnn => ModelConfig::Cnn(CnnConfig::new()),
            Kind::Rnn => ModelConfig::Rnn(RnnConfig::new()),
            Kind::Lstm => ModelConfig::Lstm(RnnConfig::new()),
            Kind::Gru => ModelConfig::Gru(RnnConfig::new()),
            Kind::Transformer => ModelConfig::Transformer(TransformerConfig::new()),
            Kind::Autoencoder => ModelConfig::Autoencoder(AutoencoderConfig::new()),
            Kind::Vae => ModelConfig::Vae(AutoencoderConfig::new()),
            Kind::Gan => ModelConfig::Gan(GanConfig::new()),
        }
    }

    /// The textbook's single neuron, y = wᵀx + b: an MLP without hidden layers.
    pub fn neuron(inputs: usize, outputs: usize) -> Self {
        let mlp = MlpConfig::new().with_hidden(vec![]);
        ModelConfig::Mlp(mlp.with_input_size(inputs).with_output_size(outputs))
    }

    /// The defaults of the family `kind` names, as JSON; an unknown kind is an error.
    pub fn default_value(kind: &Value) -> Result<Value> {
        let kind: Kind = serde_json::from_value(kind.clone())
            .map_err(|e| Error::config("model.kind", format!("is invalid: {e}")))?;
        Ok(serde_json::to_value(ModelConfig::of(kind)).expect("model config serializes"))
    }

    /// Reads the model section, naming the field of any error (`model.hidden[1]`): serde's
    /// tagged enums lose the path inside the variant, so the family's config is read alone.
    pub fn from_value(mut value: Value) -> Result<Self> {
        let kind = value
            .as_object_mut()
            .and_then(|m| m.remove("kind"))
            .unwrap_or(Value::String("mlp".into()));
        let kind: Kind = serde_json::from_value(kind)
            .map_err(|e| Error::config("model.kind", format!("is invalid: {e}")))?;
        fn read<T: serde::de::DeserializeOwned>(value: Value) -> Result<T> {
            serde_path_to_error::deserialize(value).map_err(|e| {
                Error::config(
                    format!("model.{}", e.path()),
                    format!("is invalid: {}", e.inner()),
                )
            })
        }
        Ok(match kind {
            Kind::Mlp => ModelConfig::Mlp(read(value)?),
            Kind::Cnn => ModelConfig::Cnn(read(value)?),
            Kind::Rnn => ModelConfig::Rnn(read(value)?),
            Kind::Lstm => ModelConfig::Lstm(read(value)?),
            Kind::Gru => ModelConfig::Gru(read(value)?),
            Kind::Transformer => ModelConfig::Transformer(read(value)?),
            Kind::Autoencoder => ModelConfig::Autoencoder(read(value)?),
            Kind::Vae => ModelConfig::Vae(read(value)?),
            Kind::Gan => ModelConfig::Gan(read(value)?),
        })
    }

    pub fn kind(&self) -> Kind {
        match self {
            ModelConfig::Mlp(_) => Kind::Mlp,
            ModelConfig::Cnn(_) => Kind::Cnn,
            ModelConfig::Rnn(_) => Kind::Rnn,
            ModelConfig::Lstm(_) => Kind::Lstm,
            ModelConfig::Gru(_) => Kind::Gru,
            ModelConfig::Transformer(_) => Kind::Transformer,
            ModelConfig::Autoencoder(_) => Kind::Autoencoder,
            ModelConfig::Vae(_) => Kind::Vae,
            ModelConfig::Gan(_) => Kind::Gan,
        }
    }

    /// Checks every field; errors name the field as it appears in `config.json`.
    pub fn validate(&self) -> Result<()> {
        match self {
            ModelConfig::Mlp(c) => c.validate(),
            ModelConfig::Cnn(c) => c.validate(),
            ModelConfig::Rnn(c) | ModelConfig::Lstm(c) | ModelConfig::Gru(c) => c.validate(),
            ModelConfig::Transformer(c) => c.validate(),
            ModelConfig::Autoencoder(c) | ModelConfig::Vae(c) => c.validate(),
            ModelConfig::Gan(c) => c.validate(),
        }
    }

    /// Builds the model, its weights drawn from `seed`.
    pub fn init<B: Backend>(&self, seed: u64, device: &B::Device) -> Network<B> {
        match self {
            ModelConfig::Mlp(c) => Network::Mlp(c.init(seed, device)),
            ModelConfig::Cnn(c) => Network::Cnn(c.init(seed, device)),
            ModelConfig::Transformer(c) => Network::Transformer(c.init(seed, device)),
            ModelConfig::Autoencoder(c) => Network::Autoencoder(c.init(false, seed, device)),
            ModelConfig::Vae(c) => Network::Autoencoder(c.init(true, seed, device)),
            ModelConfig::Gan(c) => Network::Gan(c.init(seed, device)),
            recurrent => {
                let (cell, c) = recurrent
                    .recurrent()
                    .expect("the recurrent families remain");
                Network::Recurrent(c.init(cell, seed, device))
            }
        }
    }

    /// About how many values one row's forward pass holds (as [`Family::activations`]),
    /// counted without building the model.
    pub fn activations(&self) -> usize {
        match self {
            ModelConfig::Mlp(c) => 3 * (c.hidden.iter().sum::<usize>() + c.output_size),
            ModelConfig::Cnn(c) => c.activations(),
            ModelConfig::Transformer(c) => c.activations(),
            ModelConfig::Autoencoder(c) => c.activations(false),
            ModelConfig::Vae(c) => c.activations(true),
            ModelConfig::Gan(c) => c.activations(),
            recurrent => recurrent
                .recurrent()
                .map_or(0, |(cell, c)| c.activations(cell)),
        }
    }

    /// Trainable parameters, counted without building the model (saturating).
    pub fn parameters(&self) -> u64 {
        match self {
            ModelConfig::Mlp(c) => c.parameters(),
            ModelConfig::Cnn(c) => c.parameters(),
            ModelConfig::Transformer(c) => c.parameters(),
            ModelConfig::Autoencoder(c) => c.parameters(false),
            ModelConfig::Vae(c) => c.parameters(true),
            ModelConfig::Gan(c) => c.parameters(),
            recurrent => recurrent
                .recurrent()
                .map_or(0, |(cell, c)| c.parameters(cell)),
        }
    }

    /// The field a user shrinks when the model is too large, for error messages.
    pub fn size_field(&self) -> &'static str {
        match self {
            ModelConfig::Mlp(_) => "model.hidden",
            ModelConfig::Cnn(_) => "model.conv",
            ModelConfig::Rnn(_) | ModelConfig::Lstm(_) | ModelConfig::Gru(_) => "model.hidden_size",
            ModelConfig::Transformer(_) => "model.d_model",
            ModelConfig::Autoencoder(_) | ModelConfig::Vae(_) | ModelConfig::Gan(_) => {
                "model.hidden"
            }
        }
    }

    /// Values per input row.
    pub fn input_size(&self) -> usize {
        match self {
            ModelConfig::Mlp(c) => c.input_size,
            ModelConfig::Cnn(c) => c.image.map_or(0, |s| s.pixels()),
            ModelConfig::Transformer(c) => c.sequence.map_or(0, |s| s.values()),
            ModelConfig::Rnn(c) | ModelConfig::Lstm(c) | ModelConfig::Gru(c) => {
                c.sequence.map_or(0, |s| s.values())
            }
            ModelConfig::Autoencoder(c) | ModelConfig::Vae(c) => c.input_size,
            ModelConfig::Gan(c) => c.input_size,
        }
    }

    pub fn output_size(&self) -> usize {
        match self {
            ModelConfig::Mlp(c) => c.output_size,
            ModelConfig::Cnn(c) => c.output_size,
            ModelConfig::Transformer(c) => c.output_size,
            ModelConfig::Rnn(c) | ModelConfig::Lstm(c) | ModelConfig::Gru(c) => c.output_size,
            ModelConfig::Autoencoder(c) | ModelConfig::Vae(c) => c.input_size,
            ModelConfig::Gan(_) => 1,
        }
    }

    /// Sizes the model for data of `inputs` values per row and a loss of `outputs` outputs.
    /// A CNN's input is its image shape, which must account for every value; a sequence
    /// model's is its steps (from the data, or `--steps`) of some values each.
    pub fn fit_sizes(&mut self, inputs: usize, outputs: usize) -> Result<()> {
        match self {
            ModelConfig::Mlp(c) => {
                c.input_size = inputs;
                c.output_size = outputs;
            }
            ModelConfig::Cnn(c) => {
                c.check_inputs(inputs)?;
                c.output_size = outputs;
            }
            ModelConfig::Transformer(c) => {
                c.check_inputs(inputs)?;
                c.output_size = outputs;
            }
            ModelConfig::Rnn(c) | ModelConfig::Lstm(c) | ModelConfig::Gru(c) => {
                c.check_inputs(inputs)?;
                c.output_size = outputs;
            }
            // Their output is a row like the input: there is no target to size it by.
            ModelConfig::Autoencoder(c) | ModelConfig::Vae(c) => c.fit_inputs(inputs)?,
            ModelConfig::Gan(c) => c.fit_inputs(inputs)?,
        }
        Ok(())
    }

    /// The image shape a CNN was given; `None` for other families.
    pub fn image(&self) -> Option<ImageShape> {
        match self {
            ModelConfig::Cnn(c) => c.image,
            ModelConfig::Autoencoder(c) | ModelConfig::Vae(c) => c.image,
            ModelConfig::Gan(c) => c.image,
            _ => None,
        }
    }

    /// The cell and config of a recurrent family; `None` for other families.
    pub fn recurrent(&self) -> Option<(Cell, &RnnConfig)> {
        match self {
            ModelConfig::Rnn(c) => Some((Cell::Elman, c)),
            ModelConfig::Lstm(c) => Some((Cell::Lstm, c)),
            ModelConfig::Gru(c) => Some((Cell::Gru, c)),
            _ => None,
        }
    }

    /// The row shape of a sequence family; `None` for other families.
    pub fn sequence(&self) -> Option<SequenceShape> {
        match self {
            ModelConfig::Transformer(c) => c.sequence,
            other => other.recurrent().and_then(|(_, c)| c.sequence),
        }
    }

    /// Sets the vocabulary size of a sequence family reading token ids; other families cannot
    /// read text.
    pub fn take_tokens(&mut self, vocab: usize) -> Result<()> {
        match self {
            ModelConfig::Transformer(c) => c.vocab = vocab,
            ModelConfig::Rnn(c) | ModelConfig::Lstm(c) | ModelConfig::Gru(c) => c.vocab = vocab,
            other => {
                return Err(Error::Usage(format!(
                    "--model {} cannot read text: use --model lstm, gru, rnn or transformer",
                    other.kind_name()
                )));
            }
        }
        Ok(())
    }

    /// Whether the model reads sequences.
    pub fn is_sequence(&self) -> bool {
        matches!(self, ModelConfig::Transformer(_)) || self.recurrent().is_some()
    }

    /// Sets the row shape of a sequence family (a series' window); others ignore it.
    pub fn take_sequence(&mut self, shape: SequenceShape) {
        match self {
            ModelConfig::Transformer(c) => c.sequence = Some(shape),
            ModelConfig::Rnn(c) | ModelConfig::Lstm(c) | ModelConfig::Gru(c) => {
                c.sequence = Some(shape)
            }
            _ => {}
        }
    }

    /// Takes the shape of image files into a CNN: their size must be the one asked for (they
    /// were resized to it), their channels are the files'. Other families read the pixels as
    /// a table.
    pub fn take_image(&mut self, shape: ImageShape) -> Result<()> {
        let image = match self {
            ModelConfig::Cnn(c) => &mut c.image,
            ModelConfig::Autoencoder(c) | ModelConfig::Vae(c) => &mut c.image,
            ModelConfig::Gan(c) => &mut c.image,
            _ => return Ok(()),
        };
        match *image {
            Some(asked) if (asked.height, asked.width) != (shape.height, shape.width) => {
                Err(Error::config(
                    "model.image",
                    format!("is {asked} but the images are {shape}"),
                ))
            }
            _ => {
                *image = Some(shape);
                Ok(())
            }
        }
    }

    /// Epochs a run of this family trains for when neither flag nor config says.
    pub fn default_epochs(&self) -> usize {
        match self {
            ModelConfig::Mlp(_) => 150,
            ModelConfig::Cnn(_) => 20,
            // The ring of 8 Gaussians needs ~10,000 steps of batch 32 over its 1,000 rows to
            // cover every mode sharply (docs/generative.md).
            ModelConfig::Gan(_) => 300,
            // An autoencoder of the default width needs them to beat PCA on the 8×8 digits
            // and the diabetes table (docs/generative.md).
            ModelConfig::Autoencoder(_) | ModelConfig::Vae(_) => 300,
            _ => 100,
        }
    }

    /// The feature scaling a run of this family gets when neither flag nor config says.
    pub fn default_scaling(&self) -> FeatureScaling {
        match self {
            ModelConfig::Mlp(_) => FeatureScaling::Standard,
            ModelConfig::Cnn(_) => FeatureScaling::Pixels,
            _ => FeatureScaling::Standard,
        }
    }

    /// The task a family poses when neither the data nor the flags say: a CNN classifies.
    pub fn default_task(&self) -> Option<Task> {
        match self {
            ModelConfig::Mlp(_) => None,
            ModelConfig::Cnn(_) => Some(Task::Classification),
            _ => None,
        }
    }

    /// Layers that `training.freeze` can name.
    pub fn layers(&self) -> usize {
        match self {
            ModelConfig::Mlp(c) => c.hidden.len() + 1,
            ModelConfig::Cnn(c) => c.conv.len() + c.dense.len() + 1,
            ModelConfig::Transformer(c) => c.freezable(),
            ModelConfig::Rnn(c) | ModelConfig::Lstm(c) | ModelConfig::Gru(c) => c.freezable(),
            ModelConfig::Autoencoder(c) | ModelConfig::Vae(c) => c.freezable(),
            ModelConfig::Gan(c) => c.freezable(),
        }
    }

    /// Whether training draws random numbers on the backend (dropout masks, a VAE's z, a
    /// GAN's noise), which the loop then seeds every step.
    pub fn has_dropout(&self) -> bool {
        match self {
            ModelConfig::Autoencoder(_) => false,
            ModelConfig::Vae(_) | ModelConfig::Gan(_) => true,
            ModelConfig::Mlp(c) => c.dropout.iter().any(|&p| p > 0.0),
            ModelConfig::Cnn(c) => c.dropout > 0.0,
            ModelConfig::Transformer(c) => c.dropout > 0.0,
            ModelConfig::Rnn(c) | ModelConfig::Lstm(c) | ModelConfig::Gru(c) => c.dropout > 0.0,
        }
    }

    /// Dropout after each hidden layer (compare's `dropout=p` variant).
    pub fn set_dropout(&mut self, p: f64) {
        match self {
            ModelConfig::Mlp(c) => c.dropout = vec![p],
            ModelConfig::Cnn(c) => c.dropout = p,
            ModelConfig::Transformer(c) => c.dropout = p,
            ModelConfig::Rnn(c) | ModelConfig::Lstm(c) | ModelConfig::Gru(c) => c.dropout = p,
            // Compare's dropout variant is refused for them before it gets here.
            ModelConfig::Autoencoder(_) | ModelConfig::Vae(_) | ModelConfig::Gan(_) => {}
        }
    }

    /// Batch normalization of each hidden layer (compare's `batch_norm` variant); refused by
    /// the sequence families, which have none.
    pub fn set_batch_norm(&mut self) -> Result<()> {
        match self {
            ModelConfig::Mlp(c) => c.batch_norm = true,
            ModelConfig::Cnn(c) => c.batch_norm = true,
            other => {
                return Err(Error::Usage(format!(
                    "batch normalization does not apply to --model {}",
                    other.kind_name()
                )));
            }
        }
        Ok(())
    }

    /// The family's name as `--model` spells it.
    pub fn kind_name(&self) -> String {
        serde_json::to_value(self.kind())
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// One line for `nnlab info`, e.g. `4 → 16 → 3 (relu activation)`.
    pub fn describe(&self) -> String {
        match self {
            ModelConfig::Mlp(c) => c.describe(),
            ModelConfig::Cnn(c) => c.describe(),
            ModelConfig::Transformer(c) => c.describe(),
            ModelConfig::Autoencoder(c) => c.describe(),
            ModelConfig::Vae(c) => format!("{} (variational)", c.describe()),
            ModelConfig::Gan(c) => c.describe(),
            recurrent => recurrent
                .recurrent()
                .map_or_else(String::new, |(cell, c)| c.describe(cell)),
        }
    }

    /// Applies the model flags of the command line; a flag of another family is refused.
    pub fn apply(&mut self, flags: &ModelFlags) -> Result<()> {
        if let Some(kind) = flags.kind
            && kind != self.kind()
        {
            *self = ModelConfig::of(kind);
        }
        match self {
            ModelConfig::Mlp(c) => c.apply(flags),
            ModelConfig::Cnn(c) => c.apply(flags),
            ModelConfig::Rnn(c) => c.apply(flags, "rnn"),
            ModelConfig::Lstm(c) => c.apply(flags, "lstm"),
            ModelConfig::Gru(c) => c.apply(flags, "gru"),
            ModelConfig::Transformer(c) => c.apply(flags),
            ModelConfig::Autoencoder(c) => c.apply(flags, "autoencoder"),
            ModelConfig::Vae(c) => c.apply(flags, "vae"),
            ModelConfig::Gan(c) => c.apply(flags),
        }
    }

    /// Whether the model learns the rows themselves, with no target: an autoencoder, a VAE
    /// or a GAN.
    pub fn is_generative(&self) -> bool {
        matches!(
            self,
            ModelConfig::Autoencoder(_) | ModelConfig::Vae(_) | ModelConfig::Gan(_)
        )
    }

    /// Whether the model's output is the reconstruction of its input: an autoencoder or VAE.
    pub fn reconstructs(&self) -> bool {
        matches!(self, ModelConfig::Autoencoder(_) | ModelConfig::Vae(_))
    }

    /// The factor on the loss function's value (the mean squared error over rows and
    /// columns) that makes a VAE's objective the negative ELBO per row: half the row's width,
    /// as ½‖x − x̂‖² = (d/2)·MSE ([`autoencoder::elbo`]). 1 for the other families.
    pub fn loss_weight(&self) -> f64 {
        match self {
            ModelConfig::Vae(c) => c.input_size as f64 / 2.0,
            _ => 1.0,
        }
    }

    /// The GAN's config; `None` for other families.
    /// The code's size of an autoencoder or a VAE, once fitted to the data.
    pub fn code_size(&self) -> Option<usize> {
        match self {
            ModelConfig::Autoencoder(c) | ModelConfig::Vae(c) => Some(c.latent()),
            _ => None,
        }
    }

    pub fn gan(&self) -> Option<&GanConfig> {
        match self {
            ModelConfig::Gan(c) => Some(c),
            _ => None,
        }
    }
}

/// The model flags of the command line, for [`ModelConfig::apply`]; `None` keeps the config's.
#[derive(Clone, Debug, Default)]
pub struct ModelFlags {
    pub kind: Option<Kind>,
    pub hidden: Option<Vec<usize>>,
    pub activation: Option<Activation>,
    pub dropout: Option<Vec<f64>>,
    pub batch_norm: bool,
    pub image: Option<ImageShape>,
    pub conv: Option<Vec<usize>>,
    pub kernel: Option<usize>,
    pub pool: Option<usize>,
    pub dense: Option<Vec<usize>>,
    /// Steps per row of a sequence model.
    pub steps: Option<usize>,
    pub hidden_size: Option<usize>,
    pub layers: Option<usize>,
    pub bidirectional: bool,
    pub d_model: Option<usize>,
    pub heads: Option<usize>,
    pub positions: Option<Positions>,
    pub pooling: Option<Pool>,
    /// Values of the code (autoencoders) or of the noise (GANs).
    pub latent: Option<usize>,
    pub gan_loss: Option<GanLoss>,
    pub d_steps: Option<usize>,
    pub clip: Option<f64>,
    pub minibatch_std: bool,
    pub d_lr: Option<f64>,
    pub g_lr: Option<f64>,
}

impl ModelFlags {
    /// The CNN's flags, with whether each is set.
    fn cnn(&self) -> Vec<(&'static str, bool)> {
        vec![
            ("--image", self.image.is_some()),
            ("--conv", self.conv.is_some()),
            ("--kernel", self.kernel.is_some()),
            ("--pool", self.pool.is_some()),
            ("--dense", self.dense.is_some()),
        ]
    }

    /// The recurrent families' own flags.
    fn recurrent(&self) -> Vec<(&'static str, bool)> {
        vec![
            ("--hidden-size", self.hidden_size.is_some()),
            ("--bidirectional", self.bidirectional),
        ]
    }

    /// The transformer's own flags.
    fn transformer(&self) -> Vec<(&'static str, bool)> {
        vec![
            ("--d-model", self.d_model.is_some()),
            ("--heads", self.heads.is_some()),
            ("--positions", self.positions.is_some()),
            ("--pooling", self.pooling.is_some()),
        ]
    }

    /// Flags of both sequence families.
    fn sequence(&self) -> Vec<(&'static str, bool)> {
        let mut flags = vec![
            ("--steps", self.steps.is_some()),
            ("--layers", self.layers.is_some()),
        ];
        flags.extend(self.recurrent());
        flags.extend(self.transformer());
        flags
    }

    /// Flags of the generative families only.
    fn generative(&self) -> Vec<(&'static str, bool)> {
        vec![
            ("--latent", self.latent.is_some()),
            ("--gan-loss", self.gan_loss.is_some()),
            ("--d-steps", self.d_steps.is_some()),
            ("--clip", self.clip.is_some()),
            ("--minibatch-std", self.minibatch_std),
            ("--d-lr", self.d_lr.is_some()),
            ("--g-lr", self.g_lr.is_some()),
        ]
    }

    /// Flags the autoencoders and the GAN do not read.
    pub(crate) fn not_generative(&self) -> Vec<(&'static str, bool)> {
        // `--image` sizes their image rows too, and `--conv` their convolution stages.
        let mut flags: Vec<_> = self.cnn().into_iter().skip(2).collect();
        flags.extend(self.sequence());
        flags.push(("--dropout", self.dropout.is_some()));
        flags.push(("--batch-norm", self.batch_norm));
        flags
    }

    /// Flags an autoencoder does not read: the GAN's own too.
    pub(crate) fn not_autoencoder(&self) -> Vec<(&'static str, bool)> {
        let mut flags = self.not_generative();
        flags.extend(self.generative().into_iter().skip(1));
        flags
    }

    /// Flags of the table and image families.
    fn dense(&self) -> Vec<(&'static str, bool)> {
        let mut flags = vec![
            ("--hidden", self.hidden.is_some()),
            ("--activation", self.activation.is_some()),
            ("--batch-norm", self.batch_norm),
        ];
        flags.extend(self.cnn());
        flags
    }

    /// Flags an MLP does not read.
    pub(crate) fn not_mlp(&self) -> Vec<(&'static str, bool)> {
        let mut flags = self.cnn();
        flags.extend(self.sequence());
        flags.extend(self.generative());
        flags
    }

    /// Flags a CNN does not read.
    pub(crate) fn not_cnn(&self) -> Vec<(&'static str, bool)> {
        let mut flags = vec![("--hidden", self.hidden.is_some())];
        flags.extend(self.sequence());
        flags.extend(self.generative());
        flags
    }

    /// Flags a recurrent family does not read.
    pub(crate) fn not_recurrent(&self) -> Vec<(&'static str, bool)> {
        let mut flags = self.dense();
        flags.extend(self.transformer());
        flags.extend(self.generative());
        flags
    }

    /// Flags the transformer does not read.
    pub(crate) fn not_transformer(&self) -> Vec<(&'static str, bool)> {
        let mut flags = self.dense();
        flags.extend(self.recurrent());
        flags.extend(self.generative());
        flags
    }

    /// Refuses the flags set here that `family` does not read.
    pub(crate) fn refuse(&self, family: &str, flags: &[(&str, bool)]) -> Result<()> {
        match flags.iter().find(|(_, set)| *set) {
            Some((flag, _)) => Err(Error::Usage(format!(
                "{flag} does not apply to --model {family}"
            ))),
            None => Ok(()),
        }
    }
}

impl From<MlpConfig> for ModelConfig {
    fn from(config: MlpConfig) -> Self {
        ModelConfig::Mlp(config)
    }
}

impl From<CnnConfig> for ModelConfig {
    fn from(config: CnnConfig) -> Self {
        ModelConfig::Cnn(config)
    }
}
