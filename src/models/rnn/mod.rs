//! The recurrent families, for sequences: the Elman RNN, the LSTM and the GRU, one config and
//! one module with the cell as a choice.

mod cells;
mod config;
mod kernel;
mod model;

pub use config::{Cell, RnnConfig};
pub use model::{Layer, Recurrent};
