//! Built-in datasets generated from a seed: the textbook's linear data, a noisy sine, and the
//! classic 2-D classification shapes (moons, circles, spirals, XOR, blobs).

use std::f64::consts::PI;

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
    regression(x, vec!["x".into()], y)
}

/// y = sin(2πx) + ε, x uniform in [0, 1], ε ~ N(0, noise²): a curve a single neuron cannot
/// fit and a small MLP can.
pub fn sine(samples: usize, noise: f64, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut x = Vec::with_capacity(samples);
    let mut y = Vec::with_capacity(samples);
    for _ in 0..samples {
        let xi: f64 = rng.random();
        x.push(xi);
        y.push((2.0 * PI * xi).sin() + noise * gaussian(&mut rng));
    }
    regression(x, vec!["x".into()], y)
}

/// Two interleaving half circles (scikit-learn's `make_moons`), `samples` points split evenly
/// between the classes, with Gaussian noise of standard deviation `noise` on each coordinate.
pub fn moons(samples: usize, noise: f64, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut points = Vec::with_capacity(samples);
    for (class, k, n) in halves(samples) {
        let t = PI * k as f64 / (n.max(2) - 1) as f64;
        let p = if class == 0 {
            (t.cos(), t.sin())
        } else {
            (1.0 - t.cos(), 0.5 - t.sin())
        };
        points.push((p, class));
    }
    plane(points, noise, &mut rng, 2)
}

/// Two concentric circles, radius 1 and 0.5 (scikit-learn's `make_circles`, factor 0.5).
pub fn circles(samples: usize, noise: f64, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut points = Vec::with_capacity(samples);
    for (class, k, n) in halves(samples) {
        let t = 2.0 * PI * k as f64 / n.max(1) as f64;
        let r = if class == 0 { 1.0 } else { 0.5 };
        points.push(((r * t.cos(), r * t.sin()), class));
    }
    plane(points, noise, &mut rng, 2)
}

/// Two interleaved spirals, each turning one and a half times around the origin.
pub fn spirals(samples: usize, noise: f64, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut points = Vec::with_capacity(samples);
    for (class, k, n) in halves(samples) {
        let s = k as f64 / n.max(2) as f64;
        let t = 3.0 * PI * s + PI * class as f64;
        let r = 0.1 + s;
        points.push(((r * t.cos(), r * t.sin()), class));
    }
    plane(points, noise, &mut rng, 2)
}

/// Points uniform in [−1, 1]², class 1 where x₁·x₂ > 0: the problem a single neuron cannot
/// solve. The noise moves points after labelling.
pub fn xor(samples: usize, noise: f64, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let points = (0..samples)
        .map(|_| {
            let x1 = rng.random_range(-1.0..1.0);
            let x2 = rng.random_range(-1.0..1.0);
            ((x1, x2), usize::from(x1 * x2 > 0.0))
        })
        .collect();
    plane(points, noise, &mut rng, 2)
}

/// `classes` Gaussian blobs with standard deviation `noise` around centres drawn uniformly in
/// [−5, 5]², the points dealt evenly between them.
pub fn blobs(samples: usize, classes: usize, noise: f64, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let centres: Vec<(f64, f64)> = (0..classes)
        .map(|_| (rng.random_range(-5.0..5.0), rng.random_range(-5.0..5.0)))
        .collect();
    let points = (0..samples)
        .map(|i| {
            let class = i * classes / samples.max(1);
            (centres[class], class)
        })
        .collect();
    plane(points, noise, &mut rng, classes)
}

/// Modes of the ring of Gaussians.
pub const RING_MODES: usize = 8;
/// Radius and standard deviation of the ring (Metz et al., 2017).
pub const RING_RADIUS: f64 = 2.0;
pub const RING_SIGMA: f64 = 0.02;

/// The centre of mode `k` of the ring.
pub fn ring_mode(k: usize) -> (f64, f64) {
    let angle = 2.0 * std::f64::consts::PI * k as f64 / RING_MODES as f64;
    (RING_RADIUS * angle.cos(), RING_RADIUS * angle.sin())
}

/// `samples` points of the ring of 8 Gaussians, the modes in turn.
pub fn ring(samples: usize, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let points = (0..samples)
        .map(|i| (ring_mode(i % RING_MODES), i % RING_MODES))
        .collect();
    plane(points, RING_SIGMA, &mut rng, RING_MODES)
}

/// The (class, index within class, class size) of each of `samples` points split between two
/// classes, the first taking the odd one out.
fn halves(samples: usize) -> impl Iterator<Item = (usize, usize, usize)> {
    let first = samples / 2;
    (0..samples).map(move |i| {
        if i < first {
            (0, i, first)
        } else {
            (1, i - first, samples - first)
        }
    })
}

/// A 2-D classification set from ideal points, each moved by Gaussian noise.
fn plane(
    points: Vec<((f64, f64), usize)>,
    noise: f64,
    rng: &mut StdRng,
    classes: usize,
) -> Dataset {
    let mut features = Vec::with_capacity(points.len() * 2);
    let mut indices = Vec::with_capacity(points.len());
    for ((x1, x2), class) in points {
        features.push(x1 + noise * gaussian(rng));
        features.push(x2 + noise * gaussian(rng));
        indices.push(class);
    }
    Dataset {
        features,
        feature_names: vec!["x1".into(), "x2".into()],
        target_name: "class".into(),
        targets: TargetValues::Classes {
            indices,
            labels: (0..classes).map(|c| c.to_string()).collect(),
        },
    }
}

fn regression(features: Vec<f64>, feature_names: Vec<String>, y: Vec<f64>) -> Dataset {
    Dataset {
        features,
        feature_names,
        target_name: "y".into(),
        targets: TargetValues::Values(y),
    }
}

/// A standard normal draw (Box–Muller).
pub(crate) fn gaussian(rng: &mut StdRng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
}
