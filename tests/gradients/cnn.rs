//! The CNN's gradients (its convolution and pooling kernels, batch norm and the fused ReLU)
//! against finite differences, in `f64`.

use nnlab::data::{Dataset, TargetValues};
use nnlab::lab::gradcheck::gradcheck;
use nnlab::loss::{LossConfig, LossName};
use nnlab::models::cnn::{ConvLayer, Padding};
use nnlab::models::{Activation, CnnConfig, Network};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::{F64, common};

/// 6 random 6×6 grey images in 3 classes.
fn tiny_images() -> Dataset {
    let mut rng = StdRng::seed_from_u64(3);
    Dataset {
        features: (0..6 * 36).map(|_| rng.random_range(-1.0..1.0)).collect(),
        feature_names: (0..36).map(|i| format!("p{i}")).collect(),
        target_name: "class".into(),
        targets: TargetValues::Classes {
            indices: vec![0, 1, 2, 0, 1, 2],
            labels: vec!["a".into(), "b".into(), "c".into()],
        },
    }
}

#[test]
fn convolution_pooling_and_batch_norm_gradients_match_finite_differences() {
    common::f64();
    let config = CnnConfig::new()
        .with_image(Some("6x6".parse().unwrap()))
        .with_conv(vec![
            ConvLayer::new(2).with_pool(2),
            ConvLayer::new(3).with_padding(Padding::Valid).with_pool(1),
        ])
        .with_dense(vec![4])
        .with_activation(Activation::Tanh)
        .with_batch_norm(true)
        .with_output_size(3);
    let model = Network::Cnn(config.init::<F64>(5, &Default::default()));
    let loss = LossConfig::new().with_name(LossName::CrossEntropy);
    let checks = gradcheck(&model, &loss, &tiny_images(), &Default::default());
    let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
    for name in [
        "convs.0.weight",
        "convs.0.bias",
        "convs.1.weight",
        "norms.0.gamma",
        "norms.1.beta",
        "dense.0.weight",
        "dense.1.bias",
    ] {
        assert!(names.contains(&name), "{name} not checked: {names:?}");
    }
    common::assert_gradients_match(&checks, "CNN");

    // ReLU straight after the convolution runs fused into its kernel.
    let fused = config
        .with_activation(Activation::Relu)
        .with_batch_norm(false);
    let model = Network::Cnn(fused.init::<F64>(5, &Default::default()));
    let checks = gradcheck(&model, &loss, &tiny_images(), &Default::default());
    assert!(checks.iter().any(|c| c.name == "convs.0.weight"));
    common::assert_gradients_match(&checks, "CNN with fused ReLU");
}
