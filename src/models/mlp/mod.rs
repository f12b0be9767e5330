//! The multilayer perceptron family.

mod config;
mod model;

pub use config::MlpConfig;
pub(crate) use config::check_hidden;
pub use model::Mlp;
