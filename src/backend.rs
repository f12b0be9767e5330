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

use crate::error::{Error, Result};

/// Burn's flex CPU backend (matrix products by the `gemm` crate), with autodiff: the default
/// build's one backend, so that the generic code is compiled once (docs/benchmarks.md).
#[cfg(feature = "flex")]
pub type Flex = burn::backend::Autodiff<burn_flex::Flex>;

/// ndarray on the CPU, with autodiff (`--features ndarray`).
#[cfg(feature = "ndarray")]
pub type NdArray = burn::backend::Autodiff<burn_ndarray::NdArray<f32>>;

/// wgpu (Vulkan, Metal, DX12 or WebGPU), with autodiff.
#[cfg(feature = "wgpu")]
pub type Wgpu = burn::backend::Autodiff<burn_wgpu::Wgpu<f32, i32>>;

/// NVIDIA's CUDA through CubeCL, with autodiff: Burn's fastest path on an NVIDIA GPU.
#[cfg(feature = "cuda")]
pub type Cuda = burn::backend::Autodiff<burn_cuda::Cuda<f32, i32>>;

/// The CPU backend with autodiff: flex when compiled in, else ndarray. It is also the `f64`
/// one ([`run_f64`]): both CPU backends hold `f64` tensors when the device's default says so,
/// so precision costs no second instantiation of the generic code.
#[cfg(feature = "flex")]
pub type Cpu = Flex;
/// The CPU backend with autodiff: flex when compiled in, else ndarray.
#[cfg(all(feature = "ndarray", not(feature = "flex")))]
pub type Cpu = NdArray;

/// The CPU backend's device.
#[cfg(feature = "flex")]
pub fn cpu_device() -> burn_flex::FlexDevice {
    burn_flex::FlexDevice
}
/// The CPU backend's device.
#[cfg(all(feature = "ndarray", not(feature = "flex")))]
pub fn cpu_device() -> burn_ndarray::NdArrayDevice {
    burn_ndarray::NdArrayDevice::Cpu
}

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

    /// The CPU backend when one is compiled in (flex, else ndarray), else wgpu, else cuda.
    pub fn default_compiled() -> Self {
        if cfg!(feature = "flex") {
            BackendName::Flex
        } else if cfg!(feature = "ndarray") {
            BackendName::Ndarray
        } else if cfg!(feature = "wgpu") {
            BackendName::Wgpu
        } else {
            BackendName::Cuda
        }
    }

    /// Whether this build has the backend.
    pub fn compiled(self) -> bool {
        match self {
            BackendName::Ndarray => cfg!(feature = "ndarray"),
            BackendName::Wgpu => cfg!(feature = "wgpu"),
            BackendName::Flex => cfg!(feature = "flex"),
            BackendName::Cuda => cfg!(feature = "cuda"),
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

#[cfg_attr(
    all(
        feature = "ndarray",
        feature = "wgpu",
        feature = "flex",
        feature = "cuda"
    ),
    allow(dead_code)
)]
fn not_compiled(name: BackendName) -> Error {
    Error::Usage(format!(
        "backend `{name}` was not compiled into this build; rebuild with `--features {name}`"
    ))
}

/// Runs `job` on the backend `name`, or fails with a usage error naming the cargo feature
/// that would compile it in. This is the one place where a backend becomes a type: each
/// backend compiled in instantiates the job once, and the default build has one.
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

/// Work on Burn's int8 tensors ([`crate::compress::quantize`]), which nnlab runs on the CPU
/// backend (without autodiff) whatever backend predicts: its CPU kernels quantize and
/// dequantize every scheme nnlab writes, while each GPU backend accepts its own storage
/// layouts only.
pub trait HostJob {
    type Output;
    fn run<H: burn::tensor::backend::Backend>(self, device: H::Device) -> Result<Self::Output>;
}

/// Runs `job` on the CPU backend without autodiff.
#[cfg(any(feature = "flex", feature = "ndarray"))]
pub fn run_on_host<J: HostJob>(job: J) -> Result<J::Output> {
    job.run::<<Cpu as AutodiffBackend>::InnerBackend>(cpu_device())
}

/// Without a CPU backend there is no host for int8 work.
#[cfg(not(any(feature = "flex", feature = "ndarray")))]
pub fn run_on_host<J: HostJob>(_: J) -> Result<J::Output> {
    Err(not_compiled(BackendName::Flex))
}

/// Runs `job` on the CPU backend in `f64`, for work that needs the precision (gradient
/// checks). The job is the same instantiation as `f32` work on [`Cpu`]; see [`use_f64`].
#[cfg(any(feature = "flex", feature = "ndarray"))]
pub fn run_f64<J: BackendJob>(job: J) -> Result<J::Output> {
    use_f64()?;
    job.run::<Cpu>(BackendName::default_compiled(), cpu_device())
}

/// Without a CPU backend there is no `f64` path.
#[cfg(not(any(feature = "flex", feature = "ndarray")))]
pub fn run_f64<J: BackendJob>(_: J) -> Result<J::Output> {
    Err(not_compiled(BackendName::Flex))
}

/// Makes every float tensor that this process creates on the CPU backend from now on `f64`.
/// Burn fixes a device's default types at its first tensor, for the whole process, so this
/// fails (in one line) once the process has computed in `f32` on the CPU backend; it is a no-op
/// when it is already `f64`.
#[cfg(any(feature = "flex", feature = "ndarray"))]
pub fn use_f64() -> Result<()> {
    use burn::tensor::{DType, Element, FloatDType, get_device_settings, set_default_dtypes};
    type Int = <Cpu as burn::tensor::backend::BackendTypes>::IntElem;
    let device = cpu_device();
    if set_default_dtypes::<Cpu>(&device, DType::F64, Int::dtype()).is_ok() {
        return Ok(());
    }
    match get_device_settings::<Cpu>(&device).float_dtype {
        FloatDType::F64 => Ok(()),
        found => Err(Error::Backend(format!(
            "this process already computes in {found:?} on the CPU backend; f64 work needs a \
             process of its own"
        ))),
    }
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
        if is(TypeId::of::<burn_ndarray::NdArray<f32>>()) {
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

#[cfg(all(test, any(feature = "flex", feature = "ndarray")))]
mod tests {
    use super::*;

    /// Once this process has computed in `f32` on the CPU backend (as this binary's other
    /// tests do), `f64` is refused in one line instead of mixing the two types.
    #[test]
    fn f64_is_refused_in_a_process_that_computes_in_f32() {
        let probe = burn::tensor::Tensor::<Cpu, 1>::ones([2], &cpu_device());
        assert_eq!(probe.dtype(), burn::tensor::DType::F32);
        let error = use_f64().unwrap_err().to_string();
        assert!(
            error.contains("f64 work needs a process of its own"),
            "{error}"
        );
        assert!(!error.contains('\n'), "{error}");
    }
}
