//! `shapes`: small grey images of a filled circle, square or triangle at a random position and
//! size, with Gaussian pixel noise. The class is in the arrangement of pixels, not in any one
//! of them, wherever the shape sits: the picture of why convolution (the same filter at every
//! position) beats a dense layer on images.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::{Dataset, TargetValues};

/// Side of a `shapes` image, in pixels.
pub const SIDE: usize = 16;
const CLASSES: [&str; 3] = ["circle", "square", "triangle"];

/// `samples` images, classes in turn, pixels 0 (background) to 1 (shape) plus N(0, noise²).
pub fn shapes(samples: usize, noise: f64, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut features = Vec::with_capacity(samples * SIDE * SIDE);
    let mut indices = Vec::with_capacity(samples);
    for i in 0..samples {
        let class = i % CLASSES.len();
        let radius: f64 = rng.random_range(3.0..6.5);
        let margin = radius.ceil();
        let centre = (
            rng.random_range(margin..SIDE as f64 - margin),
            rng.random_range(margin..SIDE as f64 - margin),
        );
        for row in 0..SIDE {
            for col in 0..SIDE {
                let inside = covers(class, (row as f64 + 0.5, col as f64 + 0.5), centre, radius);
                let noise = noise * super::synthetic::gaussian(&mut rng);
                features.push(f64::from(u8::from(inside)) + noise);
            }
        }
        indices.push(class);
    }
    Dataset {
        features,
        feature_names: (0..SIDE * SIDE)
            .map(|p| format!("px_{}_{}", p / SIDE, p % SIDE))
            .collect(),
        target_name: "shape".into(),
        targets: TargetValues::Classes {
            indices,
            labels: CLASSES.iter().map(|c| c.to_string()).collect(),
        },
    }
}

/// Whether the pixel centred at `(y, x)` lies in the shape of `class`.
fn covers(class: usize, (y, x): (f64, f64), (cy, cx): (f64, f64), r: f64) -> bool {
    let (dy, dx) = (y - cy, x - cx);
    match class {
        0 => dy * dy + dx * dx <= r * r,
        1 => dy.abs() <= r * 0.8 && dx.abs() <= r * 0.8,
        // Apex up, base at dy = r·0.8: the half-width grows from 0 at the apex.
        _ => dy >= -r && dy <= r * 0.8 && dx.abs() <= (dy + r) * 0.6,
    }
}
