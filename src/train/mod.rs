//! Training: `fit` runs gradient descent on a model and records what each epoch measured.

pub mod augment;
mod batch;
mod step;

use std::io::IsTerminal;
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::optim::Optimizer;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor, TensorData};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::compress::prune::Mask;
use crate::run_dir::record::{decode, encode};
// What `fit` takes and returns; the run directory stores the same types.
use crate::config::{ExperimentConfig, TrainLoss};
use crate::data::scale::{Moments, Scaler};
use crate::data::split::{self, Split};
use crate::data::{Dataset, TargetValues};
use crate::distributed::{self, federated};
use crate::error::{Error, Result};
use crate::eval::metrics::EpochRecord;
use crate::eval::predict::{Predictions, predict};
use crate::loss::{Loss, Targets};
use crate::models::Network;
use crate::optim::WithOptimizer;
pub use crate::run_dir::state::{Best, OnCheckpoint, PartialEpoch, Resume, Stop, Trained};

use crate::data::split::stream;
/// Epoch e shuffles with stream `SHUFFLE_STREAM + e`.
const SHUFFLE_STREAM: u64 = 2;
/// Far above any epoch's shuffle stream.
const FOLD_STREAM: u64 = 1 << 62;
/// Step s of a model with dropout seeds the backend's generator with `DROPOUT_STREAM + s`, so a
/// resumed run draws the masks an uninterrupted one would.
const DROPOUT_STREAM: u64 = 1 << 61;
/// Step s draws its augmentation from stream `AUGMENT_STREAM + s`.
const AUGMENT_STREAM: u64 = 1 << 60;

/// The class index of each row, for classification data.
pub fn class_indices(data: &Dataset) -> Option<&[usize]> {
    match &data.targets {
        TargetValues::Classes { indices, .. } => Some(indices),
        TargetValues::Values(_) => None,
    }
}

/// The rows of each part under `config` (stratified for classification; in time order for a
/// series).
pub fn split_rows(config: &ExperimentConfig, data: &Dataset) -> Split {
    let t = &config.training;
    split::parts(
        data.rows(),
        class_indices(data),
        (t.validation_fraction, t.test_fraction),
        t.seed,
        config.data.is_series().then(|| config.data.horizon - 1),
    )
}

/// The rows of each of `k` cross-validation folds (stratified for classification; rolling
/// origin for a series).
pub fn fold_rows(config: &ExperimentConfig, data: &Dataset, k: usize) -> Vec<Vec<usize>> {
    if config.data.is_series() {
        return split::rolling(data.rows(), k);
    }
    let seed = stream(config.training.seed, FOLD_STREAM);
    split::folds(data.rows(), class_indices(data), k, seed)
}

/// The data [`fit`] works on: the parts of the split, and the preprocessing fitted on the
/// training part.
pub struct Prepared {
    pub scaler: Scaler,
    /// Training rows, scaled.
    pub train: Dataset,
    /// Which rows of the data they are.
    pub train_rows: Vec<usize>,
    /// Validation rows, scaled and raw.
    pub valid: Option<(Dataset, Dataset)>,
    /// Test rows, raw (they are only ever predicted).
    pub test: Option<Dataset>,
}

/// Splits `data` as `config` says and scales it with `scaler`, or with one fitted on the
/// training rows.
pub fn prepare(config: &ExperimentConfig, data: &Dataset, scaler: Option<Scaler>) -> Prepared {
    let split = split_rows(config, data);
    let train = data.subset(&split.train);
    let scaler = scaler.unwrap_or_else(|| fit_scaler(config, &train));
    let part = |rows: &[usize]| (!rows.is_empty()).then(|| data.subset(rows));
    // An autoencoder's targets are its scaled inputs: it learns to give them back.
    let scale = |rows: Dataset| {
        let mut scaled = scaler.apply(rows);
        if config.model.reconstructs() {
            scaled.targets = TargetValues::Values(scaled.features.clone());
        }
        scaled
    };
    Prepared {
        train: scale(train),
        valid: part(&split.valid).map(|raw| (scale(raw.clone()), raw)),
        test: part(&split.test),
        train_rows: split.train,
        scaler,
    }
}

/// The preprocessing `config` asks for, fitted on the training rows `train`.
fn fit_scaler(config: &ExperimentConfig, train: &Dataset) -> Scaler {
    let channels = config.model.image().map_or(1, |image| image.channels);
    Scaler::fit(&config.preprocess, train, channels)
}

/// A federated node's preprocessing: fitted on its own training rows, then pooled with the
/// other nodes', so that every node scales alike.
fn federated_scaler<B: Backend>(
    config: &ExperimentConfig,
    data: &Dataset,
    device: &B::Device,
) -> Result<Option<Scaler>> {
    let Some(node) = distributed::current().filter(|n| n.federated) else {
        return Ok(None);
    };
    let train = data.subset(&split_rows(config, data).train);
    let moments = federated::pool_moments::<B>(node, &Moments::of(&train), device)?;
    let channels = config.model.image().map_or(1, |image| image.channels);
    Ok(Some(moments.scaler(&config.preprocess, channels)))
}

/// Checks that `config` can train on `data` (sizes, memory) without training; [`fit`] checks
/// the same before it starts. Returns a note when the batch size exceeds the training rows,
/// which then train as one full batch (as Keras and PyTorch do).
pub fn check(config: &ExperimentConfig, data: &Dataset) -> Result<Option<String>> {
    config.validate()?;
    config.check_memory()?;
    if data.width() != config.model.input_size() {
        return Err(Error::config(
            "model.input_size",
            format!(
                "is {} but the data has {} feature columns",
                config.model.input_size(),
                data.width()
            ),
        ));
    }
    if let (Some(column), Some(k)) = (&config.data.color_by, config.model.code_size())
        && k != 2
    {
        return Err(Error::config(
            "data.color_by",
            format!(
                "is `{column}`: it colors a picture of a 2-D latent space, but the code has {k} \
                 values (set --latent 2)"
            ),
        ));
    }
    let train_rows = split_rows(config, data).train.len();
    if train_rows == 0 {
        return Err(Error::Usage("the dataset has no rows to train on".into()));
    }
    // A batch's activations and their gradients, in `f32`.
    let batch = config.training.batch_size.rows(train_rows);
    crate::memory::check(
        "training.batch_size",
        &format!("batches of {batch} rows through the model"),
        batch as f64 * config.model.activations() as f64 * 4.0 * 2.0,
    )?;
    Ok(match config.training.batch_size {
        crate::config::BatchSize::Rows(n) if n > train_rows => Some(format!(
            "note: batch size {n} is larger than the {train_rows} training rows, so each step \
             uses all of them (a full batch)"
        )),
        _ => None,
    })
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
    fit_saving(config, data, device, resume, progress, &mut |_| Ok(()))
}

/// [`fit`] of a student by distillation (`config.loss.distill`): `teacher` holds the teacher's
/// `log softmax(z/T)` for every row of `data`, row-major.
pub fn fit_taught<B: AutodiffBackend>(
    config: &ExperimentConfig,
    data: &Dataset,
    device: &B::Device,
    teacher: &[f32],
    progress: bool,
) -> Result<Trained<B>> {
    crate::keep_freed_pages();
    let mut none = |_: &Trained<B>| Ok(());
    let job = Start {
        config,
        data,
        device,
        resume: None,
        teacher: Some(teacher),
        progress,
    };
    rayon::scope(|_| fit_in_pool(job, &mut none))
}

/// [`fit`], handing `on_checkpoint` a snapshot every `training.checkpoint_every` epochs.
pub fn fit_saving<B: AutodiffBackend>(
    config: &ExperimentConfig,
    data: &Dataset,
    device: &B::Device,
    resume: Option<Resume<B>>,
    progress: bool,
    on_checkpoint: OnCheckpoint<'_, B>,
) -> Result<Trained<B>> {
    crate::keep_freed_pages();
    // Burn's ndarray backend runs every matrix product through `rayon::scope`. Called from
    // outside rayon's pool, each one is a hand-off to a pool thread and a wake-up back, which
    // costs more than a small model's whole product; from a pool thread they run inline.
    // Large products are still split across cores, by matrixmultiply's own threads.
    let job = Start {
        config,
        data,
        device,
        resume,
        teacher: None,
        progress,
    };
    rayon::scope(|_| fit_in_pool(job, on_checkpoint))
}

/// What a training session starts from.
struct Start<'a, B: AutodiffBackend> {
    config: &'a ExperimentConfig,
    data: &'a Dataset,
    device: &'a B::Device,
    resume: Option<Resume<B>>,
    /// The teacher's log-probabilities of every row, for distillation.
    teacher: Option<&'a [f32]>,
    progress: bool,
}

fn fit_in_pool<B: AutodiffBackend>(
    start: Start<'_, B>,
    on_checkpoint: OnCheckpoint<'_, B>,
) -> Result<Trained<B>> {
    let Start {
        config,
        data,
        device,
        resume,
        teacher,
        progress,
    } = start;
    check(config, data)?;
    if config.loss.distill.is_some() != teacher.is_some() {
        return Err(Error::Usage(
            "a run trained by distillation (loss.distill) trains only through `nnlab distill`, \
             which computes the teacher's probabilities: distill again with more --epochs"
                .into(),
        ));
    }
    let (model, state, history, steps, scaler, best, partial) = match resume {
        Some(r) => (
            r.model,
            r.optimizer_state,
            r.history,
            r.steps,
            r.scaler,
            r.best,
            r.partial,
        ),
        None => (
            config.model.init(config.training.seed, device),
            None,
            Vec::new(),
            0,
            None,
            None,
            None,
        ),
    };
    let scaler = match scaler {
        Some(s) => Some(s),
        None => federated_scaler::<B::InnerBackend>(config, data, device)?,
    };
    let model = model.freeze(&config.training.freeze);
    let mask = config.training.keep_zeros.then(|| Mask::of(&model));
    let Prepared {
        scaler,
        train,
        train_rows,
        valid,
        test,
    } = prepare(config, data, scaler);
    let x = train.feature_tensor(device);
    let y = match (teacher, train.target_tensor(device)) {
        (Some(teacher), Targets::Classes(classes)) => Targets::Taught {
            classes,
            teacher: taught_rows(
                teacher,
                &train_rows,
                data.labels().map_or(0, <[_]>::len),
                device,
            ),
        },
        (_, y) => y,
    };
    let train_eval = (config.training.train_loss == TrainLoss::EndOfEpoch)
        .then(|| (train.feature_tensor(device), train.target_tensor(device)));
    // The loop reads the tensors only; the table's memory goes back before it starts.
    drop(train);
    let job = Loop {
        config,
        x,
        y,
        train_eval,
        valid: valid.map(|(scaled, raw)| Valid {
            x: scaled.feature_tensor(device),
            y: scaled.target_tensor(device),
            // An autoencoder's metrics compare scaled values: its output is not restored.
            truth: match config.model.reconstructs() {
                true => scaled.targets,
                false => raw.targets,
            },
        }),
        labels: data.labels().map(<[_]>::to_vec),
        test,
        scaler,
        device,
        model,
        mask,
        state,
        history,
        steps,
        best,
        partial,
        progress,
        on_checkpoint,
    };
    config.optimizer.dispatch(job)
}

/// Features and targets of a set of rows, on the device.
type Rows<B> = (Tensor<B, 2>, Targets<B>);

/// The validation rows: scaled tensors for the loss, raw targets for the metrics.
struct Valid<B: burn::tensor::backend::Backend> {
    x: Tensor<B, 2>,
    y: Targets<B>,
    truth: TargetValues,
}

/// The training loop, written once for every optimizer type.
struct Loop<'a, B: AutodiffBackend> {
    config: &'a ExperimentConfig,
    x: Tensor<B, 2>,
    y: Targets<B>,
    /// The training rows without autodiff, when the loss is measured at the end of each epoch.
    train_eval: Option<Rows<B::InnerBackend>>,
    valid: Option<Valid<B::InnerBackend>>,
    labels: Option<Vec<String>>,
    test: Option<Dataset>,
    scaler: Scaler,
    device: &'a B::Device,
    model: Network<B>,
    /// The pruned weights, held at zero after every step (`training.keep_zeros`).
    mask: Option<Mask<B>>,
    state: Option<Vec<u8>>,
    history: Vec<EpochRecord>,
    steps: u64,
    best: Option<Best<B>>,
    partial: Option<PartialEpoch>,
    progress: bool,
    on_checkpoint: OnCheckpoint<'a, B>,
}

impl<B: AutodiffBackend> WithOptimizer<B, Network<B>> for Loop<'_, B> {
    type Output = Result<Trained<B>>;

    fn run<O: Optimizer<Network<B>, B>>(self, mut optim: O) -> Self::Output {
        let Loop {
            config,
            x,
            y,
            train_eval,
            valid,
            labels,
            test,
            scaler,
            device,
            mut model,
            mask,
            state,
            mut history,
            mut steps,
            mut best,
            partial,
            progress,
            on_checkpoint,
        } = self;
        if let Some(bytes) = state {
            optim = optim.load_record(decode::<B, O::Record>(&bytes, device, "optimizer state")?);
        }
        let training = &config.training;
        let loss_name = config.loss.name;
        let loss_fn: Loss<B> = config.loss.init_training(device);
        let eval_loss_fn: Loss<B::InnerBackend> = config.loss.init(device);
        let rows = y.rows();
        let batch = training.batch_size.rows(rows);
        // A data-parallel step of N nodes visits N batches' rows, each node its share of
        // them; a federated node visits its own rows `passes` times a round (an epoch).
        let node = distributed::current();
        let splits = node.filter(|n| !n.federated);
        let federated = node.filter(|n| n.federated);
        let step_rows = batch * splits.map_or(1, |n| n.nodes);
        let passes = training.local_epochs.unwrap_or(1);
        let per_pass = rows.div_ceil(step_rows);
        let first_epoch = history.len() + 1;
        let mut rates = config
            .schedule
            .rates(config.optimizer.learning_rate, training.epochs)?
            .skip(first_epoch - 1);
        let bar = progress_bar(training.epochs, first_epoch - 1, progress);
        let start = Instant::now();
        let mut stop = Stop::Completed;
        let mut epoch_seconds = Vec::new();
        let mut partial_out = None;
        // Models with dropout reseed the backend's generator every step, so that a run resumed
        // mid-epoch draws the masks an uninterrupted one would.
        let dropout = config.model.has_dropout();
        let every = training.checkpoint_every.unwrap_or(0);
        let augment = config
            .model
            .image()
            .filter(|_| training.augment.is_active());

        for epoch in first_epoch..=training.epochs {
            let lr = rates.next().expect("rates never end");
            // Each batch gathers its own rows, so no shuffled copy of the whole table is made.
            // One batch of every row needs no order: its mean gradient is the same.
            let order = |pass: usize| {
                let draw = ((epoch - 1) * passes + pass + 1) as u64;
                (training.shuffle && step_rows < rows)
                    .then(|| shuffled(rows, stream(training.seed, SHUFFLE_STREAM + draw)))
            };
            let mut batches = batch::Batches {
                x: &x,
                y: &y,
                order: None,
            };
            let mut pass_now = None;
            // A resumed run finishes an interrupted epoch from the batch it stopped at.
            let resumed = partial.filter(|_| epoch == first_epoch).unwrap_or_default();
            // The running mean is only summed when it is what the epoch records.
            let mut loss_sum =
                Tensor::<B::InnerBackend, 1>::from_floats([resumed.loss_sum as f32], device);
            // A VAE's KL term or a GAN's J_G, summed over the rows of the steps that have one.
            let mut second_sum = Tensor::<B::InnerBackend, 1>::zeros([1], device);
            let mut second_rows = 0;
            let mut interrupted = None;
            for index in resumed.batches..passes * per_pass {
                let (pass, start) = (index / per_pass, (index % per_pass) * step_rows);
                if pass_now != Some(pass) {
                    (batches.order, pass_now) = (order(pass), Some(pass));
                }
                let end = (start + step_rows).min(rows);
                if dropout {
                    B::seed(device, stream(training.seed, DROPOUT_STREAM + steps));
                }
                let (xb, yb) = match splits {
                    Some(node) => match node.share(&batches.order, start, end) {
                        Some(share) => batches.pick(&share),
                        None => break,
                    },
                    None => batches.get(start, end),
                };
                let (start, end) = (0, xb.dims()[0]);
                let xb = match augment {
                    Some(image) => {
                        let seed = stream(training.seed, AUGMENT_STREAM + steps);
                        training.augment.apply(xb, image, seed)
                    }
                    None => xb,
                };
                let stepped = step::step(
                    config,
                    (model, &mut optim),
                    (lr, steps),
                    step::Batch { x: xb, y: &yb },
                    (&loss_fn, mask.as_ref()),
                )?;
                model = stepped.model;
                let weight = (end - start) as f64;
                if train_eval.is_none() {
                    loss_sum = loss_sum + stepped.loss.inner().mul_scalar(weight);
                }
                if let Some(second) = stepped.second {
                    second_sum = second_sum + second.inner().mul_scalar(weight);
                    second_rows += end - start;
                }
                steps += 1;
                if let Some(signal) = crate::interrupt::requested() {
                    interrupted = Some((signal, index + 1));
                    break;
                }
            }
            if let Some((signal, batches)) = interrupted {
                let loss_sum = match train_eval {
                    Some(_) => 0.0,
                    None => loss_sum.into_scalar().elem::<f64>(),
                };
                partial_out = Some(PartialEpoch { batches, loss_sum });
                stop = Stop::Interrupted {
                    signal,
                    epoch,
                    batches,
                };
                break;
            }
            if let Some(node) = federated {
                model = federated::average_weights(node, model, rows)?;
            }
            let train_loss = match &train_eval {
                Some((tx, ty)) => {
                    let rows = (tx.clone(), ty);
                    let mean = step::held_out_loss(config, &model.valid(), rows, &eval_loss_fn).0;
                    federated::pooled_mean::<B::InnerBackend>(mean, tx.dims()[0], device)?
                }
                // Each node summed its own rows' losses.
                None => match federated {
                    Some(_) => {
                        let mean = loss_sum.into_scalar().elem::<f64>() / (rows * passes) as f64;
                        federated::pooled_mean::<B::InnerBackend>(mean, rows * passes, device)?
                    }
                    None => distributed::sum(loss_sum)?.into_scalar().elem::<f64>() / rows as f64,
                },
            };
            let mut record = EpochRecord::new(epoch, train_loss, lr);
            if second_rows > 0 {
                let mean = second_sum.into_scalar().elem::<f64>() / second_rows as f64;
                match config.model.gan() {
                    Some(_) => record.train_g_loss = Some(mean),
                    None => record.train_kl = Some(mean),
                }
            }
            if let Some(v) = &valid {
                let rows = (v.x.clone(), &v.y);
                let (loss, output) =
                    step::held_out_loss(config, &model.valid(), rows, &eval_loss_fn);
                let predictions =
                    Predictions::from_output(output, loss_name, labels.as_deref(), &scaler);
                let rows = v.x.dims()[0];
                // A federated round is scored on every node's validation rows.
                let loss = federated::pooled_mean::<B::InnerBackend>(loss, rows, device)?;
                let evaluation =
                    federated::evaluate::<B::InnerBackend>(predictions, &v.truth, rows, device)?;
                record = record.with_validation(loss, &evaluation);
                let improved = match &best {
                    None => loss.is_finite(),
                    Some(b) => loss < b.valid_loss - training.min_delta,
                };
                if improved {
                    best = Some(Best {
                        epoch,
                        valid_loss: loss,
                        model: model.valid(),
                    });
                }
            }
            history.push(record);
            epoch_seconds.push(start.elapsed().as_secs_f64());
            bar.set_position(epoch as u64);
            bar.set_message(format!("loss {train_loss:.6}"));
            if !train_loss.is_finite() {
                stop = Stop::Diverged { epoch };
                break;
            }
            if let (Some(patience), Some(b)) = (training.patience, &best)
                && epoch - b.epoch >= patience
            {
                stop = Stop::EarlyStopped {
                    epoch,
                    best_epoch: b.epoch,
                };
                break;
            }
            if every > 0 && epoch % every == 0 && epoch < training.epochs {
                on_checkpoint(&Trained {
                    model: model.clone(),
                    optimizer_state: encode::<B, _>(optim.to_record())?,
                    scaler: scaler.clone(),
                    history: history.clone(),
                    steps,
                    train_seconds: start.elapsed().as_secs_f64(),
                    epoch_seconds: epoch_seconds.clone(),
                    stop,
                    best: best.clone(),
                    valid: None,
                    test: None,
                    partial: None,
                })?;
            }
        }
        bar.finish_and_clear();
        let train_seconds = start.elapsed().as_secs_f64();
        let chosen = best
            .as_ref()
            .map_or_else(|| model.valid(), |b| b.model.clone());
        // A model without a target is scored by its own commands (reconstruction, samples).
        let (valid, test) = match config.model.is_generative() {
            true => (None, None),
            false => (valid, test),
        };
        let valid_eval = valid
            .as_ref()
            .map(|v| {
                let output = chosen.forward_rows(v.x.clone());
                let predictions =
                    Predictions::from_output(output, loss_name, labels.as_deref(), &scaler);
                federated::evaluate::<B::InnerBackend>(predictions, &v.truth, v.x.dims()[0], device)
            })
            .transpose()?;
        let test = test
            .map(|t| {
                let predictions = predict(
                    &chosen,
                    loss_name,
                    labels.as_deref(),
                    &scaler,
                    &t.features,
                    t.width(),
                    device,
                );
                federated::evaluate::<B::InnerBackend>(predictions, &t.targets, t.rows(), device)
            })
            .transpose()?;
        Ok(Trained {
            optimizer_state: encode::<B, _>(optim.to_record())?,
            model,
            scaler,
            history,
            steps,
            train_seconds,
            epoch_seconds,
            stop,
            best,
            valid: valid_eval,
            test,
            partial: partial_out,
        })
    }
}

/// The rows `rows` of the teacher's `[rows, classes]` log-probabilities, as a tensor.
fn taught_rows<B: AutodiffBackend>(
    teacher: &[f32],
    rows: &[usize],
    classes: usize,
    device: &B::Device,
) -> Tensor<B, 2> {
    let values: Vec<f32> = rows
        .iter()
        .flat_map(|&r| &teacher[r * classes..(r + 1) * classes])
        .copied()
        .collect();
    Tensor::from_data(TensorData::new(values, [rows.len(), classes]), device)
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
