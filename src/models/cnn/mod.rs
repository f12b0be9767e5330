//! The convolutional network family, for images.

mod config;
mod kernels;
mod model;

pub use config::{CnnConfig, ConvLayer, Padding};
pub use model::Cnn;
