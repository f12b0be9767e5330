//! Dropout, batch normalization and the L1/L2 penalties behave as their formulas say, in
//! training and in evaluation.

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Tensor, TensorData};
use nnlab::config::BatchSize;
use nnlab::data::synthetic;
use nnlab::loss::LossConfig;
use nnlab::models::{Activation, Family, MlpConfig, Network};
use nnlab::optim::OptimizerName;
use nnlab::train::fit;

use crate::common;
use common::Cpu;
type Inner = <Cpu as AutodiffBackend>::InnerBackend;

fn values<B: burn::tensor::backend::Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().convert::<f32>().to_vec().unwrap()
}

fn batch<B: burn::tensor::backend::Backend>(device: &B::Device) -> Tensor<B, 2> {
    let data: Vec<f32> = (0..64)
        .map(|i| ((i * 37) % 17) as f32 / 4.0 - 2.0)
        .collect();
    Tensor::from_data(TensorData::new(data, [16, 4]), device)
}

#[test]
fn dropout_is_random_in_training_and_off_in_evaluation() {
    let device = Default::default();
    let model = MlpConfig::new()
        .with_input_size(4)
        .with_hidden(vec![32])
        .with_dropout(vec![0.5])
        .init::<Cpu>(1, &device);
    let x = batch::<Cpu>(&device);
    let a = values(model.forward(x.clone()));
    let b = values(model.forward(x.clone()));
    assert_ne!(a, b, "two training passes draw different masks");

    let eval = model.valid();
    let x = batch::<Inner>(&device);
    let e1 = values(eval.forward(x.clone()));
    assert_eq!(
        e1,
        values(eval.forward(x.clone())),
        "deterministic at inference"
    );
    // And it is the model without dropout: the same weights, no mask, no 1/(1 − p) scale.
    let plain = MlpConfig::new()
        .with_input_size(4)
        .with_hidden(vec![32])
        .init::<Inner>(1, &device);
    assert_eq!(e1, values(plain.forward(x)));
}

#[test]
fn batch_norm_running_statistics_converge_to_the_data() {
    let device = Default::default();
    let model = MlpConfig::new()
        .with_input_size(4)
        .with_hidden(vec![3])
        .with_activation(Activation::Identity)
        .with_batch_norm(true)
        .init::<Cpu>(2, &device);
    let x = batch::<Cpu>(&device);
    // The pre-normalization activations z = xW + b and their batch mean and (biased) variance.
    let z = model.layers[0].forward(x.clone());
    let z = values(z);
    let (rows, width) = (16, 3);
    let mean: Vec<f64> = (0..width)
        .map(|j| (0..rows).map(|i| f64::from(z[i * width + j])).sum::<f64>() / rows as f64)
        .collect();
    let var: Vec<f64> = (0..width)
        .map(|j| {
            (0..rows)
                .map(|i| (f64::from(z[i * width + j]) - mean[j]).powi(2))
                .sum::<f64>()
                / rows as f64
        })
        .collect();
    // Momentum 0.1 from (0, 1): after n passes the running values are within 0.9ⁿ of the data's.
    for _ in 0..200 {
        let _ = model.forward(x.clone());
    }
    let eval = model.valid();
    let norm = &eval.norms[0];
    let running_mean = values(norm.running_mean.value());
    let running_var = values(norm.running_var.value());
    for j in 0..width {
        assert!(
            (f64::from(running_mean[j]) - mean[j]).abs() < 1e-4,
            "mean {j}"
        );
        assert!(
            (f64::from(running_var[j]) - var[j]).abs() < 1e-4 * var[j].max(1.0),
            "var {j}"
        );
    }
    // In evaluation the layer uses those running statistics: with γ = 1, β = 0 each unit of
    // the hidden layer is (z − μ)/√(σ² + ε).
    let hidden = eval.norms[0].forward(eval.layers[0].forward(batch::<Inner>(&device)));
    let hidden = values(hidden);
    for i in 0..rows {
        for j in 0..width {
            let expected = (f64::from(z[i * width + j]) - mean[j]) / (var[j] + 1e-5).sqrt();
            assert!((f64::from(hidden[i * width + j]) - expected).abs() < 1e-3);
        }
    }
}

#[test]
fn penalties_have_the_textbook_gradients() {
    let device = Default::default();
    let model = MlpConfig::new()
        .with_input_size(4)
        .with_hidden(vec![5])
        .init::<Cpu>(3, &device);
    let w: Vec<f32> = values(model.layers[0].weight.val());
    let grad_of = |config: LossConfig| {
        let grads = config
            .penalty(&Network::Mlp(model.clone()))
            .unwrap()
            .backward();
        let g = model.layers[0].weight.grad(&grads).unwrap();
        let bias = model.layers[0].bias.as_ref().unwrap().grad(&grads);
        assert!(bias.is_none(), "biases are not penalized");
        values(g)
    };
    let l2 = grad_of(LossConfig::new().with_l2(0.3));
    for (g, w) in l2.iter().zip(&w) {
        assert!((g - 0.6 * w).abs() < 1e-6, "∂(λΣw²)/∂w = 2λw");
    }
    let l1 = grad_of(LossConfig::new().with_l1(0.2));
    for (g, w) in l1.iter().zip(&w) {
        assert!(
            (g - 0.2 * w.signum()).abs() < 1e-6,
            "∂(λΣ|w|)/∂w = λ sign w"
        );
    }
    assert!(LossConfig::new().penalty(&Network::Mlp(model)).is_none());
}

#[test]
fn an_l2_penalty_shrinks_the_weights() {
    let device = Default::default();
    let data = synthetic::linear();
    let norm = |l2: f64| {
        let mut config = common::textbook(OptimizerName::Sgd, 0.1, 50, BatchSize::Full);
        config.loss.l2 = l2;
        let trained = fit::<Cpu>(&config, &data, &device, None, false).unwrap();
        f64::from(values(common::mlp(&trained.model).layers[0].weight.val())[0]).abs()
    };
    let (free, shrunk) = (norm(0.0), norm(1.0));
    assert!(
        shrunk < 0.6 * free,
        "|w| {shrunk} with λ = 1 against {free} without"
    );
}

#[test]
fn an_l2_penalty_is_a_weight_decay_of_twice_its_lambda() {
    // One full-batch SGD step from zero biases: the penalty's gradient 2λw and a decay of 2λ
    // (which also touches the biases, still 0) move the weights identically.
    let device = Default::default();
    let data = synthetic::moons(100, 0.1, 4);
    let weights = |l2: f64, decay: f64| {
        let mut config = common::moons(1);
        config.training.validation_fraction = 0.0;
        config.training.batch_size = BatchSize::Full;
        config.optimizer.name = OptimizerName::Sgd;
        config.optimizer.learning_rate = 0.5;
        config.loss.l2 = l2;
        config.optimizer.sgd.weight_decay = decay;
        let trained = fit::<Cpu>(&config, &data, &device, None, false).unwrap();
        common::parameters(&trained.model)
    };
    let (penalty, decay, none) = (weights(0.05, 0.0), weights(0.0, 0.1), weights(0.0, 0.0));
    assert!(common::max_abs_diff(&penalty, &decay) < 1e-6);
    assert!(
        common::max_abs_diff(&penalty, &none) > 1e-3,
        "the penalty does something"
    );
}
