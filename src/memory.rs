//! Refusing what cannot fit: a model or a generated dataset whose size, estimated before
//! anything is allocated, exceeds the memory this machine has available. Without the check a
//! typo such as `--hidden 200000,200000` gets the process killed by the kernel (exit 137)
//! instead of a message.

use crate::error::{Error, Result};

/// Bytes of memory available to a new allocation (Linux's `MemAvailable`), or `None` where
/// that cannot be read, and then nothing is refused.
pub fn available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

/// Gigabytes, for messages.
pub fn gb(bytes: f64) -> String {
    format!("{:.1} GB", bytes / 1e9)
}

/// Refuses `needed` bytes (an estimate) when they exceed the available memory, as an error
/// on config `field` that says what they are for.
pub fn check(field: &str, what: &str, needed: f64) -> Result<()> {
    match available() {
        Some(free) if needed > free as f64 => Err(Error::config(
            field,
            format!(
                "asks for {what}: about {} of memory, but only {} is available",
                gb(needed),
                gb(free as f64)
            ),
        )),
        _ => Ok(()),
    }
}
