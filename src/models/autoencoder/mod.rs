//! The autoencoder family: a network that learns to give back its input through a narrow
//! latent code (the textbook's "learns the features of the data"), plain or variational.

mod config;
pub mod elbo;
mod model;

pub(crate) use config::check_sizes;
pub use config::{AutoencoderConfig, default_hidden, default_latent};
pub use model::Autoencoder;
