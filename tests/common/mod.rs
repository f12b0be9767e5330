//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use burn::tensor::backend::{AutodiffBackend, Backend};
use nnlab::backend::BackendName;
use nnlab::config::{BatchSize, ExperimentConfig, TrainingConfig};
use nnlab::data::scale::{FeatureScaling, PreprocessConfig, Scaler, TargetScaling};
use nnlab::data::{Builtin, DataConfig, Dataset, TargetValues, synthetic};
use nnlab::eval::predict::{Predictions, predict};
use nnlab::loss::{LossConfig, LossName};
use nnlab::models::cnn::ConvLayer;
use nnlab::models::{Activation, CnnConfig, Mlp, MlpConfig, ModelConfig, Network};
use nnlab::optim::{OptimizerConfig, OptimizerName};
use nnlab::run_dir::{RunDir, RunInfo};
use nnlab::train::Trained;

/// The CPU backend with autodiff.
pub type Cpu = nnlab::backend::Cpu;

/// Makes this test process compute in `f64` on the CPU backend ([`nnlab::backend::use_f64`]).
/// Burn fixes that default per process, so every test of a binary that calls it calls it
/// before its first tensor, and that binary holds no `f32` test.
pub fn f64() {
    nnlab::backend::use_f64().unwrap();
}

/// The textbook problem: one neuron on the linear data, MSE, unscaled (as
/// `nnlab::lab::textbook::config`), with this optimizer, learning rate, epochs and batch.
pub fn textbook(
    optimizer: OptimizerName,
    lr: f64,
    epochs: usize,
    batch: BatchSize,
) -> ExperimentConfig {
    nnlab::lab::textbook::config()
        .with_optimizer(
            OptimizerConfig::new()
                .with_name(optimizer)
                .with_learning_rate(lr),
        )
        .with_training(
            TrainingConfig::new()
                .with_epochs(epochs)
                .with_batch_size(batch),
        )
}

/// No feature or target scaling: the textbook trains on the raw numbers.
pub fn unscaled() -> PreprocessConfig {
    PreprocessConfig::new()
        .with_features(FeatureScaling::None)
        .with_target(TargetScaling::None)
}

/// A small classifier on the moons, with a validation split.
pub fn moons(epochs: usize) -> ExperimentConfig {
    ExperimentConfig::new()
        .with_data(
            DataConfig::new()
                .with_dataset(Some(Builtin::Moons))
                .with_samples(200),
        )
        .with_model(
            MlpConfig::new()
                .with_input_size(2)
                .with_hidden(vec![8, 8])
                .with_activation(Activation::Tanh)
                .with_output_size(2)
                .into(),
        )
        .with_loss(LossConfig::new().with_name(LossName::CrossEntropy))
        .with_optimizer(
            OptimizerConfig::new()
                .with_name(OptimizerName::Adam)
                .with_learning_rate(0.01),
        )
        .with_training(
            TrainingConfig::new()
                .with_epochs(epochs)
                .with_batch_size(BatchSize::Rows(16))
                .with_validation_fraction(0.25),
        )
}

/// The least-squares line through the textbook data: (w, b, MSE).
pub fn least_squares() -> (f64, f64, f64) {
    let data = synthetic::linear();
    nnlab::reference::least_squares_line(&data.features, &values(&data))
}

/// Saves a trained run to `path` as `nnlab train` would.
pub fn save_run<B: AutodiffBackend>(
    path: &Path,
    backend: BackendName,
    config: &ExperimentConfig,
    data: &Dataset,
    trained: &Trained<B>,
) -> RunDir {
    let run = RunDir::new(path);
    let info = RunInfo::new(backend, config, data, trained);
    run.save(config, &info, trained, Default::default())
        .unwrap();
    run
}

/// The regression targets of a dataset.
pub fn values(data: &Dataset) -> Vec<f64> {
    match &data.targets {
        TargetValues::Values(v) => v.clone(),
        TargetValues::Classes { .. } => panic!("not a regression dataset"),
    }
}

/// MSE of a regression model on a dataset (read unscaled), computed in f64 from its
/// predictions.
pub fn mse<B: Backend>(model: &Network<B>, data: &Dataset, device: &B::Device) -> f64 {
    let Predictions::Values(pred) = predict(
        model,
        LossName::Mse,
        None,
        &Scaler::identity(data.width()),
        &data.features,
        data.width(),
        device,
    ) else {
        panic!("regression gives values")
    };
    let y = values(data);
    y.iter()
        .zip(&pred)
        .map(|(y, p)| (f64::from(*p) - y).powi(2))
        .sum::<f64>()
        / y.len() as f64
}

/// Every tensor of a model (weights, biases, batch-norm parameters and statistics),
/// flattened in module order (exactly, as `f64`).
pub fn parameters<B: Backend, M: Module<B>>(model: &M) -> Vec<f64> {
    struct Flatten(Vec<f64>);
    impl<B: Backend> ModuleVisitor<B> for Flatten {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            let values = param.val().into_data().convert::<f64>();
            self.0.extend(values.to_vec::<f64>().unwrap());
        }
    }
    let mut flatten = Flatten(Vec::new());
    model.visit(&mut flatten);
    flatten.0
}

/// Largest absolute difference between two lists of the same length.
pub fn max_abs_diff<T: Into<f64> + Copy>(a: &[T], b: &[T]) -> f64 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter()
        .zip(b)
        .map(|(x, y)| ((*x).into() - (*y).into()).abs())
        .fold(0.0, f64::max)
}

/// The `nnlab` binary built for these tests.
pub fn nnlab() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("nnlab").unwrap()
}

/// Every file below `dir` whose name ends with `.ext`, sorted.
pub fn files_below(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for path in std::fs::read_dir(d).unwrap().map(|e| e.unwrap().path()) {
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == ext) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// `nnlab train FLAGS --out OUT`, which must succeed.
pub fn train_run(out: &Path, flags: &[&str]) {
    nnlab()
        .arg("train")
        .args(flags)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

/// Asserts that every parameter tensor gradcheck looked at has a gradient and that autodiff's
/// gradient matches finite differences to a relative error of 1e-6; `what` names the case.
pub fn assert_gradients_match(checks: &[nnlab::lab::gradcheck::ParamCheck], what: &str) {
    for c in checks {
        assert!(c.max_gradient > 0.0, "{what}: {} has no gradient", c.name);
        assert!(
            c.max_relative_error <= 1e-6,
            "{what}: {} relative error {:e}",
            c.name,
            c.max_relative_error
        );
    }
}

/// A JSON file, parsed.
pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `nnlab predict --checkpoint RUN --input INPUT`.
pub fn predict_command(run: &Path, input: &Path) -> assert_cmd::Command {
    let mut command = nnlab();
    command
        .args(["predict", "--checkpoint"])
        .arg(run)
        .arg("--input")
        .arg(input);
    command
}

/// Runs `command`, expecting success, and returns stdout.
pub fn stdout(command: &mut assert_cmd::Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The rows `nnlab predict` prints (header left out), split into cells.
pub fn predicted_rows(run: &Path, input: &Path) -> Vec<Vec<String>> {
    stdout(&mut predict_command(run, input))
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

/// The MLP inside a network that tests built as one.
pub fn mlp<B: Backend>(network: &Network<B>) -> &Mlp<B> {
    match network {
        Network::Mlp(mlp) => mlp,
        other => panic!("expected an MLP, got {other:?}"),
    }
}

/// The MLP section of a config that tests built as one.
pub fn mlp_config(config: &mut ExperimentConfig) -> &mut MlpConfig {
    match &mut config.model {
        ModelConfig::Mlp(mlp) => mlp,
        other => panic!("expected an MLP config, got {other:?}"),
    }
}

/// A small CNN on `shapes`, with batch norm and dropout so that resume must restore both.
pub fn shapes_cnn_config(epochs: usize) -> ExperimentConfig {
    let model = CnnConfig::new()
        .with_conv(vec![ConvLayer::new(4)])
        .with_dense(vec![8])
        .with_batch_norm(true)
        .with_dropout(0.2)
        .with_output_size(3);
    ExperimentConfig::new()
        .with_data(
            DataConfig::new()
                .with_dataset(Some(Builtin::Shapes))
                .with_samples(90),
        )
        .with_model(model.into())
        .with_loss(LossConfig::new().with_name(LossName::CrossEntropy))
        .with_optimizer(
            OptimizerConfig::new()
                .with_name(OptimizerName::Adam)
                .with_learning_rate(0.01),
        )
        .with_training(
            TrainingConfig::new()
                .with_epochs(epochs)
                .with_validation_fraction(0.2),
        )
}

/// [`shapes_cnn_config`] sized to its data, and the data.
pub fn shapes_cnn(epochs: usize) -> (ExperimentConfig, Dataset) {
    let mut config = shapes_cnn_config(epochs);
    let data = config.data.load(config.task()).unwrap();
    nnlab::commands::fit_to_data(&mut config, &data).unwrap();
    (config, data)
}

/// One row of a CSV file, by column name.
pub type Row = std::collections::BTreeMap<String, String>;

/// The header and rows of a history.csv (compare's or a run's).
pub fn read_history(path: &Path) -> (Vec<String>, Vec<Row>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(String::from))
                .collect()
        })
        .collect();
    (header, rows)
}

/// Tensors by name: (shape, values).
pub type Tensors = HashMap<String, (Vec<usize>, Vec<f64>)>;

/// A SafeTensors file parsed by hand: its tensors and its metadata.
pub fn parse(path: &Path) -> (Tensors, serde_json::Value) {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let data = &bytes[8 + n..];
    let mut tensors = HashMap::new();
    for (name, info) in header.as_object().unwrap() {
        if name == "__metadata__" {
            continue;
        }
        assert_eq!(info["dtype"], "F32", "{name}");
        let shape: Vec<usize> = serde_json::from_value(info["shape"].clone()).unwrap();
        let [start, end]: [usize; 2] =
            serde_json::from_value(info["data_offsets"].clone()).unwrap();
        let values = data[start..end]
            .chunks(4)
            .map(|c| f64::from(f32::from_le_bytes(c.try_into().unwrap())))
            .collect();
        tensors.insert(name.clone(), (shape, values));
    }
    (tensors, header["__metadata__"].clone())
}

/// `nnlab export` of the run, parsed.
pub fn export(run: &Path) -> (Tensors, serde_json::Value) {
    nnlab()
        .args(["export", "--checkpoint"])
        .arg(run)
        .assert()
        .success();
    parse(&run.join("model.safetensors"))
}
