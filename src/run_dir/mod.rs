//! Run directories: everything needed to predict with, inspect or resume a run, written
//! atomically so that a crash never leaves a half-written file behind.
//!
//! ```text
//! DIR/config.json     the experiment config (with the model's input and output sizes)
//! DIR/run.json        format version, backend, epochs and steps done, column names, classes
//! DIR/scaler.json     the preprocessing fitted on the training rows
//! DIR/model.mpk       the weights after the last epoch (Burn's named MessagePack record, full
//!                     precision)
//! DIR/best.mpk        the weights of the epoch with the lowest validation loss (validating runs)
//! DIR/optimizer.mpk   the optimizer's state, for resuming
//! DIR/metrics.csv     one row per epoch: losses, validation metrics, learning rate
//! DIR/summary.json    the final numbers
//! ```

pub mod lock;
pub mod record;
pub mod safetensors;
pub mod state;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::tensor::backend::{AutodiffBackend, Backend};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::backend::{BackendName, run_on_host};
use crate::compress::quantize::{DequantizeRecord, Scheme};
use crate::config::ExperimentConfig;
use crate::data::Dataset;
use crate::data::scale::Scaler;
use crate::error::{Error, Result};
use crate::eval::metrics::{EpochRecord, Evaluation};
use crate::loss::Task;
use crate::models::Network;
use record::{write_atomic, write_synced};
use state::{Best, PartialEpoch, Resume, Stop, Trained};

/// Version of the run-directory layout; a directory from another version is refused.
pub const FORMAT_VERSION: u32 = 2;

const CONFIG: &str = "config.json";
const RUN: &str = "run.json";
const MODEL: &str = "model.mpk";
const SCALER: &str = "scaler.json";
const BEST: &str = "best.mpk";
const OPTIMIZER: &str = "optimizer.mpk";
const METRICS: &str = "metrics.csv";
const SUMMARY: &str = "summary.json";
/// Lists the files of a save in progress once all of them are written (see [`RunDir::save`]).
const COMMIT: &str = "commit.json";
/// The suffix of a file written for a save that has not been committed yet.
const NEXT: &str = ".next";

/// What a run directory records besides the config: how far training got and what the
/// columns were called.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub format_version: u32,
    /// The backend that trained the weights last (any backend can load them).
    pub backend: String,
    pub task: Task,
    pub epochs_done: usize,
    pub steps: u64,
    /// Feature columns, in the order the model reads them.
    pub feature_names: Vec<String>,
    pub target_name: String,
    /// Class labels by index (classification only).
    pub classes: Option<Vec<String>>,
    /// The epoch whose weights `best.mpk` holds (runs with a validation split).
    pub best_epoch: Option<usize>,
    /// How far the epoch after `epochs_done` got, when a signal stopped training inside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial_epoch: Option<PartialEpoch>,
    /// FNV-1a 64 of each binary file (weights, optimizer state), checked when it is read: the
    /// text files are for people to read and may be edited, these are not.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub checksums: BTreeMap<String, String>,
    /// How `model.mpk` is quantized, for a run written by `nnlab quantize`: it predicts but
    /// does not resume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantization: Option<Scheme>,
    /// How many nodes trained the run data-parallel (`train --nodes`); absent for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<usize>,
}

impl RunInfo {
    /// Describes a run trained on `backend` from `data`.
    pub fn new<B: AutodiffBackend>(
        backend: BackendName,
        config: &ExperimentConfig,
        data: &Dataset,
        trained: &Trained<B>,
    ) -> Self {
        RunInfo {
            format_version: FORMAT_VERSION,
            backend: backend.to_string(),
            task: config.task(),
            epochs_done: trained.history.len(),
            steps: trained.steps,
            feature_names: data.feature_names.clone(),
            target_name: data.target_name.clone(),
            classes: data.labels().map(<[_]>::to_vec),
            best_epoch: trained.best.as_ref().map(|b| b.epoch),
            partial_epoch: trained.partial,
            checksums: BTreeMap::new(),
            quantization: None,
            nodes: crate::distributed::current().map(|n| n.nodes),
        }
    }
}

/// Whether `run.json` records a checksum for the file `name`: the binary ones.
fn is_checksummed(name: &str) -> bool {
    name.ends_with(".mpk")
}

/// The files of a save, listed once every one of them is on disk as `NAME.next`.
#[derive(Serialize, Deserialize)]
struct Commit {
    write: Vec<String>,
    remove: Vec<String>,
}

/// FNV-1a, 64 bits, in hex: enough to notice a damaged or altered file (not an attack).
fn checksum(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// Flushes a directory's entries (the renames in it) to disk.
fn sync_dir(path: &Path) -> Result<()> {
    #[cfg(unix)]
    std::fs::File::open(path)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(path, e))?;
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// A run directory on disk.
#[derive(Clone, Debug)]
pub struct RunDir {
    pub path: PathBuf,
}

impl RunDir {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Whether the directory already holds a run.
    pub fn exists(&self) -> bool {
        self.path.join(RUN).exists() || self.path.join(COMMIT).exists()
    }

    /// Saves a trained run: weights, optimizer state, metrics, config, summary (with `extra`
    /// fields merged in) and `run.json`, as one unit. Every file is first written (and flushed)
    /// as `NAME.next`; then `commit.json`, naming them, is written atomically; then each is
    /// renamed over `NAME`. A process killed before the commit leaves the previous checkpoint
    /// whole; one killed after it leaves a save that readers see whole (through the `.next`
    /// files) and that the next save completes.
    pub fn save<B: AutodiffBackend>(
        &self,
        config: &ExperimentConfig,
        info: &RunInfo,
        trained: &Trained<B>,
        extra: Map<String, Value>,
    ) -> Result<()> {
        std::fs::create_dir_all(&self.path).map_err(|e| Error::io(&self.path, e))?;
        self.recover()?;
        let mut summary = summary(info, trained);
        summary.extend(extra);
        let mut files = vec![
            (MODEL, trained.model.to_bytes()?),
            (OPTIMIZER, trained.optimizer_state.clone()),
            (SCALER, pretty(&trained.scaler)),
            (METRICS, metrics_csv(&trained.history)?),
            (CONFIG, config.to_json().into_bytes()),
            (SUMMARY, pretty(&Value::Object(summary))),
        ];
        if let Some(best) = &trained.best {
            files.push((BEST, best.model.to_bytes()?));
        }
        // run.json says there is no best, so a stale file is never read; remove it anyway.
        let remove: &[&str] = if trained.best.is_none() { &[BEST] } else { &[] };
        self.commit(info, files, remove)
    }

    /// Saves a run derived from `from` (by `nnlab quantize`): the weights `model` and the
    /// `summary`, with `from`'s config, preprocessing and history, as one unit. It has no
    /// optimizer state and no best epoch: `model` is the one it predicts with.
    pub fn save_derived(
        &self,
        from: &RunDir,
        info: &RunInfo,
        model: Vec<u8>,
        summary: &Value,
    ) -> Result<()> {
        std::fs::create_dir_all(&self.path).map_err(|e| Error::io(&self.path, e))?;
        self.recover()?;
        let files = vec![
            (MODEL, model),
            (SCALER, from.read(SCALER)?),
            (METRICS, from.read(METRICS)?),
            (CONFIG, from.read(CONFIG)?),
            (SUMMARY, pretty(summary)),
        ];
        let mut info = info.clone();
        info.best_epoch = None;
        info.partial_epoch = None;
        self.commit(&info, files, &[OPTIMIZER, BEST])
    }

    /// Writes `files` and `run.json` (`info` with their checksums) as `NAME.next`, then
    /// `commit.json`, then renames them into place, removing `remove` (see [`RunDir::save`]).
    fn commit(
        &self,
        info: &RunInfo,
        mut files: Vec<(&str, Vec<u8>)>,
        remove: &[&str],
    ) -> Result<()> {
        let mut info = info.clone();
        info.checksums = files
            .iter()
            .filter(|(name, _)| is_checksummed(name))
            .map(|(name, bytes)| (name.to_string(), checksum(bytes)))
            .collect();
        files.push((RUN, pretty(&info)));
        // No rename needed: until commit.json exists, readers ignore `.next` files, and a
        // half-written one is removed by the next save.
        for (name, bytes) in &files {
            let next = self.file(&format!("{name}{NEXT}"));
            write_synced(&next, bytes).map_err(|e| Error::io(&next, e))?;
        }
        let commit = Commit {
            write: files.iter().map(|(name, _)| name.to_string()).collect(),
            remove: remove.iter().map(|name| name.to_string()).collect(),
        };
        write_atomic(&self.file(COMMIT), &pretty(&commit))?;
        self.recover()
    }

    /// Completes a committed save, or removes the files of one that never committed.
    fn recover(&self) -> Result<()> {
        let commit = self.file(COMMIT);
        match std::fs::read(&commit) {
            Ok(bytes) => {
                let Commit { write, remove } =
                    serde_json::from_slice(&bytes).map_err(|e| Error::checkpoint(&commit, e))?;
                for name in write {
                    let next = self.file(&format!("{name}{NEXT}"));
                    // Already renamed when an earlier recovery got this far.
                    if next.exists() {
                        std::fs::rename(&next, self.file(&name))
                            .map_err(|e| Error::io(&next, e))?;
                    }
                }
                for name in remove {
                    let _ = std::fs::remove_file(self.file(&name));
                }
                sync_dir(&self.path)?;
                std::fs::remove_file(&commit).map_err(|e| Error::io(&commit, e))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let entries =
                    std::fs::read_dir(&self.path).map_err(|e| Error::io(&self.path, e))?;
                for entry in entries.flatten() {
                    if entry.file_name().to_string_lossy().ends_with(NEXT) {
                        let _ = std::fs::remove_file(entry.path());
                    }
                }
                Ok(())
            }
            Err(e) => Err(Error::io(commit, e)),
        }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Reads a file of the last committed save. Readers change nothing: while a commit is
    /// being completed (or was cut short) its `NAME.next` files are the current ones.
    fn read(&self, name: &str) -> Result<Vec<u8>> {
        let bytes = self.read_unchecked(name)?;
        if is_checksummed(name)
            && let Some(expected) = self.recorded_checksum(name)
            && expected != checksum(&bytes)
        {
            return Err(Error::checkpoint(
                self.file(name),
                "does not match the checksum in run.json: it was damaged or altered after the \
                 run was saved",
            ));
        }
        Ok(bytes)
    }

    /// The checksum `run.json` records for `name`, if it records one.
    fn recorded_checksum(&self, name: &str) -> Option<String> {
        #[derive(Deserialize)]
        struct Checksums {
            #[serde(default)]
            checksums: BTreeMap<String, String>,
        }
        let run: Checksums = serde_json::from_slice(&self.read_unchecked(RUN).ok()?).ok()?;
        run.checksums.get(name).cloned()
    }

    fn read_unchecked(&self, name: &str) -> Result<Vec<u8>> {
        if self.file(COMMIT).exists() {
            match std::fs::read(self.file(&format!("{name}{NEXT}"))) {
                Ok(bytes) => return Ok(bytes),
                // Not part of the save, or renamed into place since.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(self.file(&format!("{name}{NEXT}")), e)),
            }
        }
        let path = self.file(name);
        std::fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::checkpoint(
                &self.path,
                format!("has no {name}; is it a run directory written by `nnlab train`?"),
            ),
            _ => Error::io(path, e),
        })
    }

    /// Reads `config.json` and `run.json`, checking the format version.
    pub fn load_meta(&self) -> Result<(ExperimentConfig, RunInfo)> {
        let info: RunInfo = serde_json::from_slice(&self.read(RUN)?)
            .map_err(|e| Error::checkpoint(self.file(RUN), e))?;
        if info.format_version != FORMAT_VERSION {
            return Err(Error::checkpoint(
                self.file(RUN),
                format!(
                    "has format version {}, this nnlab reads version {FORMAT_VERSION}",
                    info.format_version
                ),
            ));
        }
        let text = String::from_utf8(self.read(CONFIG)?)
            .map_err(|e| Error::checkpoint(self.file(CONFIG), e))?;
        let config = ExperimentConfig::from_json(&text, &self.file(CONFIG))?;
        // Earlier versions saved binary cross-entropy runs on more than two classes, whose
        // single output cannot name them.
        if let Some(classes) = &info.classes {
            let binary = config.loss.name == crate::loss::LossName::BinaryCrossEntropy;
            if (binary && classes.len() != 2)
                || config.loss.name.output_size(classes.len()) != config.model.output_size()
            {
                return Err(Error::checkpoint(
                    self.file(CONFIG),
                    format!(
                        "describes {} output(s) for {} classes, which cannot name them; train \
                         the run again with --loss cross_entropy",
                        config.model.output_size(),
                        classes.len()
                    ),
                ));
            }
        }
        Ok((config, info))
    }

    /// Loads the last epoch's weights into a model shaped by `config`.
    pub fn load_model<B: Backend>(
        &self,
        config: &ExperimentConfig,
        device: &B::Device,
    ) -> Result<Network<B>> {
        self.load_weights(MODEL, config, device)
    }

    /// The model to predict with: the best epoch's weights when the run has them and `last`
    /// is false, else the last epoch's.
    pub fn load_chosen<B: Backend>(
        &self,
        config: &ExperimentConfig,
        info: &RunInfo,
        last: bool,
        device: &B::Device,
    ) -> Result<Network<B>> {
        match info.best_epoch {
            Some(_) if !last => self.load_weights(BEST, config, device),
            _ => self.load_weights(MODEL, config, device),
        }
    }

    fn load_weights<B: Backend>(
        &self,
        file: &str,
        config: &ExperimentConfig,
        device: &B::Device,
    ) -> Result<Network<B>> {
        let mut bytes = self.read(file)?;
        if self.quantization()?.is_some() {
            bytes = run_on_host(DequantizeRecord { config, bytes })
                .map_err(|e| Error::checkpoint(self.file(file), e))?;
        }
        let template: Network<B> = config.model.init(config.training.seed, device);
        let expected = template.shapes();
        let model = template
            .load_bytes(&bytes, device)
            .map_err(|e| Error::checkpoint(self.file(file), e))?;
        let found = model.shapes();
        if found != expected {
            return Err(Error::checkpoint(
                self.file(file),
                format!("holds layers shaped {found:?} but config.json describes {expected:?}"),
            ));
        }
        Ok(model)
    }

    /// How the run's weights are quantized, as `run.json` says.
    fn quantization(&self) -> Result<Option<Scheme>> {
        #[derive(Deserialize)]
        struct Quantized {
            #[serde(default)]
            quantization: Option<Scheme>,
        }
        let run: Quantized = serde_json::from_slice(&self.read(RUN)?)
            .map_err(|e| Error::checkpoint(self.file(RUN), e))?;
        Ok(run.quantization)
    }

    /// Everything needed to continue training.
    pub fn load_resume<B: AutodiffBackend>(
        &self,
        config: &ExperimentConfig,
        info: &RunInfo,
        device: &B::Device,
    ) -> Result<Resume<B>> {
        if let Some(scheme) = info.quantization {
            return Err(Error::Usage(format!(
                "{} holds {scheme} weights written by `nnlab quantize`, which predict but do not \
                 resume: resume the run it was quantized from, or start a new one from it with \
                 --init-from",
                self.path.display()
            )));
        }
        let history = read_metrics(&self.read(METRICS)?)
            .map_err(|e| Error::checkpoint(self.file(METRICS), e))?;
        if history.len() != info.epochs_done {
            return Err(Error::checkpoint(
                self.file(METRICS),
                format!(
                    "has {} epochs but run.json says {}",
                    history.len(),
                    info.epochs_done
                ),
            ));
        }
        let best = match info.best_epoch {
            Some(epoch) => Some(Best {
                epoch,
                valid_loss: history
                    .get(epoch.wrapping_sub(1))
                    .and_then(|r| r.valid_loss)
                    .ok_or_else(|| {
                        Error::checkpoint(
                            self.file(METRICS),
                            format!("has no validation loss for the best epoch {epoch}"),
                        )
                    })?,
                model: self.load_weights(BEST, config, device)?,
            }),
            None => None,
        };
        Ok(Resume {
            best,
            model: self.load_model(config, device)?,
            optimizer_state: Some(self.read(OPTIMIZER)?),
            history,
            steps: info.steps,
            scaler: Some(self.load_scaler(info)?),
            partial: info.partial_epoch,
        })
    }

    /// The preprocessing the run's model expects, checked against its feature columns.
    pub fn load_scaler(&self, info: &RunInfo) -> Result<Scaler> {
        let scaler: Scaler = serde_json::from_slice(&self.read(SCALER)?)
            .map_err(|e| Error::checkpoint(self.file(SCALER), e))?;
        if scaler.features.len() != info.feature_names.len() {
            return Err(Error::checkpoint(
                self.file(SCALER),
                format!(
                    "scales {} features but run.json names {}",
                    scaler.features.len(),
                    info.feature_names.len()
                ),
            ));
        }
        Ok(scaler)
    }

    /// The saved `summary.json`.
    pub fn load_summary(&self) -> Result<Value> {
        serde_json::from_slice(&self.read(SUMMARY)?)
            .map_err(|e| Error::checkpoint(self.file(SUMMARY), e))
    }
}

fn pretty<T: Serialize>(value: &T) -> Vec<u8> {
    let mut text = serde_json::to_vec_pretty(value).expect("serializes");
    text.push(b'\n');
    text
}

/// The summary key of the validation metrics of the model `predict` uses: the best epoch's,
/// chosen by the validation loss on those same rows.
pub const VALID_AT_BEST: &str = "valid_at_best_epoch";

const VALID_NOTE: &str = "measured on the rows that chose the best epoch, so optimistic; \
                          train with --test FRACTION for an unbiased score";

fn summary<B: AutodiffBackend>(info: &RunInfo, trained: &Trained<B>) -> Map<String, Value> {
    let last = trained.history.last();
    let mut map = Map::new();
    map.insert("backend".into(), info.backend.clone().into());
    map.insert("task".into(), info.task.to_string().into());
    map.insert("epochs".into(), info.epochs_done.into());
    map.insert("steps".into(), trained.steps.into());
    map.insert("train_seconds".into(), trained.train_seconds.into());
    map.insert(
        "diverged".into(),
        matches!(trained.stop, Stop::Diverged { .. }).into(),
    );
    map.insert("stop".into(), trained.stop.to_string().into());
    map.insert(
        "best_epoch".into(),
        trained.best.as_ref().map(|b| b.epoch).into(),
    );
    map.insert("train_loss".into(), last.map(|r| r.train_loss).into());
    map.insert("valid_loss".into(), last.and_then(|r| r.valid_loss).into());
    map.insert(
        "valid_accuracy".into(),
        last.and_then(|r| r.valid_accuracy).into(),
    );
    let json = |e: &Option<Evaluation>| serde_json::to_value(e).expect("metrics serialize");
    map.insert(VALID_AT_BEST.into(), json(&trained.valid));
    if trained.valid.is_some() {
        map.insert("valid_note".into(), VALID_NOTE.into());
    }
    map.insert("test".into(), json(&trained.test));
    map
}

fn metrics_csv(history: &[EpochRecord]) -> Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for record in history {
        writer
            .serialize(record)
            .map_err(|e| Error::Training(format!("could not write metrics: {e}")))?;
    }
    if history.is_empty() {
        writer
            .write_record([
                "epoch",
                "train_loss",
                "valid_loss",
                "valid_accuracy",
                "valid_f1",
                "valid_rmse",
                "valid_mae",
                "valid_r2",
                "learning_rate",
            ])
            .map_err(|e| Error::Training(format!("could not write metrics: {e}")))?;
    }
    writer
        .into_inner()
        .map_err(|e| Error::Training(format!("could not write metrics: {e}")))
}

fn read_metrics(bytes: &[u8]) -> std::result::Result<Vec<EpochRecord>, csv::Error> {
    csv::Reader::from_reader(bytes).deserialize().collect()
}
