//! Pictures and text tables: [`charts`] draws, [`run`] decides what a run directory shows.

pub mod charts;
pub mod run;
