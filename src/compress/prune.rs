//! Magnitude pruning, global: of all the weights of rank ≥ 2 (dense matrices, convolution
//! kernels, embeddings, recurrent gates) together, the `round(sparsity · n)` smallest in
//! magnitude become zero, ties broken by position. One threshold for the whole network lets
//! layers with many small weights give up more of them than the others (Han et al., 2015).
//! Biases and normalization parameters are left alone, as the penalties leave them.
//!
//! [`Mask`] keeps them zero while training goes on: after every optimizer step, each weight
//! that was zero when training started is set to zero again, so momentum and Adam's moments
//! cannot bring it back. A pruned run's config says `training.keep_zeros`, so its mask is
//! rebuilt from its zeros when it resumes.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData};

use crate::models::Network;

/// How many of a network's prunable weights are zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Zeros {
    pub zeros: usize,
    pub weights: usize,
}

impl Zeros {
    /// The share of the weights that are zero.
    pub fn share(self) -> f64 {
        self.zeros as f64 / self.weights.max(1) as f64
    }
}

/// The values of each weight of rank ≥ 2, in visiting order.
#[derive(Default)]
struct Gather(Vec<Vec<f32>>);

impl<B: Backend> ModuleVisitor<B> for Gather {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if D >= 2 {
            let data = param.val().into_data().convert::<f32>();
            self.0.push(data.to_vec().expect("f32 values"));
        }
    }
}

/// Puts gathered values back, in the same order.
struct Scatter(std::vec::IntoIter<Vec<f32>>);

impl<B: Backend> ModuleMapper<B> for Scatter {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, tensor, mapper) = param.consume();
        if D < 2 {
            return Param::from_mapped_value(id, tensor, mapper);
        }
        let values = self.0.next().expect("one set of values per weight");
        let data = TensorData::new(values, tensor.dims());
        let replaced = Tensor::from_data(data, &tensor.device());
        let replaced = match tensor.is_require_grad() {
            true => replaced.require_grad(),
            false => replaced,
        };
        Param::from_mapped_value(id, replaced, mapper)
    }
}

/// Counts the zeros among `model`'s prunable weights.
pub fn zeros<B: Backend>(model: &Network<B>) -> Zeros {
    let mut gather = Gather::default();
    model.visit(&mut gather);
    let values = gather.0.iter().flatten();
    Zeros {
        zeros: values.clone().filter(|&&v| v == 0.0).count(),
        weights: values.count(),
    }
}

/// `model` with the `round(sparsity · n)` smallest of its `n` prunable weights set to zero.
pub fn prune<B: Backend>(model: Network<B>, sparsity: f64) -> (Network<B>, Zeros) {
    let mut gather = Gather::default();
    model.visit(&mut gather);
    let mut tensors = gather.0;
    let mut order: Vec<(usize, usize)> = tensors
        .iter()
        .enumerate()
        .flat_map(|(t, values)| (0..values.len()).map(move |i| (t, i)))
        .collect();
    let weights = order.len();
    let cut = ((sparsity * weights as f64).round() as usize).min(weights);
    // Stable: equal magnitudes go in visiting order.
    order.sort_by(|&(a, i), &(b, j)| tensors[a][i].abs().total_cmp(&tensors[b][j].abs()));
    for &(t, i) in &order[..cut] {
        tensors[t][i] = 0.0;
    }
    let pruned = model.map(&mut Scatter(tensors.into_iter()));
    let count = zeros(&pruned);
    (pruned, count)
}

/// Where a model's prunable weights were nonzero when training started: 1 there, 0 elsewhere,
/// flattened, by parameter.
pub struct Mask<B: AutodiffBackend>(HashMap<ParamId, Tensor<B::InnerBackend, 1>>);

struct Record<'a, B: AutodiffBackend>(&'a mut HashMap<ParamId, Tensor<B::InnerBackend, 1>>);

impl<B: AutodiffBackend> ModuleVisitor<B> for Record<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if D >= 2 {
            let nonzero = param.val().inner().not_equal_elem(0.0).float();
            self.0.insert(param.id, nonzero.reshape([-1]));
        }
    }
}

impl<B: AutodiffBackend> ModuleMapper<B> for &Mask<B> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(keep) = self.0.get(&id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let trainable = tensor.is_require_grad();
        let keep = keep.clone().reshape(tensor.dims());
        let masked = Tensor::from_inner(tensor.inner().mul(keep));
        let masked = match trainable {
            true => masked.require_grad(),
            false => masked,
        };
        Param::from_mapped_value(id, masked, mapper)
    }
}

impl<B: AutodiffBackend> Mask<B> {
    /// The mask of `model`'s zero weights.
    pub fn of(model: &Network<B>) -> Self {
        let mut keep = HashMap::new();
        model.visit(&mut Record::<B>(&mut keep));
        Mask(keep)
    }

    /// `model` with the masked weights set back to zero.
    pub fn apply(&self, model: Network<B>) -> Network<B> {
        let mut mapper = self;
        model.map(&mut mapper)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ModelConfig;

    type B = <crate::backend::Cpu as burn::tensor::backend::AutodiffBackend>::InnerBackend;

    fn model() -> Network<B> {
        let mut mlp = ModelConfig::default_value(&"mlp".into()).unwrap();
        mlp["hidden"] = serde_json::json!([7, 5]);
        (mlp["input_size"], mlp["output_size"]) = (3.into(), 2.into());
        let config = ModelConfig::from_value(mlp).unwrap();
        config.init(1, &Default::default())
    }

    fn outputs(model: &Network<B>) -> Vec<f32> {
        let x = Tensor::<B, 2>::from_floats(
            [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]],
            &Default::default(),
        );
        model.forward(x).into_data().to_vec().unwrap()
    }

    #[test]
    fn pruning_zeroes_exactly_the_share_asked_for_the_smallest_first() {
        let original = model();
        let weights = zeros(&original).weights;
        assert_eq!(weights, 3 * 7 + 7 * 5 + 5 * 2);
        for sparsity in [0.25, 0.5, 0.9] {
            let (pruned, count) = prune(original.clone(), sparsity);
            let cut = (sparsity * weights as f64).round() as usize;
            assert_eq!(
                count,
                Zeros {
                    zeros: cut,
                    weights
                }
            );
            let mut before = Gather::default();
            original.visit(&mut before);
            let mut after = Gather::default();
            pruned.visit(&mut after);
            let (before, after): (Vec<f32>, Vec<f32>) = (before.0.concat(), after.0.concat());
            let largest_cut = before
                .iter()
                .zip(&after)
                .filter(|(_, a)| **a == 0.0)
                .map(|(b, _)| b.abs())
                .fold(0.0, f32::max);
            for (b, a) in before.iter().zip(&after) {
                if *a != 0.0 {
                    assert_eq!(a, b);
                    assert!(b.abs() >= largest_cut);
                }
            }
        }
    }

    #[test]
    fn a_model_pruned_by_zero_predicts_as_the_original() {
        let original = model();
        let (pruned, count) = prune(original.clone(), 0.0);
        assert_eq!(count.zeros, 0);
        assert_eq!(outputs(&pruned), outputs(&original));
    }
}
