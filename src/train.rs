//! Training: `fit` runs gradient descent on a model and records what each epoch measured.

use std::io::IsTerminal;
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Int, Tensor, TensorData};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::checkpoint::{decode, encode};
use crate::config::{ExperimentConfig, TrainLoss};
use crate::data::{Dataset, split};
use crate::error::{Error, Result};
use crate::loss::{Loss, Targets};
use crate::metrics::{EpochRecord, accuracy};
use crate::model::Mlp;
use crate::optim::WithOptimizer;

/// Where a resumed run left off.
pub struct Resume<B: AutodiffBackend> {
    pub model: Mlp<B>,
    /// The optimizer's state as saved by [`Trained::optimizer_state`].
    pub optimizer_state: Vec<u8>,
    pub history: Vec<EpochRecord>,
    pub steps: u64,
}

/// The result of [`fit`].
pub struct Trained<B: AutodiffBackend> {
    pub model: Mlp<B>,
    /// The optimizer's state (moments, velocities, step counts), encoded for a checkpoint.
    pub optimizer_state: Vec<u8>,
    /// One record per epoch, including those of earlier sessions of a resumed run.
    pub history: Vec<EpochRecord>,
    /// Gradient steps taken in all sessions.
    pub steps: u64,
    /// Wall time of this session's training loop.
    pub train_seconds: f64,
    /// Seconds from the start of this session's loop to the end of each of its epochs.
    pub epoch_seconds: Vec<f64>,
    /// The training loss became NaN or infinite; training stopped at that epoch.
    pub diverged: bool,
}

/// A seed for one purpose, so that the initial weights, the split and each epoch's shuffle
/// draw from independent streams of the one configured seed.
fn stream(seed: u64, purpose: u64) -> u64 {
    seed ^ purpose.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

const SPLIT_STREAM: u64 = 1;
const SHUFFLE_STREAM: u64 = 2;

/// The rows used for training and for validation under `config`.
fn split_rows(config: &ExperimentConfig, rows: usize) -> (Vec<usize>, Vec<usize>) {
    let seed = stream(config.training.seed, SPLIT_STREAM);
    split::train_valid(rows, config.training.validation_fraction, seed)
}

/// The training and (when `validation_fraction` > 0) validation sets that [`fit`] uses.
pub fn split(config: &ExperimentConfig, data: &Dataset) -> (Dataset, Option<Dataset>) {
    let (train_rows, valid_rows) = split_rows(config, data.rows());
    let valid = (!valid_rows.is_empty()).then(|| data.subset(&valid_rows));
    (data.subset(&train_rows), valid)
}

/// Checks that `config` can train on `data` (sizes, batch size against the training split)
/// without training; [`fit`] checks the same before it starts.
pub fn check(config: &ExperimentConfig, data: &Dataset) -> Result<()> {
    config.validate()?;
    if data.width() != config.model.input_size {
        return Err(Error::config(
            "model.input_size",
            format!(
                "is {} but the data has {} feature columns",
                config.model.input_size,
                data.width()
            ),
        ));
    }
    let train_rows = split_rows(config, data.rows()).0.len();
    if train_rows == 0 {
        return Err(Error::Usage("the dataset has no rows to train on".into()));
    }
    if let crate::config::BatchSize::Rows(n) = config.training.batch_size
        && n > train_rows
    {
        return Err(Error::config(
            "training.batch_size",
            format!("is {n} but the training split has only {train_rows} rows"),
        ));
    }
    Ok(())
}

/// Gradient steps in one epoch of `config` on a training set of `rows` rows.
pub fn steps_per_epoch(config: &ExperimentConfig, rows: usize) -> u64 {
    rows.div_ceil(config.training.batch_size.rows(rows)) as u64
}

/// Trains a model on `data` as `config` says, on the device given, starting fresh or from
/// `resume`, up to `config.training.epochs` epochs in all.
///
/// The loop is our own rather than burn-train's `Learner` because nnlab needs what the
/// Learner does not give: exact control of the step count and batch order (full-batch gradient
/// descent, Keras-style batches, bit-identical resume from a mid-run checkpoint), one host
/// read per epoch instead of per step, and metrics returned as data rather than printed.
pub fn fit<B: AutodiffBackend>(
    config: &ExperimentConfig,
    data: &Dataset,
    device: &B::Device,
    resume: Option<Resume<B>>,
    progress: bool,
) -> Result<Trained<B>> {
    check(config, data)?;
    let (train, valid) = split(config, data);
    let (model, state, history, steps) = match resume {
        Some(r) => (r.model, Some(r.optimizer_state), r.history, r.steps),
        None => (
            config.model.init(config.training.seed, device),
            None,
            Vec::new(),
            0,
        ),
    };
    let job = Loop {
        config,
        x: train.feature_tensor(device),
        y: train.target_tensor(device),
        train_eval: (config.training.train_loss == TrainLoss::EndOfEpoch)
            .then(|| (train.feature_tensor(device), train.target_tensor(device))),
        valid: valid.map(|v| (v.feature_tensor(device), v.target_tensor(device))),
        device,
        model,
        state,
        history,
        steps,
        progress,
    };
    config.optimizer.dispatch(job)
}

/// Features and targets of a set of rows, on the device.
type Rows<B> = (Tensor<B, 2>, Targets<B>);

/// The training loop, written once for every optimizer type.
struct Loop<'a, B: AutodiffBackend> {
    config: &'a ExperimentConfig,
    x: Tensor<B, 2>,
    y: Targets<B>,
    /// The training rows without autodiff, when the loss is measured at the end of each epoch.
    train_eval: Option<Rows<B::InnerBackend>>,
    valid: Option<Rows<B::InnerBackend>>,
    device: &'a B::Device,
    model: Mlp<B>,
    state: Option<Vec<u8>>,
    history: Vec<EpochRecord>,
    steps: u64,
    progress: bool,
}

impl<B: AutodiffBackend> WithOptimizer<B, Mlp<B>> for Loop<'_, B> {
    type Output = Result<Trained<B>>;

    fn run<O: Optimizer<Mlp<B>, B>>(self, mut optim: O) -> Self::Output {
        let Loop {
            config,
            x,
            y,
            train_eval,
            valid,
            device,
            mut model,
            state,
            mut history,
            mut steps,
            progress,
        } = self;
        if let Some(bytes) = state {
            optim = optim.load_record(decode::<B, O::Record>(&bytes, device, "optimizer state")?);
        }
        let training = &config.training;
        let loss_fn: Loss<B> = config.loss.init(device);
        let valid_loss_fn: Loss<B::InnerBackend> = config.loss.init(device);
        let rows = y.rows();
        let batch = training.batch_size.rows(rows);
        let rates = config
            .schedule
            .learning_rates(config.optimizer.learning_rate, training.epochs)?;
        let first_epoch = history.len() + 1;
        let bar = progress_bar(training.epochs, first_epoch - 1, progress);
        let start = Instant::now();
        let mut diverged = false;
        let mut epoch_seconds = Vec::new();

        for epoch in first_epoch..=training.epochs {
            let lr = rates[epoch - 1];
            let (xe, ye) = if training.shuffle {
                let order = shuffled(rows, stream(training.seed, SHUFFLE_STREAM + epoch as u64));
                let order = Tensor::<B, 1, Int>::from_data(TensorData::new(order, [rows]), device);
                (x.clone().select(0, order.clone()), y.select(order))
            } else {
                (x.clone(), y.clone())
            };
            let mut loss_sum = Tensor::<B::InnerBackend, 1>::zeros([1], device);
            for start in (0..rows).step_by(batch) {
                let end = (start + batch).min(rows);
                let output = model.forward(xe.clone().slice(start..end));
                let loss = loss_fn.forward(output, &ye.slice(start, end));
                loss_sum = loss_sum + loss.clone().inner().mul_scalar((end - start) as f64);
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                model = optim.step(lr, model, grads);
                steps += 1;
            }
            let train_loss = match &train_eval {
                Some((tx, ty)) => valid_loss_fn
                    .forward(model.valid().forward(tx.clone()), ty)
                    .into_scalar()
                    .elem::<f64>(),
                None => loss_sum.into_scalar().elem::<f64>() / rows as f64,
            };
            let (valid_loss, valid_accuracy) = match &valid {
                Some((vx, vy)) => {
                    let output = model.valid().forward(vx.clone());
                    let loss: f64 = valid_loss_fn
                        .forward(output.clone(), vy)
                        .into_scalar()
                        .elem();
                    let acc = match vy {
                        Targets::Classes(c) => Some(accuracy(output, c.clone(), config.loss.name)),
                        Targets::Values(_) => None,
                    };
                    (Some(loss), acc)
                }
                None => (None, None),
            };
            history.push(EpochRecord {
                epoch,
                train_loss,
                valid_loss,
                valid_accuracy,
                learning_rate: lr,
            });
            epoch_seconds.push(start.elapsed().as_secs_f64());
            bar.set_position(epoch as u64);
            bar.set_message(format!("loss {train_loss:.6}"));
            if !train_loss.is_finite() {
                diverged = true;
                break;
            }
        }
        bar.finish_and_clear();
        let train_seconds = start.elapsed().as_secs_f64();
        Ok(Trained {
            optimizer_state: encode::<B, _>(optim.to_record())?,
            model,
            history,
            steps,
            train_seconds,
            epoch_seconds,
            diverged,
        })
    }
}

/// A permutation of `0..rows` drawn from `seed`.
fn shuffled(rows: usize, seed: u64) -> Vec<i64> {
    let mut order: Vec<i64> = (0..rows as i64).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed));
    order
}

/// An epoch bar on stderr, drawn only when asked for and stderr is a terminal.
fn progress_bar(epochs: usize, done: usize, show: bool) -> ProgressBar {
    let target = if show && std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(epochs as u64), target);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} epoch {pos}/{len} {msg} [{elapsed} < {eta}]")
            .expect("valid template"),
    );
    bar.set_position(done as u64);
    bar
}
