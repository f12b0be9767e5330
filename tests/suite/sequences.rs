//! Sequence models (RNN, LSTM, GRU, transformer) and time series through every command: the
//! gradients are the math's, padding changes nothing, a series splits in time, and the LSTM
//! beats the forecasts every forecaster checks first on the built-in real series.

use std::path::Path;

use nnlab::data::{Builtin, Dataset, TargetValues};
use nnlab::loss::{LossConfig, LossName};
use nnlab::models::{ModelConfig, RnnConfig};

use crate::common;

use common::{nnlab, stdout};

/// `summary.json`'s forecast scores of a run: method → MAE.
fn forecast_maes(run: &Path) -> Vec<(String, f64)> {
    let summary = common::json(&run.join("summary.json"));
    summary["forecast"]["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["method"].as_str().unwrap().to_string(),
                s["mae"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_default_lstm_beats_naive_and_seasonal_naive_on_the_airline_series() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let text = stdout(
        nnlab()
            .args([
                "train",
                "--dataset",
                "airline",
                "--model",
                "lstm",
                "--quiet",
                "--out",
            ])
            .arg(&run),
    );
    assert!(text.is_empty(), "the table goes to stderr: {text}");
    let maes = forecast_maes(&run);
    let mae = |prefix: &str| maes.iter().find(|(m, _)| m.starts_with(prefix)).unwrap().1;
    assert!(mae("network") < mae("naive"), "{maes:?}");
    assert!(mae("network") < mae("seasonal naive"), "{maes:?}");
    // The test part is the last 20% of the 132 windows, forecast from true history.
    let forecast = std::fs::read_to_string(run.join("forecast.csv")).unwrap();
    let steps: Vec<usize> = forecast
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(steps, (118..144).collect::<Vec<_>>());
    assert!(run.join("forecast.png").exists());
}

#[test]
fn a_series_splits_in_time_and_scales_on_its_training_part() {
    let mut config = nnlab::config::ExperimentConfig::new();
    config.data = nnlab::data::DataConfig::new().with_dataset(Some(Builtin::Airline));
    config.training = config
        .training
        .clone()
        .with_validation_fraction(0.1)
        .with_test_fraction(0.2);
    let data = config.load_data().unwrap().data;
    let split = nnlab::train::split_rows(&config, &data);
    assert!(split.train.iter().max() < split.valid.iter().min());
    assert!(split.valid.iter().max() < split.test.iter().min());
    assert_eq!(split.test.last(), Some(&(data.rows() - 1)));
    let prepared = nnlab::train::prepare(&config, &data, None);
    let train = data.subset(&split.train);
    let width = train.width();
    let mean = (0..train.rows())
        .map(|r| train.features[r * width])
        .sum::<f64>()
        / train.rows() as f64;
    let scaled_zero = prepared.scaler.features[0].apply(mean);
    assert!(scaled_zero.abs() < 1e-9, "scaled mean {scaled_zero}");
}

/// Writes `data`'s rows with their target as a CSV file.
fn write_csv(path: &Path, data: &Dataset) {
    let mut text = data.feature_names.join(",") + "," + &data.target_name + "\n";
    let width = data.width();
    for r in 0..data.rows() {
        let row: Vec<String> = data.features[r * width..(r + 1) * width]
            .iter()
            .map(f64::to_string)
            .collect();
        let target = match &data.targets {
            TargetValues::Values(v) => v[r].to_string(),
            TargetValues::Classes { indices, labels } => labels[indices[r]].clone(),
        };
        text += &format!("{},{target}\n", row.join(","));
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn sequence_runs_go_through_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("memory.csv");
    write_csv(&csv, &Builtin::Memory.load(60, 0.0, 2, 4));
    let small = [
        ("lstm", vec!["--hidden-size", "6", "--bidirectional"]),
        ("gru", vec!["--hidden-size", "6", "--layers", "2"]),
        ("rnn", vec!["--hidden-size", "6"]),
        (
            "transformer",
            vec!["--d-model", "8", "--heads", "2", "--layers", "1"],
        ),
    ];
    for (family, flags) in small {
        let run = dir.path().join(family);
        let mut train = nnlab();
        train
            .args([
                "train",
                "--dataset",
                "memory",
                "--samples",
                "80",
                "--epochs",
                "2",
            ])
            .args(["--model", family, "--quiet", "--out"])
            .arg(&run)
            .args(&flags);
        stdout(&mut train);
        let config = common::json(&run.join("config.json"));
        assert_eq!(config["model"]["kind"], family);
        assert_eq!(config["model"]["sequence"]["steps"], 20);
        assert_eq!(run.join("attention.png").exists(), family == "transformer");
        let predicted = common::predicted_rows(&run, &csv);
        assert_eq!(predicted.len(), 60, "{family}");
        stdout(
            nnlab()
                .args(["eval", "--checkpoint"])
                .arg(&run)
                .arg("--input")
                .arg(&csv),
        );
        let info = stdout(nnlab().arg("info").arg(&run));
        assert!(info.contains("20 steps × 2"), "{family}: {info}");
        stdout(
            nnlab()
                .args(["train", "--epochs", "3", "--quiet", "--resume"])
                .arg(&run),
        );
        stdout(nnlab().args(["export", "--checkpoint"]).arg(&run));
        assert!(run.join("model.safetensors").exists());
    }
    // compare races optimizers on a sequence model; gradcheck reads one from a config file.
    stdout(
        nnlab()
            .args([
                "compare",
                "--dataset",
                "memory",
                "--samples",
                "60",
                "--epochs",
                "1",
            ])
            .args([
                "--model",
                "lstm",
                "--hidden-size",
                "4",
                "--optimizers",
                "sgd,adam",
            ])
            .arg("--quiet")
            .arg("--out")
            .arg(dir.path().join("compare")),
    );
    let config = dir.path().join("gru.json");
    let json = r#"{"data": {"dataset": "memory", "samples": 8},
        "model": {"kind": "gru", "hidden_size": 3, "bidirectional": true}}"#;
    std::fs::write(&config, json).unwrap();
    let checked = stdout(
        nnlab()
            .args(["gradcheck", "--rows", "4", "--config"])
            .arg(&config),
    );
    assert!(checked.contains("backward.0.update_gate"), "{checked}");
    // Fine-tuning an LSTM with its recurrent layer frozen.
    let tuned = dir.path().join("tuned");
    stdout(
        nnlab()
            .args([
                "train",
                "--dataset",
                "memory",
                "--samples",
                "80",
                "--epochs",
                "1",
            ])
            .args(["--model", "lstm", "--hidden-size", "6", "--bidirectional"])
            .args(["--freeze", "0", "--quiet", "--init-from"])
            .arg(dir.path().join("lstm"))
            .arg("--out")
            .arg(&tuned),
    );
}

#[test]
fn a_series_forecast_continues_after_its_last_row() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    stdout(
        nnlab()
            .args([
                "train",
                "--dataset",
                "noisy_sine",
                "--samples",
                "200",
                "--epochs",
                "3",
            ])
            .args([
                "--model",
                "gru",
                "--hidden-size",
                "8",
                "--window",
                "10",
                "--quiet",
            ])
            .arg("--out")
            .arg(&run),
    );
    let series = Builtin::NoisySine.series(40, 10, 0.1, 3).unwrap();
    let mut text = String::from("y\n");
    for v in &series.values {
        text += &format!("{v}\n");
    }
    let csv = dir.path().join("series.csv");
    std::fs::write(&csv, &text).unwrap();
    let forecast = |path: &Path, steps: &str| -> Vec<f64> {
        stdout(common::predict_command(&run, path).args(["--steps", steps]))
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
            .collect()
    };
    let three = forecast(&csv, "3");
    assert_eq!(three.len(), 3);
    // Each step forecasts from the series with the forecasts before it appended.
    text += &format!("{}\n", three[0]);
    let longer = dir.path().join("longer.csv");
    std::fs::write(&longer, &text).unwrap();
    let next = forecast(&longer, "1");
    assert!(
        (next[0] - three[1]).abs() < 1e-4,
        "{next:?} against {three:?}"
    );
}

#[test]
fn a_horizon_run_forecasts_its_steps_directly_and_scores_each() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let series = Builtin::NoisySine.series(120, 8, 0.1, 5).unwrap();
    let text: String = series.values.iter().map(|v| format!("{v}\n")).collect();
    let csv = dir.path().join("series.csv");
    std::fs::write(&csv, format!("y\n{text}")).unwrap();
    stdout(
        nnlab()
            .args(["train", "--data"])
            .arg(&csv)
            .args([
                "--series",
                "y",
                "--window",
                "8",
                "--horizon",
                "4",
                "--season",
                "5",
            ])
            .args([
                "--model",
                "lstm",
                "--hidden-size",
                "8",
                "--epochs",
                "3",
                "--quiet",
            ])
            .arg("--out")
            .arg(&run),
    );
    let config = std::fs::read_to_string(run.join("config.json")).unwrap();
    assert!(config.contains("\"horizon\": 4"), "{config}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    let by_step = summary["forecast"]["by_steps_ahead"].as_array().unwrap();
    assert_eq!(by_step.len(), 4);
    let first = by_step[0][0]["mae"].as_f64().unwrap();
    assert_eq!(
        first,
        summary["forecast"]["scores"][0]["mae"].as_f64().unwrap()
    );
    let forecast = |path: &Path, steps: Option<&str>| -> Vec<f64> {
        let mut predict = common::predict_command(&run, path);
        predict.args(steps.map(|s| vec!["--steps", s]).unwrap_or_default());
        stdout(&mut predict)
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
            .collect()
    };
    // One pass of the model gives the horizon; past it, the forecasts join the series.
    let four = forecast(&csv, None);
    assert_eq!(four.len(), 4);
    let six = forecast(&csv, Some("6"));
    assert_eq!(&six[..4], &four[..]);
    let longer = dir.path().join("longer.csv");
    let known: String = four.iter().map(|v| format!("{v}\n")).collect();
    std::fs::write(&longer, format!("y\n{text}{known}")).unwrap();
    let next = forecast(&longer, Some("2"));
    for (a, b) in next.iter().zip(&six[4..]) {
        assert!((a - b).abs() < 1e-4, "{next:?} against {six:?}");
    }
    let eval = stdout(
        nnlab()
            .args(["eval", "--checkpoint"])
            .arg(&run)
            .arg("--input")
            .arg(&csv),
    );
    let windows = series.steps() - 8 - 4 + 1;
    assert!(eval.contains(&format!("rows {windows}")), "{eval}");
    // Scores count windows as rows, each of 4 values.
    let info = stdout(nnlab().arg("info").arg(&run));
    let test_rows = (windows as f64 * 0.2).round();
    assert!(info.contains(&format!("on {test_rows} rows")), "{info}");
}

#[test]
fn rolling_origin_cross_validation_trains_each_fold_on_its_past() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cv");
    stdout(
        nnlab()
            .args([
                "cv",
                "--dataset",
                "noisy_sine",
                "--samples",
                "120",
                "--epochs",
                "2",
            ])
            .args([
                "--model",
                "lstm",
                "--hidden-size",
                "4",
                "--folds",
                "3",
                "--quiet",
            ])
            .arg("--out")
            .arg(&out),
    );
    let report = common::json(&out.join("cv.json"));
    let train: Vec<u64> = report["folds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["train_rows"].as_u64().unwrap())
        .collect();
    // 4 blocks of 30 windows: fold k trains on the k blocks before the one it holds out (less
    // the validation part, none here).
    assert_eq!(train, vec![30, 60, 90]);
}

/// Writes texts and labels as a CSV file of columns `text` and `label`.
fn write_texts(path: &Path, rows: &[(String, String)]) {
    let mut text = String::from("text,label\n");
    for (t, l) in rows {
        text += &format!("\"{t}\",{l}\n");
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_text_column_trains_predicts_and_keeps_its_vocabulary() {
    let dir = tempfile::tempdir().unwrap();
    let reviews = nnlab::data::sequence::text::reviews(200, 5);
    let TargetValues::Classes { indices, labels } = &reviews.targets else {
        unreachable!()
    };
    let rows: Vec<(String, String)> = reviews
        .texts
        .iter()
        .zip(indices)
        .map(|(t, &c)| (t.clone(), labels[c].clone()))
        .collect();
    let csv = dir.path().join("reviews.csv");
    write_texts(&csv, &rows);
    let run = dir.path().join("run");
    stdout(
        nnlab()
            .args(["train", "--data"])
            .arg(&csv)
            .args(["--text", "text", "--target", "label", "--vocab", "12"])
            .args(["--epochs", "2", "--hidden-size", "8", "--quiet", "--out"])
            .arg(&run),
    );
    let config = common::json(&run.join("config.json"));
    assert_eq!(config["model"]["kind"], "lstm");
    let vocabulary = config["data"]["vocabulary"].as_array().unwrap();
    assert_eq!(vocabulary.len(), 12);
    assert_eq!(vocabulary[0], "<pad>");
    assert_eq!(vocabulary[1], "<unk>");
    assert_eq!(config["data"]["max_len"], 11);
    assert_eq!(config["model"]["vocab"], 12);
    let predicted = common::predicted_rows(&run, &csv);
    assert_eq!(predicted.len(), 200);
    assert!(
        predicted
            .iter()
            .all(|r| r[0] == "negative" || r[0] == "positive")
    );
    stdout(
        nnlab()
            .args(["eval", "--checkpoint"])
            .arg(&run)
            .arg("--input")
            .arg(&csv),
    );
    // Text gets a picture of one row's tokens coloured by their gradient saliency, and a
    // transformer's also one coloured by their attention.
    let attends = dir.path().join("attends");
    stdout(
        nnlab()
            .args(["train", "--data"])
            .arg(&csv)
            .args([
                "--text",
                "text",
                "--target",
                "label",
                "--model",
                "transformer",
            ])
            .args([
                "--d-model",
                "8",
                "--heads",
                "2",
                "--layers",
                "1",
                "--epochs",
                "1",
            ])
            .args(["--validation", "0.2", "--quiet", "--out"])
            .arg(&attends),
    );
    assert!(attends.join("tokens.png").exists());
    assert!(!run.join("tokens.png").exists());
    assert!(run.join("saliency.png").exists() && attends.join("saliency.png").exists());
}

#[test]
fn the_vocabulary_is_fitted_on_the_training_rows_only() {
    let dir = tempfile::tempdir().unwrap();
    // Every row has a word of its own, so the vocabulary names the rows it was fitted on.
    let rows: Vec<(String, String)> = (0..40)
        .map(|i| (format!("word{i} shared"), ["a", "b"][i % 2].to_string()))
        .collect();
    let csv = dir.path().join("words.csv");
    write_texts(&csv, &rows);
    let mut config = nnlab::config::ExperimentConfig::new();
    config.data = nnlab::data::DataConfig::new()
        .with_dataset(None)
        .with_csv(Some(csv))
        .with_target(Some("label".into()))
        .with_text(Some("text".into()));
    config.loss = LossConfig::new().with_name(LossName::CrossEntropy);
    config.model = ModelConfig::Lstm(RnnConfig::new());
    config.training = config
        .training
        .clone()
        .with_validation_fraction(0.25)
        .with_test_fraction(0.25);
    let data = config.load_data().unwrap().data;
    let split = nnlab::train::split_rows(&config, &data);
    let vocabulary = config.data.vocabulary.clone().unwrap();
    let mut expected: Vec<String> = split.train.iter().map(|r| format!("word{r}")).collect();
    expected.push("shared".into());
    expected.sort();
    let mut fitted = vocabulary[2..].to_vec();
    fitted.sort();
    assert_eq!(fitted, expected);
    // A held-out row's own word is unknown (id 1); the shared word is known.
    let held = split.test[0];
    assert_eq!(data.features[held * data.width()], 1.0);
    assert!(data.features[held * data.width() + 1] > 1.0);
}

/// A monthly series: a yearly profile on a slow trend with noise, 240 steps.
fn monthly_series(dir: &Path) -> std::path::PathBuf {
    let profile = [
        4.0, 9.0, 13.0, 10.0, 2.0, -5.0, -11.0, -14.0, -8.0, -1.0, 3.0, -2.0,
    ];
    let mut state = 7u64;
    let mut text = String::from("value\n");
    for t in 0..240 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let noise = (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
        text += &format!("{}\n", 50.0 + 0.1 * t as f64 + profile[t % 12] + noise);
    }
    let csv = dir.join("monthly.csv");
    std::fs::write(&csv, text).unwrap();
    csv
}

#[test]
fn a_season_is_found_on_the_training_part_used_in_the_target_and_turned_off_by_season_0() {
    let dir = tempfile::tempdir().unwrap();
    let csv = monthly_series(dir.path());
    let train = |run: &Path, extra: &[&str]| -> String {
        let output = nnlab()
            .args(["train", "--series", "value", "--epochs", "40", "--data"])
            .arg(&csv)
            .args(extra)
            .arg("--out")
            .arg(run)
            .output()
            .unwrap();
        assert!(output.status.success());
        String::from_utf8(output.stderr).unwrap()
    };
    let run = dir.path().join("found");
    let said = train(&run, &[]);
    assert!(said.contains("season 12 (autocorrelation 0."), "{said}");
    // The autoregression forecasts the training part's last fifth better than one season back.
    assert!(
        said.contains("the error of a linear autoregression"),
        "{said}"
    );
    let config = common::json(&run.join("config.json"));
    assert_eq!(config["data"]["season"], 12);
    assert_eq!(config["data"]["seasonal_base"], true);
    let steps = config["data"]["autoregressive_base"].as_array().unwrap();
    assert_eq!((steps.len(), steps[0].as_array().unwrap().len()), (1, 13));
    let maes = forecast_maes(&run);
    let mae = |prefix: &str| maes.iter().find(|(m, _)| m.starts_with(prefix)).unwrap().1;
    assert!(mae("network") <= mae("seasonal naive (m = 12)"), "{maes:?}");
    assert!(mae("network") <= 1.1 * mae("linear AR(12)"), "{maes:?}");
    // predict continues the series through the autoregression, as training read it.
    let next = stdout(common::predict_command(&run, &csv).args(["--steps", "12"]));
    let next: Vec<f64> = next
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    let year_ago: Vec<f64> = std::fs::read_to_string(&csv)
        .unwrap()
        .lines()
        .skip(229)
        .map(|l| l.parse().unwrap())
        .collect();
    let gap = common::max_abs_diff(&next, &year_ago);
    assert!(gap < 6.0, "{next:?} against a year before {year_ago:?}");

    let off = dir.path().join("off");
    let said = train(&off, &["--season", "0"]);
    assert!(said.contains("season off (--season 0)"), "{said}");
    assert!(!said.contains("seasonal naive"), "{said}");
    assert_eq!(
        common::json(&off.join("config.json"))["data"]["seasonal_base"],
        false
    );
}

#[test]
fn the_dates_propose_the_season_and_a_bad_date_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let values = std::fs::read_to_string(monthly_series(dir.path())).unwrap();
    let dated = |name: &str, values: Vec<String>| {
        let mut text = String::from("month,value\n");
        for (i, v) in values.iter().enumerate() {
            text += &format!("{}-{:02},{v}\n", 2000 + i / 12, i % 12 + 1);
        }
        let csv = dir.path().join(name);
        std::fs::write(&csv, text).unwrap();
        csv
    };
    let train = |csv: &Path, extra: &[&str]| {
        nnlab()
            .args(["train", "--series", "value", "--epochs", "2", "--data"])
            .arg(csv)
            .args(extra)
            .arg("--out")
            .arg(dir.path().join(csv.file_stem().unwrap()))
            .output()
            .unwrap()
    };
    let seasonal = dated(
        "seasonal.csv",
        values.lines().skip(1).map(String::from).collect(),
    );
    let run = train(&seasonal, &[]);
    let said = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{said}");
    let line = "season 12 from the monthly dates in `month` (autocorrelation 0.";
    assert!(said.contains(line), "{said}");
    let config = common::json(&dir.path().join("seasonal/config.json"));
    assert_eq!(config["data"]["season"], 12);
    // A random walk with monthly dates: the training part does not bear the season out.
    let (mut level, mut state) = (0.0, 11u64);
    let walk = (0..240)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            level += (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            level.to_string()
        })
        .collect();
    let said = String::from_utf8_lossy(&train(&dated("walk.csv", walk), &[]).stderr).into_owned();
    let line = "the monthly dates in `month` propose season 12, which the training part does not \
                bear out; ";
    assert!(said.contains(line), "{said}");
    // --time insists that every cell is a date.
    let text = std::fs::read_to_string(&seasonal).unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, text.replacen("2001-03", "2001-13", 1)).unwrap();
    let run = train(&bad, &["--time", "month"]);
    assert_eq!(run.status.code(), Some(1));
    let said = String::from_utf8_lossy(&run.stderr);
    assert!(
        said.contains("bad.csv, line 16, column `month`: `2001-13` is not a date"),
        "{said}"
    );
}
