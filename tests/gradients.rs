//! Autodiff computes the gradients the math says: against central finite differences for every
//! activation, loss family and model family, and against the closed form for linear
//! regression; nnlab's kernels compute what Burn's ops do. Everything here runs in `f64` on the
//! CPU backend, which Burn sets for the whole process, so no `f32` test belongs in this binary.

use nnlab::data::{Dataset, TargetValues, synthetic};
use nnlab::lab::gradcheck::gradcheck;
use nnlab::loss::{LossConfig, LossName};
use nnlab::models::{Activation, Family, MlpConfig, Network};
use nnlab::reference::linear_mse_gradient;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

#[path = "gradients/cnn.rs"]
mod cnn;
mod common;
#[path = "gradients/generative.rs"]
mod generative;
#[path = "gradients/sequences.rs"]
mod sequences;

/// The CPU backend: `f64` once [`common::f64`] has run, as every test here does first.
type F64 = nnlab::backend::Cpu;

/// 8 rows of 3 features in [−2, 2], with a regression target or one of 3 classes.
fn table(classes: bool) -> Dataset {
    let mut rng = StdRng::seed_from_u64(11);
    let features: Vec<f64> = (0..24).map(|_| rng.random_range(-2.0..2.0)).collect();
    let targets = if classes {
        TargetValues::Classes {
            indices: (0..8).map(|i| i % 3).collect(),
            labels: vec!["a".into(), "b".into(), "c".into()],
        }
    } else {
        TargetValues::Values((0..8).map(|_| rng.random_range(-1.0..1.0)).collect())
    };
    Dataset {
        features,
        feature_names: vec!["x1".into(), "x2".into(), "x3".into()],
        target_name: "y".into(),
        targets,
    }
}

/// Checks every tensor of `model` (3 inputs) at most 1e-6 on the 8-row table; returns the
/// names of the tensors checked.
fn checked(model: MlpConfig, loss: LossName, what: &str) -> Vec<String> {
    let data = table(loss == LossName::CrossEntropy);
    let model = Network::Mlp(model.with_input_size(3).init::<F64>(5, &Default::default()));
    let checks = gradcheck(
        &model,
        &LossConfig::new().with_name(loss),
        &data,
        &Default::default(),
    );
    common::assert_gradients_match(&checks, what);
    checks.into_iter().map(|c| c.name).collect()
}

fn check(hidden: Vec<usize>, activation: Activation, loss: LossName) {
    let model = MlpConfig::new()
        .with_hidden(hidden.clone())
        .with_activation(activation)
        .with_output_size(if loss == LossName::CrossEntropy { 3 } else { 1 });
    let what = format!("{hidden:?} {activation:?} {loss:?}");
    assert_eq!(checked(model, loss, &what).len(), 2 * (hidden.len() + 1));
}

/// The check of a model with batch norm and dropout: every tensor, at most 1e-6.
fn check_regularized(batch_norm: bool, dropout: Vec<f64>) -> Vec<String> {
    let model = MlpConfig::new()
        .with_hidden(vec![5, 4])
        .with_activation(Activation::Tanh)
        .with_output_size(3)
        .with_batch_norm(batch_norm)
        .with_dropout(dropout.clone());
    let what = format!("batch norm {batch_norm}, dropout {dropout:?}");
    checked(model, LossName::CrossEntropy, &what)
}

const ACTIVATIONS: [Activation; 6] = [
    Activation::Identity,
    Activation::Sigmoid,
    Activation::Tanh,
    Activation::Relu,
    Activation::LeakyRelu,
    Activation::Gelu,
];

#[test]
fn single_neuron_mse_and_cross_entropy() {
    common::f64();
    check(vec![], Activation::Identity, LossName::Mse);
    check(vec![], Activation::Identity, LossName::CrossEntropy);
}

#[test]
fn two_hidden_layers_with_every_activation_mse() {
    common::f64();
    for activation in ACTIVATIONS {
        check(vec![5, 4], activation, LossName::Mse);
    }
}

#[test]
fn two_hidden_layers_with_every_activation_cross_entropy() {
    common::f64();
    for activation in ACTIVATIONS {
        check(vec![5, 4], activation, LossName::CrossEntropy);
    }
}

#[test]
fn batch_norm_is_checked_in_training_mode_with_its_gamma_and_beta() {
    common::f64();
    let names = check_regularized(true, vec![]);
    assert_eq!(
        names,
        [
            "layers.0.weight",
            "layers.0.bias",
            "layers.1.weight",
            "layers.1.bias",
            "layers.2.weight",
            "layers.2.bias",
            "norms.0.gamma",
            "norms.0.beta",
            "norms.1.gamma",
            "norms.1.beta",
        ]
    );
}

#[test]
fn dropout_is_checked_with_one_fixed_mask() {
    common::f64();
    assert_eq!(check_regularized(false, vec![0.5]).len(), 6);
    assert_eq!(check_regularized(true, vec![0.3, 0.2]).len(), 10);
}

#[test]
fn linear_regression_gradient_matches_the_closed_form() {
    common::f64();
    let data = synthetic::linear();
    let device = Default::default();
    let model = MlpConfig::new().with_hidden(vec![]).init::<F64>(9, &device);
    let loss = LossConfig::new()
        .with_name(LossName::Mse)
        .init::<F64>(&device);
    let output = model.forward(data.feature_tensor::<F64>(&device));
    let grads = loss
        .forward(output, &data.target_tensor::<F64>(&device))
        .backward();
    let layer = &model.layers[0];
    let auto_w: Vec<f64> = layer
        .weight
        .grad(&grads)
        .unwrap()
        .into_data()
        .to_vec()
        .unwrap();
    let auto_b: Vec<f64> = layer
        .bias
        .as_ref()
        .unwrap()
        .grad(&grads)
        .unwrap()
        .into_data()
        .to_vec()
        .unwrap();

    let p = common::parameters(&model);
    let (grad_w, grad_b) =
        linear_mse_gradient(&data.features, &common::values(&data), &p[..1], p[1]);
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
    assert!(rel(auto_w[0], grad_w[0]) < 1e-6, "{auto_w:?} vs {grad_w:?}");
    assert!(rel(auto_b[0], grad_b) < 1e-6, "{auto_b:?} vs {grad_b}");
}

/// The kernel against Burn's `Linear` on the CPU backend in `f64`: the same outputs and the same
/// gradients of x, W and b, on a batch large enough for the kernel to run.
#[test]
fn the_dense_kernel_computes_what_burns_linear_does() {
    common::f64();
    use burn::module::Param;
    use burn::nn::Linear;
    use burn::tensor::Tensor;
    type A = F64;
    let (rows, inputs, outputs) = (600, 7, 9);
    assert!(rows * outputs >= nnlab::models::dense::KERNEL_MIN_VALUES);
    let layer = Linear {
        weight: Param::from_tensor(random::<A, 2>([inputs, outputs], 1)),
        bias: Some(Param::from_tensor(random::<A, 1>([outputs], 2))),
    };
    let x = random::<A, 2>([rows, inputs], 3);
    let mix = random::<A, 2>([rows, outputs], 4);
    let run = |kernel: bool| {
        let x = x.clone().require_grad();
        let y = match kernel {
            true => nnlab::models::dense::forward(&layer, x.clone()),
            false => layer.forward(x.clone()),
        };
        let grads = (y.clone() * mix.clone()).sum().backward();
        let values = |t: Option<Tensor<_, 2>>| t.unwrap().into_data().to_vec::<f64>().unwrap();
        let bias: &Param<Tensor<A, 1>> = layer.bias.as_ref().unwrap();
        [
            values(Some(y.inner())),
            values(x.grad(&grads)),
            values(layer.weight.val().grad(&grads)),
            values(bias.val().grad(&grads).map(|b| b.unsqueeze::<2>())),
        ]
    };
    for (ours, burns) in run(true).iter().zip(run(false)) {
        let diff = ours
            .iter()
            .zip(&burns)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(diff < 1e-10, "differs by {diff}");
    }
}

/// The kernel against Burn's `MseLoss` on the CPU backend in `f64`: the same loss and gradient.
#[test]
fn the_mse_kernel_computes_what_burns_mse_does() {
    common::f64();
    use burn::nn::loss::{MseLoss, Reduction};
    type A = F64;
    let shape = [1024, 5];
    let (p, y) = (random::<A, 2>(shape, 5), random::<A, 2>(shape, 6));
    let run = |kernel: bool| {
        let p = p.clone().require_grad();
        let loss = match kernel {
            true => nnlab::loss::mse::mse(p.clone(), y.clone())
                .unwrap_or_else(|_| panic!("the kernel did not run")),
            false => MseLoss::new().forward(p.clone(), y.clone(), Reduction::Mean),
        };
        let grads = loss.clone().mul_scalar(3.0).backward();
        let grad = p.grad(&grads).unwrap().into_data().to_vec::<f64>().unwrap();
        (loss.into_data().to_vec::<f64>().unwrap()[0], grad)
    };
    let ((ours, our_grad), (burns, burn_grad)) = (run(true), run(false));
    assert!((ours - burns).abs() < 1e-12, "{ours} against {burns}");
    let diff = our_grad
        .iter()
        .zip(&burn_grad)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(diff < 1e-12, "gradients differ by {diff}");
}

/// Values in [−1, 1) from `seed`, not from the backend's generator, which the dropout checks
/// that run beside these tests seed and draw from.
fn random<B: burn::tensor::backend::Backend, const D: usize>(
    shape: [usize; D],
    seed: u64,
) -> burn::tensor::Tensor<B, D> {
    let mut rng = StdRng::seed_from_u64(seed);
    let values: Vec<f64> = (0..shape.iter().product::<usize>())
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let data = burn::tensor::TensorData::new(values, shape);
    burn::tensor::Tensor::from_data(data, &Default::default())
}
