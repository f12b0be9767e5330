//! Pictures and text tables: [`charts`] draws charts, [`images`] grids of small images (a CNN's
//! filters and feature maps), [`run`] decides what a run directory shows.

pub mod charts;
pub mod forecast;
pub mod images;
pub mod importance;
pub mod run;
pub mod samples;
pub mod sparsity;
pub mod tokens;
