//! What the served folder holds, for the index page: each directory directly inside it that
//! is a run (`run.json`), a comparison (`compare.json`) or a cross-validation (`cv.json`),
//! read from its small JSON files only, never its weights.

use std::cmp::Ordering;
use std::path::Path;
use std::time::SystemTime;

use serde_json::Value;

use crate::config::ExperimentConfig;
use crate::eval::metrics::Evaluation;
use crate::run_dir::{RunDir, VALID_AT_BEST};

/// What kind of output a directory holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Run,
    Compare,
    Cv,
}

impl Kind {
    /// The kind of `dir`, by the file that only that kind writes.
    pub fn of(dir: &Path) -> Option<Kind> {
        [
            ("run.json", Kind::Run),
            ("compare.json", Kind::Compare),
            ("cv.json", Kind::Cv),
        ]
        .into_iter()
        .find(|(file, _)| dir.join(file).is_file())
        .map(|(_, kind)| kind)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Run => "run",
            Kind::Compare => "compare",
            Kind::Cv => "cv",
        }
    }

    /// The file whose time says when the directory was last written.
    fn stamp(self) -> &'static str {
        match self {
            Kind::Run => "run.json",
            Kind::Compare => "summary.json",
            Kind::Cv => "cv.json",
        }
    }
}

/// One row of the index.
#[derive(Clone, Debug)]
pub struct Entry {
    pub name: String,
    pub kind: Kind,
    pub task: String,
    pub data: String,
    pub model: String,
    /// The headline number, higher is better, and what it is (`accuracy (test)`, `R², mean
    /// of 5 folds`, ...).
    pub score: Option<(f64, String)>,
    /// The final training loss (a comparison's best).
    pub loss: Option<f64>,
    pub trained: Option<SystemTime>,
    /// Why the directory could not be read, if it could not.
    pub problem: Option<String>,
}

/// The entries of `root`, by name.
pub fn list(root: &Path) -> Vec<Entry> {
    let Ok(dirs) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut entries: Vec<Entry> = dirs
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let dir = e.path();
            // Only real directories: a link could lead out of the served folder.
            let real = e.file_type().ok()?.is_dir() && !name.starts_with('.');
            real.then(|| Kind::of(&dir).map(|kind| entry(&dir, name, kind)))?
        })
        .collect();
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    entries
}

fn entry(dir: &Path, name: String, kind: Kind) -> Entry {
    let mut entry = Entry {
        name,
        kind,
        task: String::new(),
        data: String::new(),
        model: String::new(),
        score: None,
        loss: None,
        trained: std::fs::metadata(dir.join(kind.stamp()))
            .and_then(|m| m.modified())
            .ok(),
        problem: None,
    };
    if let Err(e) = describe(dir, &mut entry) {
        entry.problem = Some(e);
    }
    entry
}

/// Fills in what the directory's config and results say.
fn describe(dir: &Path, entry: &mut Entry) -> Result<(), String> {
    let text = |e: crate::Error| e.to_string();
    let run = RunDir::new(dir);
    // A run's config is read with its run.json, which checks the format version too.
    let config = match entry.kind {
        Kind::Run => run.load_meta().map_err(text)?.0,
        _ => ExperimentConfig::load_file(&dir.join("config.json")).map_err(text)?,
    };
    entry.task = config.task().to_string();
    entry.data = config.data.name();
    entry.model = config.model.describe();
    match entry.kind {
        Kind::Run => {
            let summary = run.load_summary().map_err(text)?;
            entry.score = run_score(&summary);
            entry.loss = summary.get("train_loss").and_then(Value::as_f64);
        }
        Kind::Cv => entry.score = cv_score(&read_json(&dir.join("cv.json"))?),
        Kind::Compare => entry.loss = best_loss(&read_json(&dir.join("summary.json"))?),
    }
    Ok(())
}

pub fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The test score if the run has one, else the validation score at the best epoch.
fn run_score(summary: &Value) -> Option<(f64, String)> {
    [("test", "test"), (VALID_AT_BEST, "validation")]
        .into_iter()
        .find_map(|(key, on)| {
            let e: Evaluation = serde_json::from_value(summary.get(key)?.clone()).ok()?;
            Some((e.score(), format!("{} ({on})", e.score_name())))
        })
}

fn cv_score(report: &Value) -> Option<(f64, String)> {
    let mean = report.get("mean")?.as_f64()?;
    let folds = report.get("folds")?.as_array()?.len();
    let score = report.get("score")?.as_str()?;
    Some((mean, format!("{score}, mean of {folds} folds")))
}

/// A comparison's lowest training loss over its variants.
fn best_loss(summary: &Value) -> Option<f64> {
    let variants = summary.get("variants")?.as_array()?;
    variants
        .iter()
        .filter_map(|v| v.get("best_train_loss")?.as_f64())
        .min_by(f64::total_cmp)
}

/// The columns the index can be sorted by.
pub const COLUMNS: [&str; 8] = [
    "name", "kind", "task", "data", "model", "score", "loss", "trained",
];

/// Sorts `entries` by the column `by` (one of [`COLUMNS`]); entries without a value last.
pub fn sort(entries: &mut [Entry], by: &str, descending: bool) {
    let key = |a: &Entry, b: &Entry| -> Ordering {
        match by {
            "kind" => a.kind.cmp(&b.kind),
            "task" => a.task.cmp(&b.task),
            "data" => a.data.cmp(&b.data),
            "model" => a.model.cmp(&b.model),
            "score" => some_first(a.score.as_ref(), b.score.as_ref(), |x, y| {
                x.0.total_cmp(&y.0)
            }),
            "loss" => some_first(a.loss.as_ref(), b.loss.as_ref(), f64::total_cmp),
            "trained" => some_first(a.trained.as_ref(), b.trained.as_ref(), Ord::cmp),
            _ => a.name.cmp(&b.name),
        }
    };
    entries.sort_by(|a, b| {
        let order = key(a, b);
        let missing = |e: &Entry| match by {
            "score" => e.score.is_none(),
            "loss" => e.loss.is_none(),
            "trained" => e.trained.is_none(),
            _ => false,
        };
        match (missing(a), missing(b), descending) {
            (false, false, true) => order.reverse(),
            _ => order,
        }
    });
}

/// Orders by `cmp`, with `None` after every `Some`.
fn some_first<T>(a: Option<&T>, b: Option<&T>, cmp: impl Fn(&T, &T) -> Ordering) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => cmp(x, y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, score: Option<f64>) -> Entry {
        Entry {
            name: name.into(),
            kind: Kind::Run,
            task: String::new(),
            data: String::new(),
            model: String::new(),
            score: score.map(|s| (s, String::new())),
            loss: None,
            trained: None,
            problem: None,
        }
    }

    #[test]
    fn sorting_by_score_puts_the_unscored_last_either_way() {
        let mut entries = vec![
            entry("a", Some(0.5)),
            entry("b", None),
            entry("c", Some(0.9)),
        ];
        let names = |e: &[Entry]| e.iter().map(|e| e.name.clone()).collect::<Vec<_>>();
        sort(&mut entries, "score", true);
        assert_eq!(names(&entries), ["c", "a", "b"]);
        sort(&mut entries, "score", false);
        assert_eq!(names(&entries), ["a", "c", "b"]);
        sort(&mut entries, "name", true);
        assert_eq!(names(&entries), ["c", "b", "a"]);
    }
}
