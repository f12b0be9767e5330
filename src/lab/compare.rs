//! The optimizer lab: one model, trained from the same initial weights once per combination of
//! optimizer, learning rate and batch size, so that the loss curves differ by the optimizer
//! alone. Every variant uses the experiment's seed, hence the same weights, split and batch
//! order.

use std::path::Path;
use std::time::Instant;

use burn::config::Config;
use burn::tensor::ElementConversion;
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

use crate::config::{BatchSize, ExperimentConfig, TrainLoss};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::loss::Loss;
use crate::optim::OptimizerName;
use crate::plot::charts::{Curve, LossPlot, plot_losses};
use crate::run_dir::record::write_atomic;
use crate::train::{self, Stop, fit};

/// What to compare: every combination of the listed optimizers, learning rates and batch
/// sizes. Empty `learning_rates` mean the experiment's; empty `batch_sizes` mean the
/// experiment's for every optimizer but `gd`, which then takes the full batch: batch gradient
/// descent, as the textbook defines it (with a batch of 32 it would be `sgd` again).
#[derive(Config, Debug, PartialEq)]
pub struct CompareConfig {
    /// The optimizers, each trained from the same initial weights.
    #[config(default = "OptimizerName::CLASSIC.to_vec()")]
    pub optimizers: Vec<OptimizerName>,
    /// Learning rates α; empty for the experiment's `optimizer.learning_rate`.
    #[config(default = "Vec::new()")]
    pub learning_rates: Vec<f64>,
    /// Batch sizes; empty for the experiment's `training.batch_size` (`full` for `gd`).
    #[config(default = "Vec::new()")]
    pub batch_sizes: Vec<BatchSize>,
    /// Regularizers, each added to the experiment alone: `none`, `l1=λ`, `l2=λ`,
    /// `weight_decay=λ`, `dropout=p`, `batch_norm`, `early_stop=patience`.
    #[config(default = "vec![Regularizer::None]")]
    pub regularizers: Vec<Regularizer>,
    /// The training loss whose first crossing is reported; unset for 1.1 × the lowest training
    /// loss any variant reached.
    pub target_loss: Option<f64>,
    /// A variant has diverged once its training loss is NaN, infinite, or above this many
    /// times the initial model's loss.
    #[config(default = 100.0)]
    pub divergence_factor: f64,
}

impl CompareConfig {
    /// The same plan with an empty list of learning rates replaced by the experiment's.
    pub fn resolved(&self, base: &ExperimentConfig) -> Self {
        let mut plan = self.clone();
        if plan.learning_rates.is_empty() {
            plan.learning_rates = vec![base.optimizer.learning_rate];
        }
        plan
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        if self.optimizers.is_empty() {
            return Err(Error::config("optimizers", "lists no optimizer"));
        }
        if let Some(t) = self.target_loss
            && !(t.is_finite() && t > 0.0)
        {
            return Err(Error::config(
                "target_loss",
                format!("must be a positive number, got {t}"),
            ));
        }
        let f = self.divergence_factor;
        if !(f.is_finite() && f > 1.0) {
            return Err(Error::config(
                "divergence_factor",
                format!("must be a number above 1, got {f}"),
            ));
        }
        no_repeats("optimizers", &self.optimizers, |o| o.as_str().to_string())?;
        no_repeats("learning_rates", &self.learning_rates, f64::to_string)?;
        no_repeats("batch_sizes", &self.batch_sizes, BatchSize::to_string)?;
        if self.regularizers.is_empty() {
            return Err(Error::config(
                "regularizers",
                "lists none (use `none` for no regularizer)",
            ));
        }
        no_repeats("regularizers", &self.regularizers, Regularizer::to_string)
    }

    /// Every combination, optimizers outermost, in the order listed.
    pub fn variants(&self, base: &ExperimentConfig) -> Vec<Variant> {
        let plan = self.resolved(base);
        let mut out = Vec::new();
        for &optimizer in &plan.optimizers {
            let batch_sizes = match (plan.batch_sizes.is_empty(), optimizer) {
                (false, _) => plan.batch_sizes.clone(),
                (true, OptimizerName::Gd) => vec![BatchSize::Full],
                (true, _) => vec![base.training.batch_size],
            };
            for &learning_rate in &plan.learning_rates {
                for &batch_size in &batch_sizes {
                    for &regularizer in &plan.regularizers {
                        out.push(Variant {
                            optimizer,
                            learning_rate,
                            batch_size,
                            regularizer,
                        });
                    }
                }
            }
        }
        out
    }
}

fn no_repeats<T>(field: &str, items: &[T], show: impl Fn(&T) -> String) -> Result<()> {
    let names: Vec<String> = items.iter().map(show).collect();
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(Error::config(field, format!("lists {name} twice")));
        }
    }
    Ok(())
}

/// One trained variant's settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    pub optimizer: OptimizerName,
    pub learning_rate: f64,
    pub batch_size: BatchSize,
    pub regularizer: Regularizer,
}

impl Variant {
    /// The experiment with this variant's optimizer, learning rate, batch size and
    /// regularizer.
    pub fn config(&self, base: &ExperimentConfig) -> Result<ExperimentConfig> {
        let mut config = base.clone();
        config.optimizer.name = self.optimizer;
        config.optimizer.learning_rate = self.learning_rate;
        config.training.batch_size = self.batch_size;
        match self.regularizer {
            Regularizer::None => {}
            Regularizer::L1(lambda) => config.loss.l1 = lambda,
            Regularizer::L2(lambda) => config.loss.l2 = lambda,
            Regularizer::Dropout(p) => config.model.set_dropout(p),
            Regularizer::BatchNorm => config.model.set_batch_norm()?,
            Regularizer::EarlyStop(patience) => config.training.patience = Some(patience),
            Regularizer::WeightDecay(lambda) => config.optimizer.set_weight_decay(lambda)?,
        }
        Ok(config)
    }

    /// A short name, e.g. `adam α=0.01 batch=32`, giving the optimizer and those settings
    /// that differ between `variants`.
    pub fn label(&self, variants: &[Variant]) -> String {
        let mut label = self.optimizer.as_str().to_string();
        if variants
            .iter()
            .any(|v| v.learning_rate != self.learning_rate)
        {
            label += &format!(" α={}", self.learning_rate);
        }
        if variants.iter().any(|v| v.batch_size != self.batch_size) {
            label += &format!(" batch={}", self.batch_size);
        }
        if variants.iter().any(|v| v.regularizer != self.regularizer) {
            label += &format!(" {}", self.regularizer);
        }
        label
    }
}

/// One regularizer added to the experiment, as written on the command line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Regularizer {
    None,
    L1(f64),
    L2(f64),
    Dropout(f64),
    BatchNorm,
    /// Early stopping with this patience (needs a validation split).
    EarlyStop(usize),
    /// The optimizer's own weight decay (not `gd` or `momentum`).
    WeightDecay(f64),
}

impl std::fmt::Display for Regularizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Regularizer::None => f.write_str("none"),
            Regularizer::L1(l) => write!(f, "l1={l}"),
            Regularizer::L2(l) => write!(f, "l2={l}"),
            Regularizer::Dropout(p) => write!(f, "dropout={p}"),
            Regularizer::BatchNorm => f.write_str("batch_norm"),
            Regularizer::EarlyStop(n) => write!(f, "early_stop={n}"),
            Regularizer::WeightDecay(l) => write!(f, "weight_decay={l}"),
        }
    }
}

impl std::str::FromStr for Regularizer {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let (name, value) = match s.trim().split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (s.trim(), None),
        };
        let number = |what: &str| -> std::result::Result<f64, String> {
            value
                .ok_or_else(|| format!("`{name}` needs a value: {name}={what}"))?
                .parse()
                .map_err(|_| format!("`{s}`: {what} must be a number"))
        };
        match name {
            "none" => Ok(Regularizer::None),
            "l1" => number("λ").map(Regularizer::L1),
            "l2" => number("λ").map(Regularizer::L2),
            "dropout" => number("p").map(Regularizer::Dropout),
            "batch_norm" | "batch-norm" => Ok(Regularizer::BatchNorm),
            "weight_decay" | "weight-decay" => number("λ").map(Regularizer::WeightDecay),
            "early_stop" | "early-stop" => {
                let n = number("patience")?;
                if n >= 1.0 && n.fract() == 0.0 {
                    Ok(Regularizer::EarlyStop(n as usize))
                } else {
                    Err(format!(
                        "`{s}`: the patience must be a whole number of epochs"
                    ))
                }
            }
            _ => Err(format!(
                "`{s}` is not a regularizer; expected none, l1=λ, l2=λ, weight_decay=λ, dropout=p, batch_norm or early_stop=N"
            )),
        }
    }
}

impl Serialize for Regularizer {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Regularizer {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// The state after one epoch of a variant; epoch 0 is the initial model.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub epoch: usize,
    /// Gradient steps taken so far.
    pub step: u64,
    /// The model's loss on the training rows after the epoch (epoch 0: the initial model).
    pub train_loss: f64,
    pub valid_loss: Option<f64>,
    /// Training time of this variant so far.
    pub elapsed_ms: f64,
}

/// One variant's curve and verdict.
#[derive(Clone, Debug)]
pub struct VariantRun {
    pub variant: Variant,
    pub points: Vec<Point>,
    /// Wall time of the variant's training loop.
    pub seconds: f64,
    /// The first epoch whose training loss was NaN, infinite or above the divergence bound.
    pub diverged_at: Option<usize>,
}

impl VariantRun {
    /// Training losses after epoch 0.
    fn losses(&self) -> impl Iterator<Item = (usize, f64)> + '_ {
        self.points.iter().skip(1).map(|p| (p.epoch, p.train_loss))
    }

    /// The last epoch's training loss.
    pub fn final_loss(&self) -> f64 {
        self.points.last().map_or(f64::NAN, |p| p.train_loss)
    }

    /// The lowest training loss of any epoch (NaN if none was finite).
    pub fn best_loss(&self) -> f64 {
        self.losses()
            .map(|(_, l)| l)
            .filter(|l| l.is_finite())
            .fold(f64::NAN, f64::min)
    }

    /// The lowest validation loss of any epoch after the first (what the best checkpoint
    /// keeps), when the variant validates.
    pub fn best_valid_loss(&self) -> Option<f64> {
        self.points
            .iter()
            .skip(1)
            .filter_map(|p| p.valid_loss)
            .filter(|l| l.is_finite())
            .reduce(f64::min)
    }

    /// The first epoch whose training loss was below `target`.
    pub fn epoch_below(&self, target: f64) -> Option<usize> {
        self.losses().find(|&(_, l)| l < target).map(|(e, _)| e)
    }
}

/// Every variant of a comparison, with what they share.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// The experiment every variant shares (with its data-fitted model sizes).
    pub base: ExperimentConfig,
    pub plan: CompareConfig,
    pub runs: Vec<VariantRun>,
    /// The initial model's loss on the training rows (the same for every variant).
    pub initial_loss: f64,
    /// Training losses above this count as divergence.
    pub divergence_bound: f64,
    /// The signal that stopped the comparison before every variant was trained, if one did;
    /// `runs` then holds the variants finished before it.
    pub stopped_by: Option<i32>,
}

impl Comparison {
    /// The settings of every variant, in the order trained.
    pub fn variants(&self) -> Vec<Variant> {
        self.runs.iter().map(|r| r.variant).collect()
    }

    /// The target loss: the plan's, else 1.1 × the lowest training loss of any variant that
    /// did not diverge.
    pub fn target_loss(&self) -> Option<f64> {
        self.plan.target_loss.or_else(|| {
            let best = self
                .runs
                .iter()
                .filter(|r| r.diverged_at.is_none())
                .map(VariantRun::best_loss)
                .fold(f64::NAN, f64::min);
            best.is_finite().then_some(1.1 * best)
        })
    }
}

/// Trains every variant of `plan` on `data`, calling `done` after each.
///
/// Every variant is checked before the first one trains ([`check_variants`]). A variant that
/// diverges is recorded, not an error: showing it is the point. A signal (Ctrl-C) ends the
/// comparison with the variants finished before it, marked by `stopped_by`.
pub fn compare<B: AutodiffBackend>(
    base: &ExperimentConfig,
    plan: &CompareConfig,
    data: &Dataset,
    device: &B::Device,
    progress: bool,
    mut done: impl FnMut(&VariantRun),
) -> Result<Comparison> {
    // Curves of exact losses: a running mean over batches would favour small batches.
    let mut base = base.clone();
    base.training.train_loss = TrainLoss::EndOfEpoch;
    let base = &base;
    let plan = plan.resolved(base);
    let variants = plan.variants(base);
    check_variants(base, &plan, data)?;
    let prepared = train::prepare(base, data, None);
    let (train_set, valid_set) = (prepared.train, prepared.valid.map(|(scaled, _)| scaled));
    let model = base
        .model
        .init::<B::InnerBackend>(base.training.seed, device);
    let loss_fn: Loss<B::InnerBackend> = base.loss.init(device);
    let loss_of = |set: &Dataset| -> f64 {
        let output = model.forward_rows(set.feature_tensor(device));
        loss_fn
            .forward(output, &set.target_tensor(device))
            .into_scalar()
            .elem()
    };
    let initial_loss = loss_of(&train_set);
    let initial_valid = valid_set.as_ref().map(loss_of);
    let divergence_bound = if initial_loss > 0.0 {
        plan.divergence_factor * initial_loss
    } else {
        f64::INFINITY
    };

    let mut runs = Vec::new();
    let mut stopped_by = None;
    for variant in variants {
        let config = variant.config(base)?;
        let start = Instant::now();
        let trained = fit::<B>(&config, data, device, None, progress)?;
        if let Stop::Interrupted { signal, .. } = trained.stop {
            stopped_by = Some(signal);
            break;
        }
        let seconds = start.elapsed().as_secs_f64();
        let per_epoch = train::steps_per_epoch(&config, train_set.rows());
        let mut points = vec![Point {
            epoch: 0,
            step: 0,
            train_loss: initial_loss,
            valid_loss: initial_valid,
            elapsed_ms: 0.0,
        }];
        points.extend(
            trained
                .history
                .iter()
                .zip(&trained.epoch_seconds)
                .map(|(r, s)| Point {
                    epoch: r.epoch,
                    step: r.epoch as u64 * per_epoch,
                    train_loss: r.train_loss,
                    valid_loss: r.valid_loss,
                    elapsed_ms: 1000.0 * s,
                }),
        );
        let diverged_at = points
            .iter()
            .skip(1)
            .find(|p| p.train_loss.is_nan() || p.train_loss > divergence_bound)
            .map(|p| p.epoch);
        let run = VariantRun {
            variant,
            points,
            seconds,
            diverged_at,
        };
        done(&run);
        runs.push(run);
    }
    Ok(Comparison {
        base: base.clone(),
        plan,
        runs,
        initial_loss,
        divergence_bound,
        stopped_by,
    })
}

/// Checks the plan and that every variant can train on `data` before the first one does, so
/// a bad batch size or learning rate fails at once rather than after minutes of work. Returns
/// a note when a batch size exceeds the training rows.
pub fn check_variants(
    base: &ExperimentConfig,
    plan: &CompareConfig,
    data: &Dataset,
) -> Result<Option<String>> {
    let plan = plan.resolved(base);
    plan.validate()?;
    let mut note = None;
    for variant in plan.variants(base) {
        note = note.or(train::check(&variant.config(base)?, data)?);
    }
    Ok(note)
}

/// The long-format history: one row per variant and epoch (epoch 0 is the initial model).
pub fn history_csv(comparison: &Comparison) -> Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| Error::Training(format!("could not write the history: {e}"));
    out.write_record([
        "optimizer",
        "learning_rate",
        "batch_size",
        "epoch",
        "step",
        "train_loss",
        "valid_loss",
        "elapsed_ms",
        "regularizer",
    ])
    .map_err(fail)?;
    for run in &comparison.runs {
        let v = run.variant;
        for p in &run.points {
            out.write_record([
                v.optimizer.as_str().to_string(),
                v.learning_rate.to_string(),
                v.batch_size.to_string(),
                p.epoch.to_string(),
                p.step.to_string(),
                p.train_loss.to_string(),
                p.valid_loss.map_or(String::new(), |l| l.to_string()),
                format!("{:.3}", p.elapsed_ms),
                v.regularizer.to_string(),
            ])
            .map_err(fail)?;
        }
    }
    out.into_inner()
        .map_err(|e| Error::Training(format!("could not write the history: {e}")))
}

/// A loss for a table cell: fixed-point where that reads well, else scientific.
fn show_loss(loss: f64) -> String {
    if loss.is_nan() {
        "NaN".into()
    } else if loss == 0.0 || (1e-4..1e5).contains(&loss.abs()) {
        format!("{loss:.6}")
    } else {
        format!("{loss:.3e}")
    }
}

impl Comparison {
    /// The comparison as a text table, one row per variant.
    pub fn table(&self) -> String {
        let target = self.target_loss();
        let validating = self
            .runs
            .iter()
            .any(|r| r.points.iter().any(|p| p.valid_loss.is_some()));
        let below = match target {
            Some(t) => format!("epoch < {}", show_loss(t)),
            None => "epoch < target".into(),
        };
        let regularized = self
            .runs
            .iter()
            .any(|r| r.variant.regularizer != Regularizer::None);
        let mut header = vec!["optimizer", "α", "batch"];
        if regularized {
            header.push("regularizer");
        }
        header.extend(["final loss", "best loss", below.as_str()]);
        if validating {
            header.extend(["final valid loss", "best valid loss"]);
        }
        header.extend(["seconds", "status"]);
        let rows: Vec<Vec<String>> = self
            .runs
            .iter()
            .map(|r| {
                let v = r.variant;
                let mut row = vec![
                    v.optimizer.as_str().to_string(),
                    v.learning_rate.to_string(),
                    v.batch_size.to_string(),
                ];
                if regularized {
                    row.push(v.regularizer.to_string());
                }
                row.extend([
                    show_loss(r.final_loss()),
                    show_loss(r.best_loss()),
                    target
                        .and_then(|t| r.epoch_below(t))
                        .map_or("never".into(), |e| e.to_string()),
                ]);
                if validating {
                    let valid = r.points.last().and_then(|p| p.valid_loss);
                    row.push(valid.map_or(String::new(), show_loss));
                    row.push(r.best_valid_loss().map_or(String::new(), show_loss));
                }
                row.push(format!("{:.3}", r.seconds));
                row.push(match r.diverged_at {
                    Some(e) => format!("diverged at epoch {e}"),
                    None => "ok".into(),
                });
                row
            })
            .collect();
        let mut left = vec![0, 1, 2, header.len() - 1];
        if regularized {
            left.push(3);
        }
        crate::plot::charts::table(&header, &rows, &left)
    }

    /// The numbers of [`Comparison::table`] as JSON, for programs.
    pub fn summary_json(&self) -> serde_json::Value {
        let target = self.target_loss();
        let finite = |x: f64| x.is_finite().then_some(x);
        let variants: Vec<serde_json::Value> = self
            .runs
            .iter()
            .map(|r| {
                serde_json::json!({
                    "optimizer": r.variant.optimizer,
                    "learning_rate": r.variant.learning_rate,
                    "batch_size": r.variant.batch_size,
                    "epochs": r.points.len() - 1,
                    "final_train_loss": finite(r.final_loss()),
                    "best_train_loss": finite(r.best_loss()),
                    "epoch_below_target": target.and_then(|t| r.epoch_below(t)),
                    "regularizer": r.variant.regularizer,
                    "final_valid_loss": r.points.last().and_then(|p| p.valid_loss).and_then(finite),
                    "best_valid_loss": r.best_valid_loss(),
                    "seconds": r.seconds,
                    "diverged": r.diverged_at.is_some(),
                    "diverged_at_epoch": r.diverged_at,
                })
            })
            .collect();
        serde_json::json!({
            "complete": self.stopped_by.is_none(),
            "initial_loss": self.initial_loss,
            "divergence_bound": finite(self.divergence_bound),
            "target_loss": target,
            "variants": variants,
        })
    }

    /// Writes the comparison to `dir`: `config.json` (the shared experiment), `compare.json`
    /// (the plan), `history.csv`, `summary.json`, `curves.png` and `curves.svg`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let base = &self.base;
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let pretty = |v: &serde_json::Value| {
            serde_json::to_string_pretty(v).expect("JSON values serialize") + "\n"
        };
        write_atomic(&dir.join("config.json"), base.to_json().as_bytes())?;
        write_atomic(
            &dir.join("compare.json"),
            pretty(&serde_json::to_value(&self.plan).expect("plan serializes")).as_bytes(),
        )?;
        write_atomic(&dir.join(HISTORY), &history_csv(self)?)?;
        write_atomic(
            &dir.join("summary.json"),
            pretty(&self.summary_json()).as_bytes(),
        )?;
        if self.runs.is_empty() {
            return Ok(()); // stopped in the first variant: no curve to draw
        }
        let variants = self.variants();
        // Training loss solid; validation loss dashed in the same colour, when there is one.
        let mut curves = Vec::new();
        for (i, r) in self.runs.iter().enumerate() {
            let label = r.variant.label(&variants);
            curves.push(Curve {
                color: i,
                dashed: false,
                label: match r.diverged_at {
                    Some(_) => format!("{label} (diverged)"),
                    None => label.clone(),
                },
                points: r
                    .points
                    .iter()
                    .map(|p| (p.epoch as f64, p.train_loss))
                    .collect(),
            });
            let valid: Vec<(f64, f64)> = r
                .points
                .iter()
                .filter_map(|p| Some((p.epoch as f64, p.valid_loss?)))
                .collect();
            if !valid.is_empty() {
                curves.push(Curve {
                    color: i,
                    dashed: true,
                    label: format!("{label}, validation"),
                    points: valid,
                });
            }
        }
        let loss = serde_json::to_value(base.loss.name)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let mut title = format!("{}: {loss}, same initial weights", base.data.name());
        if let Some(first) = variants.first() {
            if variants
                .iter()
                .all(|v| v.learning_rate == first.learning_rate)
            {
                title += &format!(", α = {}", first.learning_rate);
            }
            if variants.iter().all(|v| v.batch_size == first.batch_size) {
                title += &format!(", batch {}", first.batch_size);
            }
        }
        let plot = LossPlot {
            title: &title,
            y_label: &format!("{loss} (log scale)"),
            y_cap: self.divergence_bound.min(f64::MAX),
        };
        plot_losses(dir, "curves", &plot, &curves)
    }
}

/// The file that marks a directory as holding a comparison.
pub const HISTORY: &str = "history.csv";
