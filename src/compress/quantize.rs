//! Post-training int8 quantization of the weights, through Burn's quantization API:
//! min–max calibration as Burn's `Quantizer` does it, symmetric `int8` values (`QuantValue::Q8S`) and
//! `f32` scales, written into the run's record as Burn's quantized tensors.
//!
//! Each weight matrix or kernel (every parameter of rank ≥ 2) becomes `q = round(w / s)` with
//! `s = max|w| / 127`, one `s` per tensor (`int8`) or per row of the stored tensor
//! (`int8-per-channel`: per output channel of a convolution `[out, in, kh, kw]`, per input
//! unit of a dense layer, which Burn stores `[in, out]`; a row Burn's block sizes cannot
//! describe gets one scale per run of its last dimension, see `row_block`).
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

/// Burn's scheme for a tensor of shape `dims` under `scheme`.
fn burn_scheme(scheme: Scheme, dims: &[usize]) -> QuantScheme {
    let base = QuantScheme::default()
        .with_value(QuantValue::Q8S)
        .with_param(QuantParam::F32)
        .with_store(QuantStore::Native);
    match scheme {
        Scheme::Int8PerChannel => match row_block(dims) {
            Some(block) => base.with_level(QuantLevel::Block(BlockSize::new(block))),
            None => base.with_level(QuantLevel::Tensor),
        },
        Scheme::Int8 => base.with_level(QuantLevel::Tensor),
    }
}

/// Burn's block for one scale per row of a tensor shaped `dims`: the row's own shape, when
/// each of its sizes fits in a byte (Burn's block sizes are bytes, aligned with the trailing
/// dimensions); else runs of the last dimension, as long as its largest divisor up to 255
/// (several scales per row). `None` (one scale for the tensor) when that divisor is below 16.
fn row_block(dims: &[usize]) -> Option<Vec<u8>> {
    let row = &dims[1..];
    if row.iter().all(|&d| d <= 255) && row.len() <= BlockSize::MAX_DIMS {
        return Some(row.iter().map(|&d| d as u8).collect());
    }
    let last = *dims.last()?;
    let run = (16..=255.min(last))
        .rev()
        .find(|&f| last.is_multiple_of(f))?;
    Some(vec![run as u8])
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
        let model = template.load_bytes(&self.bytes, &device)?;
        let quantized = model.map(&mut Int8Weights(self.scheme));
        let mut count = CountQuantized::default();
        quantized.visit(&mut count);
        Ok((quantized.to_bytes()?, count.0))
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
        let model = template.load_bytes(&self.bytes, &device)?;
        model.map(&mut Dequantize).to_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_one_block_where_burn_can_say_so() {
        assert_eq!(row_block(&[32, 1, 3, 3]), Some(vec![1, 3, 3]));
        assert_eq!(row_block(&[4, 128]), Some(vec![128]));
        assert_eq!(row_block(&[128, 3]), Some(vec![3]));
        // Runs of a long row.
        assert_eq!(row_block(&[64, 512]), Some(vec![128]));
        assert_eq!(row_block(&[64, 300]), Some(vec![150]));
        // 257 is prime: one scale for the tensor.
        assert_eq!(row_block(&[8, 257]), None);
    }
}
