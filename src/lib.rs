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
pub mod config;
pub mod data;
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
pub mod train;

pub use error::{Error, Result};

/// Burn allocates and frees a few buffers per tensor operation; with small models that is a
/// tenth of a training step under glibc's malloc, less under mimalloc (docs/benchmarks.md).
/// Programs that embed nnlab and want their own allocator turn off the `mimalloc` feature.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
