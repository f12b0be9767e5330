//! `nnlab train`: train or resume a run, and save it.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::backend::AutodiffBackend;
use serde_json::Map;

use crate::backend::{BackendJob, BackendName, run_on};
use crate::cli::{NodeArgs, TrainArgs};
use crate::config::ExperimentConfig;
use crate::data::{Dataset, Loaded, Series};
use crate::distributed::{self, Node, Signature};
use crate::error::{Error, Result};
use crate::eval::baseline::Report;
use crate::eval::forecast::{Forecast, Setup};
use crate::eval::metrics::EpochRecord;
use crate::eval::metrics::Evaluation;
use crate::eval::predict::{Predictions, predict};
use crate::models::Network;
use crate::run_dir::{RunDir, RunInfo};
use crate::train::{Resume, Stop, Trained, fit_saving};

use super::experiment::{apply_common, fit_to_data, train_config};
use super::refuse_existing;

pub(super) fn train(args: TrainArgs) -> Result<()> {
    let backend = args.backend.unwrap_or_else(BackendName::default_compiled);
    let node = node_of(&args.node)?;
    let devices = devices_of(&args.node)?;
    // Of the nodes of a data-parallel run, node 0 writes.
    let writes = node.as_ref().is_none_or(|n| n.index == 0);
    // Held until the run is saved: a second writer of the directory is refused.
    let _lock;
    let job = match &args.resume {
        Some(dir) => {
            let out = args.out.clone().unwrap_or_else(|| dir.clone());
            _lock = writes
                .then(|| crate::run_dir::lock::lock(&out))
                .transpose()?;
            let from = RunDir::new(dir);
            let (mut config, info) = from.load_meta()?;
            apply_common(&mut config, &args);
            own_data(&mut config, &args)?;
            config.validate()?;
            if config.training.epochs <= info.epochs_done {
                return Err(Error::Usage(format!(
                    "{} has already trained {} epochs; pass --epochs N with N above that",
                    dir.display(),
                    info.epochs_done
                )));
            }
            if out != *dir && writes {
                refuse_existing(&out, args.overwrite)?;
            }
            TrainJob {
                config,
                out: RunDir::new(out),
                resume: Some((from, info)),
                quiet: args.quiet,
                node,
                devices,
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
            _lock = writes
                .then(|| crate::run_dir::lock::lock(&out))
                .transpose()?;
            if writes {
                refuse_existing(&out, args.overwrite)?;
            }
            TrainJob {
                config,
                out: RunDir::new(out),
                resume: None,
                quiet: args.quiet,
                node,
                devices,
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
    let done = report.history.len();
    let mut line = format!(
        "trained {} ({} steps) on {backend} in {:.2}s: {} {:.6}",
        match report.local_epochs {
            Some(e) => format!("{done} rounds of {e} local epochs on each node"),
            None => format!("{done} epochs"),
        },
        report.steps,
        report.train_seconds,
        match last.and_then(|r| r.train_g_loss.or(r.train_kl)) {
            Some(_) if last.is_some_and(|r| r.train_kl.is_some()) => "negative ELBO per row",
            Some(_) => "discriminator loss",
            None => "train loss",
        },
        last.map_or(f64::NAN, |r| r.train_loss)
    );
    if let Some(kl) = last.and_then(|r| r.train_kl) {
        line += &format!(" (KL term {kl:.6})");
    }
    if let Some(g) = last.and_then(|r| r.train_g_loss) {
        line += &format!(", generator loss {g:.6}");
    }
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
    if let Some(b) = &report.baselines {
        eprintln!("{}", b.line);
        if let Some(note) = &b.note {
            eprintln!("{note}");
        }
    }
    if let Some(forecast) = &report.forecast {
        eprint!("{}", forecast.table());
    }
    if let Some(line) = &report.reconstruction {
        eprintln!("{line}");
    }
    if let Stop::EarlyStopped { .. } = report.stop {
        eprintln!("{}", report.stop);
    }
    if let Some(best) = report.best_epoch {
        eprintln!("best validation loss in epoch {best}: predict and eval use its weights");
    }
    match writes {
        true => eprintln!("saved to {}", report.dir.display()),
        false => eprintln!("node 0 saves the run"),
    }
    Ok(())
}

/// A resumed federated node's own `--data`: the run's config names node 0's. Any other
/// resumed run reads the data it was trained on.
fn own_data(config: &mut ExperimentConfig, args: &TrainArgs) -> Result<()> {
    let Some(path) = &args.experiment.data else {
        return Ok(());
    };
    if config.training.local_epochs.is_none() || args.node.nodes.is_none() {
        return Err(Error::Usage(
            "--data with --resume is for the nodes of a federated run, which each read their \
             own data; a resumed run reads the data it was trained on"
                .into(),
        ));
    }
    config.data.csv = Some(std::fs::canonicalize(path).map_err(|e| Error::io(path, e))?);
    Ok(())
}

/// `--devices N` and its `--sync-timeout`.
fn devices_of(args: &NodeArgs) -> Result<Option<(usize, std::time::Duration)>> {
    match args.devices {
        Some(0) => Err(Error::Usage("--devices must be at least 1".into())),
        Some(n) => Ok(Some((
            n,
            std::time::Duration::from_secs(args.sync_timeout.max(1)),
        ))),
        None => Ok(None),
    }
}

/// The node a data-parallel run makes of this process, from `--nodes`, `--node`,
/// `--orchestrator` and `--node-address`; `None` without `--nodes`.
fn node_of(args: &NodeArgs) -> Result<Option<Node>> {
    let (Some(nodes), Some(index), Some(orchestrator)) =
        (args.nodes, args.node, args.orchestrator.clone())
    else {
        return Ok(None);
    };
    if nodes == 0 {
        return Err(Error::Usage("--nodes must be at least 1".into()));
    }
    if index >= nodes {
        return Err(Error::Usage(format!(
            "--node {index} is not one of the {nodes} nodes: give 0 to {}",
            nodes - 1
        )));
    }
    if args.sync_timeout == 0 {
        return Err(Error::Usage(
            "--sync-timeout must be at least 1 second".into(),
        ));
    }
    distributed::host_port(&orchestrator, "--orchestrator")?;
    let address = match &args.node_address {
        Some(a) => {
            distributed::host_port(a, "--node-address")?;
            a.clone()
        }
        None => format!("127.0.0.1:{}", distributed::free_port()?),
    };
    Ok(Some(Node {
        nodes,
        index,
        orchestrator,
        address,
        timeout: std::time::Duration::from_secs(args.sync_timeout),
        // Set from the run's settings (`training.local_epochs`) once they are known.
        federated: false,
        local: false,
    }))
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
    /// A series' test part forecast by the model and the baselines.
    pub forecast: Option<Forecast>,
    /// An autoencoder's reconstruction error beside PCA's, as a line to print.
    pub reconstruction: Option<String>,
    /// The passes of each federated round, whose rounds are the run's epochs.
    pub local_epochs: Option<usize>,
    /// The simple baselines on the same held-out rows.
    pub baselines: Option<Report>,
}

/// The one-step forecasts of a series' test part by the chosen model and the baselines;
/// `None` without a test part.
fn test_forecast<B: AutodiffBackend>(
    config: &ExperimentConfig,
    data: &Dataset,
    series: &Series,
    trained: &Trained<B>,
    device: &B::Device,
) -> Option<Forecast> {
    let split = crate::train::split_rows(config, data);
    if split.test.is_empty() {
        return None;
    }
    let test = data.subset(&split.test);
    let predicted = predict(
        &trained.chosen(),
        config.loss.name,
        None,
        &trained.scaler,
        &test.features,
        test.width(),
        device,
    );
    let Predictions::Values(values) = predicted else {
        return None;
    };
    let outputs: Vec<f64> = values.into_iter().map(f64::from).collect();
    let setup = Setup {
        series,
        windows: data,
        window: config.data.window(),
        horizon: config.data.horizon,
        base: config.data.target_base(),
        season: config.data.season(),
        split: &split,
    };
    Some(setup.forecast(&outputs))
}

/// An autoencoder's reconstruction MSE, in the input's units, on its held-out rows (else its
/// training rows) beside that of PCA with as many components, the optimal linear
/// autoencoder: whether the nonlinearity paid off. A line to print and its JSON.
fn reconstruction_report<B: AutodiffBackend>(
    config: &ExperimentConfig,
    data: &Dataset,
    trained: &Trained<B>,
    device: &B::Device,
) -> Result<Option<(String, serde_json::Value)>> {
    let Some(k) = config.model.code_size() else {
        return Ok(None);
    };
    let split = crate::train::split_rows(config, data);
    let (rows, part) = [(&split.valid, "validation"), (&split.test, "test")]
        .into_iter()
        .find(|(rows, _)| !rows.is_empty())
        .unwrap_or((&split.train, "training"));
    let shown = data.subset(rows).features;
    let train = data.subset(&split.train).features;
    let model =
        crate::eval::generative::reconstruct(&trained.chosen(), &trained.scaler, &shown, device);
    let pca = crate::eval::generative::pca_mse(&trained.scaler, &train, &shown, k)?;
    let verdict = match (model.mse() <= pca, config.model.kind()) {
        (true, _) => "the nonlinearity paid off",
        // Its KL term trades reconstruction for a code that can be sampled.
        (false, crate::models::Kind::Vae) => {
            "PCA reconstructs better, as it may: a VAE also keeps its code close to N(0, I) so \
             that it can be sampled (for the best reconstruction, train --model autoencoder)"
        }
        (false, _) => "PCA reconstructs better: try more epochs, wider layers, or PCA itself",
    };
    let line = format!(
        "reconstruction MSE on the {} {part} rows: {} {:.6}, PCA with {k} components {:.6}: {verdict}",
        rows.len(),
        config.model.kind_name(),
        model.mse(),
        pca
    );
    let json = serde_json::json!({
        "rows": part, "count": rows.len(), "mse": model.mse(), "pca_mse": pca, "components": k
    });
    Ok(Some((line, json)))
}

/// Trains (or resumes) a run and saves it.
pub struct TrainJob {
    pub config: ExperimentConfig,
    pub out: RunDir,
    pub resume: Option<(RunDir, RunInfo)>,
    pub quiet: bool,
    /// This process's place in a data-parallel run; `None` trains alone.
    pub node: Option<Node>,
    /// `--devices N` peers in this process, and how long each waits for the others.
    pub devices: Option<(usize, std::time::Duration)>,
}

impl TrainJob {
    /// `--devices N`: N copies of the job, on threads of their own, each registered as one
    /// of burn-collective's local peers and training in a rayon pool of its share of the
    /// cores. Device 0 writes the run and reports it.
    fn on_devices<B: AutodiffBackend>(
        self,
        (devices, timeout): (usize, std::time::Duration),
        backend: BackendName,
        device: B::Device,
    ) -> Result<TrainReport> {
        let threads = (rayon::current_num_threads() / devices).max(1);
        let results: Vec<Result<TrainReport>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..devices)
                .map(|d| {
                    let job = TrainJob {
                        config: self.config.clone(),
                        out: self.out.clone(),
                        resume: self.resume.clone(),
                        quiet: self.quiet || d > 0,
                        node: None,
                        devices: None,
                    };
                    let device = device.clone();
                    scope.spawn(move || {
                        let pool = rayon::ThreadPoolBuilder::new()
                            .num_threads(threads)
                            .build()
                            .map_err(|e| Error::Training(format!("device {d}: {e}")))?;
                        pool.install(|| {
                            let peer = Node::device(devices, d, timeout);
                            distributed::join_local::<B>(peer, &device)?;
                            job.run::<B>(backend, device)
                        })
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(Error::Training("a device's thread panicked".into()))
                    })
                })
                .collect()
        });
        let mut results = results.into_iter();
        let first = results.next().expect("at least one device");
        results.try_for_each(|r| r.map(drop))?;
        first
    }
}

impl BackendJob for TrainJob {
    type Output = TrainReport;

    fn run<B: AutodiffBackend>(
        self,
        backend: BackendName,
        device: B::Device,
    ) -> Result<TrainReport> {
        if let Some(devices) = self.devices.filter(|(n, _)| *n > 1) {
            return self.on_devices::<B>(devices, backend, device);
        }
        let TrainJob {
            mut config,
            out,
            resume,
            quiet,
            node,
            devices: _,
        } = self;
        let season = match resume.is_none() {
            true => config.fit_season(true)?.filter(|_| !quiet),
            false => None,
        };
        let Loaded {
            mut data,
            skipped: skipped_rows,
            series,
            ..
        } = config.load_data()?;
        season.inspect(|line| eprintln!("{line}"));
        if let Some(mut node) = node {
            node.federated = config.training.local_epochs.is_some();
            let signature = Signature::of(&config, &data, &node.address);
            let federated = node.federated;
            let classes = distributed::join::<B>(node, signature, &device)?;
            if let (true, Some(classes)) = (federated, classes) {
                data.relabel(&classes);
            }
        }
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
        let writes = distributed::writes();
        let mut save_every = |snapshot: &Trained<B>| {
            if !writes {
                return Ok(());
            }
            out.save(
                &config,
                &RunInfo::new(backend, &config, &data, snapshot),
                snapshot,
                Map::new(),
            )
        };
        let trained = fit_saving::<B>(&config, &data, &device, resume, !quiet, &mut save_every)?;
        distributed::leave::<B>()?;
        if let Stop::Diverged { epoch } = trained.stop {
            return Err(Error::Training(format!(
                "the training loss became NaN or infinite in epoch {epoch}; nothing was saved \
                 (an earlier checkpoint in {} is untouched): try a smaller learning rate than {}",
                out.path.display(),
                config.optimizer.learning_rate
            )));
        }
        let info = RunInfo::new(backend, &config, &data, &trained);
        let forecast = series
            .as_ref()
            .and_then(|s| test_forecast(&config, &data, s, &trained, &device));
        let mut extra = Map::new();
        if !writes {
            return Ok(report(
                &config,
                out.path,
                trained,
                skipped_rows,
                forecast,
                None,
            ));
        }
        if let Some(f) = &forecast {
            extra.insert("forecast".into(), f.to_json());
        }
        let reconstruction = reconstruction_report(&config, &data, &trained, &device)?;
        if let Some((_, json)) = &reconstruction {
            extra.insert("reconstruction".into(), json.clone());
        }
        let baselines = baseline_report(&config, &data, &trained);
        if let Some(b) = &baselines {
            extra.insert("baselines".into(), b.json.clone());
        }
        out.save(&config, &info, &trained, extra)?;
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
        crate::plot::run::draw_run::<B>(
            &out.path,
            &config,
            &data,
            &trained.chosen(),
            &trained.scaler,
            &trained.history,
            &device,
        )?;
        if let Some(f) = &forecast {
            let path = out.path.join("forecast.csv");
            crate::run_dir::record::write_atomic(&path, f.csv().as_bytes())?;
            let title = format!(
                "{}: one-step forecasts of the test part",
                config.data.name()
            );
            let target = data.target_name.as_str();
            crate::plot::forecast::plot_forecast(&out.path, &title, target, f)?;
        }
        let line = reconstruction.map(|(line, _)| line);
        let mut done = report(&config, out.path, trained, skipped_rows, forecast, line);
        done.baselines = baselines;
        Ok(done)
    }
}

/// The baselines ([`crate::eval::baseline`]) of a table's run, on its test rows, else its
/// validation rows; `None` for series (their forecast has its own), text, generative
/// models and federated nodes (whose rows are their own).
fn baseline_report<B: AutodiffBackend>(
    config: &ExperimentConfig,
    data: &Dataset,
    trained: &Trained<B>,
) -> Option<Report> {
    let skip = config.data.is_series() || config.data.is_text() || config.model.is_generative();
    if skip || distributed::current().is_some_and(|n| n.federated) {
        return None;
    }
    let split = crate::train::split_rows(config, data);
    let (rows, part, network) = match (&trained.test, &trained.valid) {
        (Some(t), _) if !split.test.is_empty() => (&split.test, "test", t),
        (_, Some(v)) if !split.valid.is_empty() => (&split.valid, "validation", v),
        _ => return None,
    };
    let found = crate::eval::baseline::baselines(&data.subset(&split.train), &data.subset(rows));
    let named = format!("the {} {part} rows", rows.len());
    Report::new(&found, network, &named, rows.len())
}

fn report<B: AutodiffBackend>(
    config: &ExperimentConfig,
    dir: PathBuf,
    trained: Trained<B>,
    skipped_rows: usize,
    forecast: Option<Forecast>,
    reconstruction: Option<String>,
) -> TrainReport {
    TrainReport {
        dir,
        history: trained.history,
        steps: trained.steps,
        train_seconds: trained.train_seconds,
        stop: trained.stop,
        best_epoch: trained.best.as_ref().map(|b| b.epoch),
        skipped_rows,
        valid: trained.valid,
        test: trained.test,
        forecast,
        reconstruction,
        local_epochs: config.training.local_epochs,
        baselines: None,
    }
}

/// The weights and scaling of another run, or of a SafeTensors file written by `nnlab export`,
/// as the start of a new one (`--init-from`).
pub(super) fn start_from<B: AutodiffBackend>(
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
    let model = config.model.init::<B>(config.training.seed, device);
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
    Ok(Resume {
        model: adopt(model, chosen, device)?,
        optimizer_state: None,
        history: Vec::new(),
        steps: 0,
        scaler: Some(from.load_scaler(&info)?),
        best: None,
        partial: None,
    })
}

/// `model` with the parameters (and statistics) of `source`, a model of the same shapes,
/// carried through a record, which holds parameters only: dropout and the activation stay
/// `model`'s (`from_inner` would take the source's).
pub(super) fn adopt<B: AutodiffBackend>(
    model: Network<B>,
    source: Network<B::InnerBackend>,
    device: &B::Device,
) -> Result<Network<B>> {
    let bytes = crate::run_dir::record::encode::<B::InnerBackend, _>(source.into_record())?;
    Ok(model.load_record(crate::run_dir::record::decode::<B, _>(
        &bytes, device, "weights",
    )?))
}
