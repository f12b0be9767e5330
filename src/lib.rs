//! nnlab: the mathematics of neural networks, runnable, on Burn.
//!
//! Data flows one way: a [`data`] source becomes a [`data::Dataset`], [`train::fit`] runs the
//! [`model`] and [`loss`] through an [`optim`] optimizer batch by batch, and [`checkpoint`]
//! writes the run directory that `predict`, `info` and `--resume` read back. Everything is
//! generic over the Burn backend; only [`backend`] names one.

pub mod backend;
pub mod checkpoint;
pub mod cli;
pub mod commands;
pub mod compare;
pub mod config;
pub mod cv;
pub mod data;
pub mod error;
pub mod export;
pub mod figures;
pub mod gradcheck;
pub mod interrupt;
pub mod lock;
pub mod loss;
pub mod memory;
pub mod metrics;
pub mod model;
pub mod optim;
pub mod predict;
pub mod reference;
pub mod report;
pub mod schedule;
pub mod train;

pub use error::{Error, Result};

/// Burn allocates and frees a few buffers per tensor operation; with small models that is a
/// tenth of a training step under glibc's malloc, less under mimalloc (docs/benchmarks.md).
/// Programs that embed nnlab and want their own allocator turn off the `mimalloc` feature.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
