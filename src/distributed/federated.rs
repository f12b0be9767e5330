//! Federated averaging (McMahan et al. 2017): each node trains on its own rows, which never
//! leave it; after every round the weights are averaged over the nodes, weighted by their
//! training rows. What the nodes share besides the weights: their scaling statistics (to
//! scale every node's data alike) and their held-out predictions (to score the averaged
//! model on every node's rows).

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::Tensor;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn_collective::ReduceOperation;
use serde::{Deserialize, Serialize};

use super::{Node, all_reduce, current, gather_bytes};
use crate::data::TargetValues;
use crate::data::scale::Moments;
use crate::error::{Error, Result};
use crate::eval::metrics::{Evaluation, Predictions, evaluate as score};

/// `model`'s weights averaged over the nodes, node i's weighted by its `rows`:
/// w ← Σ nᵢ wᵢ / Σ nᵢ.
pub fn average_weights<B: AutodiffBackend, M: Module<B>>(
    node: &Node,
    model: M,
    rows: usize,
) -> Result<M> {
    let mut values = Values::<B> { pieces: Vec::new() };
    model.visit(&mut values);
    if values.pieces.is_empty() {
        return Ok(model);
    }
    let device = values.pieces[0].device();
    let weight = Tensor::<B::InnerBackend, 1>::from_floats([1.0], &device);
    let mut pieces = values.pieces;
    pieces.push(weight);
    let weighted = Tensor::cat(pieces, 0).mul_scalar(rows as f64);
    let summed = all_reduce(node, weighted, ReduceOperation::Sum)?;
    let n = summed.dims()[0];
    let total = summed.clone().slice(n - 1..n);
    let mean = summed.slice(0..n - 1).div(total);
    Ok(model.map(&mut Assign::<B> {
        flat: mean,
        offset: 0,
    }))
}

/// Every float parameter's values, flat, in the model's order.
struct Values<B: AutodiffBackend> {
    pieces: Vec<Tensor<B::InnerBackend, 1>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Values<B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let value = param.val().inner();
        let n = value.dims().iter().product::<usize>();
        self.pieces.push(value.reshape([n]));
    }
}

/// Sets every float parameter, in the model's order, from one flat tensor.
struct Assign<B: AutodiffBackend> {
    flat: Tensor<B::InnerBackend, 1>,
    offset: usize,
}

impl<B: AutodiffBackend> ModuleMapper<B> for Assign<B> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, tensor, mapper) = param.consume();
        let shape = tensor.dims();
        let n = shape.iter().product::<usize>();
        let piece = self.flat.clone().slice(self.offset..self.offset + n);
        self.offset += n;
        let value = Tensor::<B, D>::from_inner(piece.reshape(shape));
        let value = match tensor.is_require_grad() {
            true => value.require_grad(),
            false => value,
        };
        Param::from_mapped_value(id, value, mapper)
    }
}

/// The moments of every node's training rows pooled, from this node's own `moments`: every
/// node fits the same scaler on them.
pub fn pool_moments<B: Backend>(
    node: &Node,
    moments: &Moments,
    device: &B::Device,
) -> Result<Moments> {
    let mine = serde_json::to_vec(moments).expect("moments serialize");
    let parts = gather_bytes::<B>(node, &mine, device)?
        .iter()
        .map(|bytes| serde_json::from_slice::<Moments>(bytes))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::Training(format!("a node sent malformed column statistics: {e}")))?;
    Ok(Moments::pool(&parts))
}

/// One node's held-out predictions and truth, as it sends them.
#[derive(Default, Serialize, Deserialize)]
struct Scored {
    values: Vec<f32>,
    classes: Vec<usize>,
    probabilities: Vec<f32>,
    truth: Vec<f64>,
    truth_classes: Vec<usize>,
}

/// Every node's `predictions` and `truth`, one after the other in node order: the averaged
/// model is scored on all nodes' rows, the same score on every node.
pub fn pool_scored<B: Backend>(
    node: &Node,
    predictions: Predictions,
    truth: TargetValues,
    device: &B::Device,
) -> Result<(Predictions, TargetValues)> {
    let mut mine = Scored::default();
    let labels = match (predictions, truth) {
        (Predictions::Values(v), TargetValues::Values(t)) => {
            (mine.values, mine.truth) = (v, t);
            None
        }
        (
            Predictions::Classes {
                classes,
                probabilities,
                labels,
            },
            TargetValues::Classes { indices, .. },
        ) => {
            (mine.classes, mine.probabilities, mine.truth_classes) =
                (classes, probabilities, indices);
            Some(labels)
        }
        _ => {
            return Err(Error::Training(
                "predictions of another kind than the truth".into(),
            ));
        }
    };
    let bytes = serde_json::to_vec(&mine).expect("numbers serialize");
    let mut all = Scored::default();
    for part in gather_bytes::<B>(node, &bytes, device)? {
        let part: Scored = serde_json::from_slice(&part)
            .map_err(|e| Error::Training(format!("a node sent malformed scores: {e}")))?;
        all.values.extend(part.values);
        all.classes.extend(part.classes);
        all.probabilities.extend(part.probabilities);
        all.truth.extend(part.truth);
        all.truth_classes.extend(part.truth_classes);
    }
    Ok(match labels {
        None => (
            Predictions::Values(all.values),
            TargetValues::Values(all.truth),
        ),
        Some(labels) => (
            Predictions::Classes {
                classes: all.classes,
                probabilities: all.probabilities,
                labels: labels.clone(),
            },
            TargetValues::Classes {
                indices: all.truth_classes,
                labels,
            },
        ),
    })
}

/// The mean of a quantity over every federated node's rows, from this node's `mean` over
/// its `rows`; `mean` itself otherwise.
pub fn pooled_mean<B: Backend>(mean: f64, rows: usize, device: &B::Device) -> Result<f64> {
    let Some(node) = current().filter(|n| n.federated) else {
        return Ok(mean);
    };
    let mine = [(mean * rows as f64) as f32, rows as f32];
    let both = all_reduce(
        node,
        Tensor::<B, 1>::from_floats(mine, device),
        ReduceOperation::Sum,
    )?;
    let [sum, count] = both
        .into_data()
        .to_vec::<f32>()
        .map_err(|e| Error::Training(format!("{e:?}")))?[..]
    else {
        unreachable!("two values in, two out")
    };
    Ok(f64::from(sum) / f64::from(count).max(1.0))
}

/// The metrics of `predictions` against `truth`: over every federated node's rows (the same
/// on each), else over these `rows`.
pub fn evaluate<B: Backend>(
    predictions: Predictions,
    truth: &TargetValues,
    rows: usize,
    device: &B::Device,
) -> Result<Evaluation> {
    let Some(node) = current().filter(|n| n.federated) else {
        return Ok(score(&predictions, truth, rows));
    };
    let (predictions, truth) = pool_scored::<B>(node, predictions, truth.clone(), device)?;
    let rows = match &truth {
        TargetValues::Values(v) => v.len(),
        TargetValues::Classes { indices, .. } => indices.len(),
    };
    Ok(score(&predictions, &truth, rows))
}
