//! Post-training int8 quantization of the weights, through Burn's quantization API:
//! [`Quantizer`]-style min–max calibration, symmetric `int8` values (`QuantValue::Q8S`) and
//! `f32` scales, written into the run's record as Burn's quantized tensors.
//!
//! Each weight matrix or kernel (every parameter of rank ≥ 2) becomes `q = round(w / s)` with
//! `s = max|w| / 127`, one `s` per tensor (`int8`) or per row of the stored tensor
//! (`int8-per-channel`: per output channel of a convolution `[out, in, kh, kw]`, per input
//! unit of a dense layer, which Burn stores `[in, out]`; Burn's blocks are contiguous runs).
//! Biases and normalization parameters stay `f32`: they are a few hundred values and the
//! outputs are sensitive to them.
//!
//! Burn 0.21's quantized tensors are read and written on ndarray whatever backend predicts
//! (`backend::run_on_host`): its CPU kernels handle every scheme here, while each GPU backend
//! accepts its own storage layouts only. A loaded run is dequantized once, so `predict` runs
//! the same `f32` kernels on the rounded weights.

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::backend::Backend;
use burn::tensor::quantization::{
    BlockSize, Calibration, QuantLevel, QuantParam, QuantScheme, QuantStore, QuantValue,
    compute_q_params, compute_range,
};
use burn::tensor::{DType, Tensor};
use serde::{Deserialize, Serialize};

use crate::backend::HostJob;
use crate::config::ExperimentConfig;
use crate::error::Result;
use crate::models::Network;
use crate::run_dir::record::{decode_network, encode_network};

/// How the weights are quantized.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
#[value(rename_all = "kebab-case")]
pub enum Scheme {
    /// One scale per weight tensor.
    Int8,
    /// One scale per row of each weight tensor.
    Int8PerChannel,
}

impl std::fmt::Display for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Scheme::Int8 => "int8",
            Scheme::Int8PerChannel => "int8-per-channel",
        })
    }
}

/// Burn's scheme for a tensor of shape `dims` under `scheme`. A row longer than 255 values is
/// one block of several dimensions (Burn's block sizes are bytes); a row that cannot be
/// factored so (a prime above 255) falls back to one scale for the tensor.
fn burn_scheme(scheme: Scheme, dims: &[usize]) -> QuantScheme {
    let base = QuantScheme::default()
        .with_value(QuantValue::Q8S)
        .with_param(QuantParam::F32)
        .with_store(QuantStore::Native);
    let row: usize = dims[1..].iter().product();
    match scheme {
        Scheme::Int8PerChannel => match byte_factors(row) {
            Some(factors) => base.with_level(QuantLevel::Block(BlockSize::new(factors))),
            None => base.with_level(QuantLevel::Tensor),
        },
        Scheme::Int8 => base.with_level(QuantLevel::Tensor),
    }
}

/// `n` as a product of at most [`BlockSize::MAX_DIMS`] factors of at most 255, largest first.
fn byte_factors(mut n: usize) -> Option<Vec<u8>> {
    let mut factors = Vec::new();
    while n > 1 {
        let f = (2..=255.min(n)).rev().find(|&f| n.is_multiple_of(f))?;
        factors.push(f as u8);
        n /= f;
    }
    if factors.is_empty() {
        factors.push(1);
    }
    (factors.len() <= BlockSize::MAX_DIMS).then_some(factors)
}

/// Replaces each weight of rank ≥ 2 by its int8 quantization.
struct Int8Weights(Scheme);

impl<B: Backend> ModuleMapper<B> for Int8Weights {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, tensor, mapper) = param.consume();
        if D < 2 {
            return Param::from_mapped_value(id, tensor, mapper);
        }
        let scheme = burn_scheme(self.0, &tensor.dims());
        let range = compute_range(&scheme, &tensor, &Calibration::MinMax);
        let quantized = tensor.quantize(&scheme, compute_q_params(&scheme, range));
        Param::from_mapped_value(id, quantized, mapper)
    }
}

/// Replaces each quantized parameter by its `f32` values.
struct Dequantize;

impl<B: Backend> ModuleMapper<B> for Dequantize {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, tensor, mapper) = param.consume();
        Param::from_mapped_value(id, tensor.dequantize(), mapper)
    }
}

/// Counts the values of the parameters that are quantized.
#[derive(Default)]
struct CountQuantized(usize);

impl<B: Backend> burn::module::ModuleVisitor<B> for CountQuantized {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let tensor = param.val();
        if matches!(tensor.dtype(), DType::QFloat(_)) {
            self.0 += tensor.shape().num_elements();
        }
    }
}

/// Quantizes the `f32` weights record `bytes` of a model shaped by `config`: the int8 record
/// and how many values became int8.
pub struct QuantizeRecord<'a> {
    pub config: &'a ExperimentConfig,
    pub bytes: Vec<u8>,
    pub scheme: Scheme,
}

impl HostJob for QuantizeRecord<'_> {
    type Output = (Vec<u8>, usize);

    fn run<H: Backend>(self, device: H::Device) -> Result<Self::Output> {
        let template: Network<H> = self.config.model.init(self.config.training.seed, &device);
        let model = decode_network(template, &self.bytes, &device)?;
        let quantized = model.map(&mut Int8Weights(self.scheme));
        let mut count = CountQuantized::default();
        quantized.visit(&mut count);
        Ok((encode_network(&quantized)?, count.0))
    }
}

/// The `f32` record of the int8 weights record `bytes` (what [`QuantizeRecord`] wrote), which
/// any backend loads.
pub struct DequantizeRecord<'a> {
    pub config: &'a ExperimentConfig,
    pub bytes: Vec<u8>,
}

impl HostJob for DequantizeRecord<'_> {
    type Output = Vec<u8>;

    fn run<H: Backend>(self, device: H::Device) -> Result<Vec<u8>> {
        let template: Network<H> = self.config.model.init(self.config.training.seed, &device);
        let model = decode_network(template, &self.bytes, &device)?;
        encode_network(&model.map(&mut Dequantize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_factor_into_block_sizes_of_bytes() {
        assert_eq!(byte_factors(64), Some(vec![64]));
        assert_eq!(byte_factors(576), Some(vec![192, 3]));
        assert_eq!(byte_factors(1), Some(vec![1]));
        // 257 is prime.
        assert_eq!(byte_factors(257), None);
        for n in [3, 100, 255, 256, 784, 1000, 4096, 65_536] {
            let f = byte_factors(n).unwrap();
            assert_eq!(f.iter().map(|&f| f as usize).product::<usize>(), n, "{n}");
        }
    }
}
