//! Image data: the shape of one image. (Readers for pixel CSVs, image folders and IDX files
//! build on it.)

use serde::{Deserialize, Serialize};

/// Height, width and channels of one image; pixels are stored row-major, channel last (HWC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageShape {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
}

impl ImageShape {
    /// Values per image.
    pub fn pixels(&self) -> usize {
        self.height * self.width * self.channels
    }

    /// Parses `HxW` or `HxWxC` (C is 1 or 3).
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not HxW or HxWxC (e.g. 28x28 or 32x32x3)");
        let parts: Vec<usize> = s
            .trim()
            .split(['x', 'X'])
            .map(|p| p.trim().parse::<usize>().map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
        let shape = match parts[..] {
            [height, width] => ImageShape {
                height,
                width,
                channels: 1,
            },
            [height, width, channels] => ImageShape {
                height,
                width,
                channels,
            },
            _ => return Err(bad()),
        };
        if shape.height == 0 || shape.width == 0 || ![1, 3].contains(&shape.channels) {
            return Err(format!(
                "`{s}`: height and width must be at least 1 and channels 1 or 3"
            ));
        }
        Ok(shape)
    }
}

impl std::fmt::Display for ImageShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}x{}", self.height, self.width, self.channels)
    }
}

impl std::str::FromStr for ImageShape {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
