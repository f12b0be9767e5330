//! The experiment: data, preprocessing, model, loss, optimizer, schedule and training settings
//! in one JSON document.
//!
//! A config file may give only the fields it changes; the rest keep their defaults. Unknown
//! fields and wrong types are errors that name the field, and [`ExperimentConfig::validate`]
//! checks every value before any work starts.

use std::path::Path;
use std::str::FromStr;

use burn::config::Config;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::data::scale::PreprocessConfig;
use crate::data::sequence::text::fit_vocabulary;
use crate::data::split;
use crate::data::{DataConfig, Loaded, TargetValues};

/// The longest rows of tokens a text run reads unless `data.max_len` says.
const MAX_TOKENS: usize = 256;
use crate::error::{Error, Result};
use crate::loss::{LossConfig, LossName, Task};
use crate::models::ModelConfig;
use crate::optim::OptimizerConfig;
use crate::optim::schedule::ScheduleConfig;
use crate::train::augment::Augment;

/// Rows per gradient step: a number, or `full` for batch gradient descent over the whole
/// training set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchSize {
    Full,
    Rows(usize),
}

impl BatchSize {
    /// Rows per step for a training set of `rows` rows.
    pub fn rows(self, rows: usize) -> usize {
        match self {
            BatchSize::Full => rows,
            BatchSize::Rows(n) => n.min(rows),
        }
    }
}

impl std::fmt::Display for BatchSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BatchSize::Full => f.write_str("full"),
            BatchSize::Rows(n) => write!(f, "{n}"),
        }
    }
}

impl FromStr for BatchSize {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.trim() {
            "full" => Ok(BatchSize::Full),
            n => n
                .parse()
                .map(BatchSize::Rows)
                .map_err(|_| format!("`{s}` is neither a number of rows nor `full`")),
        }
    }
}

impl Serialize for BatchSize {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            BatchSize::Full => s.serialize_str("full"),
            BatchSize::Rows(n) => s.serialize_u64(*n as u64),
        }
    }
}

impl<'de> Deserialize<'de> for BatchSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Rows(usize),
            Name(String),
        }
        match Raw::deserialize(d)? {
            Raw::Rows(n) => Ok(BatchSize::Rows(n)),
            Raw::Name(s) => s.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// What the `train_loss` of an epoch measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainLoss {
    /// The mean of the losses of the epoch's batches, each taken before its step (as Keras
    /// reports it): free, but no single model had that loss.
    Running,
    /// The loss of the model at the end of the epoch on the whole training set: what the
    /// formulas speak of, for one extra forward pass per epoch.
    #[serde(alias = "end-of-epoch")]
    EndOfEpoch,
}

/// How long and in what order to train.
#[derive(Config, Debug, PartialEq)]
pub struct TrainingConfig {
    /// Passes over the training set.
    #[config(default = 150)]
    pub epochs: usize,
    /// Rows per step, or `full`.
    #[config(default = "BatchSize::Rows(32)")]
    pub batch_size: BatchSize,
    /// Visit the training rows in a new random order each epoch.
    #[config(default = true)]
    pub shuffle: bool,
    /// Seeds the initial weights, the shuffles and the validation split.
    #[config(default = 42)]
    pub seed: u64,
    /// Fraction of the rows held out for validation (metrics every epoch); 0 for none.
    /// Stratified by class for classification.
    #[config(default = 0.0)]
    pub validation_fraction: f64,
    /// Fraction of the rows held out for a final test, never seen in training or validation;
    /// 0 for none.
    #[config(default = 0.0)]
    pub test_fraction: f64,
    /// `running` or `end_of_epoch`.
    #[config(default = "TrainLoss::Running")]
    pub train_loss: TrainLoss,
    /// Stop once the validation loss has not improved (fallen by more than `min_delta`) for
    /// this many epochs; unset for no early stopping. Needs `validation_fraction` > 0.
    pub patience: Option<usize>,
    /// The least fall of the validation loss that counts as an improvement.
    #[config(default = 0.0)]
    pub min_delta: f64,
    /// A run directory whose weights (and scaling) this run starts from, for fine-tuning.
    pub init_from: Option<std::path::PathBuf>,
    /// Layers (0 = the first hidden layer) whose parameters do not train.
    #[config(default = "Vec::new()")]
    pub freeze: Vec<usize>,
    /// Weights (of rank ≥ 2) that are zero when training starts stay zero: the mask of a run
    /// written by `nnlab prune`, kept through fine-tuning and every resume.
    #[config(default = false)]
    pub keep_zeros: bool,
    /// Save the run every this many epochs as well as at the end, for long runs.
    pub checkpoint_every: Option<usize>,
    /// Federated training (`--federated`): each epoch of the run is a round, in which every
    /// node trains this many passes over its own rows before the nodes' weights are
    /// averaged. Unset: the gradients are averaged every step, or one process trains alone.
    pub local_epochs: Option<usize>,
    /// Random moves and mirrors of the training images, for a CNN; none by default.
    #[config(default = "Augment::default()")]
    pub augment: Augment,
}

impl TrainingConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        if self.epochs == 0 {
            return Err(Error::config("training.epochs", "must be at least 1"));
        }
        if self.batch_size == BatchSize::Rows(0) {
            return Err(Error::config(
                "training.batch_size",
                "must be at least 1 (or `full`)",
            ));
        }
        for (field, f) in [
            ("training.validation_fraction", self.validation_fraction),
            ("training.test_fraction", self.test_fraction),
        ] {
            if !(f.is_finite() && (0.0..1.0).contains(&f)) {
                return Err(Error::config(field, format!("must be in [0, 1), got {f}")));
            }
        }
        if self.local_epochs == Some(0) {
            return Err(Error::config("training.local_epochs", "must be at least 1"));
        }
        if self.checkpoint_every == Some(0) {
            return Err(Error::config(
                "training.checkpoint_every",
                "must be at least 1 (epochs between checkpoints)",
            ));
        }
        if let Some(p) = self.patience {
            if p == 0 {
                return Err(Error::config("training.patience", "must be at least 1"));
            }
            if self.validation_fraction <= 0.0 {
                return Err(Error::config(
                    "training.patience",
                    "needs validation_fraction > 0: early stopping watches the validation loss",
                ));
            }
        }
        if !(self.min_delta.is_finite() && self.min_delta >= 0.0) {
            return Err(Error::config(
                "training.min_delta",
                format!("must be zero or positive, got {}", self.min_delta),
            ));
        }
        if self.validation_fraction + self.test_fraction >= 1.0 {
            return Err(Error::config(
                "training.test_fraction",
                format!(
                    "plus validation_fraction must be below 1 (got {} + {}): no rows would train",
                    self.test_fraction, self.validation_fraction
                ),
            ));
        }
        Ok(())
    }
}

/// Everything needed to rebuild a model and train it again.
#[derive(Config, Debug)]
pub struct ExperimentConfig {
    #[config(default = "DataConfig::new()")]
    pub data: DataConfig,
    #[config(default = "PreprocessConfig::new()")]
    pub preprocess: PreprocessConfig,
    #[config(default = "ModelConfig::default()")]
    pub model: ModelConfig,
    #[config(default = "LossConfig::new()")]
    pub loss: LossConfig,
    #[config(default = "OptimizerConfig::new()")]
    pub optimizer: OptimizerConfig,
    #[config(default = "ScheduleConfig::new()")]
    pub schedule: ScheduleConfig,
    #[config(default = "TrainingConfig::new()")]
    pub training: TrainingConfig,
}

impl ExperimentConfig {
    /// The task, decided by the loss.
    pub fn task(&self) -> Task {
        self.loss.name.task()
    }

    /// Settles a series' season on its training part (see [`DataConfig::fit_season`]),
    /// before a fresh run loads its windows; the line saying what was found. `autoregression`
    /// allows the autoregressive target base, which `cv` leaves out: fitted once on the
    /// training part, it would have seen the rows of its later folds.
    pub fn fit_season(&mut self, autoregression: bool) -> Result<Option<String>> {
        let t = &self.training;
        let share = 1.0 - t.validation_fraction - t.test_fraction;
        self.data.fit_season(share, autoregression)
    }

    /// Loads the data; image files are resized to the model's image size, and their shape is
    /// taken into the model. Says once, on stderr, what was done to the images.
    pub fn load_data(&mut self) -> Result<Loaded> {
        if self.data.is_text() {
            // Token ids are names, not quantities.
            self.preprocess.features = crate::data::scale::FeatureScaling::None;
            if self.data.vocabulary.is_none() {
                self.fit_vocabulary()?;
            }
        }
        let resize = self.model.image().map(|s| (s.height, s.width));
        let loaded = match self.model.is_generative() {
            true => self.data.load_unlabelled(resize)?,
            false => self.data.load_counting(self.task(), resize)?,
        };
        if let Some(shape) = loaded.image {
            self.model.take_image(shape)?;
        }
        if let Some(shape) = loaded.sequence {
            self.model.take_sequence(shape);
        }
        if let Some(vocabulary) = &self.data.vocabulary {
            self.model.take_tokens(vocabulary.len())?;
        }
        if self.data.is_series() {
            self.data.window = Some(self.data.window());
        }
        if let Some(note) = &loaded.note {
            eprintln!("{}: {note}", self.data.name());
        }
        Ok(loaded)
    }

    /// Refuses what a model without a target cannot use: a loss other than the squared
    /// error, and for a GAN, held-out rows (it has no held-out score to watch).
    fn check_generative(&self) -> Result<()> {
        if self.data.color_by.is_some() && !self.model.reconstructs() {
            return Err(Error::config(
                "data.color_by",
                format!(
                    "colors the latent space of an autoencoder or a VAE; --model {} has none",
                    self.model.kind_name()
                ),
            ));
        }
        if !self.model.is_generative() {
            return Ok(());
        }
        let kind = self.model.kind_name();
        if self.loss.name != crate::loss::LossName::Mse {
            return Err(Error::config(
                "loss.name",
                format!("must be mse for --model {kind}: it learns the rows themselves"),
            ));
        }
        if self.model.gan().is_none() {
            return Ok(());
        }
        let t = &self.training;
        for (field, set) in [
            ("training.validation_fraction", t.validation_fraction > 0.0),
            ("training.test_fraction", t.test_fraction > 0.0),
            ("training.patience", t.patience.is_some()),
            ("training.train_loss", t.train_loss == TrainLoss::EndOfEpoch),
        ] {
            if set {
                return Err(Error::config(
                    field,
                    "does not apply to a GAN: it has no held-out score (judge it by `nnlab \
                     generate`)",
                ));
            }
        }
        Ok(())
    }

    /// Refuses augmentation without images to move, or moves that would leave none of them.
    fn check_augment(&self) -> Result<()> {
        let augment = self.training.augment;
        if !augment.is_active() {
            return Ok(());
        }
        if self.model.kind() != crate::models::Kind::Cnn {
            let message = "moves and mirrors images: it needs --model cnn";
            return Err(Error::config("training.augment", message));
        }
        match self.model.image() {
            Some(image) if augment.shift >= image.height.min(image.width) => Err(Error::config(
                "training.augment.shift",
                format!("is {} but the images are {image}", augment.shift),
            )),
            _ => Ok(()),
        }
    }

    /// Fits the text's vocabulary on the training rows of the split training will make, and
    /// its length when not given: the longest training row's, at most 256 tokens.
    fn fit_vocabulary(&mut self) -> Result<()> {
        let texts = self.data.read_texts(self.task())?.expect("text data");
        let rows = texts.tokens(self.data.tokens);
        let classes = match &texts.targets {
            TargetValues::Classes { indices, .. } => Some(indices.as_slice()),
            TargetValues::Values(_) => None,
        };
        let t = &self.training;
        let fractions = (t.validation_fraction, t.test_fraction);
        let split = split::parts(rows.len(), classes, fractions, t.seed, None);
        let train = split.train.iter().map(|&r| rows[r].as_slice());
        self.data.vocabulary = Some(fit_vocabulary(train, self.data.vocab));
        let longest = split.train.iter().map(|&r| rows[r].len()).max();
        let fitted = longest.unwrap_or(1).clamp(1, MAX_TOKENS);
        self.data.max_len.get_or_insert(fitted);
        Ok(())
    }

    /// Checks every field and that the parts fit together.
    pub fn validate(&self) -> Result<()> {
        self.data.validate_for(!self.model.is_generative())?;
        self.model.validate()?;
        self.loss.validate()?;
        self.optimizer.validate()?;
        self.schedule.validate(self.optimizer.learning_rate)?;
        self.training.validate()?;
        self.check_augment()?;
        self.check_generative()?;
        let layers = self.model.layers();
        if let Some(&i) = self.training.freeze.iter().find(|&&i| i >= layers) {
            return Err(Error::config(
                "training.freeze",
                format!(
                    "names layer {i} but the model has layers 0 to {}",
                    layers - 1
                ),
            ));
        }
        if let Some(task) = self.data.builtin_task()
            && task != self.task()
            && !self.model.is_generative()
        {
            return Err(Error::config(
                "loss.name",
                format!(
                    "is a {} loss but dataset `{}` is a {task} problem",
                    self.task(),
                    self.data.name()
                ),
            ));
        }
        Ok(())
    }

    /// Refuses a model whose weights, gradients and optimizer state (in `f32`, with one more
    /// copy for the update) cannot fit in the memory available, before any is allocated.
    pub fn check_memory(&self) -> Result<()> {
        let params = self.model.parameters();
        let copies = 3.0 + self.optimizer.state_tensors() as f64;
        crate::memory::check(
            self.model.size_field(),
            &format!(
                "a model of {params} parameters trained with {}",
                self.optimizer.name.as_str()
            ),
            params as f64 * 4.0 * copies,
        )
    }

    /// Parses a JSON config that may omit fields, then validates it. `origin` names the
    /// source in error messages.
    pub fn from_json(text: &str, origin: &Path) -> Result<Self> {
        let user: Value = serde_json::from_str(text).map_err(|e| Error::Data {
            path: origin.to_path_buf(),
            line: Some(e.line() as u64),
            column: None,
            message: format!("invalid JSON (column {}): {e}", e.column()),
        })?;
        // The merge below replaces a non-object whole; the model section must then be there.
        if !user.is_object() {
            return Err(Error::Data {
                path: origin.to_path_buf(),
                line: None,
                column: None,
                message: format!(
                    "must be a JSON object such as {{\"training\": {{\"epochs\": 10}}}}, not {}",
                    json_kind(&user)
                ),
            });
        }
        let loss_given = user.pointer("/loss/name").is_some();
        let epochs_given = user.pointer("/training/epochs").is_some();
        let scaling_given = user.pointer("/preprocess/features").is_some();
        let mut merged = serde_json::to_value(ExperimentConfig::new()).expect("config serializes");
        // Another family's fields overlay that family's defaults, not the MLP's.
        if let Some(kind) = user.pointer("/model/kind") {
            merged["model"] = ModelConfig::default_value(kind)?;
        }
        merge(&mut merged, user, "")?;
        let model = ModelConfig::from_value(merged["model"].take())?;
        merged["model"] = serde_json::to_value(model).expect("model config serializes");
        let mut config: ExperimentConfig =
            serde_path_to_error::deserialize(merged).map_err(|e| {
                Error::config(e.path().to_string(), format!("is invalid: {}", e.inner()))
            })?;
        // As with the flags, a built-in dataset's task picks the default loss.
        if let Some(task) = config.data.builtin_task().or(config.model.default_task())
            && !loss_given
        {
            config.loss.name = LossName::default_for(task);
        }
        // The family's own defaults for what the file leaves out.
        if !epochs_given {
            config.training.epochs = config.model.default_epochs();
        }
        if !scaling_given {
            config.preprocess.features = config.model.default_scaling();
        }
        config.validate()?;
        Ok(config)
    }

    /// Reads and validates a config file.
    pub fn load_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_json(&text, path)
    }

    /// The config as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("config serializes")
    }
}

/// Overlays `user` on the defaults `base`; a key the defaults lack is an unknown field.
fn merge(base: &mut Value, user: Value, at: &str) -> Result<()> {
    match (base, user) {
        (Value::Object(base), Value::Object(user)) => {
            for (key, value) in user {
                let field = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                match base.get_mut(&key) {
                    Some(slot) => merge(slot, value, &field)?,
                    None => {
                        let known: Vec<&str> = base.keys().map(String::as_str).collect();
                        return Err(Error::config(
                            field,
                            format!(
                                "is not a known field; expected one of: {}",
                                known.join(", ")
                            ),
                        ));
                    }
                }
            }
            Ok(())
        }
        (base, user) => {
            *base = user;
            Ok(())
        }
    }
}

/// What kind of JSON value `v` is, for messages.
fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
