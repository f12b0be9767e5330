//! nnlab's training speed on the benchmark workloads of `docs/benchmarks.md`, through the same
//! `fit` the binary uses, on the backend chosen (the default build's one, flex, unless told).
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
//! second of two epochs is measured); or the large-data workloads, 1,000,000 rows of
//! y = 3x + U(0, 1) read from CSV (`$NNLAB_BENCH_DATA/rows.csv`, written there or to a
//! temporary folder when missing): `rows-linear` (one neuron, SGD, batch 1024), `rows-mlp`
//! (1-64-64-1, ReLU, Adam, batch 1024), each with the second of two epochs measured, and
//! `rows-full-batch` (one neuron, 10 steps of full-batch gradient descent), which also time
//! the CSV's load; and `csv-load` (1,000,000 rows of 20 features and a target,
//! `$NNLAB_BENCH_DATA/wide.csv`); or the generative workloads on 60,000 random rows of 784
//! values, Adam, the second of two epochs measured: `vae` (784 → 400 → z 20 → 400 → 784, the
//! size of PyTorch's `examples/vae`, batch 128) and `gan` (noise 64 → 256 → 256 → 784 and
//! 784 → 256 → 256 → 1, batch 64; a step is one discriminator and one generator update, and
//! its samples/s counts the real rows), each also timing the generation of 60,000 rows
//! (`generated_per_s`). All by default. Without `--json` it prints the median of `--runs` runs
//! (default 3) per workload as a table; with it, one JSON line per run, which is what
//! `benches/peers/compare.py` reads when it runs these alternately with PyTorch and Keras.

use std::io::{BufWriter, Write};
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use nnlab::backend::{BackendJob, BackendName, run_on};
use nnlab::config::{BatchSize, ExperimentConfig, TrainingConfig};
use nnlab::data::scale::{FeatureScaling, PreprocessConfig, TargetScaling};
use nnlab::data::{Builtin, DataConfig, Dataset, SequenceShape, TargetValues, synthetic};
use nnlab::eval::generative;
use nnlab::loss::{LossConfig, LossName, Task};
use nnlab::models::{AutoencoderConfig, CnnConfig, GanConfig, MlpConfig, ModelConfig, RnnConfig};
use nnlab::optim::{OptimizerConfig, OptimizerName};
use nnlab::train::fit;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const WORKLOADS: [&str; 11] = [
    "textbook",
    "small-mlp",
    "large-mlp",
    "cnn",
    "lstm",
    "vae",
    "gan",
    "rows-linear",
    "rows-mlp",
    "rows-full-batch",
    "csv-load",
];

/// Rows of the large-data workloads' CSV files.
const MANY_ROWS: usize = 1_000_000;

/// Multiply-adds of one forward pass per sample, for the large models measured in samples/s:
/// the 784-512-512-10 network; the CNN's two convolutions (every output pixel of every
/// filter, over a 3×3 window of every input channel) and its two dense layers.
fn macs(workload: &str) -> Option<f64> {
    Some(match workload {
        "cnn" => (28 * 28 * 32 * 9 + 14 * 14 * 64 * 32 * 9 + 7 * 7 * 64 * 128 + 128 * 10) as f64,
        // Four gates, each of the step's 8 inputs and the 128 states, at each of 50 steps.
        "lstm" => (50 * 4 * (8 + 128) * 128 + 128 * 10) as f64,
        "large-mlp" => (784 * 512 + 512 * 512 + 512 * 10) as f64,
        _ => return None,
    })
}

/// One measurement of one workload.
#[derive(Default)]
struct Measured {
    us_per_step: Option<f64>,
    samples_per_s: Option<f64>,
    /// Seconds to read the workload's CSV file into a dataset.
    load_s: Option<f64>,
    /// Rows a generative model draws per second once trained.
    generated_per_s: Option<f64>,
}

/// Rows the generative workloads draw, as many as they train on.
const GENERATED: usize = 60_000;

struct Workload(&'static str);

impl BackendJob for Workload {
    type Output = Measured;

    fn run<B: AutodiffBackend>(self, _: BackendName, device: B::Device) -> nnlab::Result<Measured> {
        let mut load_s = None;
        let (config, data) = match self.0 {
            "textbook" => textbook(),
            "small-mlp" => small_mlp(),
            "cnn" => cnn(),
            "lstm" => lstm(),
            "vae" | "gan" => generative_rows(self.0),
            "csv-load" => return load_wide(),
            "rows-linear" | "rows-mlp" | "rows-full-batch" => {
                let (config, data, seconds) = many_rows(self.0)?;
                load_s = Some(seconds);
                (config, data)
            }
            _ => large_mlp(),
        };
        let trained = fit::<B>(&config, &data, &device, None, false)?;
        let seconds = &trained.epoch_seconds;
        let generated_per_s = match self.0 {
            "vae" | "gan" => Some(generation_rate(&trained, &device)?),
            _ => None,
        };
        Ok(match self.0 {
            "textbook" | "small-mlp" => Measured {
                us_per_step: Some(trained.train_seconds / trained.steps as f64 * 1e6),
                ..Measured::default()
            },
            // Each epoch is one step; the first is left out, as the others' first epoch is.
            "rows-full-batch" => Measured {
                samples_per_s: Some(
                    data.rows() as f64 * (seconds.len() - 1) as f64
                        / (seconds[seconds.len() - 1] - seconds[0]),
                ),
                load_s,
                ..Measured::default()
            },
            _ => Measured {
                samples_per_s: Some(data.rows() as f64 / (seconds[1] - seconds[0])),
                load_s,
                generated_per_s,
                ..Measured::default()
            },
        })
    }
}

/// Rows per second of [`GENERATED`] rows drawn from a trained VAE or GAN, in the input's units.
fn generation_rate<B: AutodiffBackend>(
    trained: &nnlab::train::Trained<B>,
    device: &B::Device,
) -> nnlab::Result<f64> {
    let model = trained.model.valid();
    let start = Instant::now();
    let rows = generative::generate(&model, &trained.scaler, GENERATED, 0, device)
        .ok_or_else(|| nnlab::Error::Usage("the workload's model cannot generate".into()))?;
    assert_eq!(rows.len(), GENERATED * 784);
    Ok(GENERATED as f64 / start.elapsed().as_secs_f64())
}

/// The folder of the large-data workloads' CSV files: `$NNLAB_BENCH_DATA`, or one in the
/// system's temporary folder.
fn data_dir() -> std::path::PathBuf {
    let dir = std::env::var_os("NNLAB_BENCH_DATA")
        .map(Into::into)
        .unwrap_or_else(|| std::env::temp_dir().join("nnlab-bench-data"));
    std::fs::create_dir_all(&dir).expect("a folder for the benchmark's data");
    dir
}

/// `name` in [`data_dir`], written by `write` first if it is not there.
fn data_file(name: &str, write: fn(&mut dyn Write)) -> std::path::PathBuf {
    let path = data_dir().join(name);
    if !path.exists() {
        let partial = path.with_extension("partial");
        let mut out = BufWriter::new(std::fs::File::create(&partial).expect("create"));
        write(&mut out);
        out.flush().expect("write");
        std::fs::rename(&partial, &path).expect("rename");
    }
    path
}

/// Uniform values in [0, 1) from a fixed xorshift sequence.
fn uniform() -> impl FnMut() -> f64 {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// x, y = 3x + U(0, 1): the textbook's line, a million times.
fn write_rows(out: &mut dyn Write) {
    let mut u = uniform();
    writeln!(out, "x,y").unwrap();
    for _ in 0..MANY_ROWS {
        let x = u();
        writeln!(out, "{x:.6},{:.6}", 3.0 * x + u()).unwrap();
    }
}

/// 20 features in [−1, 1) and their sum.
fn write_wide(out: &mut dyn Write) {
    let mut u = uniform();
    let header: Vec<String> = (0..20).map(|j| format!("f{j}")).collect();
    writeln!(out, "{},y", header.join(",")).unwrap();
    for _ in 0..MANY_ROWS {
        let row: Vec<f64> = (0..20).map(|_| 2.0 * u() - 1.0).collect();
        let cells: Vec<String> = row.iter().map(|v| format!("{v:.6}")).collect();
        writeln!(out, "{},{:.6}", cells.join(","), row.iter().sum::<f64>()).unwrap();
    }
}

fn csv_data(path: std::path::PathBuf) -> DataConfig {
    DataConfig::new()
        .with_dataset(None)
        .with_csv(Some(path))
        .with_target(Some("y".into()))
}

/// The wide table's load, through the reader `nnlab train --data` uses.
fn load_wide() -> nnlab::Result<Measured> {
    let data = csv_data(data_file("wide.csv", write_wide));
    let start = Instant::now();
    let loaded = data.load(Task::Regression)?;
    assert_eq!(loaded.rows(), MANY_ROWS);
    Ok(Measured {
        load_s: Some(start.elapsed().as_secs_f64()),
        ..Measured::default()
    })
}

/// A large-data workload's config and its rows, read from CSV, with the seconds that took.
fn many_rows(name: &str) -> nnlab::Result<(ExperimentConfig, Dataset, f64)> {
    let data = csv_data(data_file("rows.csv", write_rows));
    let start = Instant::now();
    let loaded = data.load(Task::Regression)?;
    let seconds = start.elapsed().as_secs_f64();
    let hidden = if name == "rows-mlp" {
        vec![64, 64]
    } else {
        vec![]
    };
    let model = MlpConfig::new()
        .with_input_size(1)
        .with_hidden(hidden)
        .with_output_size(1);
    let (optimizer, batch, epochs) = match name {
        "rows-mlp" => (OptimizerName::Adam, BatchSize::Rows(1024), 2),
        "rows-full-batch" => (OptimizerName::Sgd, BatchSize::Full, 11),
        _ => (OptimizerName::Sgd, BatchSize::Rows(1024), 2),
    };
    let config = experiment(
        data,
        model,
        LossName::Mse,
        OptimizerConfig::new()
            .with_name(optimizer)
            .with_learning_rate(0.01),
    )
    .with_training(
        TrainingConfig::new()
            .with_epochs(epochs)
            .with_batch_size(batch),
    );
    Ok((config, loaded, seconds))
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

/// The VAE or the GAN on 60,000 random rows of 784 values, which it learns without a target.
fn generative_rows(name: &str) -> (ExperimentConfig, Dataset) {
    let width = 784;
    let data = random_rows(60_000, width, 10);
    let (model, batch): (ModelConfig, usize) = match name {
        "vae" => (
            ModelConfig::Vae(
                AutoencoderConfig::new()
                    .with_input_size(width)
                    .with_hidden(Some(vec![400]))
                    .with_latent(Some(20)),
            ),
            128,
        ),
        _ => (
            ModelConfig::Gan(
                GanConfig::new()
                    .with_input_size(width)
                    .with_hidden(vec![256, 256])
                    .with_latent(Some(64)),
            ),
            64,
        ),
    };
    let mut optimizer = OptimizerConfig::new().with_name(OptimizerName::Adam);
    optimizer.adam.beta_1 = 0.5;
    let data_config = DataConfig::new()
        .with_dataset(None)
        .with_csv(Some("random.csv".into()));
    let config = experiment(data_config, model, LossName::Mse, optimizer).with_training(
        TrainingConfig::new()
            .with_epochs(2)
            .with_batch_size(BatchSize::Rows(batch)),
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
                let name = args.next().unwrap_or_default();
                backend = clap::ValueEnum::from_str(&name, true).unwrap_or_else(|_| {
                    eprintln!("unknown backend `{name}`; expected ndarray, flex, wgpu or cuda");
                    std::process::exit(2)
                });
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
            "{:<16} {:>12} {:>12} {:>10} {:>10}",
            "workload", "µs/step", "samples/s", "GFLOP/s", "load, s"
        );
    }
    for name in chosen {
        let mut steps = Vec::new();
        let mut samples = Vec::new();
        let mut loads = Vec::new();
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
                    if let Some(macs) = macs(name) {
                        line["gflops"] = (s * 6.0 * macs / 1e9).into();
                    }
                }
                if let Some(load) = measured.load_s {
                    line["load_s"] = load.into();
                }
                if let Some(rate) = measured.generated_per_s {
                    line["generated_per_s"] = rate.into();
                }
                if let Some(rss) = peak_rss_mib() {
                    line["peak_rss_mib"] = rss.into();
                }
                println!("{line}");
            }
            steps.extend(measured.us_per_step);
            samples.extend(measured.samples_per_s);
            loads.extend(measured.load_s);
        }
        if !json {
            let cell = |v: Vec<f64>, f: &dyn Fn(f64) -> String| {
                if v.is_empty() {
                    "-".to_string()
                } else {
                    f(median(v))
                }
            };
            let gflops = match macs(name) {
                Some(macs) => samples.iter().map(|s| s * 6.0 * macs / 1e9).collect(),
                None => Vec::new(),
            };
            println!(
                "{:<16} {:>12} {:>12} {:>10} {:>10}",
                name,
                cell(steps, &|v| format!("{v:.1}")),
                cell(samples, &|v| format!("{v:.0}")),
                cell(gflops, &|v| format!("{v:.1}")),
                cell(loads, &|v| format!("{v:.3}")),
            );
        }
    }
}
