//! nnlab's training speed on the benchmark workloads of `docs/benchmarks.md`, through the same
//! `fit` the binary uses, on the backend chosen (ndarray by default).
//!
//! `cargo bench --bench workloads [-- [--json] [--runs N] [--backend NAME] [WORKLOAD...]]`
//!
//! WORKLOAD is `textbook` (the seed example: one neuron, SGD, 4000 steps of batch 32),
//! `small-mlp` (2-16-16-2 on 1000 moons, Adam, 200 epochs of batch 32), `large-mlp`
//! (784-512-512-10 on 60,000 random rows, Adam, batch 128; the second of two epochs is
//! measured) or `cnn` (28×28×1 images through 3×3 convolutions of 32 and 64 filters, each
//! with ReLU and 2×2 max pooling, dense 128, 10 classes; 6,000 random images, Adam, batch 64;
//! the second of two epochs is measured) or `lstm` (an LSTM of hidden size 128 over 50 steps
//! of 8 values, its last state into 10 classes; 6,400 random sequences, Adam, batch 64; the
//! second of two epochs is measured); all five by default. Without `--json` it prints the median of `--runs` runs
//! (default 3) per workload as a table; with it, one JSON line per run, which is what
//! `benches/peers/compare.py` reads when it runs these alternately with PyTorch and Keras.

use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;
use nnlab::backend::{BackendJob, BackendName, run_on};
use nnlab::config::{BatchSize, ExperimentConfig, TrainingConfig};
use nnlab::data::scale::{FeatureScaling, PreprocessConfig, TargetScaling};
use nnlab::data::{Builtin, DataConfig, Dataset, SequenceShape, TargetValues, synthetic};
use nnlab::loss::{LossConfig, LossName};
use nnlab::models::{CnnConfig, MlpConfig, ModelConfig, RnnConfig};
use nnlab::optim::{OptimizerConfig, OptimizerName};
use nnlab::train::fit;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const WORKLOADS: [&str; 5] = ["textbook", "small-mlp", "large-mlp", "cnn", "lstm"];

/// Multiply-adds of one forward pass per sample, for the workloads measured in samples/s:
/// the 784-512-512-10 network; the CNN's two convolutions (every output pixel of every
/// filter, over a 3×3 window of every input channel) and its two dense layers.
fn macs(workload: &str) -> f64 {
    match workload {
        "cnn" => (28 * 28 * 32 * 9 + 14 * 14 * 64 * 32 * 9 + 7 * 7 * 64 * 128 + 128 * 10) as f64,
        // Four gates, each of the step's 8 inputs and the 128 states, at each of 50 steps.
        "lstm" => (50 * 4 * (8 + 128) * 128 + 128 * 10) as f64,
        _ => (784 * 512 + 512 * 512 + 512 * 10) as f64,
    }
}

/// One measurement of one workload.
struct Measured {
    us_per_step: Option<f64>,
    samples_per_s: Option<f64>,
}

struct Workload(&'static str);

impl BackendJob for Workload {
    type Output = Measured;

    fn run<B: AutodiffBackend>(self, _: BackendName, device: B::Device) -> nnlab::Result<Measured> {
        let (config, data) = match self.0 {
            "textbook" => textbook(),
            "small-mlp" => small_mlp(),
            "cnn" => cnn(),
            "lstm" => lstm(),
            _ => large_mlp(),
        };
        let trained = fit::<B>(&config, &data, &device, None, false)?;
        Ok(if matches!(self.0, "large-mlp" | "cnn" | "lstm") {
            let epoch = trained.epoch_seconds[1] - trained.epoch_seconds[0];
            Measured {
                us_per_step: None,
                samples_per_s: Some(data.rows() as f64 / epoch),
            }
        } else {
            Measured {
                us_per_step: Some(trained.train_seconds / trained.steps as f64 * 1e6),
                samples_per_s: None,
            }
        })
    }
}

/// No scaling, no held-out rows: the peers train on the raw rows too.
fn experiment(
    data: DataConfig,
    model: impl Into<ModelConfig>,
    loss: LossName,
    optimizer: OptimizerConfig,
) -> ExperimentConfig {
    ExperimentConfig::new()
        .with_data(data)
        .with_preprocess(
            PreprocessConfig::new()
                .with_features(FeatureScaling::None)
                .with_target(TargetScaling::None),
        )
        .with_model(model.into())
        .with_loss(LossConfig::new().with_name(loss))
        .with_optimizer(optimizer)
}

fn textbook() -> (ExperimentConfig, Dataset) {
    let config = experiment(
        DataConfig::new().with_dataset(Some(Builtin::Linear)),
        MlpConfig::new()
            .with_input_size(1)
            .with_hidden(vec![])
            .with_output_size(1),
        LossName::Mse,
        OptimizerConfig::new()
            .with_name(OptimizerName::Sgd)
            .with_learning_rate(0.01),
    )
    .with_training(TrainingConfig::new().with_epochs(1000));
    (config, synthetic::linear())
}

fn small_mlp() -> (ExperimentConfig, Dataset) {
    let config = experiment(
        DataConfig::new().with_dataset(Some(Builtin::Moons)),
        MlpConfig::new()
            .with_input_size(2)
            .with_hidden(vec![16, 16])
            .with_output_size(2),
        LossName::CrossEntropy,
        OptimizerConfig::new().with_name(OptimizerName::Adam),
    )
    .with_training(TrainingConfig::new().with_epochs(200));
    (config, synthetic::moons(1000, 0.1, 0))
}

/// `rows` random rows of `width` values in [-1, 1), each of one of `classes` random classes.
fn random_rows(rows: usize, width: usize, classes: usize) -> Dataset {
    let mut rng = StdRng::seed_from_u64(0);
    let features = (0..rows * width)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let indices = (0..rows).map(|_| rng.random_range(0..classes)).collect();
    Dataset {
        features,
        feature_names: (0..width).map(|j| format!("x{j}")).collect(),
        target_name: "class".into(),
        targets: TargetValues::Classes {
            indices,
            labels: (0..classes).map(|c| c.to_string()).collect(),
        },
    }
}

/// The random table is made in memory; the config names it as a CSV table so it validates.
fn in_memory() -> DataConfig {
    DataConfig::new()
        .with_dataset(None)
        .with_csv(Some("random.csv".into()))
        .with_target(Some("class".into()))
}

fn large_mlp() -> (ExperimentConfig, Dataset) {
    let (width, classes) = (784, 10);
    let data = random_rows(60_000, width, classes);
    let config = experiment(
        in_memory(),
        MlpConfig::new()
            .with_input_size(width)
            .with_hidden(vec![512, 512])
            .with_output_size(classes),
        LossName::CrossEntropy,
        OptimizerConfig::new().with_name(OptimizerName::Adam),
    )
    .with_training(
        TrainingConfig::new()
            .with_epochs(2)
            .with_batch_size(BatchSize::Rows(128)),
    );
    (config, data)
}

fn cnn() -> (ExperimentConfig, Dataset) {
    let data = random_rows(6_000, 28 * 28, 10);
    let config = experiment(
        in_memory(),
        CnnConfig::new()
            .with_image(Some("28x28x1".parse().expect("a shape")))
            .with_output_size(10),
        LossName::CrossEntropy,
        OptimizerConfig::new().with_name(OptimizerName::Adam),
    )
    .with_training(
        TrainingConfig::new()
            .with_epochs(2)
            .with_batch_size(BatchSize::Rows(64)),
    );
    (config, data)
}

fn lstm() -> (ExperimentConfig, Dataset) {
    let (steps, features) = (50, 8);
    let data = random_rows(6_400, steps * features, 10);
    let config = experiment(
        in_memory(),
        ModelConfig::Lstm(
            RnnConfig::new()
                .with_sequence(Some(SequenceShape { steps, features }))
                .with_hidden_size(128)
                .with_output_size(10),
        ),
        LossName::CrossEntropy,
        OptimizerConfig::new().with_name(OptimizerName::Adam),
    )
    .with_training(
        TrainingConfig::new()
            .with_epochs(2)
            .with_batch_size(BatchSize::Rows(64)),
    );
    (config, data)
}

/// Peak resident memory of this process so far, in MiB (Linux's VmHWM).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let mut json = false;
    let mut runs = 3;
    let mut backend = BackendName::default_compiled();
    let mut chosen = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => json = true,
            "--runs" => runs = args.next().and_then(|n| n.parse().ok()).unwrap_or(runs),
            "--backend" => {
                backend = match args.next().as_deref() {
                    Some("wgpu") => BackendName::Wgpu,
                    Some("flex") => BackendName::Flex,
                    _ => BackendName::Ndarray,
                }
            }
            "--bench" => {} // what `cargo bench` passes to every bench target
            name => match WORKLOADS.iter().find(|w| **w == name) {
                Some(w) => chosen.push(*w),
                None => {
                    eprintln!("unknown workload `{name}`; expected one of {WORKLOADS:?}");
                    std::process::exit(2);
                }
            },
        }
    }
    if chosen.is_empty() {
        chosen = WORKLOADS.to_vec();
    }
    if !json {
        println!("nnlab on {backend}, median of {runs} runs\n");
        println!(
            "{:<10} {:>12} {:>12} {:>10}",
            "workload", "µs/step", "samples/s", "GFLOP/s"
        );
    }
    for name in chosen {
        let mut steps = Vec::new();
        let mut samples = Vec::new();
        for _ in 0..runs {
            let start = Instant::now();
            let measured = match run_on(backend, Workload(name)) {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::exit(1);
                }
            };
            let seconds = start.elapsed().as_secs_f64();
            if json {
                let mut line = serde_json::json!({"workload": name, "seconds": seconds});
                if let Some(us) = measured.us_per_step {
                    line["us_per_step"] = us.into();
                }
                if let Some(s) = measured.samples_per_s {
                    line["samples_per_s"] = s.into();
                    line["gflops"] = (s * 6.0 * macs(name) / 1e9).into();
                }
                if let Some(rss) = peak_rss_mib() {
                    line["peak_rss_mib"] = rss.into();
                }
                println!("{line}");
            }
            steps.extend(measured.us_per_step);
            samples.extend(measured.samples_per_s);
        }
        if !json {
            let cell = |v: Vec<f64>, f: &dyn Fn(f64) -> String| {
                if v.is_empty() {
                    "-".to_string()
                } else {
                    f(median(v))
                }
            };
            let gflops = samples.iter().map(|s| s * 6.0 * macs(name) / 1e9).collect();
            println!(
                "{:<10} {:>12} {:>12} {:>10}",
                name,
                cell(steps, &|v| format!("{v:.1}")),
                cell(samples, &|v| format!("{v:.0}")),
                cell(gflops, &|v| format!("{v:.1}")),
            );
        }
    }
}
