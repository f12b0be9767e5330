//! Experiments built on training: cross-validation, comparisons of variants, and gradient
//! checks against finite differences.

pub mod compare;
pub mod cv;
pub mod gradcheck;
pub mod textbook;
