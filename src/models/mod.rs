//! Model families behind one interface. Every command (train, resume, predict, eval, cv,
//! compare, gradcheck, export, `--init-from`, `--freeze`) talks to [`ModelConfig`] and
//! [`Network`]; only this folder names a family. A family is a folder with its config
//! (hyperparameters, `validate`, `init`) and its Burn module, which implements [`Family`].
//!
//! Adding one means a variant in [`ModelConfig`] and [`Network`] and one arm in each match
//! below (the registry); the training loop is monomorphized once, for [`Network`].

mod activation;
pub mod cnn;
pub mod mlp;

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use activation::Activation;
pub use cnn::{Cnn, CnnConfig};
pub use mlp::{Mlp, MlpConfig};

use crate::data::image::ImageShape;
use crate::data::scale::FeatureScaling;
use crate::error::{Error, Result};
use crate::loss::Task;

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
    /// The weight tensors the L1/L2 penalties act on, flattened (no biases, no γ or β).
    fn weights(&self) -> Vec<Tensor<B, 1>>;
    /// About how many values one row's forward pass holds at once, to size chunks of rows.
    fn activations(&self) -> usize;
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
}

/// A model of any family. Burn derives `Module` for the enum, so optimizers, autodiff and
/// device moves see one module type.
#[derive(Module, Debug)]
pub enum Network<B: Backend> {
    Mlp(Mlp<B>),
    Cnn(Cnn<B>),
}

/// Calls the same method on whichever family `$net` holds.
macro_rules! each {
    ($net:expr, $m:ident => $body:expr) => {
        match $net {
            Network::Mlp($m) => $body,
            Network::Cnn($m) => $body,
        }
    };
}
pub(crate) use each;

/// Values of activations one chunk of inference rows may hold (128 MB in `f32`).
const CHUNK_ACTIVATIONS: usize = 32 << 20;

impl<B: Backend> Network<B> {
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        each!(self, m => m.forward(x))
    }

    /// [`Network::forward`] for inference on any number of rows: in chunks whose activations
    /// fit in [`CHUNK_ACTIVATIONS`], so predicting 10,000 images does not hold every image's
    /// feature maps at once. Rows do not interact outside training, so the output is the same.
    pub fn forward_rows(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let rows = x.dims()[0];
        let per_row = each!(self, m => m.activations()).max(1);
        let chunk = (CHUNK_ACTIVATIONS / per_row).max(1);
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
        match self {
            Network::Mlp(m) => Network::Mlp(m.freeze(layers)),
            Network::Cnn(m) => Network::Cnn(m.freeze(layers)),
        }
    }

    pub fn weights(&self) -> Vec<Tensor<B, 1>> {
        each!(self, m => m.weights())
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
}

/// The model section of a config: `{"kind": "mlp", ...}` or `{"kind": "cnn", ...}`. A config
/// without `kind` (every run written before families existed) is an MLP.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelConfig {
    Mlp(MlpConfig),
    Cnn(CnnConfig),
}

/// The family names, as `--model` and `model.kind` spell them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The multilayer perceptron, for tables of numbers.
    Mlp,
    /// The convolutional network, for images.
    Cnn,
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
        }
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
        })
    }

    pub fn kind(&self) -> Kind {
        match self {
            ModelConfig::Mlp(_) => Kind::Mlp,
            ModelConfig::Cnn(_) => Kind::Cnn,
        }
    }

    /// Checks every field; errors name the field as it appears in `config.json`.
    pub fn validate(&self) -> Result<()> {
        match self {
            ModelConfig::Mlp(c) => c.validate(),
            ModelConfig::Cnn(c) => c.validate(),
        }
    }

    /// Builds the model, its weights drawn from `seed`.
    pub fn init<B: Backend>(&self, seed: u64, device: &B::Device) -> Network<B> {
        match self {
            ModelConfig::Mlp(c) => Network::Mlp(c.init(seed, device)),
            ModelConfig::Cnn(c) => Network::Cnn(c.init(seed, device)),
        }
    }

    /// About how many values one row's forward pass holds (as [`Family::activations`]),
    /// counted without building the model.
    pub fn activations(&self) -> usize {
        match self {
            ModelConfig::Mlp(c) => 3 * (c.hidden.iter().sum::<usize>() + c.output_size),
            ModelConfig::Cnn(c) => c.activations(),
        }
    }

    /// Trainable parameters, counted without building the model (saturating).
    pub fn parameters(&self) -> u64 {
        match self {
            ModelConfig::Mlp(c) => c.parameters(),
            ModelConfig::Cnn(c) => c.parameters(),
        }
    }

    /// The field a user shrinks when the model is too large, for error messages.
    pub fn size_field(&self) -> &'static str {
        match self {
            ModelConfig::Mlp(_) => "model.hidden",
            ModelConfig::Cnn(_) => "model.conv",
        }
    }

    /// Values per input row.
    pub fn input_size(&self) -> usize {
        match self {
            ModelConfig::Mlp(c) => c.input_size,
            ModelConfig::Cnn(c) => c.image.map_or(0, |s| s.pixels()),
        }
    }

    pub fn output_size(&self) -> usize {
        match self {
            ModelConfig::Mlp(c) => c.output_size,
            ModelConfig::Cnn(c) => c.output_size,
        }
    }

    /// Sizes the model for data of `inputs` values per row and a loss of `outputs` outputs.
    /// A CNN's input is its image shape, which must account for every value.
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
        }
        Ok(())
    }

    /// The image shape a CNN was given; `None` for other families.
    pub fn image(&self) -> Option<ImageShape> {
        match self {
            ModelConfig::Cnn(c) => c.image,
            ModelConfig::Mlp(_) => None,
        }
    }

    /// Takes the shape of image files into a CNN: their size must be the one asked for (they
    /// were resized to it), their channels are the files'. Other families read the pixels as
    /// a table.
    pub fn take_image(&mut self, shape: ImageShape) -> Result<()> {
        let ModelConfig::Cnn(c) = self else {
            return Ok(());
        };
        match c.image {
            Some(asked) if (asked.height, asked.width) != (shape.height, shape.width) => {
                Err(Error::config(
                    "model.image",
                    format!("is {asked} but the images are {shape}"),
                ))
            }
            _ => {
                c.image = Some(shape);
                Ok(())
            }
        }
    }

    /// Epochs a run of this family trains for when neither flag nor config says.
    pub fn default_epochs(&self) -> usize {
        match self {
            ModelConfig::Mlp(_) => 150,
            ModelConfig::Cnn(_) => 20,
        }
    }

    /// The feature scaling a run of this family gets when neither flag nor config says.
    pub fn default_scaling(&self) -> FeatureScaling {
        match self {
            ModelConfig::Mlp(_) => FeatureScaling::Standard,
            ModelConfig::Cnn(_) => FeatureScaling::Pixels,
        }
    }

    /// The task a family poses when neither the data nor the flags say: a CNN classifies.
    pub fn default_task(&self) -> Option<Task> {
        match self {
            ModelConfig::Mlp(_) => None,
            ModelConfig::Cnn(_) => Some(Task::Classification),
        }
    }

    /// Layers that `training.freeze` can name.
    pub fn layers(&self) -> usize {
        match self {
            ModelConfig::Mlp(c) => c.hidden.len() + 1,
            ModelConfig::Cnn(c) => c.conv.len() + c.dense.len() + 1,
        }
    }

    /// Whether training draws dropout masks.
    pub fn has_dropout(&self) -> bool {
        match self {
            ModelConfig::Mlp(c) => c.dropout.iter().any(|&p| p > 0.0),
            ModelConfig::Cnn(c) => c.dropout > 0.0,
        }
    }

    /// Dropout after each hidden layer (compare's `dropout=p` variant).
    pub fn set_dropout(&mut self, p: f64) {
        match self {
            ModelConfig::Mlp(c) => c.dropout = vec![p],
            ModelConfig::Cnn(c) => c.dropout = p,
        }
    }

    /// Batch normalization of each hidden layer (compare's `batch_norm` variant).
    pub fn set_batch_norm(&mut self) {
        match self {
            ModelConfig::Mlp(c) => c.batch_norm = true,
            ModelConfig::Cnn(c) => c.batch_norm = true,
        }
    }

    /// One line for `nnlab info`, e.g. `4 → 16 → 3 (relu activation)`.
    pub fn describe(&self) -> String {
        match self {
            ModelConfig::Mlp(c) => c.describe(),
            ModelConfig::Cnn(c) => c.describe(),
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
}

impl ModelFlags {
    /// Refuses the flags set here that `family` does not read.
    fn refuse(&self, family: &str, flags: &[(&str, bool)]) -> Result<()> {
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
