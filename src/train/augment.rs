//! Data augmentation for images (`--augment shift=2,flip`): each training batch's images are
//! moved by up to `shift` pixels each way and mirrored left-right at random, so that a CNN
//! sees a new variant of every image in every epoch. The draws come from the run's seed and
//! the step, so a resumed run draws what an uninterrupted one would. Validation, test and
//! predicted rows are never changed.

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::data::image::ImageShape;

/// What augmentation draws from; the default changes nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Augment {
    /// The most pixels an image moves up or down, and left or right; uncovered pixels are 0.
    #[serde(default)]
    pub shift: usize,
    /// Mirror half of the images left-right (a cat facing left is still a cat; a digit is
    /// not, so leave it off for digits).
    #[serde(default)]
    pub flip: bool,
}

impl Augment {
    /// Whether it changes anything.
    pub fn is_active(&self) -> bool {
        self.shift > 0 || self.flip
    }

    /// Parses `shift=N`, `flip`, both comma-separated, or `none`.
    pub fn parse(s: &str) -> Result<Augment, String> {
        let mut augment = Augment::default();
        for part in s.split(',').map(str::trim).filter(|p| *p != "none") {
            match part.split_once('=') {
                Some(("shift", n)) => {
                    augment.shift = n
                        .trim()
                        .parse()
                        .map_err(|_| format!("`{n}` is not a number of pixels"))?;
                }
                None if part == "flip" => augment.flip = true,
                _ => return Err(format!("`{part}` is not shift=N, flip or none")),
            }
        }
        Ok(augment)
    }

    /// The batch `x` (rows of `image` pixels, channel last) with each image moved and mirrored
    /// by its own draw from `seed`.
    pub fn apply<B: Backend>(&self, x: Tensor<B, 2>, image: ImageShape, seed: u64) -> Tensor<B, 2> {
        let [rows, width] = x.dims();
        let mut rng = StdRng::seed_from_u64(seed);
        let mut sources = Vec::with_capacity(rows * width);
        for _ in 0..rows {
            let s = self.shift as i64;
            let (dy, dx) = (rng.random_range(-s..=s), rng.random_range(-s..=s));
            let flip = self.flip && rng.random_bool(0.5);
            sources.extend(sources_of(image, dy, dx, flip));
        }
        let device = x.device();
        let sources =
            Tensor::<B, 2, Int>::from_data(TensorData::new(sources, [rows, width]), &device);
        // Column `width` is the zero that uncovered pixels take.
        let padded = Tensor::cat(vec![x, Tensor::zeros([rows, 1], &device)], 1);
        padded.gather(1, sources)
    }
}

/// For each pixel value of an image moved by `(dy, dx)` and, first, mirrored when `flip`, the
/// column it is copied from, or `image.pixels()` where the move uncovers it.
fn sources_of(image: ImageShape, dy: i64, dx: i64, flip: bool) -> impl Iterator<Item = i64> {
    let ImageShape {
        height,
        width,
        channels,
    } = image;
    let (h, w, c) = (height as i64, width as i64, channels as i64);
    (0..h).flat_map(move |y| {
        (0..w).flat_map(move |x| {
            let (sy, sx) = (y - dy, if flip { w - 1 - x } else { x } - dx);
            let inside = (0..h).contains(&sy) && (0..w).contains(&sx);
            (0..c).map(move |ch| {
                if inside {
                    (sy * w + sx) * c + ch
                } else {
                    h * w * c
                }
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    type Host = <crate::backend::Cpu as burn::tensor::backend::AutodiffBackend>::InnerBackend;

    #[test]
    fn parses_what_the_flag_takes_and_refuses_the_rest() {
        let both = Augment::parse("shift=2,flip").unwrap();
        assert_eq!((both.shift, both.flip), (2, true));
        assert!(!Augment::parse("none").unwrap().is_active());
        assert!(Augment::parse("flip").unwrap().is_active());
        assert!(Augment::parse("shift=x").unwrap_err().contains("`x`"));
        assert!(Augment::parse("rotate=5").unwrap_err().contains("rotate=5"));
    }

    #[test]
    fn moves_and_mirrors_pixels_filling_with_zeros() {
        let image = ImageShape::parse("2x3").unwrap();
        let moved: Vec<i64> = sources_of(image, 0, 1, false).collect();
        // Right by one: each row's first pixel is uncovered (6), the rest come from the left.
        assert_eq!(moved, [6, 0, 1, 6, 3, 4]);
        let mirrored: Vec<i64> = sources_of(image, 0, 0, true).collect();
        assert_eq!(mirrored, [2, 1, 0, 5, 4, 3]);
        let down: Vec<i64> = sources_of(ImageShape::parse("2x1x3").unwrap(), 1, 0, false).collect();
        assert_eq!(down, [6, 6, 6, 0, 1, 2]);

        // Every image draws its own move; the same seed draws the same.
        let x = Tensor::<Host, 2>::from_data(
            [[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]; 8],
            &Default::default(),
        );
        let augment = Augment::parse("shift=1,flip").unwrap();
        let a = augment
            .apply(x.clone(), image, 7)
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        let b = augment
            .apply(x, image, 7)
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        assert_eq!(a, b);
        let rows: Vec<&[f32]> = a.chunks(6).collect();
        assert!(rows.iter().any(|r| *r != rows[0]), "{rows:?}");
        assert!(
            rows.iter()
                .all(|r| r.iter().all(|v| (0.0..=6.0).contains(v)))
        );
    }
}
