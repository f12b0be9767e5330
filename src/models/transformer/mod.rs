//! The transformer family, for sequences: Burn's transformer encoder (multi-head
//! self-attention, feed-forward, layer norm) over embedded steps with their positions.

mod attention;
mod config;
mod model;

pub use config::{Pool, Positions, TransformerConfig};
pub use model::Transformer;
