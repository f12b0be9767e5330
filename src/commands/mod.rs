//! What each subcommand does, on whichever backend was chosen.

use std::io::Write;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::backend::AutodiffBackend;
use serde_json::Map;

use crate::backend::{BackendJob, BackendName, run_f64, run_on};
use crate::cli::{
    Command, CompareArgs, CvArgs, EvalArgs, ExperimentArgs, ExportArgs, GradcheckArgs, InfoArgs,
    OptimArgs, PredictArgs, TrainArgs,
};
use crate::config::ExperimentConfig;
use crate::data::{Builtin, DataConfig, Dataset, csv};
use crate::error::{Error, Result};
use crate::eval::metrics::EpochRecord;
use crate::eval::metrics::{Evaluation, evaluate};
use crate::eval::predict::predict;
use crate::lab::compare::{CompareConfig, Comparison, HISTORY, VariantRun, compare};
use crate::lab::cv::{CV_REPORT, CvReport, Fold, cross_validate};
use crate::lab::gradcheck::{ParamCheck, gradcheck};
use crate::loss::{LossName, Task};
use crate::optim::schedule::{ClipBy, ClipConfig};
use crate::run_dir::{RunDir, RunInfo, VALID_AT_BEST};
use crate::train::{Resume, Stop, Trained, fit_saving};

/// Runs one parsed command.
pub fn run(command: Command) -> Result<()> {
    match command {
        Command::Train(args) => train(*args),
        Command::Predict(args) => predict_command(args),
        Command::Eval(args) => eval_command(args),
        Command::Cv(args) => cv_command(*args),
        Command::Info(args) => info(args),
        Command::Compare(args) => compare_command(*args),
        Command::Gradcheck(args) => gradcheck_command(args),
        Command::Datasets => datasets(),
        Command::Export(args) => export_command(args),
    }
}

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
    config.validate()?;
    Ok(config)
}

/// The config file (or the defaults) with the shared experiment flags on top, not yet
/// validated: the caller may change more.
fn experiment_config(args: &ExperimentArgs) -> Result<ExperimentConfig> {
    let mut config = match &args.config {
        Some(path) => ExperimentConfig::load_file(path)?,
        None => ExperimentConfig::new(),
    };
    if let Some(path) = &args.data {
        config.data = DataConfig::new()
            .with_dataset(None)
            .with_csv(Some(path.clone()))
            .with_target(args.target.clone())
            .with_features(args.features.clone());
    } else if let Some(dataset) = args.dataset {
        config.data = DataConfig::new().with_dataset(Some(dataset));
    } else if args.target.is_some() || args.features.is_some() {
        return Err(Error::Usage(
            "--target and --features need --data FILE.csv".into(),
        ));
    }
    if let Some(samples) = args.samples {
        config.data.samples = samples;
    }
    if let Some(noise) = args.noise {
        config.data.noise = noise;
    }
    if let Some(classes) = args.classes {
        config.data.classes = classes;
    }
    if let Some(seed) = args.data_seed {
        config.data.seed = seed;
    }
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
    // The task decides the default loss: an explicit task, else the built-in dataset's.
    if let Some(task) = args.task.or(config.data.builtin_task())
        && args.loss.is_none()
        && config.loss.name.task() != task
    {
        config.loss.name = LossName::default_for(task);
    }
    if let Some(loss) = args.loss {
        config.loss.name = loss;
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
    let family = config.model.kind();
    config.model.apply(&args.model_flags())?;
    // A family chosen by flag starts from its own training defaults (a CNN needs fewer
    // epochs than an MLP's 150), unless the epochs were given.
    if config.model.kind() != family && args.epochs.is_none() {
        config.training.epochs = config.model.default_epochs();
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

/// Flags that may also change a resumed run.
fn apply_common(config: &mut ExperimentConfig, args: &TrainArgs) {
    if let Some(epochs) = args.experiment.epochs {
        config.training.epochs = epochs;
    }
    if let Some(lr) = args.optim.lr {
        config.optimizer.learning_rate = lr;
    }
    if args.checkpoint_every.is_some() {
        config.training.checkpoint_every = args.checkpoint_every;
    }
}

/// Sets the model's input and output sizes from the data, and pins a CSV path so that the
/// run can find its data again from any directory.
pub fn fit_to_data(config: &mut ExperimentConfig, data: &Dataset) -> Result<()> {
    check_target(config, data)?;
    let outputs = config
        .loss
        .name
        .output_size(data.labels().map_or(0, <[_]>::len));
    config.model.fit_sizes(data.width(), outputs)?;
    if let Some(path) = &config.data.csv {
        config.data.csv = Some(std::fs::canonicalize(path).map_err(|e| Error::io(path, e))?);
    }
    config.validate()?;
    config.check_memory()
}

/// Refuses a loss that cannot describe the target: binary cross-entropy on other than two
/// classes, or classes made of non-integer numbers (a regression target given a
/// classification loss).
fn check_target(config: &ExperimentConfig, data: &Dataset) -> Result<()> {
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

fn train(args: TrainArgs) -> Result<()> {
    let backend = args.backend.unwrap_or_else(BackendName::default_compiled);
    // Held until the run is saved: a second writer of the directory is refused.
    let _lock;
    let job = match &args.resume {
        Some(dir) => {
            let out = args.out.clone().unwrap_or_else(|| dir.clone());
            _lock = crate::run_dir::lock::lock(&out)?;
            let from = RunDir::new(dir);
            let (mut config, info) = from.load_meta()?;
            apply_common(&mut config, &args);
            config.validate()?;
            if config.training.epochs <= info.epochs_done {
                return Err(Error::Usage(format!(
                    "{} has already trained {} epochs; pass --epochs N with N above that",
                    dir.display(),
                    info.epochs_done
                )));
            }
            if out != *dir {
                refuse_existing(&out, args.overwrite)?;
            }
            TrainJob {
                config,
                out: RunDir::new(out),
                resume: Some((from, info)),
                quiet: args.quiet,
            }
        }
        None => {
            let mut config = train_config(&args.experiment, &args.optim)?;
            if let Some(dir) = &args.init_from {
                config.training.init_from = Some(dir.clone());
            }
            if let Some(layers) = &args.freeze {
                config.training.freeze = layers.clone();
            }
            apply_common(&mut config, &args);
            config.validate()?;
            let out = args
                .out
                .clone()
                .unwrap_or_else(|| Path::new("artifacts").join(config.data.name()));
            _lock = crate::run_dir::lock::lock(&out)?;
            refuse_existing(&out, args.overwrite)?;
            TrainJob {
                config,
                out: RunDir::new(out),
                resume: None,
                quiet: args.quiet,
            }
        }
    };
    let report = run_on(backend, job)?;
    if report.skipped_rows > 0 {
        eprintln!(
            "skipped {} rows with a missing value (--drop-missing)",
            report.skipped_rows
        );
    }
    let last = report.history.last();
    let mut line = format!(
        "trained {} epochs ({} steps) on {backend} in {:.2}s: train loss {:.6}",
        report.history.len(),
        report.steps,
        report.train_seconds,
        last.map_or(f64::NAN, |r| r.train_loss)
    );
    if let Some(v) = last.and_then(|r| r.valid_loss) {
        line += &format!(", validation loss {v:.6}");
    }
    if let Some(a) = last.and_then(|r| r.valid_accuracy) {
        line += &format!(", validation accuracy {:.2}%", 100.0 * a);
    }
    if let Some(r2) = last.and_then(|r| r.valid_r2) {
        line += &format!(", validation R² {r2:.4}");
    }
    eprintln!("{line}");
    if let Some(test) = &report.test {
        eprintln!(
            "test: {} {:.4} on {} held-out rows",
            test.score_name(),
            test.score(),
            test.rows()
        );
    }
    if let Stop::EarlyStopped { .. } = report.stop {
        eprintln!("{}", report.stop);
    }
    if let Some(best) = report.best_epoch {
        eprintln!("best validation loss in epoch {best}: predict and eval use its weights");
    }
    eprintln!("saved to {}", report.dir.display());
    Ok(())
}

/// Refuses to write into a directory that holds a run, a comparison or a cross-validation,
/// unless told to overwrite.
fn refuse_existing(out: &Path, overwrite: bool) -> Result<()> {
    let taken =
        RunDir::new(out).exists() || out.join(HISTORY).exists() || out.join(CV_REPORT).exists();
    if taken && !overwrite {
        return Err(Error::Usage(format!(
            "{} already holds a run; pass --overwrite to replace it or --out to choose another directory",
            out.display()
        )));
    }
    Ok(())
}

/// What `nnlab train` reports once the run is saved.
pub struct TrainReport {
    pub dir: PathBuf,
    pub history: Vec<EpochRecord>,
    pub steps: u64,
    pub train_seconds: f64,
    /// Why training ended.
    pub stop: Stop,
    /// The epoch `predict` will use the weights of (runs with a validation split).
    pub best_epoch: Option<usize>,
    /// CSV rows skipped for a missing value (`--drop-missing`).
    pub skipped_rows: usize,
    /// The final model's metrics on the validation rows.
    pub valid: Option<Evaluation>,
    /// The final model's metrics on the test rows.
    pub test: Option<Evaluation>,
}

/// Trains (or resumes) a run and saves it.
pub struct TrainJob {
    pub config: ExperimentConfig,
    pub out: RunDir,
    pub resume: Option<(RunDir, RunInfo)>,
    pub quiet: bool,
}

impl BackendJob for TrainJob {
    type Output = TrainReport;

    fn run<B: AutodiffBackend>(
        self,
        backend: BackendName,
        device: B::Device,
    ) -> Result<TrainReport> {
        let TrainJob {
            mut config,
            out,
            resume,
            quiet,
        } = self;
        let (data, skipped_rows) = config.data.load_counting(config.task())?;
        let resume = match &resume {
            Some((from, info)) => {
                if data.feature_names != info.feature_names {
                    return Err(Error::Usage(format!(
                        "the data's feature columns {:?} differ from the run's {:?}",
                        data.feature_names, info.feature_names
                    )));
                }
                Some(from.load_resume::<B>(&config, info, &device)?)
            }
            None => {
                fit_to_data(&mut config, &data)?;
                match &config.training.init_from {
                    Some(path) => Some(start_from::<B>(path, &config, &data, &device)?),
                    None => None,
                }
            }
        };
        if let Some(note) = crate::train::check(&config, &data)? {
            eprintln!("{note}");
        }
        let mut save_every = |snapshot: &Trained<B>| {
            out.save(
                &config,
                &RunInfo::new(backend, &config, &data, snapshot),
                snapshot,
                Map::new(),
            )
        };
        let trained = fit_saving::<B>(&config, &data, &device, resume, !quiet, &mut save_every)?;
        if let Stop::Diverged { epoch } = trained.stop {
            return Err(Error::Training(format!(
                "the training loss became NaN or infinite in epoch {epoch}; nothing was saved \
                 (an earlier checkpoint in {} is untouched): try a smaller learning rate than {}",
                out.path.display(),
                config.optimizer.learning_rate
            )));
        }
        let info = RunInfo::new(backend, &config, &data, &trained);
        out.save(&config, &info, &trained, Map::new())?;
        if let Stop::Interrupted { signal, .. } = trained.stop {
            return Err(Error::Interrupted {
                signal,
                message: format!(
                    "{}; saved to {}: continue with `nnlab train --resume {}`",
                    trained.stop,
                    out.path.display(),
                    out.path.display()
                ),
            });
        }
        crate::plot::run::draw_run(
            &out.path,
            &config,
            &data,
            &trained.chosen(),
            &trained.scaler,
            &trained.history,
            &device,
        )?;
        Ok(TrainReport {
            dir: out.path,
            history: trained.history,
            steps: trained.steps,
            train_seconds: trained.train_seconds,
            stop: trained.stop,
            best_epoch: trained.best.as_ref().map(|b| b.epoch),
            skipped_rows,
            valid: trained.valid,
            test: trained.test,
        })
    }
}

/// The weights and scaling of another run, or of a SafeTensors file written by `nnlab export`,
/// as the start of a new one (`--init-from`).
fn start_from<B: AutodiffBackend>(
    path: &Path,
    config: &ExperimentConfig,
    data: &Dataset,
    device: &B::Device,
) -> Result<Resume<B>> {
    if path.is_file() {
        let mut model = config.model.init::<B>(config.training.seed, device);
        crate::run_dir::safetensors::read_safetensors(path, &mut model)?;
        let scaler = crate::run_dir::safetensors::read_scaler(path)?;
        if let Some(s) = &scaler
            && s.features.len() != data.width()
        {
            return Err(Error::Usage(format!(
                "{} scales {} features but this data has {}",
                path.display(),
                s.features.len(),
                data.width()
            )));
        }
        return Ok(Resume {
            model,
            optimizer_state: None,
            history: Vec::new(),
            steps: 0,
            scaler,
            best: None,
            partial: None,
        });
    }
    let from = &RunDir::new(path);
    let (source, info) = from.load_meta()?;
    if info.feature_names.len() != data.width() {
        return Err(Error::Usage(format!(
            "{} was trained on {} features ({}) but this data has {}",
            from.path.display(),
            info.feature_names.len(),
            info.feature_names.join(", "),
            data.width()
        )));
    }
    let chosen = from.load_chosen::<B::InnerBackend>(&source, &info, false, device)?;
    let mut model = config.model.init::<B>(config.training.seed, device);
    let (want, have) = (model.shapes(), chosen.shapes());
    let outputs = |shapes: &[Vec<usize>]| shapes.last().map_or(0, |s| s[1]);
    if outputs(&want) != outputs(&have) {
        let classes = |labels: Option<&[String]>| {
            labels.map_or(String::new(), |l| format!(" (classes {})", l.join(", ")))
        };
        return Err(Error::Usage(format!(
            "--init-from {}: its model has {} outputs{} but this data needs {}{}",
            from.path.display(),
            outputs(&have),
            classes(info.classes.as_deref()),
            outputs(&want),
            classes(data.labels())
        )));
    }
    if want != have || model.batch_norm() != chosen.batch_norm() {
        return Err(Error::Usage(format!(
            "--init-from {}: its layers are shaped {have:?} (batch norm {}) but this model's are {want:?} (batch norm {})",
            from.path.display(),
            chosen.batch_norm(),
            model.batch_norm()
        )));
    }
    // Same shapes: the source's parameters (and statistics) replace the fresh ones through a
    // record, which carries parameters only, so dropout and the activation stay this
    // config's (`from_inner` would take the source's).
    let record = chosen.into_record();
    let bytes = crate::run_dir::record::encode::<B::InnerBackend, _>(record)?;
    model = model.load_record(crate::run_dir::record::decode::<B, _>(
        &bytes, device, "weights",
    )?);
    Ok(Resume {
        model,
        optimizer_state: None,
        history: Vec::new(),
        steps: 0,
        scaler: Some(from.load_scaler(&info)?),
        best: None,
        partial: None,
    })
}

struct PredictJob {
    dir: RunDir,
    input: PathBuf,
    delimiter: Option<char>,
    last: bool,
}

impl BackendJob for PredictJob {
    type Output = crate::eval::predict::Predictions;

    fn run<B: AutodiffBackend>(self, _: BackendName, device: B::Device) -> Result<Self::Output> {
        let (config, info) = self.dir.load_meta()?;
        let model = self
            .dir
            .load_chosen::<B::InnerBackend>(&config, &info, self.last, &device)?;
        let scaler = self.dir.load_scaler(&info)?;
        let features = csv::read_features(&self.input, &info.feature_names, self.delimiter)?;
        Ok(predict(
            &model,
            config.loss.name,
            info.classes.as_deref(),
            &scaler,
            &features,
            info.feature_names.len(),
            &device,
        ))
    }
}

fn predict_command(args: PredictArgs) -> Result<()> {
    let backend = args.backend.unwrap_or_else(BackendName::default_compiled);
    let predictions = run_on(
        backend,
        PredictJob {
            dir: RunDir::new(&args.checkpoint),
            input: args.input,
            delimiter: args.delimiter,
            last: args.last,
        },
    )?;
    let stdout = std::io::stdout().lock();
    predictions
        .write_csv(stdout)
        .map_err(|e| Error::io("<stdout>", std::io::Error::other(e)))
}

fn info(args: InfoArgs) -> Result<()> {
    let dir = RunDir::new(&args.dir);
    let (config, info) = dir.load_meta()?;
    let summary = dir.load_summary()?;
    let mut out = std::io::stdout().lock();
    let number = |key: &str| summary.get(key).and_then(|v| v.as_f64());
    let mut text = format!(
        "run:            {}\ntask:           {} (target `{}`, features {})\nmodel:          {}\nloss:           {}\noptimizer:      {} (learning rate {})\ntrained:        {} epochs, {} steps, last on {}\n",
        args.dir.display(),
        info.task,
        info.target_name,
        info.feature_names.join(", "),
        config.model.describe(),
        name(config.loss.name),
        config.optimizer.name.as_str(),
        config.optimizer.learning_rate,
        info.epochs_done,
        info.steps,
        info.backend,
    );
    for key in [
        "train_loss",
        "valid_loss",
        "valid_accuracy",
        "train_seconds",
    ] {
        if let Some(v) = number(key) {
            text += &format!("{:<16}{v}\n", format!("{key}:"));
        }
    }
    let evaluation = |key: &str| {
        serde_json::from_value::<Option<Evaluation>>(summary[key].clone())
            .ok()
            .flatten()
    };
    // Runs before format 2's summary called the validation metrics `valid`.
    if let Some(e) = evaluation(VALID_AT_BEST).or_else(|| evaluation("valid")) {
        text += &format!(
            "validation:     {} {:.4} on {} rows, at the best epoch, which these rows chose: \
             optimistic (--test FRACTION gives an unbiased score)\n",
            e.score_name(),
            e.score(),
            e.rows()
        );
    }
    if let Some(e) = evaluation("test") {
        text += &format!(
            "test:           {} {:.4} on {} rows\n",
            e.score_name(),
            e.score(),
            e.rows()
        );
    }
    text += &format!(
        "preprocess:     features {}, target {}\n",
        name(config.preprocess.features),
        if info.task == Task::Regression {
            name(config.preprocess.target)
        } else {
            "(class labels)".into()
        }
    );
    if let Some(classes) = &info.classes {
        text += &format!("classes:        {}\n", classes.join(", "));
    }
    text += &format!("\nconfig.json:\n{}\n", config.to_json());
    out.write_all(text.as_bytes())
        .map_err(|e| Error::io("<stdout>", e))
}

/// The name of a config enum value, as written in JSON.
fn name<T: serde::Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

struct GradcheckJob {
    config: ExperimentConfig,
    rows: usize,
}

impl BackendJob for GradcheckJob {
    type Output = (usize, Vec<ParamCheck>);

    fn run<B: AutodiffBackend>(self, _: BackendName, device: B::Device) -> Result<Self::Output> {
        let mut config = self.config;
        let data = config.data.load(config.task())?;
        fit_to_data(&mut config, &data)?;
        let rows: Vec<usize> = (0..data.rows().min(self.rows)).collect();
        let model = config.model.init::<B>(config.training.seed, &device);
        let checks = gradcheck(&model, &config.loss, &data.subset(&rows), &device);
        Ok((rows.len(), checks))
    }
}

fn gradcheck_command(args: GradcheckArgs) -> Result<()> {
    if args.rows == 0 {
        return Err(Error::Usage("--rows must be at least 1".into()));
    }
    let config = ExperimentConfig::load_file(&args.config)?;
    let (rows, checks) = run_f64(GradcheckJob {
        config,
        rows: args.rows,
    })?;
    let mut text = format!(
        "gradient check at the initial weights: loss over {rows} rows, ndarray f64, central differences (4th order, h = {:e}); training mode on both sides (batch statistics, one fixed dropout mask)\n\n{:<18} {:<10} {:>12} {:>16}\n",
        crate::lab::gradcheck::STEP,
        "parameter",
        "shape",
        "max |grad|",
        "max rel. error"
    );
    for c in &checks {
        text += &format!(
            "{:<18} {:<10} {:>12.3e} {:>16.3e}\n",
            c.name,
            format!("{:?}", c.shape),
            c.max_gradient,
            c.max_relative_error
        );
    }
    let worst = checks
        .iter()
        .map(|c| c.max_relative_error)
        .fold(0.0, f64::max);
    text += &format!(
        "\nlargest relative error {worst:.3e} (relative to max(|autodiff|, |numeric|, {:e}))\n",
        crate::lab::gradcheck::FLOOR
    );
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Error::io("<stdout>", e))
}

/// Trains every variant of a comparison on the data of `base`; the caller saves and prints it.
pub struct CompareJob {
    pub base: ExperimentConfig,
    pub plan: CompareConfig,
    /// No progress bars and no line per finished variant.
    pub quiet: bool,
}

impl BackendJob for CompareJob {
    type Output = Comparison;

    fn run<B: AutodiffBackend>(self, _: BackendName, device: B::Device) -> Result<Self::Output> {
        let CompareJob {
            mut base,
            plan,
            quiet,
        } = self;
        let data = base.data.load(base.task())?;
        fit_to_data(&mut base, &data)?;
        if let Some(note) = crate::lab::compare::check_variants(&base, &plan, &data)? {
            eprintln!("{note}");
        }
        let variants = plan.variants(&base);
        let report = |run: &VariantRun| {
            if !quiet {
                eprintln!(
                    "trained {} in {:.2}s",
                    run.variant.label(&variants),
                    run.seconds
                );
            }
        };
        compare::<B>(&base, &plan, &data, &device, !quiet, report)
    }
}

fn compare_command(args: CompareArgs) -> Result<()> {
    let backend = args.backend.unwrap_or_else(BackendName::default_compiled);
    let base = experiment_config(&args.experiment)?;
    base.validate()?;
    let mut plan = CompareConfig::new()
        .with_learning_rates(args.lr)
        .with_batch_sizes(args.batch_size)
        .with_target_loss(args.target_loss);
    if !args.regularize.is_empty() {
        plan.regularizers = args.regularize;
        plan.optimizers = vec![base.optimizer.name];
    }
    if !args.optimizer.is_empty() {
        plan.optimizers = args.optimizer;
    }
    if let Some(factor) = args.divergence_factor {
        plan.divergence_factor = factor;
    }
    plan.resolved(&base).validate()?;
    let out = args
        .out
        .unwrap_or_else(|| Path::new("artifacts").join(format!("compare-{}", base.data.name())));
    let _lock = crate::run_dir::lock::lock(&out)?;
    refuse_existing(&out, args.overwrite)?;
    let comparison = run_on(
        backend,
        CompareJob {
            base,
            plan,
            quiet: args.quiet,
        },
    )?;
    comparison.save(&out)?;
    if let Some(signal) = comparison.stopped_by {
        return Err(Error::Interrupted {
            signal,
            message: format!(
                "stopped by {} while training variant {}: {} holds the {} finished variants, \
                 marked \"complete\": false",
                crate::interrupt::name(signal),
                comparison.runs.len() + 1,
                out.join("summary.json").display(),
                comparison.runs.len()
            ),
        });
    }
    let text = format!(
        "{} variants on {backend}, {} epochs each, from the same initial weights (training loss {:.6} at epoch 0)\n\n{}\nsaved history.csv, curves.png and curves.svg to {}\n",
        comparison.runs.len(),
        comparison.base.training.epochs,
        comparison.initial_loss,
        comparison.table(),
        out.display()
    );
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Error::io("<stdout>", e))
}

fn datasets() -> Result<()> {
    let rows: Vec<Vec<String>> = Builtin::ALL
        .iter()
        .map(|b| {
            let about = b.about();
            vec![
                about.name.to_string(),
                about.task.to_string(),
                about.rows.map_or("--samples".into(), |r| r.to_string()),
                about.features.to_string(),
                match (about.task, about.classes) {
                    (Task::Regression, _) => "-".into(),
                    (_, Some(k)) => k.to_string(),
                    (_, None) => "--classes".into(),
                },
                about.source.to_string(),
            ]
        })
        .collect();
    let header = ["name", "task", "rows", "features", "classes", "source"];
    let text = crate::plot::charts::table(&header, &rows, &[0, 1, 5])
        + "\nGenerated sets take --samples (default 1000), --noise (default 0.1) and --data-seed.\n";
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Error::io("<stdout>", e))
}

struct EvalJob {
    dir: RunDir,
    input: PathBuf,
    delimiter: Option<char>,
    last: bool,
}

impl BackendJob for EvalJob {
    type Output = Evaluation;

    fn run<B: AutodiffBackend>(self, _: BackendName, device: B::Device) -> Result<Evaluation> {
        let (config, info) = self.dir.load_meta()?;
        let model = self
            .dir
            .load_chosen::<B::InnerBackend>(&config, &info, self.last, &device)?;
        let scaler = self.dir.load_scaler(&info)?;
        let data = csv::read_labelled(
            &self.input,
            &info.feature_names,
            &info.target_name,
            info.classes.as_deref(),
            self.delimiter,
        )?;
        let predictions = predict(
            &model,
            config.loss.name,
            info.classes.as_deref(),
            &scaler,
            &data.features,
            data.width(),
            &device,
        );
        Ok(evaluate(&predictions, &data.targets))
    }
}

fn eval_command(args: EvalArgs) -> Result<()> {
    let backend = args.backend.unwrap_or_else(BackendName::default_compiled);
    let evaluation = run_on(
        backend,
        EvalJob {
            dir: RunDir::new(&args.checkpoint),
            input: args.input.clone(),
            delimiter: args.delimiter,
            last: args.last,
        },
    )?;
    let text = if args.json {
        serde_json::to_string_pretty(&evaluation).expect("metrics serialize") + "\n"
    } else {
        format!(
            "{} on {}\n\n{}",
            args.checkpoint.display(),
            args.input.display(),
            describe(&evaluation)
        )
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Error::io("<stdout>", e))
}

/// An evaluation as text: the metrics, and for classification the per-class table and the
/// confusion matrix.
pub fn describe(evaluation: &Evaluation) -> String {
    match evaluation {
        Evaluation::Regression(m) => format!(
            "rows {}\nMSE  {:.6}\nRMSE {:.6}\nMAE  {:.6}\nR²   {:.4}\n",
            m.rows, m.mse, m.rmse, m.mae, m.r2
        ),
        Evaluation::Classification(m) => {
            let mut rows: Vec<Vec<String>> = m
                .classes
                .iter()
                .map(|c| {
                    vec![
                        c.label.clone(),
                        format!("{:.4}", c.precision),
                        format!("{:.4}", c.recall),
                        format!("{:.4}", c.f1),
                        c.support.to_string(),
                    ]
                })
                .collect();
            rows.push(vec![
                "macro average".into(),
                format!("{:.4}", m.macro_precision),
                format!("{:.4}", m.macro_recall),
                format!("{:.4}", m.macro_f1),
                m.rows.to_string(),
            ]);
            let scores = crate::plot::charts::table(
                &["class", "precision", "recall", "F1", "rows"],
                &rows,
                &[0],
            );
            let mut header = vec!["true \\ predicted".to_string()];
            header.extend(m.classes.iter().map(|c| c.label.clone()));
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            let confusion: Vec<Vec<String>> = m
                .classes
                .iter()
                .zip(&m.confusion)
                .map(|(c, row)| {
                    std::iter::once(c.label.clone())
                        .chain(row.iter().map(usize::to_string))
                        .collect()
                })
                .collect();
            format!(
                "rows {}\naccuracy {:.4}\n\n{scores}\nconfusion matrix (rows: true class, columns: predicted)\n{}",
                m.rows,
                m.accuracy,
                crate::plot::charts::table(&header, &confusion, &[0])
            )
        }
    }
}

/// Cross-validates the experiment `config` on its data; the caller saves and prints it.
pub struct CvJob {
    pub config: ExperimentConfig,
    pub folds: usize,
    /// No progress bars and no line per fold.
    pub quiet: bool,
}

impl BackendJob for CvJob {
    type Output = (ExperimentConfig, CvReport);

    fn run<B: AutodiffBackend>(self, _: BackendName, device: B::Device) -> Result<Self::Output> {
        let CvJob {
            mut config,
            folds,
            quiet,
        } = self;
        let data = config.data.load(config.task())?;
        fit_to_data(&mut config, &data)?;
        if let (_, Some(note)) = crate::lab::cv::check_folds(&config, &data, folds)? {
            eprintln!("{note}");
        }
        let report = |fold: &Fold| {
            if !quiet {
                eprintln!(
                    "fold {}/{folds}: {} {:.4} ({} rows held out, trained in {:.2}s)",
                    fold.fold,
                    fold.evaluation.score_name(),
                    fold.evaluation.score(),
                    fold.test_rows,
                    fold.train_seconds
                );
            }
        };
        let cv = cross_validate::<B>(&config, &data, folds, &device, !quiet, report)?;
        Ok((config, cv))
    }
}

fn cv_command(args: CvArgs) -> Result<()> {
    let backend = args.backend.unwrap_or_else(BackendName::default_compiled);
    let config = train_config(&args.experiment, &args.optim)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("artifacts").join(format!("cv-{}", config.data.name())));
    let _lock = crate::run_dir::lock::lock(&out)?;
    refuse_existing(&out, args.overwrite)?;
    let (config, cv) = run_on(
        backend,
        CvJob {
            config,
            folds: args.folds,
            quiet: args.quiet,
        },
    )?;
    cv.save(&out, &config)?;
    if let Some(signal) = cv.stopped_by {
        return Err(Error::Interrupted {
            signal,
            message: format!(
                "stopped by {} in fold {} of {}: {} holds the {} finished folds, marked \
                 \"complete\": false, and no mean",
                crate::interrupt::name(signal),
                cv.folds.len() + 1,
                args.folds,
                out.join(CV_REPORT).display(),
                cv.folds.len()
            ),
        });
    }
    let (mean, std) = (cv.mean.unwrap_or(f64::NAN), cv.std.unwrap_or(f64::NAN));
    let rows: Vec<Vec<String>> = cv
        .folds
        .iter()
        .map(|f| {
            vec![
                f.fold.to_string(),
                f.test_rows.to_string(),
                format!("{:.4}", f.evaluation.score()),
            ]
        })
        .collect();
    let text = format!(
        "{}-fold cross-validation on {} ({}), {backend}\n\n{}\n{} {:.4} ± {:.4} (mean ± standard deviation over the folds)\nsaved {} to {}\n",
        args.folds,
        config.data.name(),
        if config.task() == Task::Classification {
            "stratified"
        } else {
            "shuffled"
        },
        crate::plot::charts::table(&["fold", "held-out rows", cv.score.as_str()], &rows, &[]),
        cv.score,
        mean,
        std,
        CV_REPORT,
        out.display()
    );
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Error::io("<stdout>", e))
}

fn export_command(args: ExportArgs) -> Result<()> {
    let dir = RunDir::new(&args.checkpoint);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.checkpoint.join("model.safetensors"));
    run_f32(ExportJob {
        dir,
        out: out.clone(),
        last: args.last,
    })?;
    eprintln!("wrote {}", out.display());
    Ok(())
}

struct ExportJob {
    dir: RunDir,
    out: PathBuf,
    last: bool,
}

impl BackendJob for ExportJob {
    type Output = ();

    fn run<B: AutodiffBackend>(self, _: BackendName, device: B::Device) -> Result<()> {
        let (config, info) = self.dir.load_meta()?;
        let model = self
            .dir
            .load_chosen::<B::InnerBackend>(&config, &info, self.last, &device)?;
        let scaler = self.dir.load_scaler(&info)?;
        crate::run_dir::safetensors::write_safetensors(&self.out, &model, &config, &scaler)
    }
}

/// Runs a backend-neutral job (file conversion) on the default backend.
fn run_f32<J: BackendJob>(job: J) -> Result<J::Output> {
    run_on(BackendName::default_compiled(), job)
}
