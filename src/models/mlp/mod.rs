//! The multilayer perceptron family.

mod config;
mod model;

pub use config::MlpConfig;
pub use model::Mlp;
