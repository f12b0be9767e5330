//! What the CPU kernels (the CNN's convolution and pooling, the LSTM's recurrence) share:
//! the float types they compute in, reading and writing a CPU tensor's values, and one matrix
//! product (gemm or matrixmultiply, whichever was measured faster on the CPU).

use std::borrow::Cow;

use burn::tensor::backend::Backend;
use burn::tensor::ops::FloatTensor;
use burn::tensor::{DType, Element, Tensor, TensorData, TensorPrimitive};
use ndarray::ArrayView2;

use crate::backend::Values;

/// The float types the kernels compute in: training's `f32` and gradient checks' `f64`.
pub trait Real: ndarray::LinalgScalar + Element + PartialOrd + Send + Sync {
    /// The values, when they are of this type.
    fn of(values: Values<'_>) -> Option<&[Self]>;
    /// Each value x becomes σ(x) = 1 / (1 + e^(−x)).
    fn sigmoid_all(values: &mut [Self]);
    /// Each value x becomes tanh(x).
    fn tanh_all(values: &mut [Self]);
}

impl Real for f32 {
    fn of(values: Values<'_>) -> Option<&[Self]> {
        match values {
            Values::F32(v) => Some(v),
            Values::F64(_) => None,
        }
    }

    fn sigmoid_all(values: &mut [Self]) {
        for x in values {
            *x = 1.0 / (1.0 + exp_f32(-*x));
        }
    }

    /// tanh(x) = sign(x)·(1 − e)/(1 + e) with e = e^(−2|x|): one `exp`, where libm's `tanhf`
    /// goes through `expm1f` and took a third of an LSTM's training step. Within 1.2e-7 of
    /// `tanhf` absolutely (checked below); relative accuracy is lost only below |x| ≈ 1e-3.
    fn tanh_all(values: &mut [Self]) {
        for x in values {
            let e = exp_f32(-2.0 * x.abs());
            *x = ((1.0 - e) / (1.0 + e)).copysign(*x);
        }
    }
}

/// e^x in `f32` with no call into libm and no branch, so that a loop over a slice vectorizes
/// (glibc's `expf`, called once per value, was a seventh of an LSTM's training step): x =
/// k·ln 2 + r with |r| ≤ ln 2 / 2, e^r by Cephes' `expf` polynomial, and 2^k written into the
/// exponent bits. Inputs are clamped to [−87, 88], where e^x is a normal `f32`.
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    const SHIFT: f32 = 12_582_912.0; // 1.5·2^23: adding it rounds to an integer
    let x = x.clamp(-87.0, 88.0);
    let shifted = x * std::f32::consts::LOG2_E + SHIFT;
    let k = shifted - SHIFT;
    let r = x - k * 0.693_359_4 + k * 2.121_944_4e-4;
    let mut p = 1.987_569_1e-4_f32;
    for c in [
        1.398_199_9e-3,
        8.333_452e-3,
        4.166_579_6e-2,
        0.166_666_65,
        0.5,
    ] {
        p = p * r + c;
    }
    // The low bits of `shifted` hold k: 2^k has exponent bits k + 127.
    let bits = shifted
        .to_bits()
        .wrapping_sub(SHIFT.to_bits())
        .wrapping_add(127)
        << 23;
    (p * r * r + r + 1.0) * f32::from_bits(bits)
}

impl Real for f64 {
    fn of(values: Values<'_>) -> Option<&[Self]> {
        match values {
            Values::F64(v) => Some(v),
            Values::F32(_) => None,
        }
    }

    fn sigmoid_all(values: &mut [Self]) {
        for x in values {
            *x = 1.0 / (1.0 + (-*x).exp());
        }
    }

    fn tanh_all(values: &mut [Self]) {
        for x in values {
            *x = x.tanh();
        }
    }
}

/// One factor of a matrix product: values row-major with their `(rows, columns)`, read
/// transposed when asked (through strides, without a copy).
#[derive(Clone, Copy)]
pub struct Factor<'a, E> {
    values: &'a [E],
    dims: (usize, usize),
    transposed: bool,
}

pub fn matrix<E>(values: &[E], dims: (usize, usize)) -> Factor<'_, E> {
    assert_eq!(values.len(), dims.0 * dims.1, "the values fill the matrix");
    Factor {
        values,
        dims,
        transposed: false,
    }
}

impl<'a, E> Factor<'a, E> {
    pub fn t(self) -> Self {
        Factor {
            transposed: !self.transposed,
            ..self
        }
    }

    /// The rows and columns of the matrix it stands for.
    fn shape(&self) -> (usize, usize) {
        let (rows, cols) = self.dims;
        if self.transposed {
            (cols, rows)
        } else {
            (rows, cols)
        }
    }

    /// The matrix it stands for, as an ndarray view.
    fn view(self) -> ArrayView2<'a, E> {
        let m = ArrayView2::from_shape(self.dims, self.values).expect("the values fill it");
        if self.transposed {
            m.reversed_axes()
        } else {
            m
        }
    }

    /// The (row, column) strides of the matrix it stands for, in values.
    #[cfg(target_arch = "x86_64")]
    fn strides(&self) -> (isize, isize) {
        let cols = self.dims.1 as isize;
        if self.transposed {
            (1, cols)
        } else {
            (cols, 1)
        }
    }
}

/// `a · b`. Where [`gemm_is_faster`] it is gemm's (burn-flex's multiplier), otherwise
/// matrixmultiply's through ndarray, as burn-ndarray multiplies. On the cnn workload gemm's
/// AVX-512 kernels took 1,354 to 2,086 samples/s on an Intel Xeon; its AVX2 kernels, on an
/// AMD EPYC, took 1,363 to 1,090.
pub fn product<E: Real>(a: Factor<E>, b: Factor<E>) -> Vec<E> {
    assert_eq!(a.shape().1, b.shape().0, "the sizes agree");
    #[cfg(target_arch = "x86_64")]
    if gemm_is_faster() {
        return product_with_gemm(a, b, gemm::Parallelism::Rayon(0));
    }
    product_with_ndarray(a, b)
}

/// [`product`] on the calling thread only: for small products made by each of several
/// threads at once, where splitting each one again costs more in waking threads than it saves.
pub fn product_on_one_thread<E: Real>(a: Factor<E>, b: Factor<E>) -> Vec<E> {
    assert_eq!(a.shape().1, b.shape().0, "the sizes agree");
    #[cfg(target_arch = "x86_64")]
    if gemm_is_faster() {
        return product_with_gemm(a, b, gemm::Parallelism::None);
    }
    product_with_ndarray(a, b)
}

/// Whether the CPU is one where gemm's AVX-512 kernels were measured faster: an Intel CPU with
/// AVX-512. On an AMD EPYC with AVX-512 they made burn-flex's large-MLP products slower than
/// gemm's AVX2 kernels (docs/benchmarks.md), so AMD keeps matrixmultiply.
#[cfg(target_arch = "x86_64")]
fn gemm_is_faster() -> bool {
    static FASTER: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FASTER.get_or_init(|| {
        // "GenuineIntel", as CPUID leaf 0 spells it in EBX, EDX, ECX. (`__cpuid` is a safe
        // function in recent Rust and an unsafe one in older releases.)
        #[allow(unused_unsafe)]
        // SAFETY: every x86_64 CPU has CPUID.
        let id = unsafe { std::arch::x86_64::__cpuid(0) };
        let intel = (id.ebx, id.edx, id.ecx) == (0x756e_6547, 0x4965_6e69, 0x6c65_746e);
        intel && std::arch::is_x86_feature_detected!("avx512f")
    })
}

/// [`product`] by matrixmultiply, through ndarray.
fn product_with_ndarray<E: Real>(a: Factor<E>, b: Factor<E>) -> Vec<E> {
    let c = a.view().dot(&b.view());
    // With both factors transposed, ndarray returns the product column-major.
    match c.is_standard_layout() {
        true => c.into_raw_vec_and_offset().0,
        false => c.iter().copied().collect(),
    }
}

/// [`product`] by gemm, on all of rayon's threads or on one.
#[cfg(target_arch = "x86_64")]
fn product_with_gemm<E: Real>(a: Factor<E>, b: Factor<E>, threads: gemm::Parallelism) -> Vec<E> {
    let ((m, k), (_, n)) = (a.shape(), b.shape());
    let ((a_rs, a_cs), (b_rs, b_cs)) = (a.strides(), b.strides());
    // Not zeroed first: gemm writes every entry of `out` without reading it (`read_dst`
    // false), and zeroing the largest buffers of a step was a visible part of it.
    let mut out = Vec::with_capacity(m * n);
    // SAFETY: `out` has room for `m × n` row-major values; `a` and `b` hold `m × k` and
    // `k × n` matrices at their strides (`matrix` checks the lengths, `product` the inner
    // sizes); with `read_dst` false gemm writes all `m × n` values (zeros when `k` is 0)
    // before it reads any, so the length may then be set.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.values.as_ptr(),
            a_cs,
            a_rs,
            b.values.as_ptr(),
            b_cs,
            b_rs,
            E::zero(),
            E::one(),
            false,
            false,
            false,
            threads,
        );
        out.set_len(m * n);
    }
    out
}

/// Whether the kernels compute in this float type.
pub fn computes(dtype: DType) -> bool {
    matches!(dtype, DType::F32 | DType::F64)
}

pub fn primitive<B: Backend, const D: usize>(t: Tensor<B, D>) -> FloatTensor<B> {
    t.into_primitive().tensor()
}

pub fn dtype<B: Backend>(t: &FloatTensor<B>) -> DType {
    use burn::tensor::TensorMetadata;
    t.dtype()
}

/// A tensor's values, in the float type it holds: borrowed from ndarray's buffer where they
/// lie in order there, copied otherwise.
pub fn read<I: Backend, E: Real>(t: &FloatTensor<I>) -> Cow<'_, [E]> {
    if let Some(values) = crate::backend::cpu_slice(t).and_then(E::of) {
        return Cow::Borrowed(values);
    }
    Cow::Owned(crate::backend::cpu_values::<E>(t).unwrap_or_else(|| {
        let t = Tensor::<I, 1>::from_primitive(TensorPrimitive::Float(t.clone()));
        t.into_data()
            .convert::<E>()
            .into_vec::<E>()
            .expect("converted to E")
    }))
}

pub fn write<I: Backend, E: Real, const D: usize>(
    values: Vec<E>,
    shape: [usize; D],
    device: &I::Device,
) -> FloatTensor<I> {
    primitive(Tensor::<I, D>::from_data(
        TensorData::new(values, shape),
        device,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_f32_is_within_two_units_in_the_last_place() {
        for k in -87_000..=88_000 {
            let x = k as f32 / 1_000.0;
            let (got, want) = (exp_f32(x), f64::from(x).exp());
            let error = (f64::from(got) - want).abs() / want;
            assert!(
                error < 2.5e-7,
                "exp({x}) = {got}, not {want}: relative error {error}"
            );
        }
    }

    #[test]
    fn the_f32_activations_are_libms_to_float_precision() {
        let xs: Vec<f32> = (-40_000..=40_000).map(|k| k as f32 / 2_000.0).collect();
        let (mut sigmoid, mut tanh) = (xs.clone(), xs.clone());
        Real::sigmoid_all(&mut sigmoid);
        Real::tanh_all(&mut tanh);
        for ((&x, &s), &t) in xs.iter().zip(&sigmoid).zip(&tanh) {
            assert!(
                (t - x.tanh()).abs() <= 1.2e-7,
                "tanh({x}) = {t}, libm {}",
                x.tanh()
            );
            let exact = 1.0 / (1.0 + (-f64::from(x)).exp());
            assert!(
                (f64::from(s) - exact).abs() <= 1.2e-7,
                "σ({x}) = {s} against {exact}"
            );
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn gemm_and_matrixmultiply_agree() {
        let values = |n: usize| (0..n).map(|i| ((i * 37 % 11) as f32 - 5.0) / 3.0).collect();
        for (m, k, n) in [(7, 13, 5), (5, 13, 7)] {
            let (a, b): (Vec<f32>, Vec<f32>) = (values(m * k), values(k * n));
            for (a_t, b_t) in [(false, false), (true, false), (false, true), (true, true)] {
                let fa = match a_t {
                    true => matrix(&a, (k, m)).t(),
                    false => matrix(&a, (m, k)),
                };
                let fb = match b_t {
                    true => matrix(&b, (n, k)).t(),
                    false => matrix(&b, (k, n)),
                };
                let at = |i: usize, p: usize| if a_t { a[p * m + i] } else { a[i * k + p] };
                let bt = |p: usize, j: usize| if b_t { b[j * k + p] } else { b[p * n + j] };
                let sums = (0..m * n).map(|e| (0..k).map(|p| at(e / n, p) * bt(p, e % n)).sum());
                let want: Vec<f32> = sums.collect();
                let found = [
                    ("gemm", product_with_gemm(fa, fb, gemm::Parallelism::None)),
                    (
                        "gemm on threads",
                        product_with_gemm(fa, fb, gemm::Parallelism::Rayon(0)),
                    ),
                    ("matrixmultiply", product_with_ndarray(fa, fb)),
                ];
                for (name, got) in found {
                    let gap = got.iter().zip(&want).map(|(g, w)| (g - w).abs());
                    let gap = gap.fold(0.0, f32::max);
                    assert!(
                        gap < 1e-4,
                        "{name}, {m}×{k}×{n}, transposed {a_t} {b_t}: {gap}"
                    );
                }
            }
        }
    }
}
