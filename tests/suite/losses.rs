//! Each loss against values worked out by hand.

use burn::tensor::{Int, Tensor, TensorData};
use nnlab::loss::{LossConfig, LossName, Targets};

type B = <nnlab::backend::Cpu as burn::tensor::backend::AutodiffBackend>::InnerBackend;

fn loss(name: LossName, output: Tensor<B, 2>, targets: Targets<B>) -> f32 {
    let device = Default::default();
    LossConfig::new()
        .with_name(name)
        .init::<B>(&device)
        .forward(output, &targets)
        .into_scalar()
}

fn column(values: &[f32]) -> Tensor<B, 2> {
    Tensor::from_data(
        TensorData::new(values.to_vec(), [values.len(), 1]),
        &Default::default(),
    )
}

fn regression(name: LossName) -> f32 {
    // Residuals ŷ − y = −0.5, 0, 3.
    loss(
        name,
        column(&[1.0, 2.0, 4.0]),
        Targets::Values(column(&[1.5, 2.0, 1.0])),
    )
}

fn classes(values: &[i64]) -> Targets<B> {
    Targets::Classes(Tensor::<B, 1, Int>::from_data(
        TensorData::new(values.to_vec(), [values.len()]),
        &Default::default(),
    ))
}

fn close(got: f32, want: f64) {
    assert!(
        (f64::from(got) - want).abs() < 1e-6,
        "got {got}, want {want}"
    );
}

#[test]
fn mse_is_the_mean_squared_residual() {
    close(regression(LossName::Mse), (0.25 + 0.0 + 9.0) / 3.0);
}

#[test]
fn mae_is_the_mean_absolute_residual() {
    close(regression(LossName::Mae), (0.5 + 0.0 + 3.0) / 3.0);
}

#[test]
fn huber_is_quadratic_inside_delta_and_linear_outside() {
    // δ = 1: r²/2 for |r| ≤ 1, δ(|r| − δ/2) beyond.
    close(regression(LossName::Huber), (0.125 + 0.0 + 2.5) / 3.0);
}

#[test]
fn cross_entropy_is_the_mean_negative_log_softmax_of_the_target() {
    let logits = Tensor::<B, 2>::from_data(
        TensorData::new(vec![1.0f32, 2.0, 3.0, 1.0, 1.0, 1.0], [2, 3]),
        &Default::default(),
    );
    let row1 = (1f64.exp() + 2f64.exp() + 3f64.exp()).ln() - 3.0;
    let row2 = 3f64.ln();
    close(
        loss(LossName::CrossEntropy, logits, classes(&[2, 0])),
        (row1 + row2) / 2.0,
    );
}

#[test]
fn binary_cross_entropy_reads_one_logit() {
    // −ln σ(0) = ln 2 for a positive; −ln(1 − σ(2)) = ln(1 + e²) for a negative.
    let want = (2f64.ln() + (1.0 + 2f64.exp()).ln()) / 2.0;
    close(
        loss(
            LossName::BinaryCrossEntropy,
            column(&[0.0, 2.0]),
            classes(&[1, 0]),
        ),
        want,
    );
}
