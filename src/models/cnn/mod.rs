//! The convolutional network family, for images, and the convolutional stages that the
//! generative families wrap around their dense halves.

mod config;
#[cfg(all(test, any(feature = "flex", feature = "ndarray")))]
mod kernel_tests;
mod kernels;
mod model;
pub mod stages;

pub use config::{CnnConfig, ConvLayer, Padding};
pub use model::Cnn;
pub use stages::{ConvDown, ConvUp};
