//! Weights in the SafeTensors format, for PyTorch and other tools, written and read through
//! Burn's store with PyTorch's conventions: a linear layer's weight is `[out, in]`, batch
//! norm's γ and β are `weight` and `bias`.
//!
//! Tensor names: `layers.{i}.weight`, `layers.{i}.bias` for each layer i (hidden layers first,
//! the output layer last); with batch normalization `norms.{i}.weight`, `norms.{i}.bias`,
//! `norms.{i}.running_mean`, `norms.{i}.running_var` for each hidden layer. The file's
//! metadata holds the run's `config` and `scaler` as JSON, so the preprocessing travels too.
//!
//! A CNN's are `convs.{i}.weight` (`[out, in, kh, kw]`, as PyTorch's `Conv2d`), `convs.{i}.bias`,
//! `norms.{i}.*` per convolution with batch normalization, and `dense.{i}.*` for its dense
//! layers, the output layer last.

use std::path::Path;

use burn::tensor::backend::Backend;
use burn_store::{BurnToPyTorchAdapter, ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore};

use crate::config::ExperimentConfig;
use crate::data::scale::Scaler;
use crate::error::{Error, Result};
use crate::models::{Network, each};
use crate::run_dir::record::write_atomic;

/// Metadata key of the config JSON.
pub const CONFIG_KEY: &str = "nnlab.config";
/// Metadata key of the scaler JSON.
pub const SCALER_KEY: &str = "nnlab.scaler";

/// Writes `model` with its config and scaler to `path` (atomically).
pub fn write_safetensors<B: Backend>(
    path: &Path,
    model: &Network<B>,
    config: &ExperimentConfig,
    scaler: &Scaler,
) -> Result<()> {
    let mut store = SafetensorsStore::from_bytes(None)
        .with_to_adapter(BurnToPyTorchAdapter)
        .metadata(CONFIG_KEY, config.to_json())
        .metadata(
            SCALER_KEY,
            serde_json::to_string(scaler).expect("scaler serializes"),
        );
    let fail = |e: String| Error::checkpoint(path, format!("could not encode SafeTensors: {e}"));
    // Each family's own tensor names, without the enum's variant in front.
    each!(model, m => m.save_into(&mut store)).map_err(|e| fail(e.to_string()))?;
    let bytes = store.get_bytes().map_err(|e| fail(e.to_string()))?;
    write_atomic(path, &bytes)
}

/// Loads the tensors of a SafeTensors file into `model` (shaped by the new run's config);
/// every tensor the model has must be in the file with its shape, and nothing else.
pub fn read_safetensors<B: Backend>(path: &Path, model: &mut Network<B>) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let mut store = SafetensorsStore::from_bytes(Some(bytes))
        .with_from_adapter(PyTorchToBurnAdapter)
        .allow_partial(true);
    let result = each!(model, m => m.load_from(&mut store))
        .map_err(|e| Error::checkpoint(path, format!("does not fit this model: {e}")))?;
    let mut problems = Vec::new();
    if !result.errors.is_empty() {
        problems.push(format!("{:?}", result.errors));
    }
    if !result.missing.is_empty() {
        let names: Vec<&str> = result.missing.iter().map(|(p, _)| p.as_str()).collect();
        problems.push(format!("lacks {}", names.join(", ")));
    }
    if !result.unused.is_empty() {
        problems.push(format!(
            "has tensors this model does not: {}",
            result.unused.join(", ")
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::checkpoint(
            path,
            format!("does not fit this model: {}", problems.join("; ")),
        ))
    }
}

/// The scaler stored in a SafeTensors file's metadata by [`write_safetensors`].
pub fn read_scaler(path: &Path) -> Result<Option<Scaler>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bad = |m: String| Error::checkpoint(path, m);
    let len = bytes
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
        .ok_or_else(|| bad("is too short to be a SafeTensors file".into()))?;
    let header = bytes
        .get(8..8usize.saturating_add(len))
        .ok_or_else(|| bad("has a header longer than the file".into()))?;
    let header: serde_json::Value =
        serde_json::from_slice(header).map_err(|e| bad(format!("has a bad header: {e}")))?;
    match header["__metadata__"][SCALER_KEY].as_str() {
        Some(text) => serde_json::from_str(text)
            .map(Some)
            .map_err(|e| bad(format!("has a bad scaler: {e}"))),
        None => Ok(None),
    }
}
