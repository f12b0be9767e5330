//! The convolutional network family, for images.

mod config;
mod model;

pub use config::{CnnConfig, ConvLayer, Padding};
pub use model::Cnn;
