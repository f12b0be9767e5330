//! The experiment a command line describes: the config file (or defaults) with the flags on
//! top, then sized to the data.

use crate::cli::{ExperimentArgs, Generated, OptimArgs, TrainArgs};
use crate::config::ExperimentConfig;
use crate::data::{DataConfig, Dataset};
use crate::error::{Error, Result};
use crate::loss::{LossName, Task};
use crate::models::Kind;
use crate::optim::schedule::{ClipBy, ClipConfig};

use super::name;

/// The config that `nnlab train` (or `cv`) flags describe: the file (or defaults) with flags
/// on top.
pub fn train_config(experiment: &ExperimentArgs, optim: &OptimArgs) -> Result<ExperimentConfig> {
    let mut config = experiment_config(experiment)?;
    if let Some(lr) = optim.lr {
        config.optimizer.learning_rate = lr;
    }
    if let Some(optimizer) = optim.optimizer {
        config.optimizer.name = optimizer;
    }
    if let Some(batch) = optim.batch_size {
        config.training.batch_size = batch;
    }
    if let Some(lambda) = optim.weight_decay {
        config.optimizer.set_weight_decay(lambda)?;
    }
    if experiment.l2.is_none() && experiment.config.is_none() && small_table(&config) {
        config.loss.l2 = SMALL_TABLE_L2;
    }
    config.validate()?;
    Ok(config)
}

/// The flags that shape a generated dataset, over `data`'s fields.
pub(super) fn apply_generated(data: &mut DataConfig, flags: &Generated) {
    let Generated {
        samples,
        noise,
        classes,
        data_seed,
    } = *flags;
    data.samples = samples.unwrap_or(data.samples);
    data.noise = noise.unwrap_or(data.noise);
    data.classes = classes.unwrap_or(data.classes);
    data.seed = data_seed.unwrap_or(data.seed);
}

/// The L2 penalty λ₂ of the MLP on a small table when neither `--l2` nor a config file sets
/// one: with a few hundred rows the unpenalized network overfits below linear least squares
/// (5-fold R² on diabetes 0.468 against 0.496; with it 0.487) and below logistic regression
/// (breast cancer accuracy 0.968 against scikit-learn's 0.979; with it 0.977); see
/// docs/benchmarks.md.
pub const SMALL_TABLE_L2: f64 = 0.01;

/// Rows under which a regression table is small.
pub const SMALL_TABLE_ROWS: usize = 2000;

/// Rows under which a classification table is small: at 1,797 rows (digits) the penalty
/// costs accuracy (0.979 to 0.968).
pub const SMALL_CLASSIFICATION_ROWS: usize = 1000;

/// Whether `config` trains an MLP with hidden layers on a small table: under
/// [`SMALL_TABLE_ROWS`] rows for regression, [`SMALL_CLASSIFICATION_ROWS`] for
/// classification (a CSV file's lines are counted up to that).
fn small_table(config: &ExperimentConfig) -> bool {
    let d = &config.data;
    let table = d.images.is_none() && d.idx_images.is_none() && !d.is_series() && !d.is_text();
    // The single neuron (`--hidden none`) is the linear model itself: left as the maths has it.
    let hidden = config.model.kind() == Kind::Mlp && config.model.layers() > 1;
    let small = match config.task() {
        Task::Regression => SMALL_TABLE_ROWS,
        Task::Classification => SMALL_CLASSIFICATION_ROWS,
    };
    if !table || !hidden {
        return false;
    }
    match (&d.csv, d.dataset) {
        (Some(path), _) => std::fs::File::open(path).is_ok_and(|file| {
            use std::io::BufRead;
            let lines = std::io::BufReader::new(file).lines();
            lines.take(small + 1).count() <= small
        }),
        (None, Some(builtin)) => builtin.about().rows.unwrap_or(d.samples) < small,
        (None, None) => false,
    }
}

/// The config file (or the defaults) with the shared experiment flags on top, not yet
/// validated: the caller may change more.
pub(super) fn experiment_config(args: &ExperimentArgs) -> Result<ExperimentConfig> {
    let mut config = match &args.config {
        Some(path) => ExperimentConfig::load_file(path)?,
        None => ExperimentConfig::new(),
    };
    if let Some(path) = &args.data {
        config.data = DataConfig::new()
            .with_dataset(None)
            .with_csv(Some(path.clone()))
            .with_target(args.target.clone())
            .with_features(args.features.clone())
            .with_color_by(args.color_by.clone());
    } else if args.images.is_some() || args.idx_images.is_some() {
        config.data = DataConfig::new()
            .with_dataset(None)
            .with_images(args.images.clone())
            .with_idx_images(args.idx_images.clone())
            .with_idx_labels(args.idx_labels.clone());
    } else if let Some(dataset) = args.dataset {
        config.data = DataConfig::new().with_dataset(Some(dataset));
    }
    let columns = args.target.is_some() || args.features.is_some() || args.color_by.is_some();
    if args.data.is_none() && columns {
        return Err(Error::Usage(
            "--target, --features and --color-by need --data FILE.csv".into(),
        ));
    }
    apply_series(&mut config, args)?;
    apply_text(&mut config, args)?;
    apply_generated(&mut config.data, &args.generated);
    if args.drop_missing {
        config.data.drop_missing = true;
    }
    if let Some(delimiter) = args.delimiter {
        config.data.delimiter = Some(delimiter);
    }
    if let Some(scale) = args.scale {
        config.preprocess.features = scale;
    }
    if let Some(scale) = args.scale_target {
        config.preprocess.target = scale;
    }
    let family = config.model.kind();
    let mut flags = args.model_flags();
    // Image files without a config file or --model train a CNN, and text an LSTM, as the
    // flags' help says.
    if flags.kind.is_none() && args.config.is_none() && config.data.image_source() {
        flags.kind = Some(Kind::Cnn);
    }
    if flags.kind.is_none() && args.config.is_none() && config.data.is_text() {
        flags.kind = Some(Kind::Lstm);
    }
    config.model.apply(&flags)?;
    // A family chosen by flag starts from its own defaults (a CNN trains for fewer epochs
    // than an MLP's 150, on pixels divided rather than standardized) unless flags say.
    if config.model.kind() != family {
        config.training.epochs = args.epochs.unwrap_or(config.model.default_epochs());
        config.preprocess.features = args.scale.unwrap_or(config.model.default_scaling());
    }
    // The task decides the default loss: an explicit task, else the built-in dataset's, else
    // that of the family `--model` chose (a CNN classifies images).
    if let Some(task) = args
        .task
        .or(config.data.builtin_task())
        .or(flags.kind.and(config.model.default_task()))
        && args.loss.is_none()
        && config.loss.name.task() != task
    {
        config.loss.name = LossName::default_for(task);
    }
    if let Some(loss) = args.loss {
        config.loss.name = loss;
    }
    if config.model.is_generative() {
        apply_generative(&mut config, args)?;
    }
    if let Some(task) = args.task
        && config.loss.name.task() != task
    {
        return Err(Error::Usage(format!(
            "--loss {} is for {} but --task is {task}",
            name(config.loss.name),
            config.loss.name.task()
        )));
    }
    if let Some(epochs) = args.epochs {
        config.training.epochs = epochs;
    }
    if let Some(l1) = args.l1 {
        config.loss.l1 = l1;
    }
    if let Some(l2) = args.l2 {
        config.loss.l2 = l2;
    }
    if let Some(seed) = args.seed {
        config.training.seed = seed;
    }
    if let Some(fraction) = args.validation {
        config.training.validation_fraction = fraction;
    }
    if let Some(fraction) = args.test {
        config.training.test_fraction = fraction;
    }
    if let Some(augment) = args.augment {
        config.training.augment = augment;
    }
    if let Some(patience) = args.patience {
        config.training.patience = Some(patience);
    }
    if let Some(delta) = args.min_delta {
        config.training.min_delta = delta;
    }
    if let Some(schedule) = args.schedule {
        config.schedule.name = schedule;
    }
    if let Some(warmup) = args.warmup {
        config.schedule.warmup_epochs = warmup;
    }
    for (by, threshold) in [
        (ClipBy::Norm, args.clip_norm),
        (ClipBy::Value, args.clip_value),
    ] {
        if let Some(threshold) = threshold {
            config.optimizer.clip = ClipConfig::new().with_by(by).with_threshold(threshold);
        }
    }
    Ok(config)
}

/// A model without a target learns the rows in their scaled units with the squared error (a
/// `--loss` other than mse is refused by the config's check), and has no target to scale.
fn apply_generative(config: &mut ExperimentConfig, args: &ExperimentArgs) -> Result<()> {
    if args.target.is_some() {
        return Err(Error::Usage(format!(
            "--target does not apply to --model {}: it has no target, it learns the rows \
             themselves (name the columns to learn with --features)",
            config.model.kind_name()
        )));
    }
    if args.loss.is_none() {
        config.loss.name = LossName::Mse;
    }
    config.preprocess.target = crate::data::scale::TargetScaling::None;
    // Adam's β₁ = 0.5 for both networks of a GAN (Radford et al., 2016): with 0.9 the
    // momentum carries each network past the other's moves, and the ring of 8 Gaussians
    // loses modes (docs/generative.md). A config file says its own.
    if config.model.gan().is_some() && args.config.is_none() {
        config.optimizer.adam.beta_1 = 0.5;
    }
    Ok(())
}

/// The series flags, and the defaults of a series that neither flags nor a config file set:
/// the last 20% of the windows for the test and the 10% before for early stopping.
fn apply_series(config: &mut ExperimentConfig, args: &ExperimentArgs) -> Result<()> {
    if let Some(columns) = &args.series {
        if args.data.is_none() {
            return Err(Error::Usage("--series needs --data FILE.csv".into()));
        }
        config.data.series = Some(columns.clone());
        if config.data.target.is_none() {
            match &columns[..] {
                [only] => config.data.target = Some(only.clone()),
                _ => {
                    return Err(Error::Usage(format!(
                        "--series has {} columns: name the one to forecast with --target",
                        columns.len()
                    )));
                }
            }
        }
    }
    config.data.window = args.window.or(config.data.window);
    config.data.season = args.season.or(config.data.season);
    if let Some(column) = &args.time {
        if config.data.csv.is_none() || !config.data.is_series() {
            return Err(Error::Usage(
                "--time names the date column of a series read from a CSV file (--data FILE \
                 --series COL)"
                    .into(),
            ));
        }
        config.data.time = Some(column.clone());
    }
    config.data.horizon = args.horizon.unwrap_or(config.data.horizon);
    config.data.relative &= !args.absolute;
    let series_flag =
        args.window.is_some() || args.season.is_some() || args.horizon.is_some() || args.absolute;
    if series_flag && !config.data.is_series() {
        return Err(Error::Usage(
            "--window, --horizon, --season and --absolute apply to a series (--series COL or a \
             built-in series such as airline)"
                .into(),
        ));
    }
    if config.data.is_series() && args.config.is_none() {
        let t = &mut config.training;
        t.validation_fraction = args.validation.unwrap_or(0.1);
        t.test_fraction = args.test.unwrap_or(0.2);
        t.patience = args.patience.or(Some(20));
    }
    Ok(())
}

/// The text flags.
fn apply_text(config: &mut ExperimentConfig, args: &ExperimentArgs) -> Result<()> {
    if let Some(column) = &args.text {
        if args.data.is_none() {
            return Err(Error::Usage("--text needs --data FILE.csv".into()));
        }
        if args.target.is_none() {
            return Err(Error::Usage(
                "--text needs --target COLUMN: the label of each text".into(),
            ));
        }
        config.data.text = Some(column.clone());
    }
    config.data.tokens = args.tokens.unwrap_or(config.data.tokens);
    config.data.vocab = args.vocab.unwrap_or(config.data.vocab);
    config.data.max_len = args.max_len.or(config.data.max_len);
    let text_flag = args.tokens.is_some() || args.vocab.is_some() || args.max_len.is_some();
    if text_flag && !config.data.is_text() {
        return Err(Error::Usage(
            "--tokens, --vocab and --max-len apply to text (--text COLUMN or the built-in \
             reviews)"
                .into(),
        ));
    }
    Ok(())
}

/// Flags that may also change a resumed run.
pub(super) fn apply_common(config: &mut ExperimentConfig, args: &TrainArgs) {
    if let Some(epochs) = args.experiment.epochs {
        config.training.epochs = epochs;
    }
    if let Some(lr) = args.optim.lr {
        config.optimizer.learning_rate = lr;
    }
    if args.checkpoint_every.is_some() {
        config.training.checkpoint_every = args.checkpoint_every;
    }
    if let Some(rounds) = args.node.rounds {
        config.training.epochs = rounds;
    }
    if args.node.federated {
        let passes = args.node.local_epochs.or(config.training.local_epochs);
        config.training.local_epochs = Some(passes.unwrap_or(1));
    }
}

/// Sets the model's input and output sizes from the data, and pins the data files' paths so
/// that the run can find its data again from any directory.
pub fn fit_to_data(config: &mut ExperimentConfig, data: &Dataset) -> Result<()> {
    check_target(config, data)?;
    let outputs = match data.labels() {
        Some(labels) => config.loss.name.output_size(labels.len()),
        None => data.outputs(),
    };
    config.model.fit_sizes(data.width(), outputs)?;
    let data_files = [
        &mut config.data.csv,
        &mut config.data.images,
        &mut config.data.idx_images,
        &mut config.data.idx_labels,
    ];
    for path in data_files.into_iter().flatten() {
        *path = std::fs::canonicalize(&*path).map_err(|e| Error::io(&*path, e))?;
    }
    config.validate()?;
    config.check_memory()
}

/// Refuses a loss that cannot describe the target: binary cross-entropy on other than two
/// classes, or classes made of non-integer numbers (a regression target given a
/// classification loss).
pub(super) fn check_target(config: &ExperimentConfig, data: &Dataset) -> Result<()> {
    let Some(labels) = data.labels() else {
        return Ok(());
    };
    if config.loss.name == LossName::BinaryCrossEntropy && labels.len() != 2 {
        return Err(Error::config(
            "loss.name",
            format!(
                "is binary_cross_entropy, which needs exactly 2 classes, but `{}` has {}; use \
                 cross_entropy (--loss cross_entropy)",
                data.target_name,
                labels.len()
            ),
        ));
    }
    let fractional = labels.iter().find(|l| {
        l.trim()
            .parse::<f64>()
            .is_ok_and(|v| v.is_finite() && v.fract() != 0.0)
    });
    if let Some(value) = fractional {
        return Err(Error::config(
            "loss.name",
            format!(
                "is {}, a classification loss, but `{}` holds non-integer numbers such as {value} \
                 ({} distinct values): for a numeric target use --task regression",
                name(config.loss.name),
                data.target_name,
                labels.len()
            ),
        ));
    }
    Ok(())
}
