//! What `predict`, `eval`, `explain`, `quantize` and `prune` read: a CSV table, or, for a run trained on images, image files
//! or IDX files brought to the run's image shape, made into the run's feature rows.

use std::path::{Path, PathBuf};

use crate::cli::{LabelledRows, Rows};
use crate::config::ExperimentConfig;
use crate::data::image::{ImageShape, Images, read_folder, read_idx, read_unlabelled};
use crate::data::sequence::series::read_series;
use crate::data::sequence::text::Texts;
use crate::data::{Dataset, TargetValues, csv};
use crate::error::{Error, Result};
use crate::run_dir::RunInfo;

/// The rows given to `predict` or `eval`.
pub(super) enum Input {
    Csv {
        path: PathBuf,
        delimiter: Option<char>,
    },
    /// An image file or a folder of them (with class subfolders for `eval`).
    Images(PathBuf),
    /// An IDX3 image file, with its labels for `eval`.
    Idx {
        images: PathBuf,
        labels: Option<PathBuf>,
    },
}

impl Input {
    /// The input the flags name; clap has made sure that exactly one of them is given.
    pub(super) fn new(
        csv: Option<PathBuf>,
        images: Option<PathBuf>,
        idx: Option<(PathBuf, Option<PathBuf>)>,
        delimiter: Option<char>,
    ) -> Input {
        match (csv, images, idx) {
            (Some(path), _, _) => Input::Csv { path, delimiter },
            (None, Some(dir), _) => Input::Images(dir),
            (None, None, Some((images, labels))) => Input::Idx { images, labels },
            (None, None, None) => unreachable!("clap requires one input"),
        }
    }

    /// The unlabelled rows `predict` and `encode` read.
    pub(super) fn unlabelled(rows: Rows) -> Input {
        let idx = rows.idx_images.map(|images| (images, None));
        Input::new(rows.input, rows.images, idx, rows.delimiter)
    }

    /// The labelled rows `eval` and `explain` were given.
    pub(super) fn labelled_rows(rows: &LabelledRows) -> Input {
        let idx = rows
            .idx_images
            .clone()
            .map(|images| (images, rows.idx_labels.clone()));
        let (csv, images) = (rows.input.clone(), rows.images.clone());
        Input::new(csv, images, idx, rows.delimiter)
    }

    /// The labelled rows given, if any, for a command where they are optional.
    pub(super) fn given(rows: &LabelledRows) -> Option<Input> {
        (rows.input.is_some() || rows.images.is_some() || rows.idx_images.is_some())
            .then(|| Input::labelled_rows(rows))
    }

    /// The rows a command scores a run on, and where they came from: this input's, or
    /// without one the run's held-out rows ([`held_out`]) of `data`, the run's data, which
    /// is rebuilt from its config ([`run_data`]) when not given.
    pub(super) fn scored(
        input: Option<&Input>,
        config: &ExperimentConfig,
        info: &RunInfo,
        data: Option<&Dataset>,
    ) -> Result<(Dataset, String)> {
        match (input, data) {
            (Some(input), _) => Ok((
                input.labelled(config, info)?,
                input.path().display().to_string(),
            )),
            (None, Some(data)) => Ok(held_out(config, data, "run")),
            (None, None) => {
                let data = run_data(config, info, "; pass --input")?;
                Ok(held_out(config, &data, "run"))
            }
        }
    }

    pub(super) fn path(&self) -> &Path {
        match self {
            Input::Csv { path, .. } | Input::Images(path) => path,
            Input::Idx { images, .. } => images,
        }
    }

    /// Rows to predict on, with each image's name (file, or index in an IDX file); no names
    /// for a CSV file, whose rows keep their order.
    pub(super) fn rows(
        &self,
        config: &ExperimentConfig,
        info: &RunInfo,
    ) -> Result<(Vec<f64>, Option<Vec<String>>)> {
        let images = match self {
            Input::Csv { path, delimiter } if config.data.is_text() => {
                return Ok((
                    self.text_rows(config, path, *delimiter, None)?.features,
                    None,
                ));
            }
            Input::Csv { path, delimiter } => {
                return Ok((
                    csv::read_features(path, &info.feature_names, *delimiter)?,
                    None,
                ));
            }
            Input::Images(path) => read_unlabelled(path, self.run_shape(config)?)?,
            Input::Idx { images, .. } => self.same_shape(read_idx(images, None)?, config)?,
        };
        if let Some(note) = &images.note {
            eprintln!("{}: {note}", self.path().display());
        }
        Ok((images.pixels, Some(images.labels)))
    }

    /// Labelled rows to score, their classes numbered as the run numbers them.
    pub(super) fn labelled(&self, config: &ExperimentConfig, info: &RunInfo) -> Result<Dataset> {
        let images = match self {
            Input::Csv { path, delimiter } if config.data.is_series() => {
                let columns = config.data.series.clone();
                let columns = columns.unwrap_or_else(|| vec![info.target_name.clone()]);
                let series = read_series(path, &columns, &info.target_name, *delimiter)?;
                let (window, horizon) = (config.data.window(), config.data.horizon);
                series.check_window(window, horizon, 1, &path.display().to_string())?;
                return Ok(series.windows(window, horizon, config.data.target_base()));
            }
            Input::Csv { path, delimiter } if config.data.is_text() => {
                let data = self.text_rows(config, path, *delimiter, Some(info))?;
                return Ok(data);
            }
            Input::Csv { path, delimiter } => {
                return csv::read_labelled(
                    path,
                    &info.feature_names,
                    &info.target_name,
                    info.classes.as_deref(),
                    *delimiter,
                );
            }
            Input::Images(dir) => {
                let shape = self.run_shape(config)?;
                let size = Some((shape.height, shape.width));
                read_folder(dir, size, Some(shape.channels))?
            }
            Input::Idx { images, labels } => {
                let read = read_idx(images, labels.as_deref())?;
                self.same_shape(read, config)?
            }
        };
        let said = images.note.clone();
        let data = self.in_run_classes(images, info)?;
        if let Some(note) = said {
            eprintln!("{}: {note}", self.path().display());
        }
        Ok(data)
    }

    /// A text run's input as token ids with the run's vocabulary; labelled as the run's
    /// classes (or numbers) when `labelled` gives the run.
    fn text_rows(
        &self,
        config: &ExperimentConfig,
        path: &Path,
        delimiter: Option<char>,
        labelled: Option<&RunInfo>,
    ) -> Result<Dataset> {
        let data = &config.data;
        let column = data.text_column();
        let target = labelled.map(|info| info.target_name.as_str());
        let classes = labelled.and_then(|info| info.classes.as_ref());
        let (texts, targets) =
            csv::read_text_column(path, column, target, classes.is_some(), delimiter)?;
        let targets = match (targets, classes) {
            (TargetValues::Classes { indices, labels }, Some(run)) => {
                let to_run = |i: usize| self.run_class(&labels[i], run);
                let indices = indices.into_iter().map(to_run).collect::<Result<_>>()?;
                TargetValues::Classes {
                    indices,
                    labels: run.clone(),
                }
            }
            (other, _) => other,
        };
        let texts = Texts {
            texts,
            target_name: target.unwrap_or_default().to_string(),
            targets,
        };
        Ok(data.encode_texts(&texts))
    }

    /// The image shape the run was trained on; refuses a run that does not record one.
    fn run_shape(&self, config: &ExperimentConfig) -> Result<ImageShape> {
        config.model.image().ok_or_else(|| {
            self.error("the run was not trained on images (its model has no image shape): give it --input FILE.csv".into())
        })
    }

    /// Refuses IDX images of another shape than the run's: they are not resized.
    fn same_shape(&self, images: Images, config: &ExperimentConfig) -> Result<Images> {
        let shape = self.run_shape(config)?;
        if images.shape != shape {
            let message = format!(
                "holds {} images but the run was trained on {shape}",
                images.shape
            );
            return Err(self.error(message));
        }
        Ok(images)
    }

    /// The images as a dataset whose class indices are the run's; refuses a class the run
    /// never saw.
    fn in_run_classes(&self, images: Images, info: &RunInfo) -> Result<Dataset> {
        let Some(classes) = &info.classes else {
            return Err(self.error("the run is a regression; images need a classifier".into()));
        };
        let indices = images
            .labels
            .iter()
            .map(|label| self.run_class(label, classes))
            .collect::<Result<_>>()?;
        Ok(Dataset {
            features: images.pixels,
            feature_names: info.feature_names.clone(),
            target_name: info.target_name.clone(),
            targets: TargetValues::Classes {
                indices,
                labels: classes.clone(),
            },
        })
    }

    /// The run's index of the class `label`; refuses a class the run never saw.
    fn run_class(&self, label: &str, classes: &[String]) -> Result<usize> {
        classes.iter().position(|c| c == label).ok_or_else(|| {
            self.error(format!(
                "holds class `{label}`, which the run was not trained on (it knows {})",
                classes.join(", ")
            ))
        })
    }

    /// A bad-content error on the input.
    fn error(&self, message: String) -> Error {
        Error::Data {
            path: self.path().to_owned(),
            line: None,
            column: None,
            message,
        }
    }
}

/// The run's data, rebuilt from its config, checked to have the columns it was trained on;
/// `hint` ends the refusal.
pub(super) fn run_data(config: &ExperimentConfig, info: &RunInfo, hint: &str) -> Result<Dataset> {
    let data = config.clone().load_data()?.data;
    if data.feature_names != info.feature_names {
        return Err(Error::Usage(format!(
            "the run's data now has the feature columns {:?}, not the {:?} it was trained on{hint}",
            data.feature_names, info.feature_names
        )));
    }
    Ok(data)
}

/// The raw rows of `data` that `config` holds out: its test part, else its validation part,
/// else (none held out) all of them; and a phrase saying which, about `whose` rows.
pub(super) fn held_out(
    config: &ExperimentConfig,
    data: &Dataset,
    whose: &str,
) -> (Dataset, String) {
    let split = crate::train::split_rows(config, data);
    for (rows, part) in [(&split.test, "test"), (&split.valid, "validation")] {
        if !rows.is_empty() {
            let text = format!("the {whose}'s {part} part ({} rows)", rows.len());
            return (data.subset(rows), text);
        }
    }
    let text = format!(
        "the {whose}'s {} training rows (none are held out, so it is scored on rows it trained \
         on)",
        data.rows()
    );
    (data.clone(), text)
}
