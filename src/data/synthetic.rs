//! Built-in datasets generated from a seed: the textbook's linear data and two moons.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::numpy::NumpyRandom;
use super::{Dataset, TargetValues};

/// The textbook data: `np.random.seed(1); X = rand(100, 1); y = 3X + rand(100, 1)`.
pub fn linear() -> Dataset {
    let mut rng = NumpyRandom::new(1);
    let x = rng.rand(100);
    let noise = rng.rand(100);
    let y: Vec<f64> = x.iter().zip(&noise).map(|(x, n)| 3.0 * x + n).collect();
    Dataset {
        features: x,
        feature_names: vec!["x".into()],
        target_name: "y".into(),
        targets: TargetValues::Values(y),
    }
}

/// Two interleaving half circles (scikit-learn's `make_moons`), `samples` points split evenly
/// between the classes, with Gaussian noise of standard deviation `noise` on each coordinate.
pub fn moons(samples: usize, noise: f64, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let outer = samples / 2;
    let mut features = Vec::with_capacity(samples * 2);
    let mut classes = Vec::with_capacity(samples);
    for i in 0..samples {
        let (class, k, n) = if i < outer {
            (0, i, outer)
        } else {
            (1, i - outer, samples - outer)
        };
        let t = std::f64::consts::PI * k as f64 / (n.max(2) - 1) as f64;
        let (x, y) = if class == 0 {
            (t.cos(), t.sin())
        } else {
            (1.0 - t.cos(), 0.5 - t.sin())
        };
        features.push(x + noise * gaussian(&mut rng));
        features.push(y + noise * gaussian(&mut rng));
        classes.push(class);
    }
    Dataset {
        features,
        feature_names: vec!["x1".into(), "x2".into()],
        target_name: "class".into(),
        targets: TargetValues::Classes {
            indices: classes,
            labels: vec!["0".into(), "1".into()],
        },
    }
}

/// A standard normal draw (Box–Muller).
fn gaussian(rng: &mut StdRng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}
