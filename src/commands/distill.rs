//! `nnlab distill`: a student trained from a teacher's softened probabilities
//! ([`crate::loss::distill`]) and the same student trained alone from the same initial weights,
//! both scored beside the teacher on the student's held-out rows.

use std::path::Path;

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::activation::log_softmax;
use burn::tensor::backend::{AutodiffBackend, Backend};
use serde_json::{Map, json};

use crate::backend::{BackendJob, BackendName, run_on};
use crate::cli::DistillArgs;
use crate::config::ExperimentConfig;
use crate::data::{Dataset, Loaded};
use crate::error::{Error, Result};
use crate::eval::predict::score;
use crate::loss::distill::DistillConfig;
use crate::loss::{LossName, Task};
use crate::models::Network;
use crate::run_dir::{RunDir, RunInfo};
use crate::train::{Stop, Trained, fit, fit_taught};

use super::experiment::{fit_to_data, train_config};
use super::input::held_out;
use super::refuse_existing;

pub(super) fn distill_command(args: DistillArgs) -> Result<()> {
    let teacher = RunDir::new(&args.teacher);
    let (teacher_config, teacher_info) = teacher.load_meta()?;
    super::refuse_generative(
        &teacher_config,
        &teacher.path.display().to_string(),
        "distill",
    )?;
    if teacher_info.task != Task::Classification {
        return Err(Error::Usage(format!(
            "{} is a regression run; distillation teaches a student the teacher's class \
             probabilities, so it needs a classifier (for regression, train the student on the \
             teacher's predictions: `nnlab predict`, then `nnlab train --data`)",
            teacher.path.display()
        )));
    }
    let mut config = train_config(&args.experiment, &args.optim)?;
    let e = &args.experiment;
    let no_data = [&e.config, &e.data, &e.images, &e.idx_images]
        .iter()
        .all(|p| p.is_none())
        && e.dataset.is_none();
    if no_data {
        // The teacher's data, split as it was, so that rows held out from the teacher are
        // held out from the student too.
        config.data = teacher_config.data.clone();
        let (t, split) = (&mut config.training, &teacher_config.training);
        t.seed = e.seed.unwrap_or(split.seed);
        t.validation_fraction = e.validation.unwrap_or(split.validation_fraction);
        t.test_fraction = e.test.unwrap_or(split.test_fraction);
    }
    if e.loss.is_none() {
        config.loss.name = LossName::CrossEntropy;
    }
    let mut distill = DistillConfig::new(args.teacher.clone());
    distill.temperature = args.temperature.unwrap_or(distill.temperature);
    distill.alpha = args.alpha.unwrap_or(distill.alpha);
    let (temperature, alpha) = (distill.temperature, distill.alpha);
    config.loss.distill = Some(distill);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("artifacts").join(format!("distill-{}", config.data.name())));
    let _lock = crate::run_dir::lock::lock(&out)?;
    refuse_existing(&out, args.overwrite)?;
    let backend = args.backend.unwrap_or_else(BackendName::default_compiled);
    let job = DistillJob {
        teacher,
        teacher_config,
        teacher_info,
        config,
        out: RunDir::new(&out),
        quiet: args.quiet,
    };
    let report = run_on(backend, job)?;
    println!(
        "distilled from {} (T = {}, α = {}) into {}\nscored on {}\n\n{}",
        args.teacher.display(),
        temperature,
        alpha,
        out.display(),
        report.rows_from,
        report.text()
    );
    Ok(())
}

struct DistillJob {
    teacher: RunDir,
    teacher_config: ExperimentConfig,
    teacher_info: RunInfo,
    config: ExperimentConfig,
    out: RunDir,
    quiet: bool,
}

/// The table: each model, its parameters and its score.
struct Report {
    score_name: &'static str,
    rows: Vec<(&'static str, usize, f64)>,
    rows_from: String,
}

impl BackendJob for DistillJob {
    type Output = Report;

    fn run<B: AutodiffBackend>(self, backend: BackendName, device: B::Device) -> Result<Report> {
        let DistillJob {
            teacher: teacher_dir,
            teacher_config,
            teacher_info,
            mut config,
            out,
            quiet,
        } = self;
        let Loaded { data, .. } = config.load_data()?;
        fit_to_data(&mut config, &data)?;
        check_teacher(&teacher_dir, &teacher_info, &data)?;
        let teacher = teacher_dir.load_chosen::<B::InnerBackend>(
            &teacher_config,
            &teacher_info,
            false,
            &device,
        )?;
        let teacher_scaler = teacher_dir.load_scaler(&teacher_info)?;
        let distill = config.loss.distill.clone().expect("set by the command");
        let log_probs = {
            let rows = teacher_scaler.features(&data.features);
            let x = crate::data::features_tensor(&rows, data.width(), &device);
            let logits = class_logits(teacher.forward_rows(x), teacher_config.loss.name);
            soft_targets(logits, distill.temperature)
        };
        let taught = fit_taught::<B>(&config, &data, &device, &log_probs, !quiet)?;
        let mut alone_config = config.clone();
        alone_config.loss.distill = None;
        let alone = fit::<B>(&alone_config, &data, &device, None, !quiet)?;
        for trained in [&taught, &alone] {
            check_converged(trained, &config)?;
        }
        let (held, rows_from) = held_out(&config, &data, "student");
        let labels = data.labels();
        let scored = |model: &Network<B::InnerBackend>, loss, scaler| {
            score(model, loss, labels, scaler, &held, &device)
        };
        let teacher_score = scored(&teacher, teacher_config.loss.name, &teacher_scaler);
        let loss = config.loss.name;
        let taught_score = scored(&taught.chosen(), loss, &taught.scaler).score();
        let alone_score = scored(&alone.chosen(), loss, &alone.scaler).score();
        let mut extra = Map::new();
        extra.insert(
            "distilled".into(),
            json!({"teacher": teacher_dir.path.display().to_string(),
                   "teacher_score": teacher_score.score(), "alone_score": alone_score,
                   "distilled_score": taught_score, "scored_on": rows_from}),
        );
        save(&out, backend, &config, &data, &taught, extra, &device)?;
        let params = |m: &Network<B::InnerBackend>| m.num_params();
        Ok(Report {
            score_name: teacher_score.score_name(),
            rows: vec![
                ("teacher", params(&teacher), teacher_score.score()),
                ("student alone", params(&alone.chosen()), alone_score),
                ("student distilled", params(&taught.chosen()), taught_score),
            ],
            rows_from,
        })
    }
}

/// Refuses a teacher that reads other columns than the student's data, or names other classes.
fn check_teacher(teacher: &RunDir, info: &RunInfo, data: &Dataset) -> Result<()> {
    if info.feature_names != data.feature_names {
        return Err(Error::Usage(format!(
            "the teacher {} reads the columns {:?} but the student's data has {:?}; give the \
             student the teacher's columns",
            teacher.path.display(),
            info.feature_names,
            data.feature_names
        )));
    }
    if info.classes.as_deref() != data.labels() {
        return Err(Error::Usage(format!(
            "the teacher {} predicts the classes {:?} but the student's data has {:?}",
            teacher.path.display(),
            info.classes.as_deref().unwrap_or_default(),
            data.labels().unwrap_or_default()
        )));
    }
    Ok(())
}

/// The teacher's `log softmax(z/T)` of every row, row-major.
fn soft_targets<B: Backend>(logits: Tensor<B, 2>, temperature: f64) -> Vec<f32> {
    let soft = log_softmax(logits.div_scalar(temperature), 1);
    soft.into_data()
        .convert::<f32>()
        .to_vec()
        .expect("f32 values")
}

/// Refuses a student whose loss diverged.
fn check_converged<B: AutodiffBackend>(
    trained: &Trained<B>,
    config: &ExperimentConfig,
) -> Result<()> {
    match trained.stop {
        Stop::Diverged { epoch } => Err(Error::Training(format!(
            "the student diverged in epoch {epoch}; nothing was saved: try a smaller learning \
             rate than {}",
            config.optimizer.learning_rate
        ))),
        _ => Ok(()),
    }
}

/// One logit per class: a binary cross-entropy model's single logit z is the pair (0, z),
/// whose softmax is (1 − σ(z), σ(z)).
fn class_logits<B: Backend>(output: Tensor<B, 2>, loss: LossName) -> Tensor<B, 2> {
    match loss {
        LossName::BinaryCrossEntropy => Tensor::cat(vec![output.zeros_like(), output], 1),
        _ => output,
    }
}

/// Saves the distilled student as a run, with its pictures.
fn save<B: AutodiffBackend>(
    out: &RunDir,
    backend: BackendName,
    config: &ExperimentConfig,
    data: &Dataset,
    trained: &Trained<B>,
    extra: Map<String, serde_json::Value>,
    device: &B::Device,
) -> Result<()> {
    let info = RunInfo::new(backend, config, data, trained);
    out.save(config, &info, trained, extra)?;
    crate::plot::run::draw_run::<B>(
        &out.path,
        config,
        data,
        &trained.chosen(),
        &trained.scaler,
        &trained.history,
        device,
    )
}

impl Report {
    fn text(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|(name, params, score)| {
                vec![name.to_string(), params.to_string(), format!("{score:.4}")]
            })
            .collect();
        crate::plot::charts::table(&["model", "parameters", self.score_name], &rows, &[0])
    }
}
