//! The built-in datasets: generated ones (any size, noise and seed) and three small real ones
//! compiled into the binary (`super::real`), so nothing is downloaded at run time.

use serde::{Deserialize, Serialize};

use super::sequence::text::{self, Tokens};
use super::sequence::{DEFAULT_WINDOW, SequenceShape, Series, tasks};
use super::{Dataset, TargetValues, real, synthetic};
use crate::loss::Task;

/// A built-in dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum Builtin {
    /// The textbook's 100 points, y = 3x + U(0, 1), NumPy seed 1 (regression).
    Linear,
    /// y = sin(2πx) + noise, x uniform in [0, 1] (regression).
    Sine,
    /// Two interleaving half circles (2 classes).
    Moons,
    /// Two concentric circles (2 classes).
    Circles,
    /// Two interleaved spirals (2 classes).
    Spirals,
    /// The four quadrants of [−1, 1]², class by the sign of x₁·x₂ (2 classes).
    Xor,
    /// Gaussian blobs, `classes` of them (k classes).
    Blobs,
    /// The ring of 8 Gaussians (radius 2, σ 0.02) that GANs are tested on for mode collapse
    /// (8 classes: the mode of each point).
    Ring,
    /// 16×16 grey images of a circle, square or triangle anywhere in the frame (3 classes).
    Shapes,
    /// Fisher's iris flowers: 150 × 4, 3 species (real, classification).
    Iris,
    /// Diabetes progression after one year: 441 × 10 (real, regression).
    Diabetes,
    /// Red wine quality scores: 1599 × 11 (real, regression).
    #[value(alias = "wine_quality")]
    #[value(alias = "wine-quality")]
    #[serde(alias = "wine-quality")]
    WineQuality,
    /// Monthly airline passengers 1949–1960, a series of 144 steps, in windows (real,
    /// forecasting).
    Airline,
    /// sin(2πt/20) + noise, a series, in windows: `samples` windows (forecasting).
    #[value(alias = "noisy-sine")]
    #[serde(alias = "noisy-sine")]
    NoisySine,
    /// The adding problem: the sum of the two marked values of 30 (regression, sequences).
    Adding,
    /// Whether the bits at the two marked steps of 20 differ (2 classes, sequences).
    Memory,
    /// Generated one- or two-clause reviews, labelled by the last clause (2 classes, text).
    Reviews,
}

/// What `nnlab datasets` says about a built-in dataset.
pub struct About {
    pub name: &'static str,
    pub task: Task,
    /// Rows, or `None` when `data.samples` sets it.
    pub rows: Option<usize>,
    pub features: usize,
    /// Classes, or `None` for regression (`blobs`: `data.classes`).
    pub classes: Option<usize>,
    pub source: &'static str,
}

impl Builtin {
    /// Every built-in dataset, in the order `nnlab datasets` lists them.
    pub const ALL: [Builtin; 17] = [
        Builtin::Linear,
        Builtin::Sine,
        Builtin::Moons,
        Builtin::Circles,
        Builtin::Spirals,
        Builtin::Xor,
        Builtin::Blobs,
        Builtin::Ring,
        Builtin::Shapes,
        Builtin::Iris,
        Builtin::Diabetes,
        Builtin::WineQuality,
        Builtin::Airline,
        Builtin::NoisySine,
        Builtin::Adding,
        Builtin::Memory,
        Builtin::Reviews,
    ];

    /// The name as written in configs.
    pub fn as_str(self) -> &'static str {
        self.about().name
    }

    /// The task the dataset poses.
    pub fn task(self) -> Task {
        self.about().task
    }

    /// Whether `samples`, `noise` and `seed` shape it.
    pub fn is_generated(self) -> bool {
        self.about().rows.is_none()
    }

    pub fn about(self) -> About {
        let generated = |name, task, classes, source| About {
            name,
            task,
            rows: None,
            features: match name {
                "sine" => 1,
                "shapes" => super::shapes::SIDE * super::shapes::SIDE,
                "noisy_sine" => DEFAULT_WINDOW,
                "adding" => 2 * tasks::ADDING_STEPS,
                "memory" => 2 * tasks::MEMORY_STEPS,
                "reviews" => text::REVIEWS_MAX_LEN,
                _ => 2,
            },
            classes,
            source,
        };
        match self {
            Builtin::Linear => About {
                name: "linear",
                task: Task::Regression,
                rows: Some(100),
                features: 1,
                classes: None,
                source: "the textbook: np.random.seed(1); X = rand(100, 1); y = 3X + rand(100, 1)",
            },
            Builtin::Sine => generated(
                "sine",
                Task::Regression,
                None,
                "y = sin(2πx) + N(0, noise²), x ~ U(0, 1)",
            ),
            Builtin::Moons => generated(
                "moons",
                Task::Classification,
                Some(2),
                "two interleaving half circles (as scikit-learn's make_moons)",
            ),
            Builtin::Circles => generated(
                "circles",
                Task::Classification,
                Some(2),
                "two concentric circles, radii 1 and 0.5 (as make_circles)",
            ),
            Builtin::Spirals => generated(
                "spirals",
                Task::Classification,
                Some(2),
                "two interleaved spirals, 1.5 turns each",
            ),
            Builtin::Xor => generated(
                "xor",
                Task::Classification,
                Some(2),
                "U(−1, 1)², class 1 where x1·x2 > 0",
            ),
            Builtin::Blobs => generated(
                "blobs",
                Task::Classification,
                None,
                "`classes` Gaussian blobs (std `noise`) around centres in [−5, 5]²",
            ),
            Builtin::Ring => generated(
                "ring",
                Task::Classification,
                Some(synthetic::RING_MODES),
                "8 Gaussians of σ 0.02 evenly on a circle of radius 2, the mode-collapse test of \
                 Metz et al. (2017), \"Unrolled GANs\" (σ fixed: --noise does not change it)",
            ),
            Builtin::Shapes => generated(
                "shapes",
                Task::Classification,
                Some(3),
                "a filled circle, square or triangle of radius 3 to 6.5 px at a random place in a \
                 16×16 grey image, plus N(0, noise²) per pixel",
            ),
            Builtin::Iris => About {
                name: "iris",
                task: Task::Classification,
                rows: Some(150),
                features: 4,
                classes: Some(3),
                source: "Fisher (1936), the CSV file of the linfa-datasets crate, embedded",
            },
            Builtin::Diabetes => About {
                name: "diabetes",
                task: Task::Regression,
                rows: Some(441),
                features: 10,
                classes: None,
                source: "Efron et al. (2004), scaled as scikit-learn's, linfa-datasets' CSV file, \
                         embedded (441 rows: its first row is read as a header, as linfa did)",
            },
            Builtin::WineQuality => About {
                name: "wine_quality",
                task: Task::Regression,
                rows: Some(1599),
                features: 11,
                classes: None,
                source: "Cortez et al. (2009), red wine, UCI, linfa-datasets' CSV file, embedded",
            },
            Builtin::Airline => About {
                name: "airline",
                task: Task::Regression,
                rows: Some(144 - DEFAULT_WINDOW),
                features: DEFAULT_WINDOW,
                classes: None,
                source: "Box & Jenkins (1976), series G: 144 months, in windows of --window \
                         (default 12) forecasting the next",
            },
            Builtin::NoisySine => generated(
                "noisy_sine",
                Task::Regression,
                None,
                "a series sin(2πt/20) + N(0, noise²), in windows of --window forecasting the next",
            ),
            Builtin::Adding => generated(
                "adding",
                Task::Regression,
                None,
                "Hochreiter & Schmidhuber (1997): 30 steps of (U(0, 1), marker), y = sum of the \
                 2 marked",
            ),
            Builtin::Memory => generated(
                "memory",
                Task::Classification,
                Some(2),
                "20 steps of (random bit, marker): do the 2 marked bits differ? (chance 50%)",
            ),
            Builtin::Reviews => generated(
                "reviews",
                Task::Classification,
                Some(2),
                "\"the food was not bad but the staff was rude\": the last clause's sentiment, \
                 which `not` flips (text, word order matters)",
            ),
        }
    }

    /// Generates or loads the dataset; `samples`, `noise`, `classes` and `seed` shape the
    /// generated ones only.
    pub fn load(self, samples: usize, noise: f64, classes: usize, seed: u64) -> Dataset {
        if let Some(series) = self.series(samples, DEFAULT_WINDOW, noise, seed) {
            return series.windows(DEFAULT_WINDOW, 1, super::sequence::series::Base::Last);
        }
        match self {
            Builtin::Airline | Builtin::NoisySine => unreachable!("series, above"),
            Builtin::Adding => tasks::adding(samples, seed),
            Builtin::Memory => tasks::memory(samples, seed),
            Builtin::Reviews => {
                let texts = text::reviews(samples, seed);
                texts.encoded(Tokens::Word, None, text::REVIEWS_MAX_LEN)
            }
            Builtin::Linear => synthetic::linear(),
            Builtin::Sine => synthetic::sine(samples, noise, seed),
            Builtin::Moons => synthetic::moons(samples, noise, seed),
            Builtin::Circles => synthetic::circles(samples, noise, seed),
            Builtin::Spirals => synthetic::spirals(samples, noise, seed),
            Builtin::Xor => synthetic::xor(samples, noise, seed),
            Builtin::Blobs => synthetic::blobs(samples, classes, noise, seed),
            Builtin::Ring => synthetic::ring(samples, seed),
            Builtin::Shapes => super::shapes::shapes(samples, noise, seed),
            Builtin::Iris => {
                let table = real::iris();
                let indices = table.column(4).map(|class| class as usize).collect();
                Dataset {
                    features: table.leading(4),
                    feature_names: names(&[
                        "sepal_length",
                        "sepal_width",
                        "petal_length",
                        "petal_width",
                    ]),
                    target_name: "species".into(),
                    targets: TargetValues::Classes {
                        indices,
                        labels: names(&["setosa", "versicolor", "virginica"]),
                    },
                }
            }
            Builtin::Diabetes => {
                let features = real::diabetes_features();
                Dataset {
                    features: features.values,
                    feature_names: names(&[
                        "age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6",
                    ]),
                    target_name: "progression".into(),
                    targets: TargetValues::Values(real::diabetes_target().values),
                }
            }
            Builtin::WineQuality => {
                let table = real::wine_quality();
                Dataset {
                    features: table.leading(11),
                    feature_names: names(&[
                        "fixed_acidity",
                        "volatile_acidity",
                        "citric_acid",
                        "residual_sugar",
                        "chlorides",
                        "free_sulfur_dioxide",
                        "total_sulfur_dioxide",
                        "density",
                        "ph",
                        "sulphates",
                        "alcohol",
                    ]),
                    target_name: "quality".into(),
                    targets: TargetValues::Values(table.column(11).collect()),
                }
            }
        }
    }
}

impl Builtin {
    /// The dataset as the cells of a CSV file that `nnlab train` reads back as the same data:
    /// a table's features and target, a series' columns in time order (airline's with its
    /// months), a text set's texts and labels. Numbers are written to round-trip exactly.
    pub fn csv_cells(
        self,
        samples: usize,
        noise: f64,
        classes: usize,
        seed: u64,
    ) -> (Vec<String>, Vec<Vec<String>>) {
        let text_of = |values: &[f64]| values.iter().map(f64::to_string).collect::<Vec<_>>();
        if let Some(series) = self.series(samples, DEFAULT_WINDOW, noise, seed) {
            let width = series.names.len();
            let mut header = series.names.clone();
            let mut rows: Vec<_> = series.values.chunks(width).map(text_of).collect();
            if self == Builtin::Airline {
                header.insert(0, "month".into());
                for (i, row) in rows.iter_mut().enumerate() {
                    row.insert(0, format!("{}-{:02}", 1949 + i / 12, i % 12 + 1));
                }
            }
            return (header, rows);
        }
        let (names, columns, targets) = if self == Builtin::Reviews {
            let texts = text::reviews(samples, seed);
            let cells: Vec<Vec<String>> = texts.texts.iter().map(|t| vec![t.clone()]).collect();
            (
                vec!["text".into()],
                cells,
                (texts.target_name, texts.targets),
            )
        } else {
            let data = self.load(samples, noise, classes, seed);
            let width = data.width().max(1);
            let cells = data.features.chunks(width).map(text_of).collect();
            (data.feature_names, cells, (data.target_name, data.targets))
        };
        let (target_name, targets) = targets;
        let target = |i: usize| match &targets {
            TargetValues::Values(v) => v[i].to_string(),
            TargetValues::Classes { indices, labels } => labels[indices[i]].clone(),
        };
        let rows = columns
            .into_iter()
            .enumerate()
            .map(|(i, mut row): (usize, Vec<String>)| {
                row.push(target(i));
                row
            })
            .collect();
        ([names, vec![target_name]].concat(), rows)
    }

    /// The series of a built-in series, long enough for `samples` windows of `window` steps
    /// when generated; `None` for other datasets.
    pub fn series(self, samples: usize, window: usize, noise: f64, seed: u64) -> Option<Series> {
        match self {
            Builtin::Airline => Some(tasks::airline()),
            Builtin::NoisySine => Some(tasks::noisy_sine(samples + window, noise, seed)),
            _ => None,
        }
    }

    /// The season of a built-in series (12 months for the airline data).
    pub fn season(self) -> Option<usize> {
        match self {
            Builtin::Airline => Some(tasks::AIRLINE_SEASON),
            Builtin::NoisySine => Some(tasks::SINE_PERIOD),
            _ => None,
        }
    }

    /// Rows of steps: the shape a sequence model reads them in (series are shaped by their
    /// window instead).
    pub fn sequence(self) -> Option<SequenceShape> {
        let steps = match self {
            Builtin::Adding => tasks::ADDING_STEPS,
            Builtin::Memory => tasks::MEMORY_STEPS,
            _ => return None,
        };
        Some(SequenceShape { steps, features: 2 })
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}
