//! `nnlab info` and `nnlab datasets`: what a run or the built-in data hold.

use std::io::Write;

use crate::cli::{DatasetsArgs, InfoArgs};
use crate::data::{Builtin, DataConfig};
use crate::error::{Error, Result};
use crate::eval::metrics::Evaluation;
use crate::loss::Task;
use crate::run_dir::{RunDir, VALID_AT_BEST};

use super::name;

pub(super) fn info(args: InfoArgs) -> Result<()> {
    let dir = RunDir::new(&args.dir);
    let (config, info) = dir.load_meta()?;
    let summary = dir.load_summary()?;
    let mut out = std::io::stdout().lock();
    let number = |key: &str| summary.get(key).and_then(|v| v.as_f64());
    let mut text = format!(
        "run:            {}\ntask:           {} (target `{}`, features {})\nmodel:          {}\nloss:           {}\noptimizer:      {} (learning rate {})\ntrained:        {} epochs, {} steps, last on {}\n",
        args.dir.display(),
        info.task,
        info.target_name,
        columns(&info.feature_names),
        config.model.describe(),
        name(config.loss.name),
        config.optimizer.name.as_str(),
        config.optimizer.learning_rate,
        info.epochs_done,
        info.steps,
        info.backend,
    );
    for key in [
        "train_loss",
        "valid_loss",
        "valid_accuracy",
        "train_seconds",
    ] {
        if let Some(v) = number(key) {
            text += &format!("{:<16}{v}\n", format!("{key}:"));
        }
    }
    let evaluation = |key: &str| {
        serde_json::from_value::<Option<Evaluation>>(summary[key].clone())
            .ok()
            .flatten()
    };
    // Runs before format 2's summary called the validation metrics `valid`.
    if let Some(e) = evaluation(VALID_AT_BEST).or_else(|| evaluation("valid")) {
        text += &format!(
            "validation:     {} {:.4} on {} rows, at the best epoch, which these rows chose: \
             optimistic (--test FRACTION gives an unbiased score)\n",
            e.score_name(),
            e.score(),
            e.rows()
        );
    }
    if let Some(e) = evaluation("test") {
        text += &format!(
            "test:           {} {:.4} on {} rows\n",
            e.score_name(),
            e.score(),
            e.rows()
        );
    }
    text += &format!(
        "preprocess:     features {}, target {}\n",
        name(config.preprocess.features),
        if info.task == Task::Regression {
            name(config.preprocess.target)
        } else {
            "(class labels)".into()
        }
    );
    if let Some(classes) = &info.classes {
        text += &format!("classes:        {}\n", classes.join(", "));
    }
    text += &format!("\nconfig.json:\n{}\n", config.to_json());
    out.write_all(text.as_bytes())
        .map_err(|e| Error::io("<stdout>", e))
}

/// `nnlab datasets`: the list, or with a name the dataset as a CSV file.
pub(super) fn datasets(args: DatasetsArgs) -> Result<()> {
    let Some(name) = args.name else {
        return list_datasets();
    };
    // Validated as training validates them: a bad noise, too few points, or more than
    // memory holds is refused before anything is generated.
    let mut d = DataConfig::new().with_dataset(Some(name));
    super::experiment::apply_generated(&mut d, &args.generated);
    d.validate()?;
    // Each cell is held as text, then as the file's bytes: about 64 bytes.
    let cells = (name.about().features + 1) as f64 * 64.0;
    let what = format!("{} rows as CSV", d.samples);
    crate::memory::check("data.samples", &what, d.samples as f64 * cells)?;
    let (header, rows) = name.csv_cells(d.samples, d.noise, d.classes, d.seed);
    let table = super::encode::Table { header, rows };
    match &args.out {
        Some(path) => super::generate::write_csv(path, &table),
        None => super::encode::print_csv(&table),
    }
}

fn list_datasets() -> Result<()> {
    let rows: Vec<Vec<String>> = Builtin::ALL
        .iter()
        .map(|b| {
            let about = b.about();
            vec![
                about.name.to_string(),
                about.task.to_string(),
                about.rows.map_or("--samples".into(), |r| r.to_string()),
                about.features.to_string(),
                match (about.task, about.classes) {
                    (Task::Regression, _) => "-".into(),
                    (_, Some(k)) => k.to_string(),
                    (_, None) => "--classes".into(),
                },
                about.source.to_string(),
            ]
        })
        .collect();
    let header = ["name", "task", "rows", "features", "classes", "source"];
    let text = crate::plot::charts::table(&header, &rows, &[0, 1, 5])
        + "\nGenerated sets take --samples (default 1000), --noise (default 0.1) and --data-seed.\n";
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Error::io("<stdout>", e))
}

/// The feature columns, all of them when few, else their count with the first and last (an
/// image has one column per pixel).
fn columns(names: &[String]) -> String {
    match names {
        [first, .., last] if names.len() > 12 => {
            format!("{} columns: {first}, …, {last}", names.len())
        }
        _ => names.join(", "),
    }
}
