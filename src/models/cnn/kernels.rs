//! CPU kernels for the CNN's convolution and max pooling: each is one autodiff operation whose
//! forward and backward passes are a few loops over plain slices and, for the convolution, one
//! matrix product per gradient (gemm or matrixmultiply: see [`product`]). Composed from Burn's
//! tensor ops, the same convolution spent four fifths of a training step copying: reshapes of
//! strided views, zero-filled gradients for `select` and `slice`, inputs made contiguous for
//! `matmul`.
//! They run where [`crate::backend::cpu_kernel`] finds a CPU backend; elsewhere (wgpu) the
//! model composes Burn's ops, which compute the same function (tested against each other).
//!
//! Maps are pixel-major, `[height, width, images, channels]`, as in model.rs.

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::tensor::backend::Backend;
use burn::tensor::ops::FloatTensor;
use burn::tensor::{DType, Tensor, TensorPrimitive};
use std::borrow::Cow;

use rayon::prelude::*;

use crate::backend::{CpuKernel, cast};
use crate::models::cpu::{Real, computes, dtype, matrix, primitive, product, read, write};

/// The sizes of one convolution of pixel-major maps.
#[derive(Clone, Copy, Debug)]
struct ConvShape {
    h: usize,
    w: usize,
    n: usize,
    c: usize,
    k: usize,
    pad: usize,
    out: usize,
    /// Whether ReLU follows, fused into the same op (what it saves: a pass over the maps and
    /// a graph node each way).
    relu: bool,
}

impl ConvShape {
    fn output(&self) -> (usize, usize) {
        let side = |s: usize| s + 2 * self.pad + 1 - self.k;
        (side(self.h), side(self.w))
    }

    /// Rows and columns of the patch matrix: one row per output pixel and image, one column
    /// per kernel tap and input channel.
    fn patches(&self) -> (usize, usize) {
        let (oh, ow) = self.output();
        (oh * ow * self.n, self.k * self.k * self.c)
    }

    /// The input pixel under tap `(i, j)` of output pixel `(y, x)`, or `None` on the padding.
    fn source(&self, (y, x): (usize, usize), (i, j): (usize, usize)) -> Option<usize> {
        let (sy, sx) = (
            (y + i).wrapping_sub(self.pad),
            (x + j).wrapping_sub(self.pad),
        );
        (sy < self.h && sx < self.w).then(|| sy * self.w + sx)
    }
}

/// `b + Σ W[o, c, i, j] · x[y + i, x + j, c]` for pixel-major `x`, with Burn's and PyTorch's
/// weight layout `[out, in, k, k]`, then ReLU if `relu`; `Err` gives the arguments back on a
/// backend without kernels.
pub fn conv2d<B: Backend>(
    (x, weight, bias): ConvInputs<B>,
    pad: usize,
    relu: bool,
) -> Result<Tensor<B, 4>, ConvInputs<B>> {
    let kernel = Conv {
        x,
        weight,
        bias,
        pad,
        relu,
    };
    crate::backend::cpu_kernel::<B, _>(kernel).map_err(|k| (k.x, k.weight, k.bias))
}

/// Max pooling of pixel-major maps over `p × p` windows with stride `p` (a partial window at
/// the edge is dropped); `Err` gives the maps back on a backend without kernels.
pub fn max_pool<B: Backend>(x: Tensor<B, 4>, p: usize) -> Result<Tensor<B, 4>, Tensor<B, 4>> {
    crate::backend::cpu_kernel::<B, _>(Pool { x, p }).map_err(|k| k.x)
}

/// A convolution's input maps, weights and bias.
pub type ConvInputs<B> = (Tensor<B, 4>, Tensor<B, 4>, Tensor<B, 1>);

struct Conv<B: Backend> {
    x: Tensor<B, 4>,
    weight: Tensor<B, 4>,
    bias: Tensor<B, 1>,
    pad: usize,
    relu: bool,
}

impl<B: Backend> Conv<B> {
    fn shape(&self) -> ConvShape {
        let [h, w, n, c] = self.x.dims();
        let [out, _, k, _] = self.weight.dims();
        ConvShape {
            h,
            w,
            n,
            c,
            k,
            pad: self.pad,
            out,
            relu: self.relu,
        }
    }
}

impl<B: Backend> CpuKernel for Conv<B> {
    type Output = Tensor<B, 4>;

    fn computes(&self) -> bool {
        computes(self.x.dtype())
    }

    fn plain(self) -> Tensor<B, 4> {
        let s = self.shape();
        let device = self.x.device();
        let x = primitive(self.x);
        let (w, b) = (primitive(self.weight), primitive(self.bias));
        Tensor::from_primitive(TensorPrimitive::Float(match dtype::<B>(&x) {
            DType::F64 => conv_forward::<B, f64>(&x, &w, &b, s, &device).0,
            _ => conv_forward::<B, f32>(&x, &w, &b, s, &device).0,
        }))
    }

    fn autodiff<I: Backend>(self) -> Tensor<B, 4> {
        let s = self.shape();
        let x: Tensor<Autodiff<I>, 4> = cast(self.x);
        let w: Tensor<Autodiff<I>, 4> = cast(self.weight);
        let b: Tensor<Autodiff<I>, 1> = cast(self.bias);
        let device: I::Device = x.device();
        let (x, w, b) = (primitive(x), primitive(w), primitive(b));
        let nodes = [x.node.clone(), w.node.clone(), b.node.clone()];
        let f64 = dtype::<I>(&x.primitive) == DType::F64;
        let forward = |prim: (&FloatTensor<I>, &FloatTensor<I>, &FloatTensor<I>)| match f64 {
            true => {
                let (z, saved) = conv_forward::<I, f64>(prim.0, prim.1, prim.2, s, &device);
                (z, Saved::F64(saved))
            }
            false => {
                let (z, saved) = conv_forward::<I, f32>(prim.0, prim.1, prim.2, s, &device);
                (z, Saved::F32(saved))
            }
        };
        let out = match ConvBackward
            .prepare::<NoCheckpointing>(nodes)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (z, saved) = forward((&x.primitive, &w.primitive, &b.primitive));
                prep.finish((saved, s), z)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(forward((&x.primitive, &w.primitive, &b.primitive)).0)
            }
        };
        cast(Tensor::<Autodiff<I>, 4>::from_primitive(
            TensorPrimitive::Float(out),
        ))
    }
}

/// What the convolution's backward pass needs, in the tensors' float type.
#[derive(Clone, Debug)]
enum Saved {
    F32(Patches<f32>),
    F64(Patches<f64>),
}

#[derive(Clone, Debug)]
struct Patches<E> {
    /// The patch matrix `[oh·ow·n, k·k·in]`.
    cols: Vec<E>,
    /// The weights as `[k·k·in, out]`.
    wm: Vec<E>,
    /// With a fused ReLU, which outputs were positive (the others pass no gradient).
    active: Vec<bool>,
}

#[derive(Debug)]
struct ConvBackward;

impl<I: Backend> Backward<I, 3> for ConvBackward {
    type State = (Saved, ConvShape);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<I>(&ops.node);
        let device = I::float_device(&grad);
        let (saved, s) = ops.state;
        let wanted = ops.parents.each_ref().map(Option::is_some);
        let found = match saved {
            Saved::F32(saved) => conv_backward::<I, f32>(&grad, &saved, s, wanted, &device),
            Saved::F64(saved) => conv_backward::<I, f64>(&grad, &saved, s, wanted, &device),
        };
        for (parent, g) in ops.parents.into_iter().zip(found) {
            if let (Some(node), Some(g)) = (parent, g) {
                grads.register::<I>(node.id, g);
            }
        }
    }
}

/// The convolution's output `[oh, ow, n, out]`, and what its backward pass needs.
fn conv_forward<I: Backend, E: Real>(
    x: &FloatTensor<I>,
    w: &FloatTensor<I>,
    b: &FloatTensor<I>,
    s: ConvShape,
    device: &I::Device,
) -> (FloatTensor<I>, Patches<E>) {
    let (rows, taps) = s.patches();
    let cols = im2col(&read::<I, E>(x), s);
    let wm = weight_matrix(&read::<I, E>(w), s);
    let bias = read::<I, E>(b);
    let mut z = product(matrix(&cols, (rows, taps)), matrix(&wm, (taps, s.out)));
    z.par_chunks_mut(s.out).for_each(|row| {
        row.iter_mut()
            .zip(bias.iter())
            .for_each(|(z, b)| *z = *z + *b);
    });
    let active = if s.relu {
        let active: Vec<bool> = z.par_iter().map(|z| *z > E::zero()).collect();
        z.par_iter_mut().zip(&active).for_each(|(z, a)| {
            if !a {
                *z = E::zero();
            }
        });
        active
    } else {
        Vec::new()
    };
    let (oh, ow) = s.output();
    let z = write::<I, E, _>(z, [oh, ow, s.n, s.out], device);
    (z, Patches { cols, wm, active })
}

/// The gradients of the input, the weights and the bias that are `wanted`, from the output's.
/// The first layer's input needs none, and skipping it skips a product and a scatter.
fn conv_backward<I: Backend, E: Real>(
    grad: &FloatTensor<I>,
    Patches { cols, wm, active }: &Patches<E>,
    s: ConvShape,
    [input, weights, bias]: [bool; 3],
    device: &I::Device,
) -> [Option<FloatTensor<I>>; 3] {
    let (rows, taps) = s.patches();
    let dz = read::<I, E>(grad);
    let dz = match s.relu {
        true => Cow::Owned(
            dz.par_iter()
                .zip(active)
                .map(|(d, a)| if *a { *d } else { E::zero() })
                .collect(),
        ),
        false => dz,
    };
    let dx = input.then(|| {
        let dcols = product(matrix(&dz, (rows, s.out)), matrix(wm, (taps, s.out)).t());
        write::<I, E, _>(col2im(&dcols, s), [s.h, s.w, s.n, s.c], device)
    });
    let dw = weights.then(|| {
        let dwm = product(matrix(cols, (rows, taps)).t(), matrix(&dz, (rows, s.out)));
        write::<I, E, _>(weight_layout(&dwm, s), [s.out, s.c, s.k, s.k], device)
    });
    let db = bias.then(|| {
        let mut db = vec![E::zero(); s.out];
        for row in dz.chunks(s.out) {
            db.iter_mut().zip(row).for_each(|(d, g)| *d = *d + *g);
        }
        write::<I, E, _>(db, [s.out], device)
    });
    [dx, dw, db]
}

/// The patch matrix `[oh·ow·n, k·k·c]` of pixel-major `x`: row `(y, x, image)`, columns
/// `(i, j, channel)`; taps on the padding stay zero.
fn im2col<E: Real>(x: &[E], s: ConvShape) -> Vec<E> {
    let (rows, taps) = s.patches();
    let (_, ow) = s.output();
    let mut cols = vec![E::zero(); rows * taps];
    cols.par_chunks_mut(s.n * taps)
        .enumerate()
        .for_each(|(pixel, block)| {
            let at = (pixel / ow, pixel % ow);
            for (i, j) in (0..s.k).flat_map(|i| (0..s.k).map(move |j| (i, j))) {
                let Some(src) = s.source(at, (i, j)) else {
                    continue;
                };
                let src = &x[src * s.n * s.c..][..s.n * s.c];
                let col = (i * s.k + j) * s.c;
                for (image, pixels) in src.chunks(s.c).enumerate() {
                    // Element by element: a call to memcpy per channel run costs more when
                    // runs are a few channels long (one, in a grey image's first layer).
                    let to = &mut block[image * taps + col..][..s.c];
                    to.iter_mut().zip(pixels).for_each(|(to, from)| *to = *from);
                }
            }
        });
    cols
}

/// The gradient of the input from the patch matrix's: each input pixel gathers the entries of
/// every patch it appeared in (so pixels can be summed in parallel without races).
fn col2im<E: Real>(dcols: &[E], s: ConvShape) -> Vec<E> {
    let (_, taps) = s.patches();
    let (oh, ow) = s.output();
    let mut dx = vec![E::zero(); s.h * s.w * s.n * s.c];
    dx.par_chunks_mut(s.n * s.c)
        .enumerate()
        .for_each(|(pixel, block)| {
            let (sy, sx) = (pixel / s.w + s.pad, pixel % s.w + s.pad);
            for (i, j) in (0..s.k).flat_map(|i| (0..s.k).map(move |j| (i, j))) {
                let (y, x) = (sy.wrapping_sub(i), sx.wrapping_sub(j));
                if y >= oh || x >= ow {
                    continue;
                }
                let col = (i * s.k + j) * s.c;
                let rows = &dcols[(y * ow + x) * s.n * taps..][..s.n * taps];
                for (image, d) in block.chunks_mut(s.c).enumerate() {
                    let g = &rows[image * taps + col..][..s.c];
                    d.iter_mut().zip(g).for_each(|(d, g)| *d = *d + *g);
                }
            }
        });
    dx
}

/// `[out, in, k, k]` weights as the `[k·k·in, out]` matrix the patch columns multiply.
fn weight_matrix<E: Real>(w: &[E], s: ConvShape) -> Vec<E> {
    let mut m = vec![E::zero(); w.len()];
    for (at, &v) in w.iter().enumerate() {
        let (o, c, i, j) = (
            at / (s.c * s.k * s.k),
            at / (s.k * s.k) % s.c,
            at / s.k % s.k,
            at % s.k,
        );
        m[((i * s.k + j) * s.c + c) * s.out + o] = v;
    }
    m
}

/// The inverse of [`weight_matrix`]: a `[k·k·in, out]` gradient in the weights' layout.
fn weight_layout<E: Real>(m: &[E], s: ConvShape) -> Vec<E> {
    let mut w = vec![E::zero(); m.len()];
    for (at, v) in w.iter_mut().enumerate() {
        let (o, c, i, j) = (
            at / (s.c * s.k * s.k),
            at / (s.k * s.k) % s.c,
            at / s.k % s.k,
            at % s.k,
        );
        *v = m[((i * s.k + j) * s.c + c) * s.out + o];
    }
    w
}

struct Pool<B: Backend> {
    x: Tensor<B, 4>,
    p: usize,
}

/// The sizes of one pooling: input `[h, w, n·c]` in pixels of `nc` values, windows `p × p`.
#[derive(Clone, Copy, Debug)]
struct PoolShape {
    h: usize,
    w: usize,
    nc: usize,
    p: usize,
    n: usize,
}

impl PoolShape {
    fn output(&self) -> (usize, usize) {
        (self.h / self.p, self.w / self.p)
    }
}

impl<B: Backend> Pool<B> {
    fn shape(&self) -> PoolShape {
        let [h, w, n, c] = self.x.dims();
        PoolShape {
            h,
            w,
            nc: n * c,
            p: self.p,
            n,
        }
    }
}

impl<B: Backend> CpuKernel for Pool<B> {
    type Output = Tensor<B, 4>;

    fn computes(&self) -> bool {
        computes(self.x.dtype())
    }

    fn plain(self) -> Tensor<B, 4> {
        let s = self.shape();
        let device = self.x.device();
        let x = primitive(self.x);
        Tensor::from_primitive(TensorPrimitive::Float(match dtype::<B>(&x) {
            DType::F64 => pool_forward::<B, f64>(&x, s, &device).0,
            _ => pool_forward::<B, f32>(&x, s, &device).0,
        }))
    }

    fn autodiff<I: Backend>(self) -> Tensor<B, 4> {
        let s = self.shape();
        let x: Tensor<Autodiff<I>, 4> = cast(self.x);
        let device: I::Device = x.device();
        let x = primitive(x);
        let f64 = dtype::<I>(&x.primitive) == DType::F64;
        let forward = |x: &FloatTensor<I>| match f64 {
            true => pool_forward::<I, f64>(x, s, &device),
            false => pool_forward::<I, f32>(x, s, &device),
        };
        let out = match PoolBackward
            .prepare::<NoCheckpointing>([x.node.clone()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (z, winners) = forward(&x.primitive);
                prep.finish((winners, s, f64), z)
            }
            OpsKind::UnTracked(prep) => prep.finish(forward(&x.primitive).0),
        };
        cast(Tensor::<Autodiff<I>, 4>::from_primitive(
            TensorPrimitive::Float(out),
        ))
    }
}

#[derive(Debug)]
struct PoolBackward;

impl<I: Backend> Backward<I, 1> for PoolBackward {
    /// Which pixel of its window each output value came from, the sizes, and whether `f64`.
    type State = (Vec<u8>, PoolShape, bool);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<I>(&ops.node);
        let device = I::float_device(&grad);
        let (winners, s, f64) = ops.state;
        let dx = match f64 {
            true => pool_backward::<I, f64>(&grad, &winners, s, &device),
            false => pool_backward::<I, f32>(&grad, &winners, s, &device),
        };
        if let [Some(node)] = ops.parents {
            grads.register::<I>(node.id, dx);
        }
    }
}

/// The pooled maps `[oh, ow, n, c]` and, per output value, which pixel of its window won.
fn pool_forward<I: Backend, E: Real>(
    x: &FloatTensor<I>,
    s: PoolShape,
    device: &I::Device,
) -> (FloatTensor<I>, Vec<u8>) {
    let x = read::<I, E>(x);
    let (oh, ow) = s.output();
    let mut out = vec![E::zero(); oh * ow * s.nc];
    let mut winners = vec![0u8; out.len()];
    out.par_chunks_mut(s.nc)
        .zip(winners.par_chunks_mut(s.nc))
        .enumerate()
        .for_each(|(pixel, (out, won))| {
            let (y, x0) = (pixel / ow * s.p, pixel % ow * s.p);
            for t in 0..s.p * s.p {
                let src = &x[((y + t / s.p) * s.w + x0 + t % s.p) * s.nc..][..s.nc];
                if t == 0 {
                    out.copy_from_slice(src);
                    continue;
                }
                // Selects rather than branches, so that the loop runs in vector registers.
                for ((o, w), &v) in out.iter_mut().zip(won.iter_mut()).zip(src) {
                    let wins = v > *o;
                    *o = if wins { v } else { *o };
                    *w = if wins { t as u8 } else { *w };
                }
            }
        });
    let c = s.nc / s.n;
    (write::<I, E, _>(out, [oh, ow, s.n, c], device), winners)
}

/// The input's gradient: each output's gradient goes to the pixel that won its window.
fn pool_backward<I: Backend, E: Real>(
    grad: &FloatTensor<I>,
    winners: &[u8],
    s: PoolShape,
    device: &I::Device,
) -> FloatTensor<I> {
    let g = read::<I, E>(grad);
    let (_, ow) = s.output();
    let mut dx = vec![E::zero(); s.h * s.w * s.nc];
    // Whole input rows of windows at a time, so output rows fill disjoint slices in parallel.
    dx.par_chunks_mut(s.p * s.w * s.nc)
        .take(s.h / s.p)
        .enumerate()
        .for_each(|(oy, band)| {
            for ox in 0..ow {
                let at = (oy * ow + ox) * s.nc;
                let (won, g) = (&winners[at..][..s.nc], &g[at..][..s.nc]);
                // One pass per pixel of the window, each writing a whole pixel row: the
                // winners' gradients and zeros elsewhere, in vector registers.
                for t in 0..s.p * s.p {
                    let (a, b) = (t / s.p, t % s.p);
                    let to = &mut band[(a * s.w + ox * s.p + b) * s.nc..][..s.nc];
                    for ((d, &w), &g) in to.iter_mut().zip(won).zip(g) {
                        *d = if w as usize == t { g } else { E::zero() };
                    }
                }
            }
        });
    write::<I, E, _>(dx, [s.h, s.w, s.n, s.nc / s.n], device)
}
