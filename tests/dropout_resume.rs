//! A run with dropout and batch normalization resumes to exactly the uninterrupted run, and
//! its batch-norm statistics survive the checkpoint.
//!
//! Alone in its file (its own process): Burn's dropout draws its masks from the backend's
//! process-wide generator, which nnlab reseeds before every step; tests training with dropout in
//! parallel threads of one process would draw from it in between.

use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;
use nnlab::data::synthetic;
use nnlab::train::fit;

mod common;
use common::Cpu;
type Inner = <Cpu as AutodiffBackend>::InnerBackend;

fn values<B: burn::tensor::backend::Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().convert::<f32>().to_vec().unwrap()
}

#[test]
fn dropout_runs_resume_exactly_and_batch_norm_survives_a_checkpoint() {
    let device = Default::default();
    let data = synthetic::moons(200, 0.2, 1);
    let mut config = common::moons(10);
    config.model.set_dropout(0.3);
    config.model.set_batch_norm().unwrap();
    let whole = fit::<Cpu>(&config, &data, &device, None, false).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let mut first = config.clone();
    first.training.epochs = 5;
    let half = fit::<Cpu>(&first, &data, &device, None, false).unwrap();
    let run = common::save_run(
        dir.path(),
        nnlab::backend::BackendName::default_compiled(),
        &first,
        &data,
        &half,
    );
    let (_, info) = run.load_meta().unwrap();
    let resume = run.load_resume::<Cpu>(&config, &info, &device).unwrap();
    let resumed = fit::<Cpu>(&config, &data, &device, Some(resume), false).unwrap();
    assert_eq!(
        whole.history, resumed.history,
        "same masks, same statistics, same losses"
    );

    let loaded = run
        .load_chosen::<Inner>(&first, &info, false, &device)
        .unwrap();
    let x = data.feature_tensor::<Inner>(&device);
    assert_eq!(
        values(half.chosen().forward(x.clone())),
        values(loaded.forward(x))
    );
}
