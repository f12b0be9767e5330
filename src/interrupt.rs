//! Safe stop: SIGINT (Ctrl-C) or SIGTERM asks training to finish its current step, save a
//! checkpoint and exit with 128 + the signal's number; a second one exits at once. Writes are
//! atomic, so exiting at once never leaves a half-written checkpoint behind.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

/// The signal that asked to stop, 0 while none has (shared with the signal handlers).
static SIGNAL: LazyLock<Arc<AtomicUsize>> = LazyLock::new(|| Arc::new(AtomicUsize::new(0)));

/// SIGINT's number on every Unix.
pub const SIGINT: i32 = 2;
/// SIGTERM's number on every Unix.
pub const SIGTERM: i32 = 15;

/// How a command answers SIGINT and SIGTERM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnSignal {
    /// Training commands: the first signal asks for a safe stop ([`requested`] turns `Some`),
    /// a second one exits at once.
    SafeStop,
    /// Commands with nothing to save (predict, eval, export, …): the first signal exits at
    /// once with 128 + its number. Their writes are atomic, so nothing is left half-written.
    Exit,
}

/// Installs the handlers; the `nnlab` binary calls this first. Without it (a library user),
/// signals keep their default effect and [`requested`] stays `None`.
#[cfg(unix)]
pub fn install(mode: OnSignal) -> std::io::Result<()> {
    use signal_hook::flag;
    use std::sync::atomic::AtomicBool;
    let seen = Arc::new(AtomicBool::new(mode == OnSignal::Exit));
    for sig in [SIGINT, SIGTERM] {
        // Registered first, so it runs before `seen` is set: only a second signal exits here.
        flag::register_conditional_shutdown(sig, 128 + sig, Arc::clone(&seen))?;
        flag::register(sig, Arc::clone(&seen))?;
        flag::register_usize(sig, Arc::clone(&SIGNAL), sig as usize)?;
    }
    Ok(())
}

/// Installs nothing where there are no Unix signals.
#[cfg(not(unix))]
pub fn install(_: OnSignal) -> std::io::Result<()> {
    Ok(())
}

/// The signal that asked training to stop, if one has.
pub fn requested() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s as i32),
    }
}

/// The signal's name, for messages.
pub fn name(signal: i32) -> &'static str {
    match signal {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}
