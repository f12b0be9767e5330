//! Per-row attributions: how much each input column adds to a model's answer for one row.
//!
//! - **input × gradient** (Shrikumar et al., 2016): x_j · ∂f/∂x_j at the row.
//! - **integrated gradients** (Sundararajan et al., 2017): (x_j − x′_j) times the mean of
//!   ∂f/∂x_j along the straight path from a baseline x′ to x, taken at the midpoints of
//!   `steps` equal intervals. Their sum approaches f(x) − f(x′) as the steps grow
//!   (completeness), which is how they are checked.
//!
//! f is the answer in the run's own terms: the prediction in the target's units for
//! regression, the predicted class's output (logit) for classification. Inputs are in their
//! raw units; the run's feature scaling is affine, so (x_j − x′_j)·∂f/∂x_j is the same in
//! scaled and raw units.

use burn::module::AutodiffModule;
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;

use crate::data::scale::Scaler;
use crate::models::Network;

/// How to attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Gradient,
    IntegratedGradients { steps: usize },
}

/// One row's attributions, with the answer they explain.
#[derive(Clone, Debug)]
pub struct Attribution {
    /// The output explained: the predicted class, or 0.
    pub output: usize,
    /// One per input column, in the answer's units.
    pub values: Vec<f64>,
    /// f at the row and at the baseline.
    pub at_row: f64,
    pub at_baseline: f64,
}

impl Attribution {
    /// |Σ attributions − (f(x) − f(x′))| / |f(x) − f(x′)|: how far integrated gradients are
    /// from completeness (0 when f(x) = f(x′) and the sum is 0).
    pub fn completeness_error(&self) -> f64 {
        let gap = self.at_row - self.at_baseline;
        let error = (self.values.iter().sum::<f64>() - gap).abs();
        if gap == 0.0 { error } else { error / gap.abs() }
    }
}

/// What attributes rows of one run: the model as it answers (`inner`) and as it is
/// differentiated (the same weights on the autodiff backend, without dropout, made once for
/// all the rows), its scaling, the method, and the output explained (`None`: each row's
/// largest, the predicted class).
pub struct Attributor<'a, B: AutodiffBackend> {
    inner: &'a Network<B::InnerBackend>,
    model: Network<B>,
    scaler: &'a Scaler,
    method: Method,
    output: Option<usize>,
    device: &'a B::Device,
}

impl<'a, B: AutodiffBackend> Attributor<'a, B> {
    pub fn new(
        inner: &'a Network<B::InnerBackend>,
        scaler: &'a Scaler,
        method: Method,
        output: Option<usize>,
        device: &'a B::Device,
    ) -> Self {
        let model = Network::<B>::from_inner(inner.clone().without_dropout());
        Attributor {
            inner,
            model,
            scaler,
            method,
            output,
            device,
        }
    }

    /// The attributions of `row` (raw units) against `baseline` (raw units; unused by
    /// [`Method::Gradient`]).
    pub fn row(&self, row: &[f64], baseline: &[f64]) -> Attribution {
        let Attributor {
            inner,
            model,
            scaler,
            method,
            output,
            device,
        } = self;
        let (method, output) = (*method, *output);
        let width = row.len();
        let (x, x0) = (scaler.features(row), scaler.features(baseline));
        let outputs = |points: &[f64]| {
            let rows = crate::data::features_tensor::<B::InnerBackend>(points, width, device);
            inner
                .forward(rows)
                .into_data()
                .convert::<f64>()
                .to_vec::<f64>()
        };
        let at_row = outputs(&x).expect("f64 outputs");
        let output = output.unwrap_or_else(|| argmax(&at_row));
        let at_baseline = outputs(&x0).expect("f64 outputs")[output];
        let points: Vec<f64> = match method {
            Method::Gradient => x.clone(),
            Method::IntegratedGradients { steps } => (0..steps)
                .flat_map(|k| {
                    let alpha = (k as f64 + 0.5) / steps as f64;
                    x.iter().zip(&x0).map(move |(x, x0)| x0 + alpha * (x - x0))
                })
                .collect(),
        };
        let gradient = mean_gradient(model, &points, width, output, device);
        let unit = scaler.target.map_or(1.0, |t| t.scale);
        let values = match method {
            Method::Gradient => (0..width)
                .map(|j| row[j] * gradient[j] / scaler.features[j].scale * unit)
                .collect(),
            Method::IntegratedGradients { .. } => (0..width)
                .map(|j| (x[j] - x0[j]) * gradient[j] * unit)
                .collect(),
        };
        Attribution {
            output,
            values,
            at_row: scaler.restore_target(at_row[output]),
            at_baseline: scaler.restore_target(at_baseline),
        }
    }

    /// The attributions of one row of token ids, for a family that reads tokens (else `None`):
    /// the same two methods taken over each token's embedding e_k, summed over its width, so one
    /// value per position (padding included), in the answer's units. Input × gradient is
    /// Σ e_k·∂f/∂e_k; integrated gradients start from all-zero embeddings, and their sum over the
    /// positions approaches f(e) − f(0).
    pub fn tokens(&self, row: &[f64]) -> Option<Attribution> {
        let Attributor {
            model,
            scaler,
            method,
            output,
            device,
            ..
        } = self;
        let (method, output) = (*method, *output);
        let x = crate::data::features_tensor::<B>(row, row.len(), device);
        let e = model.embed_tokens(x.clone())?.detach();
        let [_, steps, width] = e.dims();
        let outputs = |embedded: Tensor<B, 3>| -> Option<Vec<f64>> {
            let z = model.forward_embedded(x.clone(), embedded)?;
            z.inner().into_data().convert::<f64>().to_vec().ok()
        };
        let at_row = outputs(e.clone())?;
        let output = output.unwrap_or_else(|| argmax(&at_row));
        let at_baseline = outputs(e.zeros_like())?[output];
        let alphas: Vec<f64> = match method {
            Method::Gradient => vec![1.0],
            Method::IntegratedGradients { steps } => (0..steps)
                .map(|k| (k as f64 + 0.5) / steps as f64)
                .collect(),
        };
        let m = alphas.len();
        let scale = Tensor::<B, 1>::from_floats(
            alphas
                .iter()
                .map(|&a| a as f32)
                .collect::<Vec<_>>()
                .as_slice(),
            device,
        );
        let path = (e.clone().repeat_dim(0, m) * scale.reshape([m, 1, 1])).require_grad();
        let z = model.forward_embedded(x.repeat_dim(0, m), path.clone())?;
        let gradients = z.slice([0..m, output..output + 1]).sum().backward();
        let grad = path.grad(&gradients)?.mean_dim(0).reshape([steps, width]);
        let per_position = (grad * e.inner().reshape([steps, width])).sum_dim(1);
        let unit = scaler.target.map_or(1.0, |t| t.scale);
        let values: Vec<f64> = per_position.into_data().convert::<f64>().to_vec().ok()?;
        Some(Attribution {
            output,
            values: values.into_iter().map(|v| v * unit).collect(),
            at_row: scaler.restore_target(at_row[output]),
            at_baseline: scaler.restore_target(at_baseline),
        })
    }
}

/// The mean over `points` (rows of `width` scaled inputs) of ∂f_output/∂x, in scaled units.
fn mean_gradient<B: AutodiffBackend>(
    model: &Network<B>,
    points: &[f64],
    width: usize,
    output: usize,
    device: &B::Device,
) -> Vec<f64> {
    let x: Tensor<B, 2> = crate::data::features_tensor(points, width, device).require_grad();
    let rows = points.len() / width.max(1);
    let z: Tensor<B, 1> = model
        .forward(x.clone())
        .slice([0..rows, output..output + 1])
        .sum();
    let gradients = z.backward();
    let grad = x.grad(&gradients).expect("the input requires its gradient");
    let grad: Vec<f64> = grad.into_data().convert::<f64>().to_vec().expect("f64");
    (0..width)
        .map(|j| grad.iter().skip(j).step_by(width).sum::<f64>() / rows as f64)
        .collect()
}

/// The index of the largest value; 0 for a single output.
fn argmax(values: &[f64]) -> usize {
    (0..values.len())
        .max_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap_or(0)
}
