//! Command-line arguments (clap types only; `commands` does the work).

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand};

use crate::train::augment::Augment;

use crate::backend::BackendName;
use crate::config::BatchSize;
use crate::data::image::ImageShape;
use crate::data::scale::{FeatureScaling, TargetScaling};
use crate::data::sequence::text::Tokens;
use crate::data::{Builtin, csv};
use crate::interrupt::OnSignal;
use crate::lab::compare::Regularizer;
use crate::loss::{LossName, Task};
use crate::models::{Activation, GanLoss, Kind, ModelFlags, Pool, Positions};
use crate::optim::OptimizerName;
use crate::optim::schedule::ScheduleName;

/// nnlab: train, compare, inspect, compress, explain and serve neural networks (MLPs, CNNs,
/// RNNs, transformers, autoencoders, GANs) on tables, images, series and text, on the CPU
/// (flex, ndarray) or the GPU (wgpu, cuda).
#[derive(Debug, Parser)]
#[command(name = "nnlab", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// CPU threads for training and prediction [default: one per core; RAYON_NUM_THREADS]
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub threads: Option<u16>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a model and save it as a run directory.
    Train(Box<TrainArgs>),
    /// Predict with a saved run; writes CSV to stdout.
    Predict(PredictArgs),
    /// Score a saved run on labelled rows: regression or classification metrics.
    Eval(EvalArgs),
    /// K-fold cross-validation: the score of each fold, their mean and standard deviation.
    Cv(Box<CvArgs>),
    /// Show a run's config and final metrics.
    Info(InfoArgs),
    /// Train one model with several optimizers, learning rates or batch sizes from the same
    /// initial weights; writes history.csv, curves.png and curves.svg, prints a table.
    Compare(Box<CompareArgs>),
    /// Check autodiff's gradients against finite differences, per parameter tensor.
    Gradcheck(GradcheckArgs),
    /// List the built-in datasets, or write one as a CSV file (`nnlab datasets iris --out
    /// iris.csv`) with the columns training names.
    Datasets(DatasetsArgs),
    /// Write a run's weights as SafeTensors, for PyTorch and other tools.
    Export(ExportArgs),
    /// Which input columns a saved run's answers depend on: the drop in its score when each
    /// column is shuffled (permutation importance, with a bar chart), or per-row attributions
    /// (input × gradient, integrated gradients).
    Explain(ExplainArgs),
    /// Quantize a saved run's weights to int8 into a new run directory; prints and saves a
    /// table of file size, score and predict time beside the original's.
    Quantize(QuantizeArgs),
    /// Prune a saved run's smallest weights (globally, by magnitude) to each sparsity and
    /// fine-tune it with the pruned weights held at zero; one run per sparsity, a table and a
    /// picture of the score against sparsity.
    Prune(PruneArgs),
    /// Train a student by knowledge distillation from a trained classifier (Hinton et al.,
    /// 2015), and the same student alone from the same initial weights, to compare.
    Distill(Box<DistillArgs>),
    /// The latent code of each row, from an autoencoder or VAE run: columns z1..zK, to stdout.
    Encode(EncodeArgs),
    /// New rows from a VAE or GAN run, in the input's columns and units: CSV to stdout or
    /// --out.
    Generate(GenerateArgs),
    /// Serve the runs in a directory over HTTP, after TensorFlow Serving's REST API:
    /// POST /v1/models/RUN:predict, GET /v1/models/RUN, /healthz, /metrics.
    Serve(ServeArgs),
    /// Run burn-collective's orchestrator for data-parallel training (`train --nodes`), in
    /// the foreground until Ctrl-C.
    Orchestrate(OrchestrateArgs),
}

/// `nnlab orchestrate`
#[derive(Debug, Args)]
pub struct OrchestrateArgs {
    /// The port the nodes register at (`train --orchestrator HOST:PORT`).
    #[arg(long)]
    pub port: u16,
    /// The interface to listen on: 127.0.0.1 keeps the orchestrator to this machine; give
    /// this machine's address on a private network (or 0.0.0.0) for nodes elsewhere.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
}

/// Where this process stands among the nodes of a data-parallel run.
#[derive(Debug, Args)]
pub struct NodeArgs {
    /// Train data-parallel on N nodes (processes, here or on other machines), each started
    /// with the same data and flags and its own --node; the gradients are averaged every
    /// step. Needs --node and --orchestrator.
    #[arg(long, value_name = "N", requires_all = ["node", "orchestrator"])]
    pub nodes: Option<usize>,
    /// This node's index, 0 to N − 1: node I takes rows I, I + N, ... of each step's rows;
    /// node 0 writes the run.
    #[arg(long, value_name = "I", requires = "nodes")]
    pub node: Option<usize>,
    /// The address of `nnlab orchestrate`.
    #[arg(long, value_name = "HOST:PORT", requires = "nodes")]
    pub orchestrator: Option<String>,
    /// Where the other nodes reach this one's tensors, and where it listens for them
    /// [default: 127.0.0.1 and a free port].
    #[arg(long, value_name = "HOST:PORT", requires = "nodes")]
    pub node_address: Option<String>,
    /// Train data-parallel on N devices of this process, burn-collective's local peers:
    /// device I takes rows I, I + N, ... of each step's rows, and the gradients are averaged
    /// every step. On the CPU the cores are shared out among them.
    #[arg(long, value_name = "N", conflicts_with = "nodes")]
    pub devices: Option<usize>,
    /// Federated averaging instead: each node trains on its own --data, whose rows never
    /// leave it, for --local-epochs passes a round; then the weights are averaged over the
    /// nodes, weighted by their rows. Needs --nodes.
    #[arg(long, requires = "nodes")]
    pub federated: bool,
    /// Rounds of federated training (the run's epochs) [default: --epochs].
    #[arg(
        long,
        value_name = "R",
        requires = "federated",
        conflicts_with = "epochs"
    )]
    pub rounds: Option<usize>,
    /// Passes over a node's own rows in each round [default: 1].
    #[arg(long, value_name = "E", requires = "federated")]
    pub local_epochs: Option<usize>,
    /// Seconds a node waits for the orchestrator or the other nodes before it stops with an
    /// error.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub sync_timeout: u64,
}

impl Command {
    /// Training commands stop safely on a first Ctrl-C; the others exit at once.
    pub fn on_signal(&self) -> OnSignal {
        match self {
            // The server stops taking requests on the first signal and answers those in
            // flight; a second signal exits at once.
            Command::Train(_) | Command::Cv(_) | Command::Compare(_) | Command::Serve(_) => {
                OnSignal::SafeStop
            }
            _ => OnSignal::Exit,
        }
    }
}

/// `nnlab train`: without `--config`, every setting has a default (standardized features and
/// target, one hidden layer of 64 ReLU units, Adam with learning rate 0.001, batch 32, 150
/// epochs), and the flags change them.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub experiment: ExperimentArgs,
    #[command(flatten)]
    pub optim: OptimArgs,
    /// Where to write the run [default: artifacts/<data name>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace a run that already exists in the output directory.
    #[arg(long)]
    pub overwrite: bool,
    /// Start from the weights (and feature scaling) of this run directory, or of a
    /// `.safetensors` file from `nnlab export`: fine-tuning or transfer. The layer shapes must
    /// match.
    #[arg(long, value_name = "DIR|FILE", conflicts_with = "resume")]
    pub init_from: Option<PathBuf>,
    /// Layers not to train, comma-separated (0 = the first hidden layer).
    #[arg(
        long,
        value_name = "I,J,...",
        value_delimiter = ',',
        conflicts_with = "resume"
    )]
    pub freeze: Option<Vec<usize>>,
    /// Continue a saved run up to `--epochs` epochs in all (written back to DIR unless
    /// `--out` names another directory). A federated node names its own --data again.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["config", "images", "idx_images", "idx_labels", "dataset", "samples", "noise", "classes", "data_seed", "drop_missing", "delimiter", "scale", "scale_target", "target", "features", "color_by", "series", "window", "horizon", "season", "time", "absolute", "text", "tokens", "vocab", "max_len", "task", "optimizer", "batch_size", "weight_decay", "model", "image", "conv", "kernel", "pool", "dense", "steps", "hidden_size", "layers", "bidirectional", "d_model", "heads", "positions", "pooling", "latent", "gan_loss", "d_steps", "clip", "minibatch_std", "d_lr", "g_lr", "hidden", "activation", "dropout", "batch_norm", "augment", "l1", "l2", "loss", "seed", "validation", "test", "patience", "min_delta", "schedule", "warmup", "clip_norm", "clip_value"])]
    pub resume: Option<PathBuf>,
    /// Save the run every N epochs as well as at the end (Ctrl-C also saves, at any step).
    #[arg(long, value_name = "N")]
    pub checkpoint_every: Option<usize>,
    /// Backend to train on [default: flex when compiled in, else ndarray, else wgpu, else
    /// cuda].
    #[arg(long, value_enum)]
    pub backend: Option<BackendName>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub node: NodeArgs,
}

/// The optimizer of a single training run.
#[derive(Debug, Args)]
pub struct OptimArgs {
    /// Learning rate α [default: 0.001].
    #[arg(long, value_name = "ALPHA", allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// Optimizer [default: adam].
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerName>,
    /// Rows per step, or `full` for batch gradient descent [default: 32].
    #[arg(long, value_name = "N|full")]
    pub batch_size: Option<BatchSize>,
    /// Weight decay λ of the optimizer: g ← g + λw (AdamW: decoupled) [default: Burn's].
    #[arg(long, value_name = "LAMBDA", allow_negative_numbers = true)]
    pub weight_decay: Option<f64>,
}

/// `nnlab cv`: k-fold cross-validation of one experiment.
#[derive(Debug, Args)]
pub struct CvArgs {
    #[command(flatten)]
    pub experiment: ExperimentArgs,
    #[command(flatten)]
    pub optim: OptimArgs,
    /// Number of folds.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Where to write cv.json [default: artifacts/cv-<data name>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace a cross-validation that already exists in the output directory.
    #[arg(long)]
    pub overwrite: bool,
    /// Backend to train on [default: flex when compiled in, else ndarray, else wgpu, else
    /// cuda].
    #[arg(long, value_enum)]
    pub backend: Option<BackendName>,
    /// No progress bars and no line per fold.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Where `eval` and `explain` read labelled rows: exactly one of a CSV file, a folder of
/// images or IDX files (the group is required by each command).
#[derive(Debug, Args)]
pub struct LabelledRows {
    /// A CSV file with a header row holding the run's feature columns and its target column.
    #[arg(long, value_name = "FILE.csv")]
    pub input: Option<PathBuf>,
    /// A folder of images with one subfolder per class, for a run trained on images; resized
    /// to the run's image size.
    #[arg(long, value_name = "DIR")]
    pub images: Option<PathBuf>,
    /// An IDX3 image file (with --idx-labels), for a run trained on images.
    #[arg(long, value_name = "FILE", requires = "idx_labels")]
    pub idx_images: Option<PathBuf>,
    /// The IDX1 label file of --idx-images.
    #[arg(long, value_name = "FILE", requires = "idx_images")]
    pub idx_labels: Option<PathBuf>,
    /// Field separator of the input: one character, or `tab` [default: detected from the
    /// header line: `,`, `;` or tab].
    #[arg(long, value_name = "CHAR", value_parser = parse_delimiter)]
    pub delimiter: Option<char>,
}

/// `nnlab eval`: a saved run's metrics on labelled rows.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["input", "images", "idx_images"])))]
pub struct EvalArgs {
    /// A run directory written by `nnlab train`.
    #[arg(long, value_name = "DIR")]
    pub checkpoint: PathBuf,
    #[command(flatten)]
    pub source: LabelledRows,
    /// Print the metrics as JSON.
    #[arg(long)]
    pub json: bool,
    /// Autoencoder and VAE runs: this column of the input CSV marks anomalies (1) and normal
    /// rows (0); the ROC AUC of each row's reconstruction error as an anomaly score is
    /// reported too.
    #[arg(long, value_name = "COLUMN")]
    pub anomaly_label: Option<String>,
    /// Use the last epoch's weights, not the best epoch's.
    #[arg(long)]
    pub last: bool,
    /// Backend to predict on [default: flex when compiled in, else ndarray, else wgpu, else
    /// cuda].
    #[arg(long, value_enum)]
    pub backend: Option<BackendName>,
}

/// `nnlab compare`: one model, from the same initial weights, trained once per combination of
/// the optimizers, learning rates and batch sizes listed.
#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub experiment: ExperimentArgs,
    /// Optimizers to compare, comma-separated [default: gd,sgd,momentum,adagrad,rmsprop,adam;
    /// with --regularize, the config's].
    #[arg(long, alias = "optimizers", value_enum, value_delimiter = ',')]
    pub optimizer: Vec<OptimizerName>,
    /// Learning rates to compare, comma-separated [default: the config's, else 0.001].
    #[arg(
        long,
        value_name = "A,B,...",
        value_delimiter = ',',
        allow_negative_numbers = true
    )]
    pub lr: Vec<f64>,
    /// Batch sizes to compare, comma-separated, `full` for batch gradient descent
    /// [default: the config's, else 32; `full` for gd].
    #[arg(long, value_name = "N|full,...", value_delimiter = ',')]
    pub batch_size: Vec<BatchSize>,
    /// Regularizers to compare, comma-separated, each alone: none, l1=λ, l2=λ,
    /// weight_decay=λ, dropout=p, batch_norm, early_stop=N (needs --validation)
    /// [default: none].
    #[arg(long, value_name = "R,R,...", value_delimiter = ',')]
    pub regularize: Vec<Regularizer>,
    /// The loss whose first crossing the table reports [default: 1.1 × the lowest training
    /// loss any variant reached].
    #[arg(long, value_name = "LOSS")]
    pub target_loss: Option<f64>,
    /// A variant has diverged when its training loss exceeds this many times the initial
    /// model's loss, or becomes NaN or infinite [default: 100].
    #[arg(long, value_name = "FACTOR")]
    pub divergence_factor: Option<f64>,
    /// Where to write the comparison [default: artifacts/compare-<data name>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace a comparison that already exists in the output directory.
    #[arg(long)]
    pub overwrite: bool,
    /// Backend to train on [default: flex when compiled in, else ndarray, else wgpu, else
    /// cuda].
    #[arg(long, value_enum)]
    pub backend: Option<BackendName>,
    /// No progress bars and no line per finished variant.
    #[arg(long, short)]
    pub quiet: bool,
}

/// What the experiment is, shared by `train`, `cv` and `compare`: the config file and the
/// flags that change it.
#[derive(Debug, Args)]
pub struct ExperimentArgs {
    /// A JSON experiment config; fields it omits keep their defaults, flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A CSV file with a header row to train on.
    #[arg(long, value_name = "FILE.csv", conflicts_with = "dataset")]
    pub data: Option<PathBuf>,
    /// The column of the CSV file to predict.
    #[arg(long, value_name = "COLUMN")]
    pub target: Option<String>,
    /// Feature columns to use, comma-separated [default: every column but the target].
    #[arg(long, value_name = "A,B,...", value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    /// Autoencoder, VAE with a 2-D latent (--latent 2): a column of the CSV file whose values
    /// color the picture of the codes (latent.png); it is not learned from.
    #[arg(long, value_name = "COLUMN")]
    pub color_by: Option<String>,
    /// Read the CSV file as a time series: these columns, in time order (--target among
    /// them; the only one by default), cut into windows that forecast the target's next value.
    #[arg(
        long,
        value_name = "COL,COL,...",
        value_delimiter = ',',
        conflicts_with = "features"
    )]
    pub series: Option<Vec<String>>,
    /// Series: past steps in each window [default: 12].
    #[arg(long, value_name = "N")]
    pub window: Option<usize>,
    /// Series: steps each window forecasts at once, one output per step ahead [default: 1].
    #[arg(long, value_name = "H")]
    pub horizon: Option<usize>,
    /// Series: steps per season (12 for monthly data), for the seasonal-naive forecast, MASE
    /// and the network's target; 0 for none [default: found on the training part].
    #[arg(long, value_name = "P")]
    pub season: Option<usize>,
    /// Series: the CSV file's date column (YYYY-MM-DD, YYYY-MM, optionally with HH:MM); its
    /// spacing (hourly, daily, weekly, monthly, quarterly) proposes the season, kept when the
    /// training part bears it out [default: the first other column whose cells are dates].
    #[arg(long, value_name = "COL")]
    pub time: Option<String>,
    /// Series: read windows as levels, not relative to their last step.
    #[arg(long)]
    pub absolute: bool,
    /// Read this text column of the CSV file as tokens (with --target the label); trains an
    /// LSTM unless --model says otherwise.
    #[arg(long, value_name = "COLUMN", conflicts_with_all = ["features", "series"])]
    pub text: Option<String>,
    /// Text: split into words or characters [default: word].
    #[arg(long, value_enum)]
    pub tokens: Option<Tokens>,
    /// Text: the most tokens the vocabulary keeps, fitted on the training rows, padding and
    /// unknown included [default: 10000].
    #[arg(long, value_name = "N")]
    pub vocab: Option<usize>,
    /// Text: tokens per row; longer texts are cut, shorter padded [default: the longest
    /// training row's, at most 256].
    #[arg(long, value_name = "N")]
    pub max_len: Option<usize>,
    /// A folder of PNG/JPEG images, one subfolder per class named after it; trains a CNN
    /// unless --model says otherwise. Sizes must agree unless --image HxW resizes them.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["data", "dataset", "idx_images"])]
    pub images: Option<PathBuf>,
    /// MNIST-style IDX3 image file, raw or gzipped (with --idx-labels); trains a CNN unless
    /// --model says otherwise.
    #[arg(long, value_name = "FILE", requires = "idx_labels", conflicts_with_all = ["data", "dataset"])]
    pub idx_images: Option<PathBuf>,
    /// The IDX1 label file of --idx-images.
    #[arg(long, value_name = "FILE", requires = "idx_images")]
    pub idx_labels: Option<PathBuf>,
    /// A built-in dataset instead of a file (`nnlab datasets` lists them).
    #[arg(long, value_enum)]
    pub dataset: Option<Builtin>,
    #[command(flatten)]
    pub generated: Generated,
    /// Skip CSV rows with an empty, NaN or infinite cell instead of failing.
    #[arg(long)]
    pub drop_missing: bool,
    /// Field separator of the CSV file: one character, or `tab` [default: detected from the
    /// header line: `,`, `;` or tab].
    #[arg(long, value_name = "CHAR", value_parser = parse_delimiter)]
    pub delimiter: Option<char>,
    /// Feature scaling, fitted on the training rows and saved with the run [default: standard].
    #[arg(long, value_enum, value_name = "HOW")]
    pub scale: Option<FeatureScaling>,
    /// Scaling of a regression target; predictions are mapped back [default: standard].
    #[arg(long, value_enum, value_name = "HOW")]
    pub scale_target: Option<TargetScaling>,
    /// Regression or classification [default: from the loss, or the built-in dataset].
    #[arg(long, value_enum)]
    pub task: Option<Task>,
    /// Epochs (passes over the training set) [default: 150].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Model family: `mlp` for tables, `cnn` for images, `rnn`, `lstm`, `gru` or
    /// `transformer` for sequences [default: mlp].
    #[arg(long, value_enum, value_name = "FAMILY")]
    pub model: Option<Kind>,
    /// CNN: random moves of up to N pixels and left-right mirrors of the training images, a
    /// new draw each epoch, e.g. shift=2,flip [default: none].
    #[arg(long, value_name = "shift=N,flip", value_parser = Augment::parse)]
    pub augment: Option<Augment>,
    /// Image height, width and channels of each row (channel last), e.g. 28x28 or 32x32x3
    /// [default (cnn): a square grey image when the row width is a square].
    #[arg(long, value_name = "HxW[xC]")]
    pub image: Option<ImageShape>,
    /// CNN: filters of each convolution block, comma-separated [default: 32,64]. Autoencoder,
    /// VAE, GAN on images: filters of each convolution stage around the dense layers, 0 for
    /// none [default: 16,32, as many as the image side allows].
    #[arg(long, value_name = "N,N,...", value_delimiter = ',')]
    pub conv: Option<Vec<usize>>,
    /// CNN: side of every convolution kernel [default: 3].
    #[arg(long, value_name = "K")]
    pub kernel: Option<usize>,
    /// CNN: side of the max pooling after every convolution, 1 for none [default: 2].
    #[arg(long, value_name = "P")]
    pub pool: Option<usize>,
    /// CNN: widths of the dense layers after the convolutions [default: 128].
    #[arg(long, value_name = "N,N,...", value_delimiter = ',')]
    pub dense: Option<Vec<usize>>,
    /// Sequence models: steps per row, each of width / steps values in column order (step
    /// after step) [default: one value per step; a series' --window].
    #[arg(long, value_name = "N")]
    pub steps: Option<usize>,
    /// RNN/LSTM/GRU: width of each layer's hidden state [default: 64].
    #[arg(long, value_name = "N")]
    pub hidden_size: Option<usize>,
    /// RNN/LSTM/GRU and transformer: stacked layers [default: 1 recurrent, 2 transformer].
    #[arg(long, value_name = "N")]
    pub layers: Option<usize>,
    /// RNN/LSTM/GRU: read each sequence forwards and backwards.
    #[arg(long)]
    pub bidirectional: bool,
    /// Transformer: width of each step's vector [default: 64].
    #[arg(long, value_name = "N")]
    pub d_model: Option<usize>,
    /// Transformer: attention heads per layer, dividing --d-model [default: 4].
    #[arg(long, value_name = "N")]
    pub heads: Option<usize>,
    /// Transformer: sinusoidal or learned positions [default: sinusoidal].
    #[arg(long, value_enum)]
    pub positions: Option<Positions>,
    /// Transformer: how the steps become one vector [default: mean].
    #[arg(long, value_enum)]
    pub pooling: Option<Pool>,
    /// Autoencoder and VAE: size of the code z [default: a quarter of the row's values, 2 to
    /// 32]. GAN: values of noise per generated row [default: the row's values, 8 to 64].
    #[arg(long, value_name = "K")]
    pub latent: Option<usize>,
    /// GAN: the game, `standard` (cross-entropy, non-saturating generator loss) or
    /// `wasserstein` (a critic with clipped weights) [default: standard].
    #[arg(long, value_enum)]
    pub gan_loss: Option<GanLoss>,
    /// GAN: discriminator steps per generator step [default: 1].
    #[arg(long, value_name = "N")]
    pub d_steps: Option<usize>,
    /// GAN, wasserstein: the critic's weights are clipped to [−C, C] after each step
    /// [default: 0.01].
    #[arg(long, value_name = "C")]
    pub clip: Option<f64>,
    /// GAN: the discriminator also sees the batch's spread (the minibatch standard deviation),
    /// against mode collapse; with --lr 0.0001 the preset for rows of many values, such as
    /// images (docs/generative.md).
    #[arg(long)]
    pub minibatch_std: bool,
    /// GAN: the discriminator's learning rate [default: --lr].
    #[arg(long, value_name = "ALPHA", allow_negative_numbers = true)]
    pub d_lr: Option<f64>,
    /// GAN: the generator's learning rate [default: --lr].
    #[arg(long, value_name = "ALPHA", allow_negative_numbers = true)]
    pub g_lr: Option<f64>,
    /// MLP: hidden layer widths, comma-separated; `none` for the single neuron [default: 64].
    #[arg(long, value_name = "N,N,...|none", value_parser = parse_hidden)]
    pub hidden: Option<Hidden>,
    /// Activation after each hidden layer [default: relu].
    #[arg(long, value_enum)]
    pub activation: Option<Activation>,
    /// Dropout probability after each hidden layer: one rate, or one per layer [default: none].
    #[arg(long, value_name = "P,P,...", value_delimiter = ',')]
    pub dropout: Option<Vec<f64>>,
    /// Batch normalization after each hidden layer's linear map.
    #[arg(long)]
    pub batch_norm: bool,
    /// λ₁ of an L1 penalty λ₁Σ|w| on the weights [default: 0].
    #[arg(long, value_name = "LAMBDA", allow_negative_numbers = true)]
    pub l1: Option<f64>,
    /// λ₂ of an L2 penalty λ₂Σw² on the weights [default: 0].
    #[arg(long, value_name = "LAMBDA", allow_negative_numbers = true)]
    pub l2: Option<f64>,
    /// Loss function [default: mse for regression, cross_entropy for classification].
    #[arg(long, value_enum)]
    pub loss: Option<LossName>,
    /// Learning-rate schedule, stepped once per epoch [default: constant].
    #[arg(long, value_enum)]
    pub schedule: Option<ScheduleName>,
    /// Epochs of linear learning-rate warm-up [default: 0].
    #[arg(long, value_name = "EPOCHS")]
    pub warmup: Option<usize>,
    /// Clip each parameter tensor's gradient to this L2 norm.
    #[arg(long, value_name = "MAX", conflicts_with = "clip_value")]
    pub clip_norm: Option<f64>,
    /// Clamp every gradient entry to [−MAX, MAX].
    #[arg(long, value_name = "MAX")]
    pub clip_value: Option<f64>,
    /// Seed of the initial weights, shuffles and split [default: 42].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Fraction of rows held out for validation, scored every epoch [default: 0].
    #[arg(long, value_name = "FRACTION", allow_negative_numbers = true)]
    pub validation: Option<f64>,
    /// Fraction of rows held out for a final test, scored once at the end [default: 0].
    #[arg(long, value_name = "FRACTION", allow_negative_numbers = true)]
    pub test: Option<f64>,
    /// Stop when the validation loss has not improved for this many epochs (needs
    /// --validation).
    #[arg(long, value_name = "EPOCHS")]
    pub patience: Option<usize>,
    /// The least fall of the validation loss that counts as an improvement [default: 0].
    #[arg(long, value_name = "DELTA", allow_negative_numbers = true)]
    pub min_delta: Option<f64>,
}

impl ExperimentArgs {
    /// The model flags, for [`crate::models::ModelConfig::apply`].
    pub fn model_flags(&self) -> ModelFlags {
        ModelFlags {
            kind: self.model,
            hidden: self.hidden.clone().map(|Hidden(h)| h),
            activation: self.activation,
            dropout: self.dropout.clone(),
            batch_norm: self.batch_norm,
            image: self.image,
            conv: self.conv.clone(),
            kernel: self.kernel,
            pool: self.pool,
            dense: self.dense.clone(),
            steps: self.steps,
            hidden_size: self.hidden_size,
            layers: self.layers,
            bidirectional: self.bidirectional,
            d_model: self.d_model,
            heads: self.heads,
            positions: self.positions,
            pooling: self.pooling,
            latent: self.latent,
            gan_loss: self.gan_loss,
            d_steps: self.d_steps,
            clip: self.clip,
            minibatch_std: self.minibatch_std,
            d_lr: self.d_lr,
            g_lr: self.g_lr,
        }
    }
}

/// Hidden layer widths from the command line.
#[derive(Clone, Debug, PartialEq)]
pub struct Hidden(pub Vec<usize>);

fn parse_hidden(s: &str) -> Result<Hidden, String> {
    if s.trim().is_empty() || s.trim() == "none" {
        return Ok(Hidden(Vec::new()));
    }
    s.split(',')
        .map(|n| {
            n.trim()
                .parse::<usize>()
                .map_err(|_| format!("`{n}` is not a layer width"))
        })
        .collect::<Result<_, _>>()
        .map(Hidden)
}

/// A field separator from the command line: one character, or `tab` (also `\t`).
fn parse_delimiter(s: &str) -> Result<char, String> {
    let mut chars = s.chars();
    let c = match (s, chars.next(), chars.next()) {
        ("tab" | "\\t", _, _) => '\t',
        (_, Some(c), None) => c,
        _ => {
            return Err(format!(
                "must be one character (as ';') or `tab`, got `{s}`"
            ));
        }
    };
    csv::delimiter_byte(c).map(|_| c)
}

/// Where `predict` and `encode` read rows: exactly one of a CSV file, images or an IDX file
/// (the group is required by each command).
#[derive(Debug, Args)]
pub struct Rows {
    /// A CSV file with a header row holding the feature columns used in training (other
    /// columns are ignored).
    #[arg(long, value_name = "FILE.csv")]
    pub input: Option<PathBuf>,
    /// An image file, or a folder of them (its subfolders too), for a run trained on images;
    /// resized to the run's image size. The output names each image.
    #[arg(long, value_name = "FILE|DIR")]
    pub images: Option<PathBuf>,
    /// An IDX3 image file, for a run trained on images. The output names images by index.
    #[arg(long, value_name = "FILE")]
    pub idx_images: Option<PathBuf>,
    /// Field separator of the input: one character, or `tab` [default: detected from the
    /// header line: `,`, `;` or tab].
    #[arg(long, value_name = "CHAR", value_parser = parse_delimiter)]
    pub delimiter: Option<char>,
}

/// `nnlab predict`
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["input", "images", "idx_images"])))]
pub struct PredictArgs {
    /// A run directory written by `nnlab train`.
    #[arg(long, value_name = "DIR")]
    pub checkpoint: PathBuf,
    #[command(flatten)]
    pub rows: Rows,
    /// Use the last epoch's weights, not the best epoch's.
    #[arg(long)]
    pub last: bool,
    /// For a run trained on a series: values to forecast after the input's last row
    /// [default: the run's horizon]. Beyond the horizon, forecasts join the series and the
    /// next ones are forecast from them (a series of one column).
    #[arg(long, value_name = "K")]
    pub steps: Option<usize>,
    /// Backend to predict on [default: flex when compiled in, else ndarray, else wgpu, else
    /// cuda].
    #[arg(long, value_enum)]
    pub backend: Option<BackendName>,
}

/// `nnlab encode`
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["input", "images", "idx_images"])))]
pub struct EncodeArgs {
    /// A run directory written by `nnlab train --model autoencoder` or `--model vae`.
    #[arg(long, value_name = "DIR")]
    pub checkpoint: PathBuf,
    #[command(flatten)]
    pub rows: Rows,
    /// Use the last epoch's weights, not the best epoch's.
    #[arg(long)]
    pub last: bool,
    /// Backend to run on [default: flex when compiled in, else ndarray, else wgpu, else cuda].
    #[arg(long, value_enum)]
    pub backend: Option<BackendName>,
}

/// `nnlab generate`
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// A run directory written by `nnlab train --model vae` or `--model gan`.
    #[arg(long, value_name = "DIR")]
    pub checkpoint: PathBuf,
    /// Rows to generate (1 to 1,000,000, and at most 20,000,000 values in all).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub count: usize,
    /// Seed of the noise: the same seed gives the same rows on the same backend.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write the rows to this CSV file (atomically) instead of stdout.
    #[arg(long, value_name = "FILE.csv")]
    pub out: Option<PathBuf>,
    /// Use the last epoch's weights, not the best epoch's.
    #[arg(long)]
    pub last: bool,
    /// Backend to run on [default: flex when compiled in, else ndarray, else wgpu, else cuda].
    #[arg(long, value_enum)]
    pub backend: Option<BackendName>,
}

/// How `nnlab explain` explains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExplainMethod {
    /// The drop in the run's score (R² or accuracy) when one column is shuffled across the rows.
    Permutation,
    /// Per row: each input times the answer's gradient with respect to it.
    Gradient,
    /// Per row: integrated gradients from --baseline to the row, over --steps points.
    IntegratedGradients,
}

/// The point integrated gradients start from, in the input's raw units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Baseline {
    /// Every column 0.
    Zeros,
    /// Each column's mean over the input's rows.
    Mean,
    /// The one row of a CSV file with the run's feature columns.
    File(PathBuf),
}

impl std::fmt::Display for Baseline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Baseline::Zeros => f.write_str("zeros"),
            Baseline::Mean => f.write_str("mean"),
            Baseline::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// `zeros`, `mean`, or the path of a one-row CSV file.
fn parse_baseline(text: &str) -> std::result::Result<Baseline, String> {
    Ok(match text {
        "zeros" => Baseline::Zeros,
        "mean" => Baseline::Mean,
        path => Baseline::File(PathBuf::from(path)),
    })
}

/// `nnlab explain`
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["input", "images", "idx_images"])))]
pub struct ExplainArgs {
    /// A run directory written by `nnlab train`.
    #[arg(long, value_name = "DIR")]
    pub checkpoint: PathBuf,
    #[command(flatten)]
    pub source: LabelledRows,
    #[arg(long, value_enum, default_value = "permutation")]
    pub method: ExplainMethod,
    /// Shuffles of each column; the spread of their drops is reported.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeats: u32,
    /// Seed of the shuffles: the same seed gives the same drops.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Rows to attribute (gradient methods): the input's first N.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub rows: u32,
    /// The class whose output the gradient methods attribute, for a classification run
    /// [default: each row's predicted class].
    #[arg(long, value_name = "LABEL")]
    pub class: Option<String>,
    /// Where integrated gradients start: `zeros`, `mean` (each column's over the input), or a
    /// CSV file whose one row holds the run's feature columns, in raw units.
    #[arg(long, value_name = "zeros|mean|FILE.csv", default_value = "zeros", value_parser = parse_baseline)]
    pub baseline: Baseline,
    /// Points on the path from the baseline to the row (integrated gradients).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub steps: u32,
    /// Directory for importance.csv, importance.png and importance.svg, or attributions.csv
    /// [default: artifacts/explain-RUN, RUN the checkpoint's folder name].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace the files of an earlier explanation in --out.
    #[arg(long)]
    pub overwrite: bool,
    /// Use the last epoch's weights, not the best epoch's.
    #[arg(long)]
    pub last: bool,
    /// Backend to predict on [default: flex when compiled in, else ndarray, else wgpu, else
    /// cuda].
    #[arg(long, value_enum)]
    pub backend: Option<BackendName>,
}

/// `nnlab quantize`
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").args(["input", "images", "idx_images"])))]
pub struct QuantizeArgs {
    /// A run directory written by `nnlab train`.
    #[arg(long, value_name = "DIR")]
    pub checkpoint: PathBuf,
    #[arg(long, value_enum, default_value = "int8")]
    pub scheme: crate::compress::quantize::Scheme,
    /// The quantized run's directory [default: DIR-SCHEME beside the checkpoint].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace a run already in --out.
    #[arg(long)]
    pub overwrite: bool,
    /// Labelled rows to score both runs on [default: the run's test part, else its validation
    /// part, else all its rows, rebuilt from its config].
    #[command(flatten)]
    pub source: LabelledRows,
    /// Rows in the timed batch prediction (the scored rows repeated).
    #[arg(long, value_name = "N", default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch_rows: u32,
    /// Quantize the last epoch's weights, not the best epoch's.
    #[arg(long)]
    pub last: bool,
    /// Backend to score and time on [default: flex when compiled in, else ndarray, else wgpu,
    /// else cuda].
    #[arg(long, value_enum)]
    pub backend: Option<BackendName>,
}

/// `nnlab distill`: the student is described by the same flags as `nnlab train`; without a
/// data flag it learns on the teacher's data, split as the teacher's was.
#[derive(Debug, Args)]
pub struct DistillArgs {
    /// The teacher: a classification run directory written by `nnlab train`.
    #[arg(long, value_name = "DIR")]
    pub teacher: PathBuf,
    /// T: how far the teacher's probabilities are softened (1 leaves them as they are)
    /// [default: 2].
    #[arg(long, value_name = "T", allow_negative_numbers = true)]
    pub temperature: Option<f64>,
    /// α: the weight of the teacher's term; 1 − α weighs the labels' [default: 0.5].
    #[arg(long, value_name = "A", allow_negative_numbers = true)]
    pub alpha: Option<f64>,
    #[command(flatten)]
    pub experiment: ExperimentArgs,
    #[command(flatten)]
    pub optim: OptimArgs,
    /// Where to write the distilled student [default: artifacts/distill-<data name>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace a run that already exists in the output directory.
    #[arg(long)]
    pub overwrite: bool,
    /// Backend to train on [default: flex when compiled in, else ndarray, else wgpu, else
    /// cuda].
    #[arg(long, value_enum)]
    pub backend: Option<BackendName>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `nnlab serve`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The directory whose run directories are served, each by its name.
    #[arg(long, value_name = "DIR", default_value = "artifacts")]
    pub runs: PathBuf,
    /// The address to listen on; anything but a loopback address is reachable from the
    /// network, and there is no authentication.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The largest request body, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 4 << 20, value_parser = clap::value_parser!(u64).range(1..=1 << 30))]
    pub max_body: u64,
    /// The most rows one request may hold.
    #[arg(long, value_name = "N", default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub max_rows: u64,
    /// Seconds a client may take to send its headers (then the connection is closed), and a
    /// request from its headers to its answer (then it gets 408).
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// Backend to predict on [default: flex when compiled in, else ndarray, else wgpu, else
    /// cuda].
    #[arg(long, value_enum)]
    pub backend: Option<BackendName>,
}

/// `nnlab prune`
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").args(["input", "images", "idx_images"])))]
pub struct PruneArgs {
    /// A run directory written by `nnlab train`.
    #[arg(long, value_name = "DIR")]
    pub checkpoint: PathBuf,
    /// Shares of the weights to set to zero, each in [0, 1), comma-separated.
    #[arg(long, value_name = "S,S,...", value_delimiter = ',', required = true, allow_negative_numbers = true, value_parser = parse_sparsity)]
    pub sparsity: Vec<f64>,
    /// Epochs of training after pruning, with the pruned weights held at zero.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub fine_tune_epochs: u32,
    /// Directory of the pruned runs (`sparsity-0.50`, ...), prune.csv and the picture
    /// [default: DIR-pruned beside the checkpoint].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace the runs of an earlier pruning in --out.
    #[arg(long)]
    pub overwrite: bool,
    /// Labelled rows to score the runs on [default: the run's test part, else its validation
    /// part, else all its rows, rebuilt from its config].
    #[command(flatten)]
    pub source: LabelledRows,
    /// Prune the last epoch's weights, not the best epoch's.
    #[arg(long)]
    pub last: bool,
    /// Backend to fine-tune and score on [default: flex when compiled in, else ndarray, else
    /// wgpu, else cuda].
    #[arg(long, value_enum)]
    pub backend: Option<BackendName>,
}

/// A share of weights to prune: a number in [0, 1).
fn parse_sparsity(text: &str) -> std::result::Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(s) if (0.0..1.0).contains(&s) => Ok(s),
        Ok(s) => Err(format!(
            "{s} is outside [0, 1): a sparsity is the share of weights set to zero, and 1 would \
             leave none"
        )),
        Err(_) => Err(format!("`{text}` is not a number")),
    }
}

/// `nnlab export`
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A run directory written by `nnlab train`.
    #[arg(long, value_name = "DIR")]
    pub checkpoint: PathBuf,
    /// The format to write.
    #[arg(long, value_enum, default_value = "safetensors")]
    pub format: ExportFormat,
    /// The file to write [default: DIR/model.safetensors].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Export the last epoch's weights, not the best epoch's.
    #[arg(long)]
    pub last: bool,
}

/// Formats `nnlab export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Hugging Face's SafeTensors, with PyTorch's layouts.
    Safetensors,
}

/// `nnlab gradcheck`: the model of a config at its initial weights, on the CPU backend in `f64`.
#[derive(Debug, Args)]
pub struct GradcheckArgs {
    /// A JSON experiment config (fields it omits keep their defaults).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// How many rows of the data the loss is taken over.
    #[arg(long, default_value_t = 32)]
    pub rows: usize,
}

/// `nnlab datasets`
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("drawn").multiple(true).requires("name")
    .args(["samples", "noise", "classes", "data_seed"])))]
pub struct DatasetsArgs {
    /// The dataset to write as CSV; without it, the list of them.
    #[arg(value_enum)]
    pub name: Option<Builtin>,
    /// The CSV file to write (atomically) [default: stdout].
    #[arg(long, value_name = "FILE", requires = "name")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub generated: Generated,
}

/// How a generated dataset is drawn, for `train` (and the commands with its flags) and
/// `datasets`.
#[derive(Clone, Copy, Debug, Args)]
pub struct Generated {
    /// Points of a generated dataset [default: 1000].
    #[arg(long, value_name = "N")]
    pub samples: Option<usize>,
    /// Standard deviation of a generated dataset's noise [default: 0.1].
    #[arg(long, value_name = "STD", allow_negative_numbers = true)]
    pub noise: Option<f64>,
    /// Classes of `blobs` [default: 3].
    #[arg(long, value_name = "K")]
    pub classes: Option<usize>,
    /// Seed of a generated dataset [default: 0].
    #[arg(long, value_name = "SEED")]
    pub data_seed: Option<u64>,
}

/// `nnlab info`
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// A run directory written by `nnlab train`.
    pub dir: PathBuf,
}

/// Arguments of the examples: `[OUT_DIR] [--backend flex|ndarray|wgpu]`.
#[derive(Debug, Parser)]
pub struct ExampleArgs {
    /// Where to write the run.
    pub out: Option<PathBuf>,
    /// Backend to train on [default: flex when compiled in, else ndarray, else wgpu].
    #[arg(long, value_enum)]
    pub backend: Option<BackendName>,
}

impl ExampleArgs {
    /// Parses the process arguments: the output directory (or `default_out`) and the backend.
    pub fn parse_or(default_out: &str) -> (PathBuf, BackendName) {
        let args = Self::parse();
        (
            args.out.unwrap_or_else(|| PathBuf::from(default_out)),
            args.backend.unwrap_or_else(BackendName::default_compiled),
        )
    }
}
