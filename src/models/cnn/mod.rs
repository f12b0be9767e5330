//! The convolutional network family, for images, and the convolutional stages that the
//! generative families wrap around their dense halves.

mod config;
mod kernels;
mod model;
pub mod stages;

pub use config::{CnnConfig, ConvLayer, Padding};
pub use model::Cnn;
pub use stages::{ConvDown, ConvUp};
