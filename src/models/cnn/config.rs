//! The convolutional network's hyperparameters, checked before a model is built.

use burn::config::Config;
use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::MaxPool2dConfig;
use burn::nn::{BatchNormConfig, DropoutConfig, Linear, PaddingConfig2d};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use super::Cnn;
use crate::data::image::ImageShape;
use crate::error::{Error, Result};
use crate::models::{Activation, ModelFlags};

/// How a convolution treats the border.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Padding {
    /// Zero-pad so that the output has the input's height and width (odd kernels).
    Same,
    /// No padding: each side shrinks by `kernel − 1`.
    Valid,
}

/// One convolution block: `pool(f(BN(conv(x))))`. Fields a config file leaves out keep their
/// defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvLayer {
    /// Output channels (filters).
    pub channels: usize,
    /// Side of the square kernel [default: 3].
    #[serde(default = "ConvLayer::default_kernel")]
    pub kernel: usize,
    /// [default: same]
    #[serde(default = "ConvLayer::default_padding")]
    pub padding: Padding,
    /// Side of the max-pooling window (and its stride) after the activation; 1 for none
    /// [default: 2].
    #[serde(default = "ConvLayer::default_pool")]
    pub pool: usize,
}

impl ConvLayer {
    fn default_kernel() -> usize {
        3
    }

    fn default_padding() -> Padding {
        Padding::Same
    }

    fn default_pool() -> usize {
        2
    }

    /// A block of `channels` filters with the default kernel, padding and pooling.
    pub fn new(channels: usize) -> Self {
        ConvLayer {
            channels,
            kernel: Self::default_kernel(),
            padding: Self::default_padding(),
            pool: Self::default_pool(),
        }
    }

    pub fn with_kernel(self, kernel: usize) -> Self {
        ConvLayer { kernel, ..self }
    }

    pub fn with_padding(self, padding: Padding) -> Self {
        ConvLayer { padding, ..self }
    }

    pub fn with_pool(self, pool: usize) -> Self {
        ConvLayer { pool, ..self }
    }
}

/// Shape of the convolutional network: convolution blocks, then dense layers, then a linear
/// output layer.
#[derive(Config, Debug, PartialEq)]
pub struct CnnConfig {
    /// Height, width and channels of the input images; set from the data (`--image`, or the
    /// files' own size; a square single-channel image when a table's width is a square).
    pub image: Option<ImageShape>,
    /// The convolution blocks, input first.
    #[config(default = "vec![ConvLayer::new(32), ConvLayer::new(64)]")]
    pub conv: Vec<ConvLayer>,
    /// Widths of the dense layers after the convolutions.
    #[config(default = "vec![128]")]
    pub dense: Vec<usize>,
    /// Non-linearity after each convolution and dense layer.
    #[config(default = "Activation::Relu")]
    pub activation: Activation,
    /// Dropout probability before each dense and the output layer; 0 for none.
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Batch normalization of each convolution's output, per channel, before `f`.
    #[config(default = false)]
    pub batch_norm: bool,
    /// Number of outputs, as for the MLP.
    #[config(default = 1)]
    pub output_size: usize,
}

impl CnnConfig {
    /// The image shape; 1×1×1 only before the config was fitted to data.
    pub fn image(&self) -> ImageShape {
        self.image.unwrap_or(ImageShape {
            height: 1,
            width: 1,
            channels: 1,
        })
    }

    /// Checks every field, and that the image survives every block.
    pub fn validate(&self) -> Result<()> {
        if self.output_size == 0 {
            return Err(Error::config("model.output_size", "must be at least 1"));
        }
        for (i, layer) in self.conv.iter().enumerate() {
            let field = |f: &str| format!("model.conv[{i}].{f}");
            if layer.channels == 0 {
                return Err(Error::config(field("channels"), "must be at least 1"));
            }
            if layer.kernel == 0 {
                return Err(Error::config(field("kernel"), "must be at least 1"));
            }
            if layer.padding == Padding::Same && layer.kernel % 2 == 0 {
                return Err(Error::config(
                    field("kernel"),
                    format!("is {} but `same` padding needs an odd kernel", layer.kernel),
                ));
            }
            if layer.pool == 0 {
                return Err(Error::config(
                    field("pool"),
                    "must be at least 1 (1 for none)",
                ));
            }
        }
        if let Some(i) = self.dense.iter().position(|&d| d == 0) {
            return Err(Error::config(
                format!("model.dense[{i}]"),
                "must be at least 1",
            ));
        }
        if !(self.dropout.is_finite() && (0.0..1.0).contains(&self.dropout)) {
            return Err(Error::config(
                "model.dropout",
                format!("must be in [0, 1), got {}", self.dropout),
            ));
        }
        if self.image.is_some() {
            self.feature_maps()?;
        }
        Ok(())
    }

    /// Height, width and channels after each block, input first; an error names the block
    /// that shrinks the image to nothing.
    pub fn feature_maps(&self) -> Result<Vec<ImageShape>> {
        let mut shape = self.image();
        let mut shapes = vec![shape];
        for (i, layer) in self.conv.iter().enumerate() {
            let shrink = match layer.padding {
                Padding::Same => 0,
                Padding::Valid => layer.kernel - 1,
            };
            let side = |n: usize| n.checked_sub(shrink).map_or(0, |n| n / layer.pool);
            shape = ImageShape {
                height: side(shape.height),
                width: side(shape.width),
                channels: layer.channels,
            };
            if shape.height == 0 || shape.width == 0 {
                return Err(Error::config(
                    format!("model.conv[{i}]"),
                    format!(
                        "shrinks the {} image to nothing: use fewer blocks, `same` padding or \
                         pool 1",
                        self.image()
                    ),
                ));
            }
            shapes.push(shape);
        }
        Ok(shapes)
    }

    /// Values that reach the dense layers.
    fn flat_size(&self) -> usize {
        self.feature_maps()
            .ok()
            .and_then(|m| m.last().map(ImageShape::pixels))
            .unwrap_or(0)
    }

    /// Checks that images of this shape have `inputs` values, or, with no shape yet, takes a
    /// square single-channel one when `inputs` is a square.
    pub fn check_inputs(&mut self, inputs: usize) -> Result<()> {
        match self.image {
            Some(shape) if shape.pixels() != inputs => Err(Error::Usage(format!(
                "--image {shape} holds {} values but each row has {inputs}",
                shape.pixels()
            ))),
            Some(_) => Ok(()),
            None => {
                let side = (inputs as f64).sqrt().round() as usize;
                if side * side != inputs || inputs == 0 {
                    return Err(Error::Usage(format!(
                        "a CNN needs the image shape: pass --image HxW or HxWxC for rows of \
                         {inputs} values"
                    )));
                }
                self.image = Some(ImageShape {
                    height: side,
                    width: side,
                    channels: 1,
                });
                Ok(())
            }
        }
    }

    /// About how many values one row's forward pass holds: each block's patch matrix, its
    /// convolution's, normalized and activated maps and its pooled maps, then the dense part.
    pub fn activations(&self) -> usize {
        let maps = self.feature_maps().unwrap_or_default();
        let blocks = self.conv.iter().zip(maps.windows(2)).map(|(layer, io)| {
            let pixels = io[1].height * io[1].width * layer.pool * layer.pool;
            let patch = layer.kernel * layer.kernel * io[0].channels;
            pixels * (patch + 3 * layer.channels) + io[1].pixels()
        });
        let dense = self.dense.iter().sum::<usize>() + self.output_size;
        blocks.sum::<usize>() + 3 * dense
    }

    /// Trainable parameters, counted without building the model (saturating).
    pub fn parameters(&self) -> u64 {
        let maps = self.feature_maps().unwrap_or_default();
        let conv = self.conv.iter().zip(&maps).fold(0u64, |n, (layer, input)| {
            let k = (layer.kernel * layer.kernel * input.channels) as u64;
            let norm = if self.batch_norm { 2 } else { 0 };
            n.saturating_add((k + 1 + norm).saturating_mul(layer.channels as u64))
        });
        let dense = self.dense_sizes().windows(2).fold(0u64, |n, w| {
            n.saturating_add((w[0] as u64 + 1).saturating_mul(w[1] as u64))
        });
        conv.saturating_add(dense)
    }

    /// Sizes of the dense part, from the flattened feature maps to the outputs.
    fn dense_sizes(&self) -> Vec<usize> {
        let mut sizes = vec![self.flat_size()];
        sizes.extend(&self.dense);
        sizes.push(self.output_size);
        sizes
    }

    /// One line for `nnlab info`.
    pub fn describe(&self) -> String {
        let maps: Vec<String> = self
            .feature_maps()
            .unwrap_or_default()
            .iter()
            .map(ImageShape::to_string)
            .collect();
        let dense: Vec<String> = self.dense_sizes().iter().map(usize::to_string).collect();
        format!(
            "CNN {} → dense {} ({} activation{})",
            maps.join(" → "),
            dense.join(" → "),
            self.activation.as_str(),
            if self.batch_norm { ", batch norm" } else { "" }
        )
    }

    /// Applies the command line's model flags.
    pub fn apply(&mut self, flags: &ModelFlags) -> Result<()> {
        flags.refuse("cnn", &flags.not_cnn())?;
        if let Some(image) = flags.image {
            self.image = Some(image);
        }
        if let Some(conv) = &flags.conv {
            self.conv = conv.iter().map(|&c| ConvLayer::new(c)).collect();
        }
        for layer in &mut self.conv {
            layer.kernel = flags.kernel.unwrap_or(layer.kernel);
            layer.pool = flags.pool.unwrap_or(layer.pool);
        }
        if let Some(dense) = &flags.dense {
            self.dense = dense.clone();
        }
        if let Some(activation) = flags.activation {
            self.activation = activation;
        }
        match flags.dropout.as_deref() {
            None => {}
            Some([p]) => self.dropout = *p,
            Some(_) => {
                return Err(Error::Usage(
                    "--dropout takes one rate for a CNN (before each dense layer)".into(),
                ));
            }
        }
        self.batch_norm |= flags.batch_norm;
        Ok(())
    }

    /// Builds the model with Glorot-uniform weights and zero biases (Keras's default), drawn
    /// from `seed` on the host so that every backend starts from the same numbers.
    pub fn init<B: Backend>(&self, seed: u64, device: &B::Device) -> Cnn<B> {
        let mut rng = StdRng::seed_from_u64(seed);
        let maps = self.feature_maps().unwrap_or_default();
        let convs = self
            .conv
            .iter()
            .zip(&maps)
            .map(|(layer, input)| conv(layer, input.channels, &mut rng, device))
            .collect();
        let norms = match self.batch_norm {
            true => self
                .conv
                .iter()
                .map(|l| BatchNormConfig::new(l.channels).init(device))
                .collect(),
            false => Vec::new(),
        };
        let pools = self
            .conv
            .iter()
            .map(|l| (l.pool > 1).then(|| MaxPool2dConfig::new([l.pool, l.pool]).init()))
            .collect();
        let dense = self
            .dense_sizes()
            .windows(2)
            .map(|w| linear(w[0], w[1], &mut rng, device))
            .collect();
        Cnn {
            convs,
            norms,
            pools,
            dense,
            dropout: (self.dropout > 0.0).then(|| DropoutConfig::new(self.dropout).init()),
            activation: self.activation,
            image: [
                self.image().height,
                self.image().width,
                self.image().channels,
            ],
            activations: self.activations(),
        }
    }
}

/// `len` values uniform in (−limit, limit).
fn uniform(len: usize, limit: f64, rng: &mut StdRng) -> Vec<f32> {
    (0..len)
        .map(|_| rng.random_range(-limit..limit) as f32)
        .collect()
}

pub(super) fn conv<B: Backend>(
    layer: &ConvLayer,
    inputs: usize,
    rng: &mut StdRng,
    device: &B::Device,
) -> Conv2d<B> {
    let k = layer.kernel;
    let padding = match layer.padding {
        Padding::Same => PaddingConfig2d::Same,
        Padding::Valid => PaddingConfig2d::Valid,
    };
    let mut conv = Conv2dConfig::new([inputs, layer.channels], [k, k])
        .with_padding(padding)
        .init(device);
    let shape = [layer.channels, inputs, k, k];
    let limit = (6.0 / ((inputs + layer.channels) * k * k) as f64).sqrt();
    let weights = uniform(shape.iter().product(), limit, rng);
    conv.weight = Param::from_tensor(Tensor::from_data(TensorData::new(weights, shape), device));
    conv.bias = Some(Param::from_tensor(Tensor::zeros([layer.channels], device)));
    conv
}

fn linear<B: Backend>(
    fan_in: usize,
    fan_out: usize,
    rng: &mut StdRng,
    device: &B::Device,
) -> Linear<B> {
    let limit = (6.0 / (fan_in + fan_out) as f64).sqrt();
    let weights = uniform(fan_in * fan_out, limit, rng);
    Linear {
        weight: Param::from_tensor(Tensor::from_data(
            TensorData::new(weights, [fan_in, fan_out]),
            device,
        )),
        bias: Some(Param::from_tensor(Tensor::zeros([fan_out], device))),
    }
}
