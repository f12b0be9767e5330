//! A CPU kernel for a dense layer, `y = xW + b`, as one autodiff operation. Burn's `Linear`
//! adds the bias by broadcasting it over the rows and sums its gradient with a reduction over
//! the rows; on the CPU backends both run a row at a time, which for a narrow layer on many
//! rows (one neuron on a million rows) cost most of a step. Backward:
//! `∂x = ∂y Wᵀ` (only when x needs it), `∂W = xᵀ ∂y`, `∂b = Σ_rows ∂y`.
//! Elsewhere (wgpu, and small batches) the layer is Burn's `Linear`, the same function.

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::nn::Linear;
use burn::tensor::backend::Backend;
use burn::tensor::ops::FloatTensor;
use burn::tensor::{DType, Tensor, TensorPrimitive};

use crate::backend::{CpuKernel, cast};
use crate::models::cpu::{Real, computes, dtype, matrix, primitive, product, read, write};

/// Outputs of a batch (rows × units) from which the kernel runs. Below it Burn's ops cost
/// little, and keep their results: the textbook example (batch 32) prints the numbers it
/// always has.
pub const KERNEL_MIN_VALUES: usize = 4096;

/// `layer` applied to the rows of `x`, `[rows, in]` to `[rows, out]`.
pub fn forward<B: Backend>(layer: &Linear<B>, x: Tensor<B, 2>) -> Tensor<B, 2> {
    let Some(bias) = &layer.bias else {
        return layer.forward(x);
    };
    if x.dims()[0] * layer.weight.dims()[1] < KERNEL_MIN_VALUES {
        return layer.forward(x);
    }
    let kernel = Dense {
        x,
        w: layer.weight.val(),
        b: bias.val(),
    };
    crate::backend::cpu_kernel::<B, _>(kernel).unwrap_or_else(|k| layer.forward(k.x))
}

struct Dense<B: Backend> {
    x: Tensor<B, 2>,
    w: Tensor<B, 2>,
    b: Tensor<B, 1>,
}

impl<B: Backend> CpuKernel for Dense<B> {
    type Output = Tensor<B, 2>;

    fn computes(&self) -> bool {
        computes(self.x.dtype())
    }

    fn plain(self) -> Tensor<B, 2> {
        let device = self.x.device();
        let (x, w, b) = (primitive(self.x), primitive(self.w), primitive(self.b));
        Tensor::from_primitive(TensorPrimitive::Float(match dtype::<B>(&x) {
            DType::F64 => affine::<B, f64>(&x, &w, &b, &device),
            _ => affine::<B, f32>(&x, &w, &b, &device),
        }))
    }

    fn autodiff<I: Backend>(self) -> Tensor<B, 2> {
        let x: Tensor<Autodiff<I>, 2> = cast(self.x);
        let w: Tensor<Autodiff<I>, 2> = cast(self.w);
        let b: Tensor<Autodiff<I>, 1> = cast(self.b);
        let device: I::Device = x.device();
        let (x, w, b) = (primitive(x), primitive(w), primitive(b));
        let nodes = [x.node.clone(), w.node.clone(), b.node.clone()];
        let f64 = dtype::<I>(&x.primitive) == DType::F64;
        let run = || match f64 {
            true => affine::<I, f64>(&x.primitive, &w.primitive, &b.primitive, &device),
            false => affine::<I, f32>(&x.primitive, &w.primitive, &b.primitive, &device),
        };
        let out = match DenseBackward
            .prepare::<NoCheckpointing>(nodes)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let saved = (x.primitive.clone(), w.primitive.clone(), f64);
                prep.finish(saved, run())
            }
            OpsKind::UnTracked(prep) => prep.finish(run()),
        };
        cast(Tensor::<Autodiff<I>, 2>::from_primitive(
            TensorPrimitive::Float(out),
        ))
    }
}

#[derive(Debug)]
struct DenseBackward;

impl<I: Backend> Backward<I, 3> for DenseBackward {
    /// The layer's input and weights (shared buffers, not copies), and whether they are `f64`.
    type State = (FloatTensor<I>, FloatTensor<I>, bool);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<I>(&ops.node);
        let (x, w, f64) = ops.state;
        let wanted = ops.parents.each_ref().map(Option::is_some);
        let found = match f64 {
            true => gradients::<I, f64>(&grad, &x, &w, wanted),
            false => gradients::<I, f32>(&grad, &x, &w, wanted),
        };
        for (parent, g) in ops.parents.into_iter().zip(found) {
            if let (Some(node), Some(g)) = (parent, g) {
                grads.register::<I>(node.id, g);
            }
        }
    }
}

/// Rows, inputs and outputs of the layer.
fn sizes<I: Backend>(x: &FloatTensor<I>, w: &FloatTensor<I>) -> (usize, usize, usize) {
    use burn::tensor::TensorMetadata;
    let (xs, ws) = (x.shape(), w.shape());
    (xs[0], ws[0], ws[1])
}

/// `xW + b`, the bias written into each row of the product.
fn affine<I: Backend, E: Real>(
    x: &FloatTensor<I>,
    w: &FloatTensor<I>,
    b: &FloatTensor<I>,
    device: &I::Device,
) -> FloatTensor<I> {
    let (rows, inputs, outputs) = sizes::<I>(x, w);
    let (x, w, bias) = (read::<I, E>(x), read::<I, E>(w), read::<I, E>(b));
    let y = match (inputs, outputs) {
        // One neuron on one input: a multiply-add per row, where a product is all overhead.
        (1, 1) => x.iter().map(|&x| x * w[0] + bias[0]).collect(),
        _ => {
            let mut y = product(matrix(&x, (rows, inputs)), matrix(&w, (inputs, outputs)));
            for row in y.chunks_exact_mut(outputs) {
                row.iter_mut()
                    .zip(bias.iter())
                    .for_each(|(y, &b)| *y = *y + b);
            }
            y
        }
    };
    write::<I, E, 2>(y, [rows, outputs], device)
}

/// `[∂x, ∂W, ∂b]` from `∂y`, each only where `wanted`.
fn gradients<I: Backend, E: Real>(
    grad: &FloatTensor<I>,
    x: &FloatTensor<I>,
    w: &FloatTensor<I>,
    wanted: [bool; 3],
) -> [Option<FloatTensor<I>>; 3] {
    let (rows, inputs, outputs) = sizes::<I>(x, w);
    let device = I::float_device(grad);
    let dy_values = read::<I, E>(grad);
    let dy = matrix(&dy_values, (rows, outputs));
    let dx = wanted[0].then(|| {
        let w = read::<I, E>(w);
        let dx = product(dy, matrix(&w, (inputs, outputs)).t());
        write::<I, E, 2>(dx, [rows, inputs], &device)
    });
    let dw = wanted[1].then(|| {
        let x = read::<I, E>(x);
        let dw = product(matrix(&x, (rows, inputs)).t(), dy);
        write::<I, E, 2>(dw, [inputs, outputs], &device)
    });
    let db =
        wanted[2].then(|| write::<I, E, 1>(column_sums(&dy_values, outputs), [outputs], &device));
    [dx, dw, db]
}

/// The sum of each column of a row-major matrix with `width` columns. One column is summed in
/// eight interleaved parts, which vectorizes where one running sum cannot.
fn column_sums<E: Real>(values: &[E], width: usize) -> Vec<E> {
    if width == 1 {
        let mut parts = [E::zero(); 8];
        let chunks = values.chunks_exact(8);
        let tail = chunks.remainder().iter().fold(E::zero(), |s, &v| s + v);
        for chunk in chunks {
            parts.iter_mut().zip(chunk).for_each(|(p, &v)| *p = *p + v);
        }
        return vec![parts.iter().fold(tail, |s, &p| s + p)];
    }
    let mut sums = vec![E::zero(); width];
    for row in values.chunks_exact(width) {
        sums.iter_mut().zip(row).for_each(|(s, &v)| *s = *s + v);
    }
    sums
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_sum_as_a_plain_loop_does() {
        let values: Vec<f64> = (0..103).map(|i| (i as f64 * 0.37).sin()).collect();
        let one: f64 = values.iter().sum();
        assert!((column_sums(&values, 1)[0] - one).abs() < 1e-12);
        let three = column_sums(&values[..102], 3);
        for (j, s) in three.iter().enumerate() {
            let plain: f64 = values[..102].iter().skip(j).step_by(3).sum();
            assert!((s - plain).abs() < 1e-12);
        }
    }
}
