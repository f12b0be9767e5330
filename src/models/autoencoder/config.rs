//! The autoencoder's hyperparameters, checked before a model is built. The plain and the
//! variational autoencoder share them; `--model` says which.

use burn::config::Config;
use burn::tensor::backend::Backend;

use super::Autoencoder;
use crate::data::image::ImageShape;
use crate::data::split::stream;
use crate::error::{Error, Result};
use crate::models::cnn::stages;
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
    /// Filters of each convolution stage before the encoder, mirrored after the decoder
    /// (`cnn::stages`); empty for none [default: [`stages::default_channels`] of an image,
    /// none for a table]. A config saved before stages existed has none.
    pub conv: Option<Vec<usize>>,
    /// Non-linearity after each hidden layer and convolution.
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

    /// The convolution stages' filters; none for a table.
    pub fn conv(&self) -> Vec<usize> {
        self.conv.clone().unwrap_or_default()
    }

    fn dense_size(&self) -> usize {
        stages::dense_size(self.image, &self.conv(), self.input_size)
    }

    /// Checks every field; errors name the field as it appears in `config.json`.
    pub fn validate(&self) -> Result<()> {
        check_sizes(self.input_size, self.latent, &self.hidden(), "code")?;
        stages::check(self.image, &self.conv())
    }

    /// Takes the data's width, and fixes the latent size, the hidden widths and the stages so
    /// that the saved config says them.
    pub fn fit_inputs(&mut self, inputs: usize) -> Result<()> {
        self.input_size = inputs;
        self.latent = Some(self.latent());
        self.hidden = Some(self.hidden());
        self.conv = Some(stages::fitted(self.image, &self.conv)?);
        Ok(())
    }

    /// The encoder: input → hidden → the code (twice its size for a VAE: μ and log σ²).
    pub fn encoder(&self, variational: bool) -> MlpConfig {
        let out = if variational { 2 } else { 1 } * self.latent();
        MlpConfig::new()
            .with_input_size(self.dense_size())
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
            .with_output_size(self.dense_size())
    }

    pub fn parameters(&self, variational: bool) -> u64 {
        let convs = stages::parameters(self.image, &self.conv());
        self.encoder(variational)
            .parameters()
            .saturating_add(self.decoder().parameters())
            .saturating_add(convs)
    }

    pub fn activations(&self, variational: bool) -> usize {
        let widths = |c: MlpConfig| 3 * (c.hidden.iter().sum::<usize>() + c.output_size);
        let convs = stages::both_activations(self.image, &self.conv());
        widths(self.encoder(variational)) + widths(self.decoder()) + self.latent() + convs
    }

    /// Layers that `training.freeze` can name: the stages before the encoder, the encoder's,
    /// the decoder's, then the stages after it.
    pub fn freezable(&self) -> usize {
        2 * (self.conv().len() + self.hidden().len() + 1)
    }

    /// One line for `nnlab info`, e.g. `8 → 64 → z 2 → 64 → 8 (relu activation)`.
    pub fn describe(&self) -> String {
        let conv = self.conv();
        let convs = conv.iter().map(|c| format!("conv {c}"));
        let mut sizes: Vec<String> = vec![self.input_size.to_string()];
        sizes.extend(convs.clone());
        let hidden = self.hidden();
        sizes.extend(hidden.iter().map(usize::to_string));
        sizes.push(format!("z {}", self.latent()));
        sizes.extend(hidden.iter().rev().map(usize::to_string));
        sizes.extend(convs.rev());
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
        if let Some(conv) = &flags.conv {
            self.conv = Some(stages::from_flag(conv));
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
        let (down, up) = stages::init(self.image, &self.conv(), self.activation, seed, device);
        Autoencoder {
            down,
            encoder: self.encoder(variational).init(stream(seed, 1), device),
            decoder: self.decoder().init(stream(seed, 2), device),
            up,
            latent: self.latent(),
            variational,
        }
    }
}
