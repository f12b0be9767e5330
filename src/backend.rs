//! The only module that names concrete Burn backends. Everything else is generic over
//! `B: Backend` / `B: AutodiffBackend`; this module turns a backend name into a type.

#[cfg(not(any(
    feature = "ndarray",
    feature = "wgpu",
    feature = "flex",
    feature = "cuda"
)))]
compile_error!(
    "nnlab needs a backend: enable the `ndarray`, `flex`, `wgpu` or `cuda` cargo feature"
);

use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

#[cfg(not(all(
    feature = "ndarray",
    feature = "wgpu",
    feature = "flex",
    feature = "cuda"
)))]
use crate::error::Error;
use crate::error::Result;

/// ndarray on the CPU, with autodiff.
#[cfg(feature = "ndarray")]
pub type NdArray = burn::backend::Autodiff<burn_ndarray::NdArray<f32>>;

/// ndarray on the CPU in `f64`, with autodiff: the precision gradient checks need.
#[cfg(feature = "ndarray")]
pub type NdArrayF64 = burn::backend::Autodiff<burn_ndarray::NdArray<f64>>;

/// Burn's flex CPU backend (matrix products by the `gemm` crate), with autodiff: faster than
/// ndarray on wide layers.
#[cfg(feature = "flex")]
pub type Flex = burn::backend::Autodiff<burn_flex::Flex>;

/// wgpu (Vulkan, Metal, DX12 or WebGPU), with autodiff.
#[cfg(feature = "wgpu")]
pub type Wgpu = burn::backend::Autodiff<burn_wgpu::Wgpu<f32, i32>>;

/// NVIDIA's CUDA through CubeCL, with autodiff: Burn's fastest path on an NVIDIA GPU.
#[cfg(feature = "cuda")]
pub type Cuda = burn::backend::Autodiff<burn_cuda::Cuda<f32, i32>>;

/// A backend as named on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum BackendName {
    Ndarray,
    Wgpu,
    Flex,
    Cuda,
}

impl BackendName {
    /// The name as written on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendName::Ndarray => "ndarray",
            BackendName::Wgpu => "wgpu",
            BackendName::Flex => "flex",
            BackendName::Cuda => "cuda",
        }
    }

    /// flex when compiled in (the fastest CPU backend: docs/benchmarks.md), else ndarray, else
    /// wgpu.
    pub fn default_compiled() -> Self {
        if cfg!(feature = "flex") {
            BackendName::Flex
        } else {
            Self::examples_default()
        }
    }

    /// ndarray when compiled in, else flex, else wgpu, else cuda: the examples' backend, so
    /// that the textbook example prints the numbers the README shows.
    pub fn examples_default() -> Self {
        if cfg!(feature = "ndarray") {
            BackendName::Ndarray
        } else if cfg!(feature = "flex") {
            BackendName::Flex
        } else if cfg!(feature = "wgpu") {
            BackendName::Wgpu
        } else {
            BackendName::Cuda
        }
    }
}

impl std::fmt::Display for BackendName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Work that runs on whichever backend the user picked.
pub trait BackendJob {
    type Output;
    fn run<B: AutodiffBackend>(
        self,
        backend: BackendName,
        device: B::Device,
    ) -> Result<Self::Output>;
}

#[cfg(not(all(
    feature = "ndarray",
    feature = "wgpu",
    feature = "flex",
    feature = "cuda"
)))]
fn not_compiled(name: BackendName) -> Error {
    Error::Usage(format!(
        "backend `{name}` was not compiled into this build; rebuild with `--features {name}`"
    ))
}

/// Runs `job` on the backend `name`, or fails with a usage error naming the cargo feature
/// that would compile it in.
pub fn run_on<J: BackendJob>(name: BackendName, job: J) -> Result<J::Output> {
    match name {
        BackendName::Ndarray => {
            #[cfg(feature = "ndarray")]
            return job.run::<NdArray>(name, burn_ndarray::NdArrayDevice::Cpu);
            #[cfg(not(feature = "ndarray"))]
            return Err(not_compiled(name));
        }
        BackendName::Wgpu => {
            #[cfg(feature = "wgpu")]
            return job.run::<Wgpu>(name, wgpu_device()?);
            #[cfg(not(feature = "wgpu"))]
            return Err(not_compiled(name));
        }
        BackendName::Flex => {
            #[cfg(feature = "flex")]
            return job.run::<Flex>(name, burn_flex::FlexDevice);
            #[cfg(not(feature = "flex"))]
            return Err(not_compiled(name));
        }
        BackendName::Cuda => {
            #[cfg(feature = "cuda")]
            return job.run::<Cuda>(name, cuda_device()?);
            #[cfg(not(feature = "cuda"))]
            return Err(not_compiled(name));
        }
    }
}

/// Work on Burn's int8 tensors ([`crate::compress::quantize`]), which nnlab runs on ndarray
/// (without autodiff) whatever backend predicts: its CPU kernels quantize and dequantize every
/// scheme nnlab writes, while each GPU backend accepts its own storage layouts only.
pub trait HostJob {
    type Output;
    fn run<H: burn::tensor::backend::Backend>(self, device: H::Device) -> Result<Self::Output>;
}

/// Runs `job` on ndarray, or fails with a usage error naming the feature.
#[cfg_attr(not(feature = "ndarray"), allow(unused_variables))]
pub fn run_on_host<J: HostJob>(job: J) -> Result<J::Output> {
    #[cfg(feature = "ndarray")]
    return job.run::<burn_ndarray::NdArray<f32>>(burn_ndarray::NdArrayDevice::Cpu);
    #[cfg(not(feature = "ndarray"))]
    return Err(not_compiled(BackendName::Ndarray));
}

/// Runs `job` on ndarray in `f64`, for work that needs the precision (gradient checks).
#[cfg_attr(not(feature = "ndarray"), allow(unused_variables))]
pub fn run_f64<J: BackendJob>(job: J) -> Result<J::Output> {
    #[cfg(feature = "ndarray")]
    return job.run::<NdArrayF64>(BackendName::Ndarray, burn_ndarray::NdArrayDevice::Cpu);
    #[cfg(not(feature = "ndarray"))]
    return Err(not_compiled(BackendName::Ndarray));
}

/// The default wgpu device, once a one-element computation on it has succeeded. wgpu panics
/// when it finds no adapter; this turns that into an error the user can act on.
#[cfg(feature = "wgpu")]
fn wgpu_device() -> Result<burn_wgpu::WgpuDevice> {
    let device = burn_wgpu::WgpuDevice::default();
    let probe = crate::error::without_panics(|| {
        burn::tensor::Tensor::<burn_wgpu::Wgpu, 1>::ones([1], &device).into_data()
    });
    probe.map(|_| device).ok_or_else(|| {
        crate::error::Error::Backend(
            "no usable wgpu adapter was found: install a GPU driver with Vulkan, Metal or DX12 \
             (on a machine without a GPU, `apt-get install mesa-vulkan-drivers` gives a software \
             one) or use --backend ndarray"
                .into(),
        )
    })
}

/// The first CUDA device, once a one-element computation on it has succeeded. Without an
/// NVIDIA driver, loading `libcuda` panics; this turns that into an error the user can act on.
#[cfg(feature = "cuda")]
fn cuda_device() -> Result<burn_cuda::CudaDevice> {
    let device = burn_cuda::CudaDevice::default();
    let probe = crate::error::without_panics(|| {
        burn::tensor::Tensor::<burn_cuda::Cuda, 1>::ones([1], &device)
            .add_scalar(1.0)
            .into_data()
    });
    probe.map(|_| device).ok_or_else(|| {
        crate::error::Error::Backend(
            "no usable CUDA device was found: `--backend cuda` needs an NVIDIA GPU and its \
             driver (libcuda); use --backend wgpu, flex or ndarray"
                .into(),
        )
    })
}

/// An operation with its own CPU kernel (the CNN's convolution and pooling): Burn's generic
/// ops cost more in copies there than the arithmetic does.
pub trait CpuKernel: Sized {
    type Output;
    /// Whether the kernel handles these tensors (their float type); if not, Burn's ops do.
    fn computes(&self) -> bool;
    /// Runs on the CPU backend the tensors are on, without autodiff.
    fn plain(self) -> Self::Output;
    /// Runs as one autodiff operation over the CPU backend `I` (the tensors are on
    /// `Autodiff<I>`; see [`cast`]).
    fn autodiff<I: burn::tensor::backend::Backend>(self) -> Self::Output;
}

/// `kernel` run on its CPU backend `B`, or given back on a backend without CPU kernels (wgpu).
#[cfg_attr(
    not(any(feature = "ndarray", feature = "flex")),
    allow(unused_variables)
)]
pub fn cpu_kernel<B: burn::tensor::backend::Backend, K: CpuKernel>(
    kernel: K,
) -> std::result::Result<K::Output, K> {
    use std::any::TypeId;
    let is = |t: TypeId| TypeId::of::<B>() == t && kernel.computes();
    #[cfg(feature = "ndarray")]
    {
        if is(TypeId::of::<NdArray>()) {
            return Ok(kernel.autodiff::<burn_ndarray::NdArray<f32>>());
        }
        if is(TypeId::of::<NdArrayF64>()) {
            return Ok(kernel.autodiff::<burn_ndarray::NdArray<f64>>());
        }
        let plain = [
            TypeId::of::<burn_ndarray::NdArray<f32>>(),
            TypeId::of::<burn_ndarray::NdArray<f64>>(),
        ];
        if plain.into_iter().any(is) {
            return Ok(kernel.plain());
        }
    }
    #[cfg(feature = "flex")]
    {
        if is(TypeId::of::<Flex>()) {
            return Ok(kernel.autodiff::<burn_flex::Flex>());
        }
        if is(TypeId::of::<burn_flex::Flex>()) {
            return Ok(kernel.plain());
        }
    }
    Err(kernel)
}

/// `value` as the type `T` it is: how a kernel that [`cpu_kernel`] chose for `B = T` gets
/// at its tensors' concrete type, and gives its output back as `B`'s.
pub fn cast<A: 'static, T: 'static>(value: A) -> T {
    let boxed: Box<dyn std::any::Any> = Box::new(value);
    *boxed
        .downcast::<T>()
        .unwrap_or_else(|_| unreachable!("cpu_kernel checked the backend's type"))
}

/// A CPU tensor's values, borrowed.
pub enum Values<'a> {
    F32(&'a [f32]),
    F64(&'a [f64]),
}

/// A CPU tensor's values borrowed from ndarray's or flex's buffer when it holds them in order
/// (no copy); `None` for a strided view and for other backends and types.
#[cfg_attr(
    not(any(feature = "ndarray", feature = "flex")),
    allow(unused_variables)
)]
pub fn cpu_slice(tensor: &dyn std::any::Any) -> Option<Values<'_>> {
    #[cfg(feature = "flex")]
    if let Some(tensor) = tensor.downcast_ref::<burn_flex::FlexTensor>() {
        use burn::tensor::DType;
        let (start, end) = tensor.layout().contiguous_offsets()?;
        return match tensor.dtype() {
            DType::F32 => Some(Values::F32(&tensor.storage::<f32>()[start..end])),
            DType::F64 => Some(Values::F64(&tensor.storage::<f64>()[start..end])),
            _ => None,
        };
    }
    #[cfg(feature = "ndarray")]
    if let Some(tensor) = tensor.downcast_ref::<burn_ndarray::NdArrayTensor>() {
        use burn_ndarray::NdArrayTensor as T;
        return match tensor {
            T::F32(storage) => storage.view().to_slice().map(Values::F32),
            T::F64(storage) => storage.view().to_slice().map(Values::F64),
            _ => None,
        };
    }
    None
}

/// A CPU tensor's values in order, copied straight from ndarray's buffer (its `into_data`
/// copies a shared buffer one element at a time, slower than the kernels it feeds); `None`
/// for other backends and types, which read through `into_data`.
#[cfg_attr(not(feature = "ndarray"), allow(unused_variables))]
pub fn cpu_values<E: 'static>(tensor: &dyn std::any::Any) -> Option<Vec<E>> {
    #[cfg(feature = "ndarray")]
    if let Some(tensor) = tensor.downcast_ref::<burn_ndarray::NdArrayTensor>() {
        use burn_ndarray::NdArrayTensor as T;
        let values: Box<dyn std::any::Any> = match tensor {
            T::F32(storage) => Box::new(in_order(storage.view())),
            T::F64(storage) => Box::new(in_order(storage.view())),
            _ => return None,
        };
        return values.downcast::<Vec<E>>().ok().map(|v| *v);
    }
    None
}

/// A view's values in logical order; a strided view (a permuted gradient) is walked with a
/// fixed number of axes, many times faster than ndarray's dynamic-rank iterator.
#[cfg(feature = "ndarray")]
fn in_order<E: Clone>(view: ndarray::ArrayViewD<'_, E>) -> Vec<E> {
    use ndarray::{Ix2, Ix3, Ix4};
    if let Some(values) = view.as_slice() {
        return values.to_vec();
    }
    match view.ndim() {
        2 => view
            .into_dimensionality::<Ix2>()
            .map(|v| v.iter().cloned().collect()),
        3 => view
            .into_dimensionality::<Ix3>()
            .map(|v| v.iter().cloned().collect()),
        4 => view
            .into_dimensionality::<Ix4>()
            .map(|v| v.iter().cloned().collect()),
        _ => Ok(view.iter().cloned().collect()),
    }
    .expect("the number of axes was checked")
}
