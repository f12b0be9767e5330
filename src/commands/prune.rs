//! `nnlab prune`: a saved run pruned by magnitude ([`crate::compress::prune`]) to each sparsity
//! asked for, scored straight after pruning and after fine-tuning with the pruned weights held
//! at zero; each fine-tuned run is saved, and a table and a picture compare them.

use std::path::PathBuf;

use burn::tensor::backend::AutodiffBackend;
use serde_json::{Map, json};

use crate::backend::{BackendJob, BackendName, run_on};
use crate::cli::PruneArgs;
use crate::compress::prune::{Zeros, prune, zeros};
use crate::config::ExperimentConfig;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::eval::predict::score;
use crate::models::Network;
use crate::plot::sparsity::{SparsityPlot, plot_sparsity};
use crate::run_dir::record::write_atomic;
use crate::run_dir::{RunDir, RunInfo};
use crate::train::{Resume, Stop, Trained, fit};

use super::input::{Input, run_data};
use super::refuse_existing;
use super::train::adopt;

/// The table `prune` writes beside its runs.
pub const PRUNE_CSV: &str = "prune.csv";

pub(super) fn prune_command(args: PruneArgs) -> Result<()> {
    let from = RunDir::new(&args.checkpoint);
    let (config, info) = from.load_meta()?;
    super::refuse_generative(&config, &from.path.display().to_string(), "prune")?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| super::beside(&args.checkpoint, "pruned"));
    let runs: Vec<RunDir> = args
        .sparsity
        .iter()
        .map(|s| RunDir::new(out.join(format!("sparsity-{s:.2}"))))
        .collect();
    for run in &runs {
        refuse_existing(&run.path, args.overwrite)?;
    }
    if out.join(PRUNE_CSV).exists() && !args.overwrite {
        return Err(Error::Usage(format!(
            "{} already holds a pruning; pass --overwrite to replace it or --out to choose \
             another directory",
            out.display()
        )));
    }
    let backend = args.backend.unwrap_or_else(BackendName::default_compiled);
    let job = PruneJob {
        from,
        config,
        info,
        input: Input::given(&args.source),
        plan: args.sparsity.iter().copied().zip(runs).collect(),
        epochs: args.fine_tune_epochs as usize,
        last: args.last,
    };
    let report = run_on(backend, job)?;
    write_atomic(&out.join(PRUNE_CSV), &report.csv()?)?;
    plot_sparsity(
        &out,
        &SparsityPlot {
            title: &format!("{}: magnitude pruning", args.checkpoint.display()),
            score: report.score_name,
            original: report.original,
            points: &report
                .rows
                .iter()
                .map(|r| (r.sparsity, r.pruned, r.tuned))
                .collect::<Vec<_>>(),
        },
    )?;
    println!(
        "{} pruned (global magnitude), fine-tuned {} epochs with the pruned weights held at \
         zero, into {}\nscored on {}\n\n{}",
        args.checkpoint.display(),
        args.fine_tune_epochs,
        out.display(),
        report.rows_from,
        report.text()
    );
    Ok(())
}

struct PruneJob {
    from: RunDir,
    config: ExperimentConfig,
    info: RunInfo,
    input: Option<Input>,
    /// Each sparsity and the run it is saved as.
    plan: Vec<(f64, RunDir)>,
    epochs: usize,
    last: bool,
}

/// One sparsity's row of the table.
struct Row {
    sparsity: f64,
    zeros: Zeros,
    pruned: f64,
    tuned: f64,
    run: PathBuf,
}

struct Report {
    score_name: &'static str,
    original: f64,
    rows: Vec<Row>,
    rows_from: String,
}

impl BackendJob for PruneJob {
    type Output = Report;

    fn run<B: AutodiffBackend>(self, backend: BackendName, device: B::Device) -> Result<Report> {
        let PruneJob {
            from,
            config,
            info,
            input,
            plan,
            epochs,
            last,
        } = self;
        let data = run_data(&config, &info, "")?;
        let (scored, rows_from) = Input::scored(input.as_ref(), &config, &info, Some(&data))?;
        let scaler = from.load_scaler(&info)?;
        let classes = info.classes.as_deref();
        let evaluate = |model: &Network<B::InnerBackend>| {
            score(model, config.loss.name, classes, &scaler, &scored, &device)
        };
        let source = from.load_chosen::<B::InnerBackend>(&config, &info, last, &device)?;
        let original = evaluate(&source);
        let mut tune = config.clone();
        tune.training.epochs = epochs;
        tune.training.keep_zeros = true;
        tune.training.init_from = Some(from.path.clone());
        tune.training.checkpoint_every = None;
        let mut rows = Vec::new();
        for (sparsity, run) in plan {
            let (pruned, count) = prune(source.clone(), sparsity);
            let before = evaluate(&pruned).score();
            let trained = fine_tune::<B>(&tune, &data, pruned, &scaler, &device)?;
            if let Stop::Diverged { epoch } = trained.stop {
                return Err(Error::Training(format!(
                    "fine-tuning at sparsity {sparsity} diverged in epoch {epoch}; nothing was \
                     saved for it"
                )));
            }
            let chosen = trained.chosen();
            let mut extra = Map::new();
            extra.insert(
                "pruned".into(),
                json!({"sparsity": sparsity, "zeros": count.zeros, "weights": count.weights,
                       "from": from.path.display().to_string()}),
            );
            let run_info = RunInfo::new(backend, &tune, &data, &trained);
            run.save(&tune, &run_info, &trained, extra)?;
            rows.push(Row {
                sparsity,
                zeros: zeros(&chosen),
                pruned: before,
                tuned: evaluate(&chosen).score(),
                run: run.path,
            });
        }
        Ok(Report {
            score_name: original.score_name(),
            original: original.score(),
            rows,
            rows_from,
        })
    }
}

/// Trains `pruned` on `data` as `tune` says (with `training.keep_zeros`), from a fresh
/// optimizer and the source run's scaling.
fn fine_tune<B: AutodiffBackend>(
    tune: &ExperimentConfig,
    data: &Dataset,
    pruned: Network<B::InnerBackend>,
    scaler: &crate::data::scale::Scaler,
    device: &B::Device,
) -> Result<Trained<B>> {
    let template = tune.model.init::<B>(tune.training.seed, device);
    let resume = Resume {
        model: adopt(template, pruned, device)?,
        optimizer_state: None,
        history: Vec::new(),
        steps: 0,
        scaler: Some(scaler.clone()),
        best: None,
        partial: None,
    };
    fit::<B>(tune, data, device, Some(resume), false)
}

impl Report {
    fn header(&self) -> Vec<String> {
        let s = self.score_name;
        ["sparsity", "zeros", "weights"]
            .iter()
            .map(|h| h.to_string())
            .chain([
                format!("{s} pruned"),
                format!("{s} fine-tuned"),
                format!("{s} not pruned"),
                "run".into(),
            ])
            .collect()
    }

    fn cells(&self) -> Vec<Vec<String>> {
        self.rows
            .iter()
            .map(|r| {
                vec![
                    format!("{:.2}", r.sparsity),
                    r.zeros.zeros.to_string(),
                    r.zeros.weights.to_string(),
                    format!("{:.4}", r.pruned),
                    format!("{:.4}", r.tuned),
                    format!("{:.4}", self.original),
                    r.run.display().to_string(),
                ]
            })
            .collect()
    }

    fn text(&self) -> String {
        let header = self.header();
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        crate::plot::charts::table(&header, &self.cells(), &[6])
    }

    fn csv(&self) -> Result<Vec<u8>> {
        super::csv_bytes(PRUNE_CSV, &self.header(), &self.cells())
    }
}
