//! Mean squared error as one autodiff operation on the CPU backends: J = (1/N) Σ (p − y)², and
//! ∂J/∂p = (2/N)(p − y). Composed from Burn's ops it is five passes over the outputs forward
//! and as many back, each with a fresh buffer; on a million rows those passes were most of a
//! step. Elsewhere (wgpu, and small batches) Burn's `MseLoss` computes the same.

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::tensor::backend::Backend;
use burn::tensor::ops::FloatTensor;
use burn::tensor::{DType, ElementConversion, Tensor, TensorPrimitive};

use crate::backend::{CpuKernel, cast};
use crate::models::cpu::{Real, computes, dtype, primitive, read, write};

/// The mean of `(output − targets)²`, a one-element tensor; `Err` gives the arguments back on
/// a backend without CPU kernels.
pub fn mse<B: Backend>(
    output: Tensor<B, 2>,
    targets: Tensor<B, 2>,
) -> Result<Tensor<B, 1>, (Tensor<B, 2>, Tensor<B, 2>)> {
    // Small batches keep Burn's ops, as dense layers do.
    if output.shape().num_elements() < crate::models::dense::KERNEL_MIN_VALUES {
        return Err((output, targets));
    }
    crate::backend::cpu_kernel::<B, _>(Mse { output, targets }).map_err(|k| (k.output, k.targets))
}

struct Mse<B: Backend> {
    output: Tensor<B, 2>,
    targets: Tensor<B, 2>,
}

impl<B: Backend> CpuKernel for Mse<B> {
    type Output = Tensor<B, 1>;

    fn computes(&self) -> bool {
        computes(self.output.dtype()) && self.output.dtype() == self.targets.dtype()
    }

    fn plain(self) -> Tensor<B, 1> {
        let device = self.output.device();
        let (p, y) = (primitive(self.output), primitive(self.targets));
        Tensor::from_primitive(TensorPrimitive::Float(match dtype::<B>(&p) {
            DType::F64 => mean_square::<B, f64>(&p, &y, &device),
            _ => mean_square::<B, f32>(&p, &y, &device),
        }))
    }

    fn autodiff<I: Backend>(self) -> Tensor<B, 1> {
        let p: Tensor<Autodiff<I>, 2> = cast(self.output);
        let y: Tensor<Autodiff<I>, 2> = cast(self.targets);
        let device: I::Device = p.device();
        // The targets are data: constant, never a parent in the graph.
        let y = primitive(y.inner());
        let p = primitive(p);
        let f64 = dtype::<I>(&p.primitive) == DType::F64;
        let run = || match f64 {
            true => mean_square::<I, f64>(&p.primitive, &y, &device),
            false => mean_square::<I, f32>(&p.primitive, &y, &device),
        };
        let out = match MseBackward
            .prepare::<NoCheckpointing>([p.node.clone()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let saved = (p.primitive.clone(), y.clone(), f64);
                prep.finish(saved, run())
            }
            OpsKind::UnTracked(prep) => prep.finish(run()),
        };
        cast(Tensor::<Autodiff<I>, 1>::from_primitive(
            TensorPrimitive::Float(out),
        ))
    }
}

#[derive(Debug)]
struct MseBackward;

impl<I: Backend> Backward<I, 1> for MseBackward {
    /// The outputs and the targets (shared buffers), and whether they are `f64`.
    type State = (FloatTensor<I>, FloatTensor<I>, bool);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<I>(&ops.node);
        let (p, y, f64) = ops.state;
        let [Some(node)] = ops.parents else {
            return;
        };
        let g = match f64 {
            true => gradient::<I, f64>(&grad, &p, &y),
            false => gradient::<I, f32>(&grad, &p, &y),
        };
        grads.register::<I>(node.id, g);
    }
}

/// (1/N) Σ (p − y)², summed in eight interleaved parts, which vectorizes.
fn mean_square<I: Backend, E: Real>(
    p: &FloatTensor<I>,
    y: &FloatTensor<I>,
    device: &I::Device,
) -> FloatTensor<I> {
    let (p, y) = (read::<I, E>(p), read::<I, E>(y));
    let mut parts = [E::zero(); 8];
    let (pc, yc) = (p.chunks_exact(8), y.chunks_exact(8));
    let tail = pc
        .remainder()
        .iter()
        .zip(yc.remainder())
        .fold(E::zero(), |s, (&p, &y)| s + (p - y) * (p - y));
    for (p, y) in pc.zip(yc) {
        for k in 0..8 {
            parts[k] = parts[k] + (p[k] - y[k]) * (p[k] - y[k]);
        }
    }
    let sum = parts.iter().fold(tail, |s, &v| s + v);
    let n: E = (p.len() as f64).elem();
    write::<I, E, 1>(vec![sum / n], [1], device)
}

/// ∂J/∂p = g · (2/N)(p − y), with g the gradient arriving at J.
fn gradient<I: Backend, E: Real>(
    grad: &FloatTensor<I>,
    p: &FloatTensor<I>,
    y: &FloatTensor<I>,
) -> FloatTensor<I> {
    use burn::tensor::TensorMetadata;
    let shape = p.shape();
    let device = I::float_device(p);
    let g = read::<I, E>(grad)[0];
    let (p, y) = (read::<I, E>(p), read::<I, E>(y));
    let scale = g * (2.0 / p.len() as f64).elem::<E>();
    let dp = p
        .iter()
        .zip(y.iter())
        .map(|(&p, &y)| scale * (p - y))
        .collect();
    write::<I, E, 2>(dp, [shape[0], shape[1]], &device)
}
