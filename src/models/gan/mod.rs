//! The generative adversarial network family (Goodfellow et al., 2014): a generator that maps
//! noise z ~ N(0, I) to rows, and a discriminator that tells them from the data's, trained in
//! alternation ([`step`]).

mod config;
pub mod loss;
mod model;
pub mod step;

pub use config::{GanConfig, default_noise};
pub use loss::GanLoss;
pub use model::Gan;
