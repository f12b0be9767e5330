//! The GAN's hyperparameters, checked before a model is built.

use burn::config::Config;
use burn::tensor::backend::Backend;

use super::{Gan, GanLoss};
use crate::data::image::ImageShape;
use crate::data::split::stream;
use crate::error::{Error, Result};
use crate::models::cnn::stages;
use crate::models::{Activation, MlpConfig, ModelFlags};

/// Shape and game of a GAN.
#[derive(Config, Debug, PartialEq)]
pub struct GanConfig {
    /// Values per row of the data (and per generated row).
    #[config(default = 1)]
    pub input_size: usize,
    /// Width of each hidden layer of the generator, noise side first; the discriminator has
    /// the same widths in reverse order.
    #[config(default = "vec![128, 128]")]
    pub hidden: Vec<usize>,
    /// Values of noise z per generated row [default: [`default_noise`] of the input size].
    pub latent: Option<usize>,
    /// The image size the rows are the pixels of (`--image`, or the files' own): a folder's
    /// images are resized to it. Unset for a table.
    pub image: Option<ImageShape>,
    /// Filters of each convolution stage after the generator, mirrored before the
    /// discriminator (`cnn::stages`); empty for none [default: [`stages::default_channels`]
    /// of an image, none for a table]. A config saved before stages existed has none.
    pub conv: Option<Vec<usize>>,
    /// Non-linearity after each hidden layer and convolution of both networks.
    #[config(default = "Activation::Relu")]
    pub activation: Activation,
    /// The game: `standard` or `wasserstein`.
    #[config(default = "GanLoss::Standard")]
    pub loss: GanLoss,
    /// Discriminator steps per generator step: the generator steps on every `d_steps`-th batch.
    #[config(default = 1)]
    pub d_steps: usize,
    /// The critic's weight clip c, for the Wasserstein loss.
    #[config(default = 0.01)]
    pub clip: f64,
    /// Whether the discriminator also sees the batch's spread (`--minibatch-std`, Karras et
    /// al. 2018): a generator collapsed onto a few rows has a smaller one than the data.
    #[config(default = false)]
    pub minibatch_std: bool,
    /// The discriminator's learning rate [default: the optimizer's]; a schedule scales it.
    pub d_learning_rate: Option<f64>,
    /// The generator's learning rate [default: the optimizer's]; a schedule scales it.
    pub g_learning_rate: Option<f64>,
}

/// The noise size a GAN gets when `--latent` is not given: as many values as a row has, at
/// least 8 (a low-dimensional row still needs enough noise to spread over several modes) and
/// at most 64.
pub fn default_noise(inputs: usize) -> usize {
    inputs.clamp(8, 64)
}

impl GanConfig {
    pub fn latent(&self) -> usize {
        self.latent
            .unwrap_or_else(|| default_noise(self.input_size))
    }

    /// Checks every field; errors name the field as it appears in `config.json`.
    pub fn validate(&self) -> Result<()> {
        crate::models::autoencoder::check_sizes(
            self.input_size,
            self.latent,
            &self.hidden,
            "noise",
        )?;
        stages::check(self.image, &self.conv())?;
        if self.d_steps == 0 {
            return Err(Error::config("model.d_steps", "must be at least 1"));
        }
        if !(self.clip.is_finite() && self.clip > 0.0) {
            return Err(Error::config(
                "model.clip",
                format!("must be above 0, got {}", self.clip),
            ));
        }
        for (field, rate) in [
            ("model.d_learning_rate", self.d_learning_rate),
            ("model.g_learning_rate", self.g_learning_rate),
        ] {
            if let Some(r) = rate.filter(|r| !(r.is_finite() && *r > 0.0)) {
                return Err(Error::config(field, format!("must be above 0, got {r}")));
            }
        }
        Ok(())
    }

    pub fn fit_inputs(&mut self, inputs: usize) -> Result<()> {
        self.input_size = inputs;
        self.latent = Some(self.latent());
        self.conv = Some(stages::fitted(self.image, &self.conv)?);
        Ok(())
    }

    /// The convolution stages' filters; none for a table.
    pub fn conv(&self) -> Vec<usize> {
        self.conv.clone().unwrap_or_default()
    }

    fn dense_size(&self) -> usize {
        stages::dense_size(self.image, &self.conv(), self.input_size)
    }

    pub fn generator(&self) -> MlpConfig {
        MlpConfig::new()
            .with_input_size(self.latent())
            .with_hidden(self.hidden.clone())
            .with_activation(self.activation)
            .with_output_size(self.dense_size())
    }

    pub fn discriminator(&self) -> MlpConfig {
        MlpConfig::new()
            .with_input_size(self.dense_size() + usize::from(self.minibatch_std))
            .with_hidden(self.hidden.iter().rev().copied().collect())
            .with_activation(self.activation)
            .with_output_size(1)
    }

    pub fn parameters(&self) -> u64 {
        let convs = stages::parameters(self.image, &self.conv());
        self.generator()
            .parameters()
            .saturating_add(self.discriminator().parameters())
            .saturating_add(convs)
    }

    pub fn activations(&self) -> usize {
        let widths = |c: MlpConfig| 3 * (c.hidden.iter().sum::<usize>() + c.output_size);
        let convs = stages::both_activations(self.image, &self.conv());
        widths(self.generator()) + widths(self.discriminator()) + self.input_size + convs
    }

    /// Layers that `training.freeze` can name: the generator's, the stages after it, the
    /// stages before the discriminator, then the discriminator's.
    pub fn freezable(&self) -> usize {
        2 * (self.conv().len() + self.hidden.len() + 1)
    }

    /// The two learning rates of an epoch whose optimizer rate is `lr` (the schedule's, from
    /// the optimizer's `base`): each network's own rate, scaled as the schedule scales.
    pub fn rates(&self, lr: f64, base: f64) -> super::step::Rates {
        let scaled = |own: Option<f64>| own.map_or(lr, |r| r * lr / base);
        super::step::Rates {
            discriminator: scaled(self.d_learning_rate),
            generator: scaled(self.g_learning_rate),
        }
    }

    /// One line for `nnlab info`.
    pub fn describe(&self) -> String {
        let join = |c: MlpConfig| {
            c.sizes()
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(" → ")
        };
        let conv = self.conv();
        let (mut generator, mut discriminator) =
            (join(self.generator()), join(self.discriminator()));
        if !conv.is_empty() {
            let filters = |c: &[usize]| c.iter().map(|c| format!("conv {c}")).collect::<Vec<_>>();
            let mut up: Vec<_> = filters(&conv).into_iter().rev().collect();
            up.push(self.input_size.to_string());
            generator = format!("{generator} → {}", up.join(" → "));
            discriminator = format!(
                "{} → {} → {discriminator}",
                self.input_size,
                filters(&conv).join(" → ")
            );
        }
        format!(
            "generator {generator}, discriminator {discriminator} ({} activation, {} loss, {} discriminator steps per generator step)",
            self.activation.as_str(),
            match self.loss {
                GanLoss::Standard => "standard",
                GanLoss::Wasserstein => "wasserstein",
            },
            self.d_steps
        )
    }

    pub fn apply(&mut self, flags: &ModelFlags) -> Result<()> {
        flags.refuse("gan", &flags.not_generative())?;
        if let Some(hidden) = &flags.hidden {
            self.hidden = hidden.clone();
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
        if let Some(loss) = flags.gan_loss {
            self.loss = loss;
        }
        if let Some(n) = flags.d_steps {
            self.d_steps = n;
        }
        if let Some(c) = flags.clip {
            self.clip = c;
        }
        self.minibatch_std |= flags.minibatch_std;
        if flags.d_lr.is_some() {
            self.d_learning_rate = flags.d_lr;
        }
        if flags.g_lr.is_some() {
            self.g_learning_rate = flags.g_lr;
        }
        Ok(())
    }

    pub fn init<B: Backend>(&self, seed: u64, device: &B::Device) -> Gan<B> {
        let (down, up) = stages::init(self.image, &self.conv(), self.activation, seed, device);
        Gan {
            generator: self.generator().init(stream(seed, 1), device),
            up,
            down,
            discriminator: self.discriminator().init(stream(seed, 2), device),
            noise: self.latent(),
            loss: self.loss,
            clip: self.clip,
            minibatch_std: self.minibatch_std,
        }
    }
}
