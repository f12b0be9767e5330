//! A CPU kernel for the LSTM's recurrence over all steps of a layer: one autodiff operation
//! whose forward pass runs the steps (one product of the state with the hidden matrices per
//! step, then the gates cell by cell) and whose backward pass is backpropagation through time
//! written out. Composed from Burn's ops, each step was a dozen small operations with their own
//! buffers and graph nodes, forward and backward.
//!
//! Gates in the fused order i, f, o, g; with `z = xz_t + h_{t−1} U`:
//! `c_t = σ(z_f)·c_{t−1} + σ(z_i)·tanh(z_g)`, `h_t = σ(z_o)·tanh(c_t)`. Backward, from the
//! gradient of every `h_t` and the one carried from step t + 1:
//! `dc = dh·o·(1 − tanh²c_t) + dc_{t+1}`, `dz = (dc·g·i(1−i), dc·c_{t−1}·f(1−f),
//! dh·tanh c_t·o(1−o), dc·i·(1−g²))`, `dh_{t−1} += dz Uᵀ`, `dc_t ← dc·f`, `dU = Σ h_{t−1}ᵀ dz`.
//! It runs where [`crate::backend::cpu_kernel`] finds a CPU backend; elsewhere (wgpu) the layer
//! composes Burn's ops ([`super::cells`]), which compute the same function (tested against
//! each other).

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::tensor::backend::Backend;
use burn::tensor::ops::FloatTensor;
use burn::tensor::{DType, Tensor, TensorPrimitive};

use rayon::prelude::*;

use crate::backend::{CpuKernel, cast};
use crate::models::cpu::{
    Real, computes, dtype, matrix, primitive, product, product_on_one_thread, read, write,
};

/// The state after every step, `[steps·rows, H]` step-major, of an LSTM layer from a zero
/// start: `xz` holds each step's input products with both biases, `[steps·rows, 4H]`, and `u`
/// the hidden matrices `[H, 4H]`. `Err` gives the arguments back on a backend without kernels.
pub fn lstm<B: Backend>(
    xz: Tensor<B, 2>,
    u: Tensor<B, 2>,
    steps: usize,
) -> Result<Tensor<B, 2>, (Tensor<B, 2>, Tensor<B, 2>)> {
    crate::backend::cpu_kernel::<B, _>(Lstm { xz, u, steps }).map_err(|k| (k.xz, k.u))
}

struct Lstm<B: Backend> {
    xz: Tensor<B, 2>,
    u: Tensor<B, 2>,
    steps: usize,
}

/// Steps, rows and hidden size.
#[derive(Clone, Copy, Debug)]
struct Shape {
    steps: usize,
    rows: usize,
    hidden: usize,
}

impl<B: Backend> Lstm<B> {
    fn shape(&self) -> Shape {
        let [cells, _] = self.xz.dims();
        Shape {
            steps: self.steps,
            rows: cells / self.steps.max(1),
            hidden: self.u.dims()[0],
        }
    }
}

impl<B: Backend> CpuKernel for Lstm<B> {
    type Output = Tensor<B, 2>;

    fn computes(&self) -> bool {
        computes(self.xz.dtype()) && self.steps > 0
    }

    fn plain(self) -> Tensor<B, 2> {
        let s = self.shape();
        let device = self.xz.device();
        let (xz, u) = (primitive(self.xz), primitive(self.u));
        Tensor::from_primitive(TensorPrimitive::Float(match dtype::<B>(&xz) {
            DType::F64 => forward::<B, f64>(&xz, &u, s, &device).0,
            _ => forward::<B, f32>(&xz, &u, s, &device).0,
        }))
    }

    fn autodiff<I: Backend>(self) -> Tensor<B, 2> {
        let s = self.shape();
        let xz: Tensor<Autodiff<I>, 2> = cast(self.xz);
        let u: Tensor<Autodiff<I>, 2> = cast(self.u);
        let device: I::Device = xz.device();
        let (xz, u) = (primitive(xz), primitive(u));
        let nodes = [xz.node.clone(), u.node.clone()];
        let f64 = dtype::<I>(&xz.primitive) == DType::F64;
        let run = |xz: &FloatTensor<I>, u: &FloatTensor<I>| match f64 {
            true => {
                let (h, saved) = forward::<I, f64>(xz, u, s, &device);
                (h, Saved::F64(saved))
            }
            false => {
                let (h, saved) = forward::<I, f32>(xz, u, s, &device);
                (h, Saved::F32(saved))
            }
        };
        let out = match LstmBackward
            .prepare::<NoCheckpointing>(nodes)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (h, saved) = run(&xz.primitive, &u.primitive);
                prep.finish((saved, s), h)
            }
            OpsKind::UnTracked(prep) => prep.finish(run(&xz.primitive, &u.primitive).0),
        };
        cast(Tensor::<Autodiff<I>, 2>::from_primitive(
            TensorPrimitive::Float(out),
        ))
    }
}

/// What the backward pass needs, in the tensors' float type.
#[derive(Clone, Debug)]
enum Saved {
    F32(Trace<f32>),
    F64(Trace<f64>),
}

/// The forward pass's values: every `h_t`, step-major, for `dU`, and each chunk of rows'
/// own trace.
#[derive(Clone, Debug)]
struct Trace<E> {
    h: Vec<E>,
    chunks: Vec<Chunk<E>>,
    /// The hidden matrices `[H, 4H]`.
    u: Vec<E>,
}

/// The trace of rows `start..start + rows` over every step, step-major within the chunk.
/// Rows do not interact, so each chunk runs all its steps on one thread with no waiting on
/// the others; a step of the whole batch is too small to split across threads each time.
#[derive(Clone, Debug)]
struct Chunk<E> {
    start: usize,
    rows: usize,
    /// σ(z_i), σ(z_f), σ(z_o), tanh(z_g) of every cell, `[steps, rows, 4H]`.
    gates: Vec<E>,
    /// c_t and tanh(c_t), `[steps, rows, H]` each.
    c: Vec<E>,
    tanh_c: Vec<E>,
    h: Vec<E>,
}

/// The chunks of rows the threads take: as many as threads, of 8 rows at least.
fn chunks(rows: usize) -> Vec<(usize, usize)> {
    let count = rayon::current_num_threads().min(rows / 8).max(1);
    (0..count)
        .map(|c| (c * rows / count, (c + 1) * rows / count - c * rows / count))
        .collect()
}

#[derive(Debug)]
struct LstmBackward;

impl<I: Backend> Backward<I, 2> for LstmBackward {
    type State = (Saved, Shape);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<I>(&ops.node);
        let device = I::float_device(&grad);
        let (saved, s) = ops.state;
        let found = match saved {
            Saved::F32(trace) => backward::<I, f32>(&grad, &trace, s, &device),
            Saved::F64(trace) => backward::<I, f64>(&grad, &trace, s, &device),
        };
        for (parent, g) in ops.parents.into_iter().zip(found) {
            if let Some(node) = parent {
                grads.register::<I>(node.id, g);
            }
        }
    }
}

/// Runs the steps; returns every `h_t` and the trace for the backward pass.
fn forward<I: Backend, E: Real>(
    xz: &FloatTensor<I>,
    u: &FloatTensor<I>,
    s: Shape,
    device: &I::Device,
) -> (FloatTensor<I>, Trace<E>) {
    let u = read::<I, E>(u).into_owned();
    let xz = read::<I, E>(xz);
    let chunks: Vec<Chunk<E>> = chunks(s.rows)
        .into_par_iter()
        .map(|(start, rows)| forward_chunk(&xz, &u, s, start, rows))
        .collect();
    let n = s.hidden;
    let mut h = vec![E::zero(); s.steps * s.rows * n];
    for (t, step) in h.chunks_mut(s.rows * n).enumerate() {
        for c in &chunks {
            let from = &c.h[t * c.rows * n..(t + 1) * c.rows * n];
            step[c.start * n..(c.start + c.rows) * n].copy_from_slice(from);
        }
    }
    let out = write::<I, E, 2>(h.clone(), [s.steps * s.rows, n], device);
    (out, Trace { h, chunks, u })
}

/// The steps of rows `start..start + rows`.
fn forward_chunk<E: Real>(xz: &[E], u: &[E], s: Shape, start: usize, rows: usize) -> Chunk<E> {
    let n = s.hidden;
    let (zs, hs) = (rows * 4 * n, rows * n);
    let mut gates = Vec::with_capacity(s.steps * zs);
    for t in 0..s.steps {
        let at = (t * s.rows + start) * 4 * n;
        gates.extend_from_slice(&xz[at..at + zs]);
    }
    let mut c = vec![E::zero(); s.steps * hs];
    let mut tanh_c = c.clone();
    let mut h = c.clone();
    for t in 0..s.steps {
        let z = &mut gates[t * zs..(t + 1) * zs];
        if t > 0 {
            let h_prev = matrix(&h[(t - 1) * hs..t * hs], (rows, n));
            let hu = product_on_one_thread(h_prev, matrix(u, (n, 4 * n)));
            z.iter_mut().zip(hu).for_each(|(z, p)| *z = *z + p);
        }
        let (before, now) = c.split_at_mut(t * hs);
        let prev = (t > 0).then(|| &before[(t - 1) * hs..]);
        let now = &mut now[..hs];
        let tc = &mut tanh_c[t * hs..(t + 1) * hs];
        let ht = &mut h[t * hs..(t + 1) * hs];
        for r in 0..rows {
            // Whole rows of each gate at a time, so that the loops vectorize.
            let (ifo, g) = z[r * 4 * n..(r + 1) * 4 * n].split_at_mut(3 * n);
            E::sigmoid_all(ifo);
            E::tanh_all(g);
            let (i, rest) = ifo.split_at(n);
            let (f, o) = rest.split_at(n);
            let cells = r * n..(r + 1) * n;
            let c_row = &mut now[cells.clone()];
            match prev {
                Some(prev) => {
                    let c_prev = &prev[cells.clone()];
                    for j in 0..n {
                        c_row[j] = f[j] * c_prev[j] + i[j] * g[j];
                    }
                }
                None => {
                    for j in 0..n {
                        c_row[j] = i[j] * g[j];
                    }
                }
            }
            let tc_row = &mut tc[cells.clone()];
            tc_row.copy_from_slice(c_row);
            E::tanh_all(tc_row);
            for ((h, o), tc) in ht[cells].iter_mut().zip(o).zip(tc_row.iter()) {
                *h = *o * *tc;
            }
        }
    }
    Chunk {
        start,
        rows,
        gates,
        c,
        tanh_c,
        h,
    }
}

/// The gradients of `xz` and `u` from those of every `h_t`.
fn backward<I: Backend, E: Real>(
    grad: &FloatTensor<I>,
    trace: &Trace<E>,
    s: Shape,
    device: &I::Device,
) -> [FloatTensor<I>; 2] {
    let Shape {
        steps,
        rows,
        hidden: n,
    } = s;
    let dh = read::<I, E>(grad);
    // `Uᵀ` laid out in order, `[4H, H]`: `dz Uᵀ` took three times as long reading `U` across.
    let mut u_t = vec![E::zero(); trace.u.len()];
    for (k, row) in trace.u.chunks(4 * n).enumerate() {
        for (j, &v) in row.iter().enumerate() {
            u_t[j * n + k] = v;
        }
    }
    let dzs: Vec<Vec<E>> = trace
        .chunks
        .par_iter()
        .map(|chunk| backward_chunk(&dh, &u_t, s, chunk))
        .collect();
    let zs = rows * 4 * n;
    let mut dz = vec![E::zero(); steps * zs];
    for (t, step) in dz.chunks_mut(zs).enumerate() {
        for (c, d) in trace.chunks.iter().zip(&dzs) {
            let from = &d[t * c.rows * 4 * n..(t + 1) * c.rows * 4 * n];
            step[c.start * 4 * n..(c.start + c.rows) * 4 * n].copy_from_slice(from);
        }
    }
    let du = match steps {
        1 => vec![E::zero(); n * 4 * n],
        _ => product(
            matrix(&trace.h[..(steps - 1) * rows * n], ((steps - 1) * rows, n)).t(),
            matrix(&dz[zs..], ((steps - 1) * rows, 4 * n)),
        ),
    };
    [
        write::<I, E, 2>(dz, [steps * rows, 4 * n], device),
        write::<I, E, 2>(du, [n, 4 * n], device),
    ]
}

/// The gradient of the gate pre-activations of one chunk's rows, `[steps, rows, 4H]`, from
/// the gradient of every `h_t` (`dh`, all rows); `u_t` is `Uᵀ`.
fn backward_chunk<E: Real>(dh: &[E], u_t: &[E], s: Shape, chunk: &Chunk<E>) -> Vec<E> {
    let (n, rows) = (s.hidden, chunk.rows);
    let (zs, hs) = (rows * 4 * n, rows * n);
    let mut dz = vec![E::zero(); s.steps * zs];
    let mut dh_next = vec![E::zero(); hs];
    let mut dc_next = vec![E::zero(); hs];
    let one = E::one();
    for t in (0..s.steps).rev() {
        let gates = &chunk.gates[t * zs..(t + 1) * zs];
        let dzt = &mut dz[t * zs..(t + 1) * zs];
        let dh_t = &dh[(t * s.rows + chunk.start) * n..][..hs];
        for r in 0..rows {
            let (g4, d4) = (&gates[r * 4 * n..][..4 * n], &mut dzt[r * 4 * n..][..4 * n]);
            for j in 0..n {
                let k = r * n + j;
                let (i, f, o, g) = (g4[j], g4[n + j], g4[2 * n + j], g4[3 * n + j]);
                let tc = chunk.tanh_c[t * hs + k];
                let c_prev = if t > 0 {
                    chunk.c[(t - 1) * hs + k]
                } else {
                    E::zero()
                };
                let dh = dh_t[k] + dh_next[k];
                let dc = dh * o * (one - tc * tc) + dc_next[k];
                dc_next[k] = dc * f;
                d4[j] = dc * g * i * (one - i);
                d4[n + j] = dc * c_prev * f * (one - f);
                d4[2 * n + j] = dh * tc * o * (one - o);
                d4[3 * n + j] = dc * i * (one - g * g);
            }
        }
        if t > 0 {
            dh_next = product_on_one_thread(matrix(dzt, (rows, 4 * n)), matrix(u_t, (4 * n, n)));
        }
    }
    dz
}
