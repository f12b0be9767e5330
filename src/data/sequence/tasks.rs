//! Built-in sequence data: a real monthly series, a generated one, and two generated tasks
//! that need memory: the answer depends on steps far apart, picked out by markers.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::series::Series;
use crate::data::synthetic::gaussian;
use crate::data::{Dataset, TargetValues};

/// Monthly international airline passengers, thousands, January 1949 to December 1960: series
/// G of Box, G. E. P., Jenkins, G. M. (1976), *Time Series Analysis: Forecasting and Control*,
/// Holden-Day (R's `AirPassengers`).
const AIRLINE: [f64; 144] = [
    112., 118., 132., 129., 121., 135., 148., 148., 136., 119., 104., 118., // 1949
    115., 126., 141., 135., 125., 149., 170., 170., 158., 133., 114., 140., // 1950
    145., 150., 178., 163., 172., 178., 199., 199., 184., 162., 146., 166., // 1951
    171., 180., 193., 181., 183., 218., 230., 242., 209., 191., 172., 194., // 1952
    196., 196., 236., 235., 229., 243., 264., 272., 237., 211., 180., 201., // 1953
    204., 188., 235., 227., 234., 264., 302., 293., 259., 229., 203., 229., // 1954
    242., 233., 267., 269., 270., 315., 364., 347., 312., 274., 237., 278., // 1955
    284., 277., 317., 313., 318., 374., 413., 405., 355., 306., 271., 306., // 1956
    315., 301., 356., 348., 355., 422., 465., 467., 404., 347., 305., 336., // 1957
    340., 318., 362., 348., 363., 435., 491., 505., 404., 359., 310., 337., // 1958
    360., 342., 406., 396., 420., 472., 548., 559., 463., 407., 362., 405., // 1959
    417., 391., 419., 461., 472., 535., 622., 606., 508., 461., 390., 432., // 1960
];

/// Months in the airline series' season.
pub const AIRLINE_SEASON: usize = 12;

/// The airline passengers series.
pub fn airline() -> Series {
    Series {
        names: vec!["passengers".into()],
        values: AIRLINE.to_vec(),
        target: 0,
    }
}

/// Steps in one period of [`noisy_sine`].
pub const SINE_PERIOD: usize = 20;

/// `steps` values of sin(2πt / 20) + N(0, noise²).
pub fn noisy_sine(steps: usize, noise: f64, seed: u64) -> Series {
    let mut rng = StdRng::seed_from_u64(seed);
    let values = (0..steps)
        .map(|t| {
            let phase = 2.0 * std::f64::consts::PI * t as f64 / SINE_PERIOD as f64;
            phase.sin() + noise * gaussian(&mut rng)
        })
        .collect();
    Series {
        names: vec!["y".into()],
        values,
        target: 0,
    }
}

/// Steps per sequence of [`adding`].
pub const ADDING_STEPS: usize = 30;
/// Steps per sequence of [`memory`].
pub const MEMORY_STEPS: usize = 20;

/// Names `value[t]`, `marker[t]` of each step.
fn step_names(steps: usize, value: &str) -> Vec<String> {
    (0..steps)
        .flat_map(|t| [format!("{value}[{t}]"), format!("marker[{t}]")])
        .collect()
}

/// Two distinct steps of `steps`, the first in the first half.
fn two_marks(rng: &mut StdRng, steps: usize) -> (usize, usize) {
    let first = rng.random_range(0..steps / 2);
    let mut second = rng.random_range(0..steps);
    while second == first {
        second = rng.random_range(0..steps);
    }
    (first, second)
}

/// The adding problem (Hochreiter & Schmidhuber, 1997): `samples` sequences of 30 steps, each
/// a value U(0, 1) and a marker; two steps are marked, and the target is the sum of their
/// values. Predicting the mean (1) scores MSE ≈ 0.167.
pub fn adding(samples: usize, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut features = Vec::with_capacity(samples * 2 * ADDING_STEPS);
    let mut targets = Vec::with_capacity(samples);
    for _ in 0..samples {
        let (a, b) = two_marks(&mut rng, ADDING_STEPS);
        let mut sum = 0.0;
        for t in 0..ADDING_STEPS {
            let value: f64 = rng.random_range(0.0..1.0);
            let marked = t == a || t == b;
            sum += if marked { value } else { 0.0 };
            features.extend([value, f64::from(u8::from(marked))]);
        }
        targets.push(sum);
    }
    Dataset {
        features,
        feature_names: step_names(ADDING_STEPS, "value"),
        target_name: "sum".into(),
        targets: TargetValues::Values(targets),
    }
}

/// A memory task: `samples` sequences of 20 steps, each a random bit and a marker; two steps
/// are marked, and the class is whether their bits differ (XOR). No single step, and no sum
/// of steps, says anything about the class: a model must find the two marked bits and hold
/// the first until it sees the second. Chance is 50%.
pub fn memory(samples: usize, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut features = Vec::with_capacity(samples * 2 * MEMORY_STEPS);
    let mut indices = Vec::with_capacity(samples);
    for _ in 0..samples {
        let (a, b) = two_marks(&mut rng, MEMORY_STEPS);
        let bits: Vec<bool> = (0..MEMORY_STEPS).map(|_| rng.random_bool(0.5)).collect();
        for (t, &bit) in bits.iter().enumerate() {
            let marked = t == a || t == b;
            features.extend([f64::from(u8::from(bit)), f64::from(u8::from(marked))]);
        }
        indices.push(usize::from(bits[a] != bits[b]));
    }
    Dataset {
        features,
        feature_names: step_names(MEMORY_STEPS, "bit"),
        target_name: "differ".into(),
        targets: TargetValues::Classes {
            indices,
            labels: vec!["same".into(), "differ".into()],
        },
    }
}
