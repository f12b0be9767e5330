//! Where training data comes from: built-in datasets, CSV files, folders of images and IDX
//! files, turned into a [`Dataset`] (a numeric feature table with named columns and a target).

pub mod builtin;
pub mod csv;
pub mod image;
pub mod numpy;
pub mod real;
pub mod scale;
pub mod sequence;
pub mod shapes;
pub mod split;
pub mod synthetic;

use std::path::{Path, PathBuf};

use burn::config::Config;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};

use crate::error::{Error, Result};
use crate::loss::{Targets, Task};

pub use builtin::Builtin;
use sequence::calendar;
use sequence::season::{self, lag_error};
use sequence::series::{Base, fit_autoregression};
pub use sequence::{SequenceShape, Series};

use sequence::text::{self, Texts, Tokens};

/// Where the data comes from: a built-in dataset, a CSV file, a folder of images or a pair of
/// IDX files.
#[derive(Config, Debug, PartialEq)]
pub struct DataConfig {
    /// A built-in dataset; used when `csv` is not set.
    #[config(default = "Some(Builtin::Linear)")]
    pub dataset: Option<Builtin>,
    /// A CSV file with a header row; takes precedence over `dataset`.
    pub csv: Option<PathBuf>,
    /// The target column of the CSV file.
    pub target: Option<String>,
    /// Feature columns of the CSV file; every column but the target when unset.
    pub features: Option<Vec<String>>,
    /// A column of the CSV file that colors the picture of an autoencoder's or a VAE's 2-D
    /// latent space; not learned from.
    pub color_by: Option<String>,
    /// The CSV file's field separator; detected from its header line (`,`, `;` or tab) when
    /// unset. Kept here so that a resumed run reads its file the same way.
    pub delimiter: Option<char>,
    /// A folder of PNG/JPEG images with one subfolder per class, named after the class.
    pub images: Option<PathBuf>,
    /// An IDX3 image file (MNIST's format, gzipped or not); needs `idx_labels`.
    pub idx_images: Option<PathBuf>,
    /// The IDX1 label file that goes with `idx_images`.
    pub idx_labels: Option<PathBuf>,
    /// Number of points of a generated dataset.
    #[config(default = 1000)]
    pub samples: usize,
    /// Noise level of a generated dataset: the standard deviation of the Gaussian noise.
    #[config(default = 0.1)]
    pub noise: f64,
    /// Number of classes of `blobs`.
    #[config(default = 3)]
    pub classes: usize,
    /// Seed of a generated dataset.
    #[config(default = 0)]
    pub seed: u64,
    /// Skip CSV rows with an empty, NaN or infinite cell instead of failing.
    #[config(default = false)]
    pub drop_missing: bool,
    /// A time series: these columns of the CSV file, in time order (the target among them),
    /// cut into windows that each forecast the target's next value.
    pub series: Option<Vec<String>>,
    /// Past steps per window of a series [default: 12].
    pub window: Option<usize>,
    /// Steps each window of a series forecasts directly: its target's next `horizon` values.
    #[config(default = 1)]
    pub horizon: usize,
    /// Steps per season of a series (12 for monthly data), for the seasonal-naive forecast
    /// and MASE; 0 for none; unset until training finds it (a built-in series has its own).
    pub season: Option<usize>,
    /// Read a series' targets relative to the value one season back, not the last value:
    /// chosen by training when that forecasts the training part better.
    #[config(default = false)]
    pub seasonal_base: bool,
    /// A series' date column, whose spacing proposes the season (`--time`).
    pub time: Option<String>,
    /// Read a series' targets relative to a linear autoregression's forecast: per step ahead,
    /// the coefficients of the relative window and an intercept, fitted on the training part
    /// by training when that forecasts the training part's last fifth better.
    pub autoregressive_base: Option<Vec<Vec<f64>>>,
    /// Read each window relative to its last step and forecast the change (see
    /// `data::sequence::series`); false for raw levels.
    #[config(default = true)]
    pub relative: bool,
    /// A text column of the CSV file, read as token ids (see `data::sequence::text`).
    pub text: Option<String>,
    /// `word` or `char` tokens.
    #[config(default = "Tokens::Word")]
    pub tokens: Tokens,
    /// The most tokens the vocabulary keeps, padding and unknown included.
    #[config(default = 10000)]
    pub vocab: usize,
    /// Tokens per row: longer texts are cut, shorter ones padded [default: the longest training
    /// row's, at most 256].
    pub max_len: Option<usize>,
    /// The vocabulary fitted on the training rows, the token of each id; saved with the run
    /// so that predict reads text as training did.
    pub vocabulary: Option<Vec<String>>,
}

impl DataConfig {
    /// Checks that the fields describe one source, with a target column for a CSV file.
    pub fn validate(&self) -> Result<()> {
        self.validate_for(true)
    }

    /// [`DataConfig::validate`], where a model without a target (`needs_target` false) reads a
    /// CSV file with none.
    pub fn validate_for(&self, needs_target: bool) -> Result<()> {
        if let Some(c) = self.delimiter {
            csv::delimiter_byte(c).map_err(|m| Error::config("data.delimiter", m))?;
        }
        self.check_files()?;
        match (&self.csv, &self.dataset) {
            _ if self.image_source() && self.series.is_some() => Err(Error::config(
                "data.series",
                "applies to a CSV file, not to images",
            )),
            _ if self.image_source() => Ok(()),
            (None, _) if self.series.is_some() => Err(Error::config(
                "data.series",
                "needs a CSV file (--data FILE.csv)",
            )),
            _ if self.window == Some(0) => Err(Error::config("data.window", "must be at least 1")),
            _ if self.horizon == 0 => Err(Error::config("data.horizon", "must be at least 1")),
            _ if self.horizon > 1 && !self.is_series() => Err(Error::config(
                "data.horizon",
                "applies to a series (--series COL or a built-in series such as airline)",
            )),
            _ if self.max_len == Some(0) => {
                Err(Error::config("data.max_len", "must be at least 1"))
            }
            _ if self.vocab < 3 => Err(Error::config(
                "data.vocab",
                format!(
                    "must be at least 3 (padding, unknown and a token), got {}",
                    self.vocab
                ),
            )),
            (None, _) if self.text.is_some() => Err(Error::config(
                "data.text",
                "needs a CSV file (--data FILE.csv)",
            )),
            (Some(_), _) if self.text.is_some() && self.series.is_some() => Err(Error::config(
                "data.text",
                "and data.series are two readings of a file: keep one",
            )),
            (Some(_), _) if self.series.is_some() && self.drop_missing => Err(Error::config(
                "data.drop_missing",
                "cannot skip rows of a series: it would join the steps on either side",
            )),
            (Some(_), _) if self.target.is_none() && needs_target => Err(Error::config(
                "data.target",
                "is required with a CSV file: name the column to predict",
            )),
            (None, None) => Err(Error::config(
                "data",
                "names no data: set `dataset`, `csv`, `images` or `idx_images`",
            )),
            _ if !(self.noise.is_finite() && self.noise >= 0.0) => Err(Error::config(
                "data.noise",
                format!("must be zero or positive, got {}", self.noise),
            )),
            (None, Some(b)) if b.is_generated() && self.samples < 4 => {
                Err(Error::config("data.samples", "must be at least 4"))
            }
            (None, Some(Builtin::Blobs)) if self.classes < 2 => Err(Error::config(
                "data.classes",
                format!("must be at least 2, got {}", self.classes),
            )),
            (None, Some(Builtin::Blobs)) if self.classes > self.samples => Err(Error::config(
                "data.classes",
                format!(
                    "is {} but there are only {} samples",
                    self.classes, self.samples
                ),
            )),
            // A point's coordinates and target, held about three times while generated.
            (None, Some(b)) if b.is_generated() => crate::memory::check(
                "data.samples",
                &format!("{} generated points", self.samples),
                self.samples as f64 * 72.0,
            ),
            _ => Ok(()),
        }
    }

    /// Refuses two file sources at once, and IDX images without labels or labels without
    /// images.
    fn check_files(&self) -> Result<()> {
        let given = [
            ("csv", self.csv.is_some()),
            ("images", self.images.is_some()),
            ("idx_images", self.idx_images.is_some()),
        ];
        let named: Vec<&str> = given.iter().filter(|g| g.1).map(|g| g.0).collect();
        if named.len() > 1 {
            return Err(Error::config(
                "data",
                format!(
                    "names two sources, `{}` and `{}`: keep one",
                    named[0], named[1]
                ),
            ));
        }
        match (&self.idx_images, &self.idx_labels) {
            (Some(_), None) => Err(Error::config(
                "data.idx_labels",
                "is required with idx_images (--idx-labels FILE)",
            )),
            (None, Some(_)) => Err(Error::config(
                "data.idx_images",
                "is required with idx_labels (--idx-images FILE)",
            )),
            _ => Ok(()),
        }
    }

    /// Whether the data are image files (a folder or IDX files) rather than a table.
    pub fn image_source(&self) -> bool {
        self.images.is_some() || self.idx_images.is_some()
    }

    /// The task the data poses, when the data alone decides it (built-in datasets, and images,
    /// whose labels are classes).
    pub fn builtin_task(&self) -> Option<Task> {
        if self.image_source() {
            return Some(Task::Classification);
        }
        match (&self.csv, self.dataset) {
            (None, Some(builtin)) => Some(builtin.task()),
            (Some(_), _) if self.series.is_some() => Some(Task::Regression),
            (Some(_), _) if self.text.is_some() => Some(Task::Classification),
            _ => None,
        }
    }

    /// Whether the data are a time series, cut into windows.
    pub fn is_series(&self) -> bool {
        match (&self.csv, self.dataset) {
            (Some(_), _) => self.series.is_some(),
            (None, Some(builtin)) => builtin.season().is_some(),
            (None, None) => false,
        }
    }

    /// Past steps per window of a series.
    pub fn window(&self) -> usize {
        self.window.unwrap_or(sequence::DEFAULT_WINDOW)
    }

    /// Steps per season of the series: set, or the built-in series'.
    pub fn season(&self) -> Option<usize> {
        let season = match (&self.csv, self.dataset) {
            (None, Some(builtin)) => self.season.or(builtin.season()),
            _ => self.season,
        };
        season.filter(|&p| p > 0)
    }

    /// What a series' targets are read relative to.
    pub fn target_base(&self) -> Base<'_> {
        match (self.relative, self.season(), &self.autoregressive_base) {
            (false, _, _) => Base::Level,
            (true, _, Some(steps)) => Base::Autoregression(steps),
            (true, Some(p), None) if self.seasonal_base => Base::SeasonBack(p),
            (true, _, None) => Base::Last,
        }
    }

    /// Settles a series' season before training, from its first `train_share` of steps
    /// (the training part): the one set (`--season`), the built-in series' own, or the one
    /// [`season::detect`] finds; and what the targets are read relative to: one season back
    /// when that forecasts the training part better than the last value, and with
    /// `autoregression` a linear autoregression when that forecasts the training part's last
    /// fifth better still, fitted on its first four fifths. The line to print, `None` for
    /// other data.
    pub fn fit_season(&mut self, train_share: f64, autoregression: bool) -> Result<Option<String>> {
        let Some(series) = self.read_series()? else {
            return Ok(None);
        };
        let values = series.target_values();
        let values = &values[..((values.len() as f64 * train_share) as usize).max(2)];
        let line = match self.season() {
            Some(p) => format!("season {p} (given)"),
            None if self.season == Some(0) => "season off (--season 0)".to_string(),
            None => self.settle_season(values)?,
        };
        let (window, horizon) = (self.window(), self.horizon);
        self.seasonal_base = self.relative
            && self.season().is_some_and(|p| {
                p <= window && horizon <= p && lag_error(values, p) < lag_error(values, 1)
            });
        self.autoregressive_base = None;
        if !self.relative {
            return Ok(Some(line));
        }
        let naive = self.target_base();
        let fitted = match autoregression {
            true => fit_autoregression(&series, window, horizon, values.len(), naive),
            false => None,
        };
        let base = match fitted {
            Some((steps, ar, plain)) if ar < plain => {
                self.autoregressive_base = Some(steps);
                "the network forecasts the error of a linear autoregression"
            }
            _ if self.seasonal_base => "the network forecasts the change from one season back",
            _ => "the network forecasts the change from the last value",
        };
        Ok(Some(format!("{line}; {base}")))
    }

    /// The season of a series without one set: the calendar's period when the dates propose
    /// one and `values` (the training part) bear it out, else the one [`season::detect`]
    /// finds; the line that says which.
    fn settle_season(&mut self, values: &[f64]) -> Result<String> {
        let hint = match (&self.csv, &self.series) {
            (Some(path), Some(columns)) => {
                calendar::hint(path, self.time.as_deref(), columns, self.delimiter)?
            }
            _ => None,
        };
        let mut line = String::new();
        if let Some((column, p, kind)) = hint {
            match season::confirm(values, p) {
                Some(found) => {
                    self.season = Some(p);
                    let r = found.autocorrelation;
                    return Ok(format!(
                        "season {p} from the {kind} dates in `{column}` (autocorrelation {r:.2})"
                    ));
                }
                None => {
                    line = format!(
                        "the {kind} dates in `{column}` propose season {p}, which the training \
                         part does not bear out; "
                    )
                }
            }
        }
        Ok(match season::detect(values) {
            Some(found) => {
                self.season = Some(found.period);
                let r = found.autocorrelation;
                format!("{line}season {} (autocorrelation {r:.2})", found.period)
            }
            None => {
                self.season = Some(0);
                format!("{line}no season found")
            }
        })
    }

    /// The series, for series data: a CSV file's columns or a built-in series.
    pub fn read_series(&self) -> Result<Option<Series>> {
        match (&self.csv, &self.series, self.dataset) {
            (Some(path), Some(columns), _) => {
                let target = self.target.as_deref().unwrap_or_default();
                sequence::series::read_series(path, columns, target, self.delimiter).map(Some)
            }
            (None, _, Some(builtin)) => {
                Ok(builtin.series(self.samples, self.window(), self.noise, self.seed))
            }
            _ => Ok(None),
        }
    }

    /// Whether the rows are text, read as token ids.
    pub fn is_text(&self) -> bool {
        match (&self.csv, self.dataset) {
            (Some(_), _) => self.text.is_some(),
            (None, Some(builtin)) => builtin == Builtin::Reviews,
            (None, None) => false,
        }
    }

    /// The column a text run reads its texts from (a built-in text's is `text`).
    pub fn text_column(&self) -> &str {
        self.text.as_deref().unwrap_or("text")
    }

    /// `texts` as the token ids a text run trained on: its tokens, vocabulary and length.
    pub fn encode_texts(&self, texts: &Texts) -> Dataset {
        let max_len = self.max_len.unwrap_or(1);
        texts.encoded(self.tokens, self.vocabulary.as_deref(), max_len)
    }

    /// The text rows and their targets, for text data.
    pub fn read_texts(&self, task: Task) -> Result<Option<Texts>> {
        let texts = match (&self.csv, &self.text, self.dataset) {
            (Some(path), Some(column), _) => {
                let target = self.target.as_deref().unwrap_or_default();
                let classes = task == Task::Classification;
                text::read_texts(path, column, target, classes, self.delimiter)?
            }
            (None, _, Some(Builtin::Reviews)) => text::reviews(self.samples, self.seed),
            _ => return Ok(None),
        };
        let what = match (&self.text, &self.csv) {
            (Some(column), Some(path)) => {
                format!("the text column `{column}` of {}", path.display())
            }
            _ => "the text".into(),
        };
        texts.check_tokens(self.tokens, &what)?;
        Ok(Some(texts))
    }

    /// Loads text as token ids with the fitted vocabulary; `None` for other data.
    fn load_text(&self, task: Task) -> Result<Option<Loaded>> {
        let Some(texts) = self.read_texts(task)? else {
            return Ok(None);
        };
        let (Some(vocabulary), Some(max_len)) = (&self.vocabulary, self.max_len) else {
            return Err(Error::config(
                "data.vocabulary",
                "is not fitted: the vocabulary is built on the training rows before loading",
            ));
        };
        let data = texts.encoded(self.tokens, Some(vocabulary), max_len);
        Ok(Some(Loaded {
            data,
            skipped: 0,
            image: None,
            note: None,
            sequence: Some(SequenceShape {
                steps: max_len,
                features: 1,
            }),
            series: None,
        }))
    }

    /// Loads a series as its windows; `None` for other data.
    fn load_series(&self) -> Result<Option<Loaded>> {
        let Some(series) = self.read_series()? else {
            return Ok(None);
        };
        let window = self.window();
        let file = self.csv.as_ref().map(|p| p.display().to_string());
        let file = file.unwrap_or(self.name());
        series.check_window(window, self.horizon, sequence::MIN_WINDOWS, &file)?;
        Ok(Some(Loaded {
            data: series.windows(window, self.horizon, self.target_base()),
            skipped: 0,
            image: None,
            note: None,
            sequence: Some(SequenceShape {
                steps: window,
                features: series.names.len(),
            }),
            series: Some(series),
        }))
    }

    /// A short name for the data, used as the default run directory.
    pub fn name(&self) -> String {
        let file = self.csv.as_ref().or(self.images.as_ref());
        match (file.or(self.idx_images.as_ref()), self.dataset) {
            (Some(path), _) => path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "csv".into()),
            (None, Some(builtin)) => builtin.as_str().into(),
            (None, None) => "run".into(),
        }
    }

    /// Loads the data for `task`.
    pub fn load(&self, task: Task) -> Result<Dataset> {
        self.load_counting(task, None).map(|loaded| loaded.data)
    }

    /// Loads the data for `task`, with what loading it found out. `resize` is the height and
    /// width that a folder's images are brought to (`--image`); without it they must agree.
    pub fn load_counting(&self, task: Task, resize: Option<(usize, usize)>) -> Result<Loaded> {
        self.validate()?;
        if let Some(loaded) = self.load_series()? {
            return Ok(loaded);
        }
        if let Some(loaded) = self.load_text(task)? {
            self.check_task(&loaded.data, task)?;
            return Ok(loaded);
        }
        if let Some(images) = self.read_images(resize)? {
            let (image, note) = (Some(images.shape), images.note.clone());
            let data = images.into_dataset();
            self.check_task(&data, task)?;
            return Ok(Loaded::rows(data, image, note));
        }
        let (data, skipped) = match (&self.csv, self.dataset) {
            (Some(path), _) => {
                let target = self.target.as_deref().unwrap_or_default();
                csv::read_table(
                    path,
                    target,
                    self.features.as_deref(),
                    task,
                    self.drop_missing,
                    self.delimiter,
                )?
            }
            (None, Some(builtin)) => (
                builtin.load(self.samples, self.noise, self.classes, self.seed),
                0,
            ),
            (None, None) => unreachable!("validated above"),
        };
        self.check_task(&data, task)?;
        Ok(Loaded {
            data,
            skipped,
            image: None,
            note: None,
            sequence: self
                .dataset
                .filter(|_| self.csv.is_none())
                .and_then(Builtin::sequence),
            series: None,
        })
    }

    /// The columns a model without a target learns from: `features`, or every numeric
    /// column but `color_by`, which must be a column of the file and not among them.
    fn unlabelled_columns(&self, path: &Path) -> Result<Vec<String>> {
        let mut names = match &self.features {
            Some(names) => names.clone(),
            None => csv::numeric_columns(path, self.delimiter)?,
        };
        let Some(color) = &self.color_by else {
            return Ok(names);
        };
        if self.features.as_ref().is_some_and(|f| f.contains(color)) {
            return Err(Error::config(
                "data.color_by",
                format!(
                    "is `{color}`, also among data.features: a column that colors the picture is not \
                     learned from"
                ),
            ));
        }
        csv::check_column(path, color, self.delimiter)?;
        names.retain(|n| n != color);
        if names.is_empty() {
            return Err(Error::config(
                "data.color_by",
                format!(
                    "is `{color}`, the only numeric column of {}: nothing is left to learn from",
                    path.display()
                ),
            ));
        }
        Ok(names)
    }

    /// Loads the rows of a model without a target (an autoencoder, a VAE, a GAN): a CSV
    /// file's `features`, or every column whose first row is a number; a built-in dataset's
    /// or images' features (resized to `resize`), their labels dropped. The targets are the features themselves:
    /// what an autoencoder learns to give back.
    pub fn load_unlabelled(&self, resize: Option<(usize, usize)>) -> Result<Loaded> {
        self.validate_for(false)?;
        if self.is_series() || self.is_text() {
            return Err(Error::Usage(
                "autoencoders, VAEs and GANs learn from a table or images, not from a series or \
                 text"
                    .into(),
            ));
        }
        if let Some(target) = &self.target {
            return Err(Error::config(
                "data.target",
                format!(
                    "is `{target}`, but autoencoders, VAEs and GANs have no target: they learn \
                     the rows themselves (name the columns to learn with --features)"
                ),
            ));
        }
        if self.color_by.is_some() && self.csv.is_none() {
            return Err(Error::config(
                "data.color_by",
                "names a column of a CSV file (--data FILE.csv)",
            ));
        }
        let (mut data, image, note) = match (self.read_images(resize)?, &self.csv, self.dataset) {
            (Some(images), _, _) => {
                let (shape, note) = (images.shape, images.note.clone());
                (images.into_dataset(), Some(shape), note)
            }
            (None, Some(path), _) => {
                let names = self.unlabelled_columns(path)?;
                let features = csv::read_features(path, &names, self.delimiter)?;
                let data = Dataset {
                    features,
                    feature_names: names,
                    target_name: String::new(),
                    targets: TargetValues::Values(Vec::new()),
                };
                (data, None, None)
            }
            (None, None, Some(builtin)) => {
                let data = builtin.load(self.samples, self.noise, self.classes, self.seed);
                // Its rows are images, which pictures and `generate` draw as such.
                let side = shapes::SIDE;
                let image = (builtin == Builtin::Shapes).then_some(image::ImageShape {
                    height: side,
                    width: side,
                    channels: 1,
                });
                (data, image, None)
            }
            (None, None, None) => unreachable!("validated above"),
        };
        data.targets = TargetValues::Values(data.features.clone());
        data.target_name = String::new();
        Ok(Loaded::rows(data, image, note))
    }

    /// The images of a folder or of IDX files; `None` for other sources.
    fn read_images(&self, resize: Option<(usize, usize)>) -> Result<Option<image::Images>> {
        match (&self.images, &self.idx_images, &self.idx_labels) {
            (Some(dir), _, _) => image::read_folder(dir, resize, None).map(Some),
            (None, Some(images), Some(labels)) => image::read_idx(images, Some(labels)).map(Some),
            _ => Ok(None),
        }
    }

    /// Refuses data whose task differs from the loss's.
    fn check_task(&self, data: &Dataset, task: Task) -> Result<()> {
        if data.task() == task {
            return Ok(());
        }
        Err(Error::Usage(format!(
            "dataset `{}` is a {} problem but the loss is for {task}",
            self.name(),
            data.task()
        )))
    }
}

/// Data as loaded, with what loading found out on the way.
#[derive(Debug)]
pub struct Loaded {
    pub data: Dataset,
    /// CSV rows skipped for missing values.
    pub skipped: usize,
    /// The shape of each image, when the data are image files.
    pub image: Option<image::ImageShape>,
    /// Something done to the data that the user should hear about once, e.g. resizing.
    pub note: Option<String>,
    /// How a sequence model reads each row, when the data say (series windows, built-in
    /// sequence tasks).
    pub sequence: Option<SequenceShape>,
    /// The series the rows are windows of.
    pub series: Option<Series>,
}

impl Loaded {
    /// Rows read without steps: a table's, or images of `image`'s shape, with what was done to
    /// them.
    fn rows(data: Dataset, image: Option<image::ImageShape>, note: Option<String>) -> Self {
        Loaded {
            data,
            skipped: 0,
            image,
            note,
            sequence: None,
            series: None,
        }
    }
}

/// The target column: numbers, or class indices with their labels.
#[derive(Clone, Debug, PartialEq)]
pub enum TargetValues {
    Values(Vec<f64>),
    Classes {
        indices: Vec<usize>,
        labels: Vec<String>,
    },
}

/// A numeric table: features row-major, one target per row (a series forecasting several
/// steps has `outputs` targets per row, row-major).
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// `rows × feature_names.len()` values, row after row.
    pub features: Vec<f64>,
    pub feature_names: Vec<String>,
    pub target_name: String,
    pub targets: TargetValues,
}

impl Dataset {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.features.len() / self.feature_names.len().max(1)
    }

    /// Number of feature columns.
    pub fn width(&self) -> usize {
        self.feature_names.len()
    }

    /// Target values per row: 1, or a series' horizon; 1 for classes.
    pub fn outputs(&self) -> usize {
        match &self.targets {
            TargetValues::Values(v) if self.rows() > 0 => (v.len() / self.rows()).max(1),
            _ => 1,
        }
    }

    /// Regression or classification.
    pub fn task(&self) -> Task {
        match self.targets {
            TargetValues::Values(_) => Task::Regression,
            TargetValues::Classes { .. } => Task::Classification,
        }
    }

    /// Class labels, for classification data.
    pub fn labels(&self) -> Option<&[String]> {
        match &self.targets {
            TargetValues::Classes { labels, .. } => Some(labels),
            TargetValues::Values(_) => None,
        }
    }

    /// Renumbers the classes as positions in `labels`, which hold every label of the data
    /// and maybe more (the classes of all nodes of a federated run).
    pub fn relabel(&mut self, labels: &[String]) {
        if let TargetValues::Classes {
            indices,
            labels: own,
        } = &mut self.targets
        {
            let rank: Vec<usize> = own
                .iter()
                .map(|l| labels.iter().position(|m| m == l).expect("a superset"))
                .collect();
            indices.iter_mut().for_each(|i| *i = rank[*i]);
            *own = labels.to_vec();
        }
    }

    /// The rows named by `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let width = self.width();
        let mut features = Vec::with_capacity(indices.len() * width);
        for &i in indices {
            features.extend_from_slice(&self.features[i * width..(i + 1) * width]);
        }
        let targets = match &self.targets {
            TargetValues::Values(v) => {
                let k = self.outputs();
                let rows = indices.iter().flat_map(|&i| &v[i * k..(i + 1) * k]);
                TargetValues::Values(rows.copied().collect())
            }
            TargetValues::Classes { indices: c, labels } => TargetValues::Classes {
                indices: indices.iter().map(|&i| c[i]).collect(),
                labels: labels.clone(),
            },
        };
        Dataset {
            features,
            feature_names: self.feature_names.clone(),
            target_name: self.target_name.clone(),
            targets,
        }
    }

    /// The features as a `[rows, width]` float tensor.
    pub fn feature_tensor<B: Backend>(&self, device: &B::Device) -> Tensor<B, 2> {
        features_tensor(&self.features, self.width(), device)
    }

    /// The targets as tensors: `[rows, outputs]` values or `[rows]` class indices.
    pub fn target_tensor<B: Backend>(&self, device: &B::Device) -> Targets<B> {
        match &self.targets {
            TargetValues::Values(v) => {
                let data: Vec<f32> = v.iter().map(|&y| y as f32).collect();
                Targets::Values(Tensor::from_data(
                    TensorData::new(data, [self.rows(), self.outputs()]),
                    device,
                ))
            }
            TargetValues::Classes { indices, .. } => {
                let data: Vec<i64> = indices.iter().map(|&c| c as i64).collect();
                Targets::Classes(Tensor::<B, 1, Int>::from_data(
                    TensorData::new(data, [indices.len()]),
                    device,
                ))
            }
        }
    }
}

/// Row-major `f64` values as a `[rows, width]` float tensor.
pub fn features_tensor<B: Backend>(
    values: &[f64],
    width: usize,
    device: &B::Device,
) -> Tensor<B, 2> {
    let data: Vec<f32> = values.iter().map(|&v| v as f32).collect();
    let rows = values.len() / width.max(1);
    Tensor::from_data(TensorData::new(data, [rows, width]), device)
}
