//! The runs a server answers for: the run directories directly inside `--runs`, loaded on
//! first use and kept, and loaded again when their `run.json` changes (a retrained or resumed
//! run's next commit). Loading goes through [`RunDir`], which reads a committed save whole, so a
//! request never sees half a checkpoint. A name is only ever one directory inside `--runs`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use burn::tensor::backend::Backend;
use serde_json::{Value, json};

use crate::config::ExperimentConfig;
use crate::data::TargetValues;
use crate::data::scale::Scaler;
use crate::data::sequence::text::Texts;
use crate::eval::generative::{self, Reconstruction};
use crate::eval::predict::{Predictions, predict};
use crate::models::Network;
use crate::run_dir::{RunDir, RunInfo};

/// Why a run cannot answer.
#[derive(Debug)]
pub enum Missing {
    /// Not a name a run can have (a path, `..`, a hidden name): 400.
    BadName(String),
    /// No run of that name: 404.
    Unknown(String),
    /// The run is there but does not load (damaged, or of another version): 503.
    Unavailable(String),
}

/// A run loaded to predict with.
pub struct Loaded<B: Backend> {
    pub config: ExperimentConfig,
    pub info: RunInfo,
    pub scaler: Scaler,
    pub summary: Value,
    /// Its directory inside the served folder.
    pub dir: PathBuf,
    model: Mutex<Network<B>>,
    /// The `run.json` it was loaded from: a new commit replaces it.
    version: Version,
    device: B::Device,
}

impl<B: Backend> Loaded<B> {
    /// Predictions for raw feature rows, row-major.
    pub fn predict(&self, rows: &[f64]) -> Predictions {
        let model = self.model.lock().unwrap_or_else(|e| e.into_inner());
        let classes = self.info.classes.as_deref();
        let width = self.info.feature_names.len();
        let loss = self.config.loss.name;
        predict(
            &model,
            loss,
            classes,
            &self.scaler,
            rows,
            width,
            &self.device,
        )
    }

    /// An autoencoder's reconstruction of raw rows and each row's error; `None` for a run of
    /// another family.
    pub fn reconstruct(&self, rows: &[f64]) -> Option<Reconstruction> {
        if !self.config.model.reconstructs() {
            return None;
        }
        let model = self.model.lock().unwrap_or_else(|e| e.into_inner());
        Some(generative::reconstruct(
            &model,
            &self.scaler,
            rows,
            &self.device,
        ))
    }

    /// `count` new rows from a VAE or GAN run, drawn from `seed`; `None` for other runs. The
    /// backend's generator is global, so the model's lock is held while it draws.
    pub fn generate(&self, count: usize, seed: u64) -> Option<Vec<f64>> {
        let model = self.model.lock().unwrap_or_else(|e| e.into_inner());
        generative::generate(&model, &self.scaler, count, seed, &self.device)
    }

    /// Whether the run reads text, whose rows [`Loaded::encode`] turns into token ids.
    pub fn is_text(&self) -> bool {
        self.config.data.is_text()
    }

    /// Texts as the token-id rows the run reads, as `nnlab predict` encodes them.
    pub fn encode(&self, texts: Vec<String>) -> Vec<f64> {
        let texts = Texts {
            texts,
            target_name: String::new(),
            targets: TargetValues::Values(Vec::new()),
        };
        self.config.data.encode_texts(&texts).features
    }

    /// The columns a request gives: the run's features, or its one text column.
    pub fn columns(&self) -> Vec<String> {
        match self.is_text() {
            true => vec![self.config.data.text_column().to_string()],
            false => self.info.feature_names.clone(),
        }
    }

    /// What `GET /v1/models/{run}` answers: TensorFlow Serving's version status, and the
    /// run's task, columns, classes, model and final metrics.
    pub fn status(&self, name: &str) -> Value {
        let info = &self.info;
        json!({
            "model_version_status": [{
                "version": info.steps.to_string(),
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""}
            }],
            "metadata": {
                "name": name,
                "task": info.task,
                "features": self.columns(),
                "target": info.target_name,
                "classes": info.classes,
                "model": self.config.model.describe(),
                "epochs": info.epochs_done,
                "backend": info.backend,
                "metrics": self.summary,
            }
        })
    }
}

/// The runs inside one directory.
pub struct Runs<B: Backend> {
    root: PathBuf,
    device: B::Device,
    loaded: Mutex<HashMap<String, Arc<Loaded<B>>>>,
}

impl<B: Backend> Runs<B> {
    /// The runs inside `root`, which must be a directory.
    pub fn new(root: &Path, device: B::Device) -> std::io::Result<Self> {
        Ok(Runs {
            root: root.canonicalize()?,
            device,
            loaded: Mutex::new(HashMap::new()),
        })
    }

    /// The run `name`, loaded now if it is new or has been saved again since.
    pub fn get(&self, name: &str) -> Result<Arc<Loaded<B>>, Missing> {
        let dir = self.dir(name)?;
        let version = Version::of(&dir.join("run.json"))
            .ok_or_else(|| Missing::Unknown(format!("there is no run named `{name}`")))?;
        let cached = self.cache().get(name).cloned();
        if let Some(loaded) = cached.filter(|l| l.version == version) {
            return Ok(loaded);
        }
        let loaded = Arc::new(self.load(&dir, version).map_err(|e| {
            Missing::Unavailable(format!("the run `{name}` cannot be loaded: {e}"))
        })?);
        self.cache().insert(name.to_string(), Arc::clone(&loaded));
        Ok(loaded)
    }

    /// The served folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the run `name` has been loaded.
    pub fn knows(&self, name: &str) -> bool {
        self.cache().contains_key(name)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Loaded<B>>>> {
        self.loaded.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The directory named `name`: one plain name, directly inside the root.
    pub fn dir(&self, name: &str) -> Result<PathBuf, Missing> {
        let plain = !name.is_empty()
            && !name.starts_with('.')
            && !name.contains(['/', '\\', '\0', ':'])
            && Path::new(name).components().count() == 1;
        if !plain {
            return Err(Missing::BadName(format!(
                "`{name}` is not a run name: a run is named by its directory inside the served \
                 folder"
            )));
        }
        let dir = self.root.join(name);
        // Only a real directory: a symbolic link could lead out of the root. One `lstat`,
        // as every request makes this check.
        match std::fs::symlink_metadata(&dir) {
            Ok(meta) if meta.is_dir() => Ok(dir),
            _ => Err(Missing::Unknown(format!("there is no run named `{name}`"))),
        }
    }

    fn load(&self, dir: &Path, version: Version) -> crate::Result<Loaded<B>> {
        let run = RunDir::new(dir);
        let (config, info) = run.load_meta()?;
        let model = run.load_chosen::<B>(&config, &info, false, &self.device)?;
        Ok(Loaded {
            scaler: run.load_scaler(&info)?,
            summary: run.load_summary()?,
            dir: dir.to_path_buf(),
            model: Mutex::new(model),
            config,
            info,
            version,
            device: self.device.clone(),
        })
    }
}

/// Which save of a run is on disk, told by its `run.json`'s metadata: a commit puts a new file
/// in its place (a new inode, a new time), so one `stat` per request notices it.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Version {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

impl Version {
    fn of(run_json: &Path) -> Option<Version> {
        let meta = std::fs::metadata(run_json).ok()?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&meta);
        #[cfg(not(unix))]
        let inode = 0;
        Some(Version {
            modified: meta.modified().ok(),
            len: meta.len(),
            inode,
        })
    }
}
