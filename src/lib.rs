//! nnlab: the mathematics of neural networks, runnable, on Burn.
//!
//! Data flows one way: a [`data`] source becomes a [`data::Dataset`], [`train::fit`] runs a
//! [`models`] network and a [`loss`] through an [`optim`] optimizer batch by batch, [`eval`]
//! measures it, and [`run_dir`] writes the run directory that `predict`, `info` and `--resume`
//! read back; [`plot`] draws it. [`lab`] builds experiments (cross-validation, comparisons,
//! gradient checks) on training; [`cli`] and [`commands`] are the program around it all.
//! Everything is generic over the Burn backend; only [`backend`] names one.

pub mod backend;
pub mod cli;
pub mod commands;
pub mod compress;
pub mod config;
pub mod data;
pub mod distributed;
pub mod error;
pub mod eval;
pub mod interrupt;
pub mod lab;
pub mod loss;
pub mod memory;
pub mod models;
pub mod optim;
pub mod plot;
pub mod reference;
pub mod run_dir;
pub mod serve;
pub mod threads;
pub mod train;

pub use error::{Error, Result};

/// Burn allocates and frees a few buffers per tensor operation; with small models that is a
/// tenth of a training step under glibc's malloc, less under mimalloc (docs/benchmarks.md).
/// Programs that embed nnlab and want their own allocator turn off the `mimalloc` feature.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Asks the allocator to keep freed pages for a minute before it gives them back to the OS.
/// A CNN's step frees and reallocates buffers of megabytes every few dozen milliseconds;
/// with mimalloc's default (a second) they went back and returned zeroed by page faults,
/// 22,000 faults and 8% of the CPU time of the cnn benchmark (docs/benchmarks.md).
pub fn keep_freed_pages() {
    #[cfg(feature = "mimalloc")]
    {
        unsafe extern "C" {
            fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
        }
        /// `mi_option_purge_delay` in mimalloc.h's `mi_option_e` (milliseconds).
        const PURGE_DELAY: std::ffi::c_int = 15;
        // SAFETY: mimalloc's own setter for one of its options; any value is allowed.
        unsafe { mi_option_set(PURGE_DELAY, 60_000) }
    }
}
