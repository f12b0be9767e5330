//! The convolutional stages that the autoencoder and the GAN put around their dense halves
//! when the rows are images. [`ConvDown`] maps an image to the flattened maps of its last
//! stage, `h ← pool₂(f(W ∗ h + b))` per stage: the encoder's and the discriminator's input
//! side. [`ConvUp`] mirrors it, from such features back to an image of the input's size: per
//! stage, a nearest-neighbour upsampling to the size the mirrored stage had, then a
//! same-padded convolution, the last one linear (as an MLP's output layer). Weights see
//! every position of the image with the same filters, which a dense layer does not.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::ConvLayer;
use super::model::{convolve, max_pool};
use crate::data::image::ImageShape;
use crate::error::{Error, Result};
use crate::models::Activation;

/// Image to features: see the module docs.
#[derive(Module, Debug)]
pub struct ConvDown<B: Backend> {
    pub convs: Vec<Conv2d<B>>,
    #[module(skip)]
    pub activation: Activation,
    /// Height, width and channels of an input image.
    #[module(skip)]
    pub image: [usize; 3],
}

/// Features to image: see the module docs.
#[derive(Module, Debug)]
pub struct ConvUp<B: Backend> {
    /// Deepest stage first; the last one gives the image's channels.
    pub convs: Vec<Conv2d<B>>,
    #[module(skip)]
    pub activation: Activation,
    /// Height, width and channels of an output image.
    #[module(skip)]
    pub image: [usize; 3],
}

/// A convolution of pixel-major maps `[h, w, n, c]`, then `activation`.
fn activated<B: Backend>(
    conv: &Conv2d<B>,
    x: Tensor<B, 4>,
    activation: Activation,
) -> Tensor<B, 4> {
    if activation == Activation::Relu {
        convolve(conv, x, true)
    } else {
        activation.forward(convolve(conv, x, false))
    }
}

/// Row-major pixels `[rows, h·w·c]` as pixel-major maps `[h, w, rows, c]`, and back.
pub(super) fn pixel_major<B: Backend>(x: Tensor<B, 2>, [h, w, c]: [usize; 3]) -> Tensor<B, 4> {
    let rows = x.dims()[0];
    x.reshape([rows, h, w, c]).permute([1, 2, 0, 3])
}

fn row_major<B: Backend>(maps: Tensor<B, 4>) -> Tensor<B, 2> {
    let [h, w, n, c] = maps.dims();
    maps.permute([2, 0, 1, 3]).reshape([n, h * w * c])
}

/// Nearest-neighbour resize of pixel-major maps to `th × tw`, as one `select` of whole pixel
/// rows (whose backward pass adds the rows back on every backend).
fn upsample<B: Backend>(maps: Tensor<B, 4>, (th, tw): (usize, usize)) -> Tensor<B, 4> {
    let [h, w, n, c] = maps.dims();
    let source: Vec<i64> = (0..th * tw)
        .map(|p| ((p / tw) * h / th * w + (p % tw) * w / tw) as i64)
        .collect();
    let device = maps.device();
    let picked = Tensor::<B, 1, Int>::from_data(TensorData::new(source, [th * tw]), &device);
    maps.reshape([h * w, n * c])
        .select(0, picked)
        .reshape([th, tw, n, c])
}

impl<B: Backend> ConvDown<B> {
    /// `[rows, h·w·c]` images to `[rows, features]`.
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let maps = self
            .convs
            .iter()
            .fold(pixel_major(x, self.image), |h, conv| {
                max_pool(activated(conv, h, self.activation), 2)
            });
        row_major(maps)
    }

    pub fn freeze(mut self, layers: &[usize]) -> Self {
        freeze_convs(&mut self.convs, layers);
        self
    }

    /// [`activations`] of these stages.
    pub fn activations(&self) -> usize {
        activations(shape(self.image), &filters(&self.convs))
    }
}

/// The output channels of each convolution.
fn filters<B: Backend>(convs: &[Conv2d<B>]) -> Vec<usize> {
    convs.iter().map(|c| c.weight.dims()[0]).collect()
}

fn shape([h, w, c]: [usize; 3]) -> ImageShape {
    ImageShape::new(h, w, c)
}

impl<B: Backend> ConvUp<B> {
    /// `[rows, features]` to `[rows, h·w·c]` images. The features come from a linear layer,
    /// so they are activated first.
    pub fn forward(&self, features: Tensor<B, 2>) -> Tensor<B, 2> {
        let sizes = stage_sizes(shape(self.image), self.convs.len());
        let deepest = sizes[self.convs.len()];
        let inputs = self.convs[0].weight.dims()[1];
        let first = self.activation.forward(features);
        let mut maps = pixel_major(first, [deepest.0, deepest.1, inputs]);
        let last = self.convs.len() - 1;
        for (i, conv) in self.convs.iter().enumerate() {
            maps = upsample(maps, sizes[last - i]);
            maps = if i == last {
                convolve(conv, maps, false)
            } else {
                activated(conv, maps, self.activation)
            };
        }
        row_major(maps)
    }

    pub fn freeze(mut self, layers: &[usize]) -> Self {
        freeze_convs(&mut self.convs, layers);
        self
    }

    /// [`activations`] of these stages, as many as the mirrored side's: its filters are these
    /// convolutions' inputs, deepest last.
    pub fn activations(&self) -> usize {
        let inputs = self
            .convs
            .iter()
            .rev()
            .map(|c| c.weight.dims()[1])
            .collect::<Vec<_>>();
        activations(shape(self.image), &inputs)
    }
}

/// Image rows through `down`'s stages, or as they are without stages.
pub fn through_down<B: Backend>(down: &Option<ConvDown<B>>, x: Tensor<B, 2>) -> Tensor<B, 2> {
    match down {
        Some(down) => down.forward(x),
        None => x,
    }
}

/// Features through `up`'s stages to image rows, or as they are without stages.
pub fn through_up<B: Backend>(up: &Option<ConvUp<B>>, x: Tensor<B, 2>) -> Tensor<B, 2> {
    match up {
        Some(up) => up.forward(x),
        None => x,
    }
}

fn freeze_convs<B: Backend>(convs: &mut [Conv2d<B>], layers: &[usize]) {
    for &i in layers {
        if let Some(conv) = convs.get(i) {
            convs[i] = conv.clone().no_grad();
        }
    }
}

/// The height and width of the maps before each stage, then after the last: each stage's 2×2
/// pooling halves them, dropping an odd last row or column.
pub fn stage_sizes(image: ImageShape, stages: usize) -> Vec<(usize, usize)> {
    (0..=stages)
        .map(|k| (image.height >> k, image.width >> k))
        .collect()
}

/// The stages an image run gets when `--conv` is not given: 16 then 32 filters, as many as
/// keep the last maps at least 2 pixels on a side (none for a 3×3 image).
pub fn default_channels(image: ImageShape) -> Vec<usize> {
    let side = image.height.min(image.width);
    [16, 32]
        .into_iter()
        .enumerate()
        .take_while(|&(k, _)| side >> (k + 1) >= 2)
        .map(|(_, c)| c)
        .collect()
}

/// The stages `--conv` asks for: the filters of each, `0` alone for none.
pub fn from_flag(conv: &[usize]) -> Vec<usize> {
    if conv == [0] {
        Vec::new()
    } else {
        conv.to_vec()
    }
}

/// The stages a config fitted to its data gets: the user's, or for image rows
/// [`default_channels`]; a table has none, and refuses the user's.
pub fn fitted(image: Option<ImageShape>, conv: &Option<Vec<usize>>) -> Result<Vec<usize>> {
    match (conv, image) {
        (Some(conv), None) if !conv.is_empty() => Err(Error::config(
            "model.conv",
            "needs image rows (--images, --idx-images, --dataset shapes or --image HxW); \
             a table's autoencoder or GAN is dense: leave --conv out",
        )),
        (Some(conv), _) => Ok(conv.clone()),
        (None, Some(image)) => Ok(default_channels(image)),
        (None, None) => Ok(Vec::new()),
    }
}

/// Values per row between the stages and the dense layers: the last stage's flattened maps,
/// or a table's row (`inputs` values) without stages.
pub fn dense_size(image: Option<ImageShape>, channels: &[usize], inputs: usize) -> usize {
    image.map_or(inputs, |image| flat_size(image, channels))
}

fn flat_size(image: ImageShape, channels: &[usize]) -> usize {
    match channels.last() {
        None => image.pixels(),
        Some(&c) => {
            let (h, w) = stage_sizes(image, channels.len())[channels.len()];
            h * w * c
        }
    }
}

/// The filters of each 3×3 convolution, input side first: `(in, out)` channels.
fn down_channels(image: ImageShape, channels: &[usize]) -> Vec<(usize, usize)> {
    let inputs = std::iter::once(image.channels).chain(channels.iter().copied());
    inputs.zip(channels.iter().copied()).collect()
}

/// The mirror of [`down_channels`], deepest stage first, ending at the image's channels.
fn up_channels(image: ImageShape, channels: &[usize]) -> Vec<(usize, usize)> {
    down_channels(image, channels)
        .into_iter()
        .rev()
        .map(|(i, o)| (o, i))
        .collect()
}

/// Weights of the stages of both sides, as many on each.
pub fn parameters(image: Option<ImageShape>, channels: &[usize]) -> u64 {
    let Some(image) = image else { return 0 };
    2 * down_channels(image, channels)
        .iter()
        .map(|&(i, o)| (9 * i as u64 + 1) * o as u64)
        .sum::<u64>()
}

/// [`activations`] of the stages of both sides.
pub fn both_activations(image: Option<ImageShape>, channels: &[usize]) -> usize {
    image.map_or(0, |image| 2 * activations(image, channels))
}

/// About how many values one row's pass through the stages of one side holds: each stage's
/// convolved, activated and pooled maps.
pub fn activations(image: ImageShape, channels: &[usize]) -> usize {
    let sizes = stage_sizes(image, channels.len());
    channels
        .iter()
        .zip(&sizes)
        .map(|(&c, &(h, w))| (2 * h * w + (h / 2) * (w / 2)) * c)
        .sum()
}

/// Checks `model.conv` against the image the rows are: every stage's pooling needs at least
/// a pixel to pool. Whether there are image rows at all is known once the data is loaded
/// ([`fitted`]).
pub fn check(image: Option<ImageShape>, channels: &[usize]) -> Result<()> {
    let Some(image) = image.filter(|_| !channels.is_empty()) else {
        return Ok(());
    };
    if channels.contains(&0) {
        return Err(Error::config(
            "model.conv",
            "filters must be at least 1 (`--conv 0` alone means no stages)",
        ));
    }
    let (h, w) = stage_sizes(image, channels.len())[channels.len()];
    if h == 0 || w == 0 {
        return Err(Error::config(
            "model.conv",
            format!(
                "has {} stages, each pooling 2×2, but a {image} image allows at most {}",
                channels.len(),
                image.height.min(image.width).ilog2()
            ),
        ));
    }
    Ok(())
}

/// Builds the stages of both sides, the weights drawn as the CNN's are from a stream of the
/// model's `seed` that its dense layers do not use; none for a table or an empty `channels`.
pub fn init<B: Backend>(
    image: Option<ImageShape>,
    channels: &[usize],
    activation: Activation,
    seed: u64,
    device: &B::Device,
) -> (Option<ConvDown<B>>, Option<ConvUp<B>>) {
    let Some(image) = image.filter(|_| !channels.is_empty()) else {
        return (None, None);
    };
    let mut rng = StdRng::seed_from_u64(crate::data::split::stream(seed, 3));
    let mut build = |pairs: Vec<(usize, usize)>| -> Vec<Conv2d<B>> {
        pairs
            .into_iter()
            .map(|(i, o)| super::config::conv(&ConvLayer::new(o), i, &mut rng, device))
            .collect()
    };
    let shape = [image.height, image.width, image.channels];
    let down = ConvDown {
        convs: build(down_channels(image, channels)),
        activation,
        image: shape,
    };
    let up = ConvUp {
        convs: build(up_channels(image, channels)),
        activation,
        image: shape,
    };
    (Some(down), Some(up))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_halve_the_image_and_mirror_back() {
        let image = ImageShape::new(7, 6, 1);
        assert_eq!(stage_sizes(image, 2), vec![(7, 6), (3, 3), (1, 1)]);
        assert_eq!(dense_size(Some(image), &[4, 8], 42), 8);
        assert_eq!(dense_size(None, &[], 42), 42);
        assert_eq!(default_channels(ImageShape::new(8, 8, 1)), vec![16, 32]);
        assert_eq!(default_channels(ImageShape::new(5, 9, 3)), vec![16]);
        assert!(default_channels(ImageShape::new(3, 3, 1)).is_empty());
        assert_eq!(up_channels(image, &[4, 8]), vec![(8, 4), (4, 1)]);
        assert!(check(Some(image), &[4, 8, 16]).is_err());
        assert!(fitted(None, &Some(vec![4])).is_err());
        assert_eq!(fitted(None, &Some(vec![])).unwrap(), Vec::<usize>::new());
        assert_eq!(fitted(Some(image), &None).unwrap(), vec![16]);
    }
}
