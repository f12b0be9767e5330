//! Reproducibility and reuse: determinism, save → load, and resume.

use burn::tensor::backend::AutodiffBackend;
use nnlab::backend::BackendName;
use nnlab::config::ExperimentConfig;
use nnlab::data::Dataset;
use nnlab::eval::predict::predict;
use nnlab::run_dir::{RunDir, RunInfo};
use nnlab::train::fit;

use crate::common;
use common::Cpu;

type Inner = <Cpu as AutodiffBackend>::InnerBackend;

fn moons_data(config: &ExperimentConfig) -> Dataset {
    config.data.load(config.task()).unwrap()
}

#[test]
fn same_config_and_seed_give_bit_identical_weights() {
    let config = common::moons(5);
    let data = moons_data(&config);
    let device = Default::default();
    let a = fit::<Cpu>(&config, &data, &device, None, false).unwrap();
    let b = fit::<Cpu>(&config, &data, &device, None, false).unwrap();
    assert_eq!(common::parameters(&a.model), common::parameters(&b.model));
    assert_eq!(a.history, b.history);

    let other = config
        .clone()
        .with_training(config.training.clone().with_seed(7));
    let c = fit::<Cpu>(&other, &data, &device, None, false).unwrap();
    assert_ne!(common::parameters(&a.model), common::parameters(&c.model));
}

#[test]
fn a_saved_run_predicts_exactly_as_the_model_in_memory() {
    let config = common::moons(3);
    let data = moons_data(&config);
    let device = Default::default();
    let trained = fit::<Cpu>(&config, &data, &device, None, false).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = common::save_run(
        &dir.path().join("run"),
        BackendName::default_compiled(),
        &config,
        &data,
        &trained,
    );

    let (loaded_config, mut loaded_info) = run.load_meta().unwrap();
    assert_eq!(loaded_config.to_json(), config.to_json());
    // The save adds a checksum of each binary file.
    let checksums = std::mem::take(&mut loaded_info.checksums);
    let files: Vec<&str> = checksums.keys().map(String::as_str).collect();
    assert_eq!(files, ["best.mpk", "model.mpk", "optimizer.mpk"]);
    assert_eq!(
        loaded_info,
        RunInfo::new(BackendName::default_compiled(), &config, &data, &trained)
    );
    let loaded = run.load_model::<Inner>(&loaded_config, &device).unwrap();
    let labels = data.labels();
    let width = data.width();
    // The model in memory in inference mode, as the loaded one is: on flex, the autodiff
    // backend's kernels round the last bit differently from the plain backend's.
    let before = predict(
        &burn::module::AutodiffModule::valid(&trained.model),
        config.loss.name,
        labels,
        &trained.scaler,
        &data.features,
        width,
        &device,
    );
    let after = predict(
        &loaded,
        config.loss.name,
        labels,
        &run.load_scaler(&loaded_info).unwrap(),
        &data.features,
        width,
        &device,
    );
    assert_eq!(before, after);
    for name in [
        "config.json",
        "run.json",
        "model.mpk",
        "optimizer.mpk",
        "scaler.json",
        "metrics.csv",
        "summary.json",
    ] {
        assert!(run.path.join(name).is_file(), "{name} missing");
    }
    let metrics = std::fs::read_to_string(run.path.join("metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 1 + 3, "{metrics}");
    assert!(metrics.starts_with(
        "epoch,train_loss,valid_loss,valid_accuracy,valid_f1,valid_rmse,valid_mae,valid_r2,learning_rate\n"
    ));
}

#[test]
fn resuming_gives_the_weights_of_an_uninterrupted_run() {
    let device = Default::default();
    let full = common::moons(10);
    let data = moons_data(&full);
    let straight = fit::<Cpu>(&full, &data, &device, None, false).unwrap();

    let half = common::moons(5);
    let first = fit::<Cpu>(&half, &data, &device, None, false).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = common::save_run(
        dir.path(),
        BackendName::default_compiled(),
        &half,
        &data,
        &first,
    );

    let (config, info) = run.load_meta().unwrap();
    let config = config
        .clone()
        .with_training(config.training.clone().with_epochs(10));
    let resume = run.load_resume::<Cpu>(&config, &info, &device).unwrap();
    let resumed = fit::<Cpu>(&config, &data, &device, Some(resume), false).unwrap();

    assert_eq!(resumed.steps, straight.steps);
    assert_eq!(resumed.history.len(), 10);
    let diff = common::max_abs_diff(
        &common::parameters(&resumed.model),
        &common::parameters(&straight.model),
    );
    assert!(diff <= 1e-6, "resumed weights differ by {diff}");
    assert_eq!(resumed.history[9].epoch, 10);
}

#[test]
fn weights_that_do_not_fit_the_config_are_refused() {
    let config = common::moons(1);
    let data = moons_data(&config);
    let device = Default::default();
    let trained = fit::<Cpu>(&config, &data, &device, None, false).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = common::save_run(
        dir.path(),
        BackendName::default_compiled(),
        &config,
        &data,
        &trained,
    );

    let (mut config, _) = run.load_meta().unwrap();
    common::mlp_config(&mut config).hidden = vec![8, 3];
    let error = run
        .load_model::<Inner>(&config, &device)
        .unwrap_err()
        .to_string();
    assert!(error.contains("model.mpk"), "{error}");

    let missing = RunDir::new(dir.path().join("nothing-here"));
    let error = missing.load_meta().unwrap_err().to_string();
    assert!(
        error.contains("run.json") && error.contains("nothing-here"),
        "{error}"
    );
}

#[test]
fn a_run_written_before_model_families_loads_as_an_mlp() {
    let device = Default::default();
    let config = common::moons(2);
    let data = moons_data(&config);
    let trained = fit::<Cpu>(&config, &data, &device, None, false).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = common::save_run(
        dir.path(),
        BackendName::default_compiled(),
        &config,
        &data,
        &trained,
    );
    // Before families, the model section had no `kind`; the weights were the MLP's record,
    // which they still are.
    let path = run.path.join("config.json");
    let mut old = common::json(&path);
    old["model"]
        .as_object_mut()
        .unwrap()
        .remove("kind")
        .unwrap();
    std::fs::write(&path, serde_json::to_string_pretty(&old).unwrap()).unwrap();
    let (loaded, _) = run.load_meta().unwrap();
    assert_eq!(loaded.model, config.model);
    let model = run.load_model::<Cpu>(&loaded, &device).unwrap();
    assert_eq!(
        common::parameters(&model),
        common::parameters(&trained.model)
    );
}
