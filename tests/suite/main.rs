//! The integration tests that call nnlab's library in-process, as one test binary: each
//! binary monomorphizes Burn's generic code again, so one binary compiles it once. The tests
//! that must own their process stay binaries of their own: the `f64` checks
//! (`tests/gradients.rs`, `tests/update_rules.rs`: the float type is fixed per process) and the
//! signals (`tests/interrupt.rs`), and the resumed dropout masks (`tests/dropout_resume.rs`:
//! Burn's CPU generator is one per process, which other tests' dropout would draw from). Those
//! that drive only the binary are cheap to compile alone.

#[path = "../common/mod.rs"]
mod common;

mod checkpoints;
mod cli;
mod cnn;
mod compare;
mod config;
mod convergence;
mod csv_input;
mod data_stream;
mod datasets;
mod distributed;
mod docs;
mod evaluation;
mod export;
mod flex;
mod fuzz;
mod generalization;
mod layout;
mod losses;
mod optimizers;
mod regularization;
mod schedules;
mod sequences;
mod wgpu;
