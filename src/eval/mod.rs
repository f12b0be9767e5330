//! What a model says and how good it is: predictions read from its outputs, and the metrics
//! of those predictions against the truth.

pub mod attribution;
pub mod baseline;
pub mod forecast;
pub mod generative;
pub mod importance;
pub mod metrics;
pub mod pca;
pub mod predict;
pub mod saliency;
