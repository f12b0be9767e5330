//! Encoding of Burn records (weights, optimizer state) and atomic file writes: the two ways
//! nnlab puts bytes on disk, shared by the run directory, exports and pictures.

use std::io::Write;
use std::path::Path;

use burn::module::Module;
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Record, Recorder, RecorderError};
use burn::tensor::backend::Backend;

use crate::error::{Error, Result};
use crate::models::Network;

type Bytes = NamedMpkBytesRecorder<FullPrecisionSettings>;

/// Encodes a Burn record (weights or optimizer state) at full precision.
pub fn encode<B: Backend, R: Record<B>>(record: R) -> Result<Vec<u8>> {
    Recorder::<B>::record(&Bytes::default(), record, ())
        .map_err(|e| Error::Training(format!("could not encode a record: {e}")))
}

/// Decodes a Burn record; `what` names it in the error.
pub fn decode<B: Backend, R: Record<B>>(bytes: &[u8], device: &B::Device, what: &str) -> Result<R> {
    // Burn panics on some damaged files (an invalid parameter id) instead of failing.
    let loaded = crate::error::without_panics(|| {
        Recorder::<B>::load(&Bytes::default(), bytes.to_vec(), device)
    });
    let detail = match loaded {
        Some(Ok(record)) => return Ok(record),
        None => "an invalid parameter".to_string(),
        // Burn's messages run on with advice about old formats; the first line is the cause.
        Some(Err(
            RecorderError::Unknown(m)
            | RecorderError::DeserializeError(m)
            | RecorderError::FileNotFound(m),
        )) => m.lines().next().unwrap_or_default().to_string(),
    };
    Err(Error::Decode(format!(
        "the {what} could not be decoded ({detail}): the file is damaged or was not written by nnlab"
    )))
}

/// Writes `bytes` to `path` through a temporary file in the same directory, flushed to disk
/// and then renamed over the target, so readers see the old file or the new one, never half.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    write_synced(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::io(path, e)
        })
}

/// Writes `bytes` to `path` and flushes them to disk.
pub(crate) fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Encodes a network's weights as its family's own record, so that a run directory written
/// before families existed (a bare MLP record) reads the same as one written now.
pub fn encode_network<B: Backend>(network: &Network<B>) -> Result<Vec<u8>> {
    match network.clone() {
        Network::Mlp(m) => encode::<B, _>(m.into_record()),
        Network::Cnn(m) => encode::<B, _>(m.into_record()),
        Network::Recurrent(m) => encode::<B, _>(m.into_record()),
        Network::Transformer(m) => encode::<B, _>(m.into_record()),
        Network::Autoencoder(m) => encode::<B, _>(m.into_record()),
        Network::Gan(m) => encode::<B, _>(m.into_record()),
    }
}

/// Loads weights written by [`encode_network`] into `template`, a network of the same family.
pub fn decode_network<B: Backend>(
    template: Network<B>,
    bytes: &[u8],
    device: &B::Device,
) -> Result<Network<B>> {
    Ok(match template {
        Network::Mlp(m) => Network::Mlp(m.load_record(decode(bytes, device, "weights")?)),
        Network::Cnn(m) => Network::Cnn(m.load_record(decode(bytes, device, "weights")?)),
        Network::Recurrent(m) => {
            Network::Recurrent(m.load_record(decode(bytes, device, "weights")?))
        }
        Network::Transformer(m) => {
            Network::Transformer(m.load_record(decode(bytes, device, "weights")?))
        }
        Network::Autoencoder(m) => {
            Network::Autoencoder(m.load_record(decode(bytes, device, "weights")?))
        }
        Network::Gan(m) => Network::Gan(m.load_record(decode(bytes, device, "weights")?)),
    })
}
