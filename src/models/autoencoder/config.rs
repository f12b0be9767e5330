//! The autoencoder's hyperparameters, checked before a model is built. The plain and the
//! variational autoencoder share them; `--model` says which.

use burn::config::Config;
use burn::tensor::backend::Backend;

use super::Autoencoder;
use crate::data::image::ImageShape;
use crate::data::split::stream;
use crate::error::{Error, Result};
use crate::models::{Activation, MlpConfig, ModelFlags};

/// Shape of an autoencoder: the encoder's hidden widths, mirrored by the decoder.
#[derive(Config, Debug, PartialEq)]
pub struct AutoencoderConfig {
    /// Values per input row (and per reconstruction).
    #[config(default = 1)]
    pub input_size: usize,
    /// Width of each hidden layer of the encoder, input side first; the decoder has the same
    /// widths in reverse order [default: [`default_hidden`] of the input size].
    pub hidden: Option<Vec<usize>>,
    /// Size of the latent code z [default: [`default_latent`] of the input size].
    pub latent: Option<usize>,
    /// The image size the rows are the pixels of (`--image`, or the files' own): a folder's
    /// images are resized to it. Unset for a table.
    pub image: Option<ImageShape>,
    /// Non-linearity after each hidden layer.
    #[config(default = "Activation::Relu")]
    pub activation: Activation,
}

/// The latent size a run gets when `--latent` is not given: a quarter of the input's values,
/// at least 2 (a code that can be drawn) and at most 32. The code must be narrower than the
/// input, or the identity map would reconstruct perfectly and learn nothing.
pub fn default_latent(inputs: usize) -> usize {
    inputs.div_ceil(4).clamp(2, 32)
}

/// The hidden layer a run gets when `--hidden` is not given: one layer of four times the
/// row's values, 64 to 512. On scikit-learn's 8×8 digits the MLP's 64 units lost to PCA at 8
/// and 32 latent values, and 256 beat it at every size tried (docs/generative.md).
pub fn default_hidden(inputs: usize) -> Vec<usize> {
    vec![(4 * inputs).clamp(64, 512)]
}

/// Checks the sizes the models without a target share: the row's, the latent values' (`what`
/// they are: the code, the noise) and each hidden layer's.
pub(crate) fn check_sizes(
    input_size: usize,
    latent: Option<usize>,
    hidden: &[usize],
    what: &str,
) -> Result<()> {
    if input_size == 0 {
        return Err(Error::config("model.input_size", "must be at least 1"));
    }
    if latent == Some(0) {
        return Err(Error::config(
            "model.latent",
            format!("must be at least 1 (the {what} needs a value)"),
        ));
    }
    crate::models::mlp::check_hidden(hidden)
}

impl AutoencoderConfig {
    /// The hidden widths, once [`AutoencoderConfig::fit_inputs`] has chosen them.
    pub fn hidden(&self) -> Vec<usize> {
        self.hidden
            .clone()
            .unwrap_or_else(|| default_hidden(self.input_size))
    }

    /// The latent size, once [`AutoencoderConfig::fit_inputs`] has chosen it.
    pub fn latent(&self) -> usize {
        self.latent
            .unwrap_or_else(|| default_latent(self.input_size))
    }

    /// Checks every field; errors name the field as it appears in `config.json`.
    pub fn validate(&self) -> Result<()> {
        check_sizes(self.input_size, self.latent, &self.hidden(), "code")
    }

    /// Takes the data's width, and fixes the latent size so that the saved config says it.
    pub fn fit_inputs(&mut self, inputs: usize) {
        self.input_size = inputs;
        self.latent = Some(self.latent());
        self.hidden = Some(self.hidden());
    }

    /// The encoder: input → hidden → the code (twice its size for a VAE: μ and log σ²).
    pub fn encoder(&self, variational: bool) -> MlpConfig {
        let out = if variational { 2 } else { 1 } * self.latent();
        MlpConfig::new()
            .with_input_size(self.input_size)
            .with_hidden(self.hidden())
            .with_activation(self.activation)
            .with_output_size(out)
    }

    /// The decoder: the code → the hidden widths reversed → the input's size.
    pub fn decoder(&self) -> MlpConfig {
        MlpConfig::new()
            .with_input_size(self.latent())
            .with_hidden(self.hidden().into_iter().rev().collect())
            .with_activation(self.activation)
            .with_output_size(self.input_size)
    }

    pub fn parameters(&self, variational: bool) -> u64 {
        self.encoder(variational)
            .parameters()
            .saturating_add(self.decoder().parameters())
    }

    pub fn activations(&self, variational: bool) -> usize {
        let widths = |c: MlpConfig| 3 * (c.hidden.iter().sum::<usize>() + c.output_size);
        widths(self.encoder(variational)) + widths(self.decoder()) + self.latent()
    }

    /// Layers that `training.freeze` can name: the encoder's, then the decoder's.
    pub fn freezable(&self) -> usize {
        2 * (self.hidden().len() + 1)
    }

    /// One line for `nnlab info`, e.g. `8 → 64 → z 2 → 64 → 8 (relu activation)`.
    pub fn describe(&self) -> String {
        let mut sizes: Vec<String> = vec![self.input_size.to_string()];
        let hidden = self.hidden();
        sizes.extend(hidden.iter().map(usize::to_string));
        sizes.push(format!("z {}", self.latent()));
        sizes.extend(hidden.iter().rev().map(usize::to_string));
        sizes.push(self.input_size.to_string());
        format!(
            "{} ({} activation)",
            sizes.join(" → "),
            self.activation.as_str()
        )
    }

    /// Applies the command line's model flags; `family` names the model in errors.
    pub fn apply(&mut self, flags: &ModelFlags, family: &str) -> Result<()> {
        flags.refuse(family, &flags.not_autoencoder())?;
        if let Some(hidden) = &flags.hidden {
            self.hidden = Some(hidden.clone());
        }
        if let Some(activation) = flags.activation {
            self.activation = activation;
        }
        if flags.image.is_some() {
            self.image = flags.image;
        }
        if flags.latent.is_some() {
            self.latent = flags.latent;
        }
        Ok(())
    }

    /// Builds the model, the encoder's and the decoder's weights drawn from streams of `seed`.
    pub fn init<B: Backend>(
        &self,
        variational: bool,
        seed: u64,
        device: &B::Device,
    ) -> Autoencoder<B> {
        Autoencoder {
            encoder: self.encoder(variational).init(stream(seed, 1), device),
            decoder: self.decoder().init(stream(seed, 2), device),
            latent: self.latent(),
            variational,
        }
    }
}
