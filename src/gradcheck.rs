//! Gradient checks: autodiff's ∂J/∂w beside central finite differences, parameter by
//! parameter. The differences are the fourth-order central stencil
//! (−J(w + 2h) + 8J(w + h) − 8J(w − h) + J(w − 2h)) / 12h, whose truncation error (h⁴) stays far
//! below the round-off of J. Meaningful in `f64`; `nnlab gradcheck` runs it on ndarray in `f64`.

use burn::module::{AutodiffModule, Param};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor, TensorData};

use crate::data::Dataset;
use crate::loss::LossConfig;
use crate::model::Mlp;

/// Step h of the central differences.
pub const STEP: f64 = 1e-5;

/// Gradients below this size are compared absolutely: the relative error is
/// |a − n| / max(|a|, |n|, FLOOR), so round-off in a vanishing gradient does not count.
pub const FLOOR: f64 = 1e-4;

/// The check of one parameter tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamCheck {
    /// `layers.<i>.weight` or `layers.<i>.bias`.
    pub name: String,
    pub shape: Vec<usize>,
    /// Largest relative error between autodiff and finite differences over the tensor.
    pub max_relative_error: f64,
    /// Largest autodiff gradient magnitude, for scale.
    pub max_gradient: f64,
}

fn to_f64<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f64> {
    t.into_data().convert::<f64>().to_vec().expect("float data")
}

/// Which tensor of a layer.
#[derive(Clone, Copy)]
enum Part {
    Weight,
    Bias,
}

/// `model` with one entry of one parameter tensor replaced.
fn perturbed<B: Backend>(
    model: &Mlp<B>,
    layer: usize,
    part: Part,
    values: &[f64],
    shape: &[usize],
    device: &B::Device,
) -> Mlp<B> {
    let mut model = model.clone();
    let data = TensorData::new(values.to_vec(), shape.to_vec());
    let target = &mut model.layers[layer];
    match part {
        Part::Weight => target.weight = Param::from_tensor(Tensor::from_data(data, device)),
        Part::Bias => target.bias = Some(Param::from_tensor(Tensor::from_data(data, device))),
    }
    model
}

/// Compares autodiff gradients of the loss over all of `data` with central differences, for
/// every parameter tensor of `model`.
pub fn gradcheck<B: AutodiffBackend>(
    model: &Mlp<B>,
    loss: &LossConfig,
    data: &Dataset,
    device: &B::Device,
) -> Vec<ParamCheck> {
    let output = model.forward(data.feature_tensor::<B>(device));
    let grads = loss
        .init::<B>(device)
        .forward(output, &data.target_tensor::<B>(device))
        .backward();

    let inner = model.valid();
    let inner_loss = loss.init::<B::InnerBackend>(device);
    let x = data.feature_tensor::<B::InnerBackend>(device);
    let y = data.target_tensor::<B::InnerBackend>(device);
    let eval = |m: &Mlp<B::InnerBackend>| -> f64 {
        inner_loss
            .forward(m.forward(x.clone()), &y)
            .into_scalar()
            .elem()
    };

    let mut checks = Vec::new();
    for (l, layer) in model.layers.iter().enumerate() {
        let weight = inner.layers[l].weight.val();
        let mut parts = vec![(
            Part::Weight,
            "weight",
            weight.dims().to_vec(),
            to_f64(weight),
            layer.weight.grad(&grads).map(to_f64),
        )];
        if let (Some(bias), Some(inner_bias)) = (&layer.bias, &inner.layers[l].bias) {
            let values = inner_bias.val();
            parts.push((
                Part::Bias,
                "bias",
                values.dims().to_vec(),
                to_f64(values),
                bias.grad(&grads).map(to_f64),
            ));
        }
        for (part, label, shape, values, auto) in parts {
            let auto = auto.unwrap_or_else(|| vec![0.0; values.len()]);
            let mut worst = 0.0f64;
            for j in 0..values.len() {
                let at = |offset: f64| {
                    let mut shifted = values.clone();
                    shifted[j] = values[j] + offset * STEP;
                    eval(&perturbed(&inner, l, part, &shifted, &shape, device))
                };
                let numeric =
                    (-at(2.0) + 8.0 * at(1.0) - 8.0 * at(-1.0) + at(-2.0)) / (12.0 * STEP);
                let scale = auto[j].abs().max(numeric.abs()).max(FLOOR);
                worst = worst.max((auto[j] - numeric).abs() / scale);
            }
            checks.push(ParamCheck {
                name: format!("layers.{l}.{label}"),
                shape,
                max_relative_error: worst,
                max_gradient: auto.iter().fold(0.0, |m, g| m.max(g.abs())),
            });
        }
    }
    checks
}
