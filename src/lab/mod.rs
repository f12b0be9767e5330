//! Experiments built on training: cross-validation, comparisons of variants, gradient
//! checks against finite differences, and the textbook run.

pub mod compare;
pub mod cv;
pub mod gradcheck;
pub mod textbook;
