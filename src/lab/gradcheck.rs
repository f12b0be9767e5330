//! Gradient checks: autodiff's ∂J/∂w beside central finite differences, parameter by
//! parameter. The differences are the fourth-order central stencil
//! (−J(w + 2h) + 8J(w + h) − 8J(w − h) + J(w − 2h)) / 12h, whose truncation error (h⁴) stays far
//! below the round-off of J. Meaningful in `f64`; `nnlab gradcheck` runs it on the CPU backend in `f64`.
//!
//! Both sides compute the same function: the model in training mode, as a training step sees
//! it — batch normalization with the batch's statistics, and dropout with one mask, fixed by
//! seeding the backend before every evaluation. Every trainable tensor is checked (weights,
//! biases, batch norm's γ and β); the running statistics are not parameters and are skipped.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData};

use crate::data::Dataset;
use crate::loss::LossConfig;
use crate::models::Network;

/// Step h of the central differences.
pub const STEP: f64 = 1e-5;

/// Gradients below this size are compared absolutely: the relative error is
/// |a − n| / max(|a|, |n|, FLOOR), so round-off in a vanishing gradient does not count.
pub const FLOOR: f64 = 1e-4;

/// The seed of the one dropout mask both sides use.
const MASK_SEED: u64 = 0x6772_6164;

/// The check of one parameter tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamCheck {
    /// The tensor's path in the model, e.g. `layers.0.weight` or `norms.0.gamma`.
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

/// One trainable tensor: its path, id, shape, values and autodiff gradient.
struct Trainable {
    name: String,
    id: ParamId,
    shape: Vec<usize>,
    values: Vec<f64>,
    grad: Vec<f64>,
}

/// Lists the trainable tensors of a model with their gradients, by module path.
struct Collect<'a, B: AutodiffBackend> {
    path: Vec<String>,
    grads: &'a B::Gradients,
    found: Vec<Trainable>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Collect<'_, B> {
    // The family enum's variant is not part of a tensor's name.
    fn enter_module(&mut self, name: &str, container: &str) {
        if !container.starts_with("Enum:") {
            self.path.push(name.to_string());
        }
    }

    fn exit_module(&mut self, _: &str, container: &str) {
        if !container.starts_with("Enum:") {
            self.path.pop();
        }
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let tensor = param.val();
        if !tensor.is_require_grad() {
            return; // running statistics
        }
        let values = to_f64(tensor.clone().inner());
        let grad = tensor
            .grad(self.grads)
            .map_or_else(|| vec![0.0; values.len()], to_f64);
        self.found.push(Trainable {
            name: self.path.join("."),
            id: param.id,
            shape: tensor.dims().to_vec(),
            values,
            grad,
        });
    }
}

/// Replaces the values of the parameter `id`.
struct Replace {
    id: ParamId,
    data: TensorData,
}

impl<B: Backend> ModuleMapper<B> for Replace {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, tensor, mapper) = param.consume();
        let tensor = if id == self.id {
            Tensor::from_data(self.data.clone(), &tensor.device())
        } else {
            tensor
        };
        Param::from_mapped_value(id, tensor, mapper)
    }
}

/// Compares autodiff gradients of the loss over all of `data` with central differences, for
/// every trainable tensor of `model`, both in training mode with one dropout mask.
pub fn gradcheck<B: AutodiffBackend>(
    model: &Network<B>,
    loss: &LossConfig,
    data: &Dataset,
    device: &B::Device,
) -> Vec<ParamCheck> {
    let loss_fn = loss.init::<B>(device);
    let x = data.feature_tensor::<B>(device);
    let y = data.target_tensor::<B>(device);
    // The backend's generator is global to the process: only a model with dropout reseeds
    // it, and nothing else may draw from it on another thread during the check.
    let dropout = model.has_dropout();
    let objective = |m: &Network<B>| {
        if dropout {
            B::seed(device, MASK_SEED);
        }
        m.objective(x.clone(), |output| loss_fn.forward(output, &y))
    };
    let grads = objective(model).backward();
    let mut collect = Collect::<B> {
        path: Vec::new(),
        grads: &grads,
        found: Vec::new(),
    };
    model.visit(&mut collect);

    let at = |p: &Trainable, values: Vec<f64>| -> f64 {
        let mut replace = Replace {
            id: p.id,
            data: TensorData::new(values, p.shape.clone()),
        };
        // Read in the tensor's own type: `into_scalar` gives the backend's default element,
        // `f32` on flex even when the check computes in `f64`.
        // Without gradients: the shifted model's graph would otherwise be recorded, and kept
        // (no backward pass frees it), for every one of the four evaluations per value.
        let shifted = model.clone().map(&mut replace).no_grad();
        let loss = objective(&shifted).into_data();
        loss.iter::<f64>().next().expect("the loss is one value")
    };
    collect
        .found
        .iter()
        .map(|p| {
            let mut worst = 0.0f64;
            for j in 0..p.values.len() {
                let shifted = |offset: f64| {
                    let mut values = p.values.clone();
                    values[j] += offset * STEP;
                    at(p, values)
                };
                let numeric = (-shifted(2.0) + 8.0 * shifted(1.0) - 8.0 * shifted(-1.0)
                    + shifted(-2.0))
                    / (12.0 * STEP);
                let scale = p.grad[j].abs().max(numeric.abs()).max(FLOOR);
                worst = worst.max((p.grad[j] - numeric).abs() / scale);
            }
            ParamCheck {
                name: p.name.clone(),
                shape: p.shape.clone(),
                max_relative_error: worst,
                max_gradient: p.grad.iter().fold(0.0, |m, g| m.max(g.abs())),
            }
        })
        .collect()
}
