//! Encoding of Burn records (weights, optimizer state) and atomic file writes: the two ways
//! nnlab puts bytes on disk, shared by the run directory, the model families' own weights
//! ([`crate::models::Family::to_bytes`]), exports and pictures.

use std::io::Write;
use std::path::Path;

use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Record, Recorder, RecorderError};
use burn::tensor::backend::Backend;

use crate::error::{Error, Result};

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
