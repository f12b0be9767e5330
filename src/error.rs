//! One error type for the library. Each variant reads as a sentence that tells the user what
//! went wrong and, where it can, what to do; `main` maps them to exit codes.

use std::path::PathBuf;

/// Everything that can go wrong in nnlab, from a bad flag to a damaged checkpoint.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request itself is wrong: a bad flag, an invalid config field, a backend that was not
    /// compiled in. Exit code 2.
    #[error("{0}")]
    Usage(String),
    /// A config field has a value outside its range; names the field.
    #[error("invalid config: `{field}` {message}")]
    Config { field: String, message: String },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A data file has bad content; names the file and, where known, the line and column.
    #[error("{}{}: {message}", path.display(), location(*line, column.as_deref()))]
    Data {
        path: PathBuf,
        line: Option<u64>,
        column: Option<String>,
        message: String,
    },
    /// A run directory is missing a file, or a file in it cannot be decoded.
    #[error("checkpoint {}: {message}", path.display())]
    Checkpoint { path: PathBuf, message: String },
    /// A picture could not be drawn or encoded.
    #[error("could not draw {}: {message}", path.display())]
    Plot { path: PathBuf, message: String },
    /// The chosen backend cannot run here (for example no GPU adapter).
    #[error("{0}")]
    Backend(String),
    /// Training could not go on (for example the loss became NaN).
    #[error("training failed: {0}")]
    Training(String),
    /// Stored weights or optimizer state could not be decoded.
    #[error("{0}")]
    Decode(String),
    /// A signal stopped training after a checkpoint was saved. Exit code 128 + the signal.
    #[error("{message}")]
    Interrupted { signal: i32, message: String },
}

fn location(line: Option<u64>, column: Option<&str>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(", line {l}, column `{c}`"),
        (Some(l), None) => format!(", line {l}"),
        (None, Some(c)) => format!(", column `{c}`"),
        (None, None) => String::new(),
    }
}

impl Error {
    /// The process exit code for this error: 2 for usage errors, 1 for everything at run time.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) | Error::Config { .. } => 2,
            Error::Interrupted { signal, .. } => 128 + signal,
            _ => 1,
        }
    }

    /// A config error for `field`.
    pub fn config(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config {
            field: field.into(),
            message: message.into(),
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A checkpoint error on `path`.
    pub fn checkpoint(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        Error::Checkpoint {
            path: path.into(),
            message: message.to_string(),
        }
    }
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Runs `f`, turning a panic inside it into `None` without printing it: for the few places
/// where a dependency panics on bad input instead of returning an error (wgpu without an
/// adapter, Burn on a damaged weights file). The panic hook is process-wide, so a panic on
/// another thread in that moment would go unprinted too.
pub fn without_panics<T>(f: impl FnOnce() -> T) -> Option<T> {
    use std::panic::{AssertUnwindSafe, catch_unwind, set_hook, take_hook};
    let hook = take_hook();
    set_hook(Box::new(|_| {}));
    let result = catch_unwind(AssertUnwindSafe(f));
    set_hook(hook);
    result.ok()
}
