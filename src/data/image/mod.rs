//! Images for convolutional networks: MNIST-style IDX files ([`idx`]) and folders of PNG/JPEG
//! files with one subfolder per class ([`folder`]), read into [`Images`] and from there into
//! the crate's [`Dataset`], one pixel per feature column in HWC order.

pub mod folder;
pub mod idx;

use std::collections::HashMap;

use super::{Dataset, TargetValues};

pub use folder::{read_folder, read_unlabelled};
pub use idx::read_idx;

/// Height, width and channels of one image; pixels are stored row-major, channel last (HWC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImageShape {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
}

impl ImageShape {
    pub fn new(height: usize, width: usize, channels: usize) -> Self {
        ImageShape {
            height,
            width,
            channels,
        }
    }

    /// Values per image: height × width × channels.
    pub fn pixels(&self) -> usize {
        self.height * self.width * self.channels
    }

    /// Parses `HxW` or `HxWxC` (e.g. "8x8", "28x28x1", "32x32x3"); C is 1 or 3; each at least 1.
    /// A missing C means 1. The product must fit in `usize`, so that [`pixels`](Self::pixels)
    /// cannot overflow.
    pub fn parse(s: &str) -> Result<Self, String> {
        let not_shape = || format!("`{s}` is not HxW or HxWxC");
        let parts: Vec<usize> = s
            .trim()
            .split(['x', 'X'])
            .map(|p| p.parse::<usize>().map_err(|_| not_shape()))
            .collect::<Result<_, _>>()?;
        let (height, width, channels) = match parts[..] {
            [h, w] => (h, w, 1),
            [h, w, c] => (h, w, c),
            _ => return Err(not_shape()),
        };
        if height == 0 || width == 0 {
            return Err(format!("`{s}`: height and width must be at least 1"));
        }
        if channels != 1 && channels != 3 {
            return Err(format!("`{s}`: channels must be 1 or 3, got {channels}"));
        }
        let shape = ImageShape {
            height,
            width,
            channels,
        };
        match height
            .checked_mul(width)
            .and_then(|p| p.checked_mul(channels))
        {
            Some(_) => Ok(shape),
            None => Err(format!("`{s}` is too large")),
        }
    }
}

impl std::fmt::Display for ImageShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}x{}", self.height, self.width, self.channels)
    }
}

impl std::str::FromStr for ImageShape {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        ImageShape::parse(s)
    }
}

/// Images with one class each, pixels as read (0..=255 for files, whatever the source gave).
#[derive(Clone, Debug, PartialEq)]
pub struct Images {
    pub shape: ImageShape,
    /// `labels.len() × shape.pixels()` values, image after image, each in HWC order.
    pub pixels: Vec<f64>,
    /// The class name of each image.
    pub labels: Vec<String>,
    /// Something the reader did to the data that the user should hear about, e.g.
    /// "resized 12 images to 28x28".
    pub note: Option<String>,
}

impl Images {
    /// Into a Dataset: feature_names "px_{row}_{col}_{ch}" (or "px_{row}_{col}" when 1
    /// channel), target "label", classes sorted (natural order: numeric labels numerically,
    /// else lexicographic) and indexed.
    pub fn into_dataset(self) -> Dataset {
        let mut classes: Vec<String> = self.labels.clone();
        classes.sort();
        classes.dedup();
        sort_natural(&mut classes);
        let rank: HashMap<&str, usize> = classes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_str(), i))
            .collect();
        let indices = self.labels.iter().map(|l| rank[l.as_str()]).collect();
        Dataset {
            features: self.pixels,
            feature_names: feature_names(self.shape),
            target_name: "label".into(),
            targets: TargetValues::Classes {
                indices,
                labels: classes,
            },
        }
    }
}

/// One name per pixel value, in the HWC order of [`Images::pixels`], so that a model's input
/// columns can be traced back to positions in the image.
fn feature_names(shape: ImageShape) -> Vec<String> {
    let mut names = Vec::with_capacity(shape.pixels());
    for row in 0..shape.height {
        for col in 0..shape.width {
            if shape.channels == 1 {
                names.push(format!("px_{row}_{col}"));
            } else {
                names.extend((0..shape.channels).map(|ch| format!("px_{row}_{col}_{ch}")));
            }
        }
    }
    names
}

/// Sorts class names the way a person expects: numerically when every name is a number (so
/// "10" comes after "9"), else lexicographically. Equal numbers ("1", "1.0") fall back to their
/// text, so the order never depends on the input order.
pub(crate) fn sort_natural(names: &mut [String]) {
    sort_natural_by(names, |n| n);
}

/// [`sort_natural`] for items named by `name`.
pub(crate) fn sort_natural_by<T>(items: &mut [T], name: impl Fn(&T) -> &str) {
    let numeric = items.iter().all(|i| name(i).parse::<f64>().is_ok());
    if numeric {
        items.sort_by(|a, b| {
            let (a, b) = (name(a), name(b));
            let (x, y) = (
                a.parse::<f64>().unwrap_or(0.0),
                b.parse::<f64>().unwrap_or(0.0),
            );
            x.total_cmp(&y).then_with(|| a.cmp(b))
        });
    } else {
        items.sort_by(|a, b| name(a).cmp(name(b)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_parses_displays_and_refuses() {
        let s: ImageShape = "28x28".parse().unwrap();
        assert_eq!(
            (s.height, s.width, s.channels, s.pixels()),
            (28, 28, 1, 784)
        );
        let s = ImageShape::parse("32x16x3").unwrap();
        assert_eq!((s.height, s.width, s.channels), (32, 16, 3));
        assert_eq!(s.to_string(), "32x16x3");
        assert_eq!(ImageShape::parse(&s.to_string()), Ok(s));
        for (bad, says) in [
            ("8x", "`8x` is not HxW or HxWxC"),
            ("8", "is not HxW"),
            ("8x8x3x1", "is not HxW"),
            ("0x8", "at least 1"),
            ("8x8x2", "channels must be 1 or 3"),
            ("8x8x0", "channels must be 1 or 3"),
        ] {
            let e = ImageShape::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
        let huge = format!("{0}x{0}x3", usize::MAX / 2);
        assert!(ImageShape::parse(&huge).unwrap_err().contains("too large"));
    }

    #[test]
    fn into_dataset_names_pixels_and_orders_classes_naturally() {
        let shape = ImageShape::parse("1x2x3").unwrap();
        let images = Images {
            shape,
            pixels: (0..18).map(f64::from).collect(),
            labels: vec!["10".into(), "9".into(), "10".into()],
            note: None,
        };
        let data = images.into_dataset();
        assert_eq!(
            data.feature_names,
            [
                "px_0_0_0", "px_0_0_1", "px_0_0_2", "px_0_1_0", "px_0_1_1", "px_0_1_2"
            ]
        );
        assert_eq!(data.rows(), 3);
        assert_eq!(data.features[6], 6.0);
        assert_eq!(data.target_name, "label");
        let TargetValues::Classes { indices, labels } = data.targets else {
            panic!("not classes")
        };
        assert_eq!(labels, ["9", "10"]);
        assert_eq!(indices, [1, 0, 1]);

        let mut names: Vec<String> = ["dog", "cat", "10b"].map(String::from).into();
        sort_natural(&mut names);
        assert_eq!(names, ["10b", "cat", "dog"]);
        assert_eq!(
            feature_names(ImageShape::parse("2x1").unwrap()),
            ["px_0_0", "px_1_0"]
        );
    }
}
